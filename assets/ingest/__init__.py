"""Landing files -> raw DuckDB tables (one registry of feeds drives every loader)."""
