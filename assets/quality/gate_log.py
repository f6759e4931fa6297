"""The gate log: every gate's latest outcome per business date, kept in the warehouse.

Feed checks (GX suites, quarantine policy) and the dbt build (data tests and cross-feed gates) write
their outcome here for each business date they covered. Publication reads it: a report for a period
is written only when every business date of the period has every gate passed (``period_gate_problems``).
"""
from __future__ import annotations

from datetime import UTC, date, datetime

import duckdb

DDL = """
CREATE SCHEMA IF NOT EXISTS quality;
CREATE TABLE IF NOT EXISTS quality.gate_log (
    business_date DATE, gate VARCHAR, passed BOOLEAN, blocking BOOLEAN, detail VARCHAR,
    run_id VARCHAR, checked_at TIMESTAMP DEFAULT current_timestamp
);
ALTER TABLE quality.gate_log ADD COLUMN IF NOT EXISTS input_digest VARCHAR"""

# the gates every business date needs before its figures may be published
REQUIRED_GATE_PREFIXES = ("gx_suite:", "quarantine_policy:", "dbt_build")


def record(con: duckdb.DuckDBPyConnection, business_dates: list[str], gate: str, passed: bool, *,
           blocking: bool = True, detail: str = "", run_id: str = "", input_digest: str | None = None) -> None:
    """Replace the gate's outcome for each date."""
    con.execute(DDL)
    now = datetime.now(UTC).replace(tzinfo=None)  # UTC at rest, like raw.file_manifest.loaded_at
    for day in business_dates:
        con.execute("DELETE FROM quality.gate_log WHERE business_date = ? AND gate = ?", [day, gate])
        con.execute("INSERT INTO quality.gate_log (business_date, gate, passed, blocking, detail, run_id, "
                    "input_digest, checked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [day, gate, passed, blocking, detail[:2000], run_id, input_digest, now])


def input_digest(con: duckdb.DuckDBPyConnection, feed: str, business_date: str, version: str) -> str | None:
    """What a feed's gate saw: the partition's files (SHA-256) and the loader/suite version."""
    import hashlib

    rows = con.execute("select file, sha256, loader_version from raw.file_manifest where feed = ? and business_date = ? "
                       "order by file", [feed, business_date]).fetchall()
    if not rows:
        return None
    return hashlib.sha256(repr((version, rows)).encode()).hexdigest()


def passed_before(con: duckdb.DuckDBPyConnection, business_date: str, gate: str, digest: str | None) -> str | None:
    """The detail of a passed outcome of this gate on the same inputs, if there is one."""
    if digest is None or not _exists(con):
        return None
    row = con.execute("select detail from quality.gate_log where business_date = ? and gate = ? and passed "
                      "and input_digest = ?", [business_date, gate, digest]).fetchone()
    return None if row is None else row[0]


def _exists(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute("select count(*) from information_schema.tables "
                            "where table_schema = 'quality' and table_name = 'gate_log'").fetchone()[0])


def period_gate_problems(con: duckdb.DuckDBPyConnection, start: date, end: date) -> list[str]:
    """Why a period may not be published: a date without a gate outcome, or a blocking gate failed."""
    if not _exists(con):
        return ["no gate has run yet (quality.gate_log is empty)"]
    days = [r[0] for r in con.execute(
        "select distinct business_date from raw.file_manifest where business_date between ? and ? order by 1",
        [start, end]).fetchall()]
    if not days:
        return [f"no business date loaded between {start} and {end}"]
    problems: list[str] = []
    rows = con.execute("select business_date, gate, passed, blocking, detail from quality.gate_log "
                       "where business_date between ? and ?", [start, end]).fetchall()
    by_day: dict = {}
    for d, gate, passed, blocking, detail in rows:
        by_day.setdefault(d, []).append((gate, passed, blocking, detail))
    # A day's figures depend on every earlier day (positions, balances and loans carry forward): when
    # a date up to it was re-loaded after its dbt gates ran, its marts and verdict are stale.
    loaded = con.execute("select business_date, max(loaded_at) from raw.file_manifest where business_date <= ? "
                         "group by 1 order by 1", [end]).fetchall()
    latest_load: dict = {}
    running = None
    for d, at in loaded:
        if running is None or at > running[1]:
            running = (d, at)
        latest_load[d] = running
    built = dict(con.execute("select business_date, checked_at from quality.gate_log where gate = 'dbt_build' "
                             "and business_date between ? and ?", [start, end]).fetchall())
    for d in days:
        gates = by_day.get(d, [])
        reloaded = latest_load.get(d)
        if d in built and reloaded is not None and built[d] is not None and reloaded[1] > built[d]:
            problems.append(f"{d}: stale — {reloaded[0]} was re-loaded at {reloaded[1]:%Y-%m-%d %H:%M:%S} UTC, "
                            f"after this date's dbt build ({built[d]:%Y-%m-%d %H:%M:%S} UTC): re-run {d}")
        for prefix in REQUIRED_GATE_PREFIXES:
            if not any(g.startswith(prefix) for g, *_ in gates):
                problems.append(f"{d}: gate {prefix.rstrip(':')} has not run")
        for gate, passed, blocking, detail in gates:
            if blocking and not passed:
                problems.append(f"{d}: gate {gate} failed: {detail}")
    return problems
