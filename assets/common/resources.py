"""Dagster resources, configured from environment variables (defaults under ``data/``)."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb

from assets.common import settings
from assets.common.warehouse import connect

WRITER_POOL = "warehouse_writer"  # Dagster concurrency pool: one warehouse writer at a time


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse file and the Parquet lake beside it."""

    path: str
    lake_dir: str

    @contextlib.contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        with connect(self.path, read_only=read_only) as con:
            yield con

    @property
    def lake(self) -> Path:
        return Path(self.lake_dir)


class LandingResource(dg.ConfigurableResource):
    """The landing zone: ``<root>/<YYYY-MM-DD>/<feed>/...``."""

    root: str
    max_custody_mb: int = 256

    def day_dir(self, business_date: str) -> Path:
        return Path(self.root) / business_date


class ReportsResource(dg.ConfigurableResource):
    """Where PDFs and figures files are written."""

    root: str

    @property
    def path(self) -> Path:
        return Path(self.root)


def default_resources() -> dict[str, dg.ConfigurableResource]:
    """Resources from the environment (read when the code location loads)."""
    return {
        "warehouse": WarehouseResource(path=str(settings.warehouse_path()), lake_dir=str(settings.lake_dir())),
        "landing": LandingResource(root=str(settings.landing_dir())),
        "reports": ReportsResource(root=str(settings.reports_dir())),
    }
