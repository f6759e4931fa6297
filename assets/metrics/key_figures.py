"""Key figures each mart publishes as Dagster materialization metadata (plotted over partitions).

One entry per mart: SQL with one `?` (the last business date of the run's window) returning one row
whose columns become numeric metadata. Missing marts or empty results are skipped quietly: the
figures are a view on the marts, never a gate.
"""
from __future__ import annotations

import dagster as dg
import duckdb

KEY_FIGURES: dict[str, str] = {}


def key_figure_metadata(con: duckdb.DuckDBPyConnection, model: str, as_of: str | None) -> dict[str, dg.MetadataValue]:
    sql = KEY_FIGURES.get(model)
    meta: dict[str, dg.MetadataValue] = {}
    if sql is None:
        return meta
    try:
        cur = con.execute(sql, [as_of] if "?" in sql else [])
        row = cur.fetchone()
        names = [d[0] for d in cur.description]
    except duckdb.Error:
        return meta
    if row is None:
        return meta
    lines = ["| figure | value |", "|---|---:|"]
    for name, value in zip(names, row):
        if value is None:
            continue
        meta[name] = dg.MetadataValue.float(float(value))
        lines.append(f"| {name} | {float(value):,.4f} |")
    if len(lines) > 2:
        meta["key_figures"] = dg.MetadataValue.md("\n".join(lines))
    return meta
