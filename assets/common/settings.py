"""Where things live. Every location has a default under ``data/`` and an environment override.

| variable                | default                   | what                                   |
|-------------------------|---------------------------|----------------------------------------|
| MARGINFLOW_LANDING      | data/landing              | landing zone <YYYY-MM-DD>/<feed>/...   |
| MARGINFLOW_WAREHOUSE    | data/warehouse.duckdb     | the DuckDB warehouse (one writer)      |
| MARGINFLOW_LAKE         | data/lake                 | raw tables as Parquet by business date |
| MARGINFLOW_REPORTS      | data/reports              | PDFs and figures files                 |
| MARGINFLOW_PARTITIONS_START | 2026-01-01            | first business-date partition          |
| MARGINFLOW_DUCKDB_MEMORY | 2GB                      | DuckDB memory limit (it spills beyond) |
"""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
BUSINESS_TZ = "Asia/Shanghai"
BASE_CURRENCY = "CNY"
CUTOFF_LOCAL = "15:00"  # end-of-day cut-off, Asia/Shanghai


def _path(var: str, default: str) -> Path:
    value = os.environ.get(var)
    p = Path(value) if value else REPO_ROOT / default
    return p if p.is_absolute() else (REPO_ROOT / p)


def landing_dir() -> Path:
    return _path("MARGINFLOW_LANDING", "data/landing")


def warehouse_path() -> Path:
    return _path("MARGINFLOW_WAREHOUSE", "data/warehouse.duckdb")


def lake_dir() -> Path:
    return _path("MARGINFLOW_LAKE", "data/lake")


def reports_dir() -> Path:
    return _path("MARGINFLOW_REPORTS", "data/reports")


def partitions_start() -> str:
    return os.environ.get("MARGINFLOW_PARTITIONS_START", "2026-01-01")


def duckdb_memory_limit() -> str:
    """DuckDB's buffer limit for the project's connections and dbt's (profiles.yml reads the same
    variable): beyond it DuckDB spills to disk, so a 10M-fill day fits a small machine."""
    return os.environ.get("MARGINFLOW_DUCKDB_MEMORY", "2GB")
