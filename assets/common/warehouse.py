"""DuckDB connections with the one-writer rule made explicit.

DuckDB lets one process hold the file for writing. Writers (ingestion, dbt, gates that write the
quarantine) run one at a time: Dagster puts them in the ``warehouse_writer`` pool, and as a second
line of defence ``connect`` waits for the lock instead of failing at once ("Could not set lock on
file"), so a backfill that starts several runs queues instead of crashing.
"""
from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb

from assets.common import settings

LOCK_MARKERS = ("Could not set lock", "Conflicting lock", "database is locked")


def _is_lock_error(exc: Exception) -> bool:
    return any(m in str(exc) for m in LOCK_MARKERS)


@contextlib.contextmanager
def connect(path: Path | str, *, read_only: bool = False, wait_seconds: float = 600.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse, waiting up to ``wait_seconds`` for another writer to let go."""
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_seconds
    delay = 0.05
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.Error as exc:  # IOException on a held lock
            if not _is_lock_error(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay + random.random() * delay)
            delay = min(delay * 2, 2.0)
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"SET memory_limit = '{settings.duckdb_memory_limit()}'")
        yield con
    finally:
        con.close()
