"""File readers: CSV/Parquet via polars, custody camt.053 XML and its CSV export."""
