"""The metric catalogue: dbt models on DuckDB wired into Dagster, and the key figures they publish."""
