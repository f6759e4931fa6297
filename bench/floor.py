"""The floor: the same landing files → the same marts' SQL, in one DuckDB connection, nothing else.

No orchestration, no lineage, no row rules, no quarantine, no GX, no dbt tests, no Parquet lake:

- ``ingest``: DuckDB ``read_csv`` (``read_parquet`` for Parquet trades) of each landing file straight
  into a table named like the raw one, typed by the feed registry's kinds; the lineage columns the
  staging models select are constants (date, file name, NULLs). Custody camt.053 XML (DuckDB has no
  XML reader) is streamed with ``xml.etree.ElementTree.iterparse`` — the same C parser the loader uses —
  into Arrow, without the loader's version detection, screening or checks. ``raw.file_manifest`` gets
  one row per file (counts only) and ``raw.quarantine`` stays empty, because two marts select them.
- ``compile``: ``dbt compile`` once against that database (setup, not a floor stage: its SQL is what
  the marts run), then ``marts``: every model's compiled SQL in manifest dependency order as
  ``CREATE OR REPLACE VIEW/TABLE`` in one connection.
- ``scan``: one pass over every column of every raw partition of the pipeline's warehouse — the least
  any row-level gate has to read (the floor of the gates stage; the issue's floor has no checks at all).
"""
from __future__ import annotations

import fnmatch
import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

from assets.ingest.feeds import CUSTODY_FEEDS, FEEDS, TABLE_FEEDS, Feed

REPO = Path(__file__).resolve().parents[1]
DBT_DIR = REPO / "dbt_project"

_DUCK_TYPES = {"id": "VARCHAR", "str": "VARCHAR", "enum": "VARCHAR", "ccy": "VARCHAR", "date": "DATE",
               "dateish": "DATE", "ts": "TIMESTAMPTZ", "money": "DECIMAL(18,2)", "smoney": "DECIMAL(18,2)",
               "dec": "DECIMAL(38,10)", "int": "BIGINT", "bool": "BOOLEAN"}

MANIFEST_DDL = """CREATE OR REPLACE TABLE raw.file_manifest (
    feed VARCHAR, business_date DATE, file VARCHAR, file_name VARCHAR, sha256 VARCHAR, size_bytes BIGINT,
    rows_in_file BIGINT, rows_loaded BIGINT, rows_quarantined BIGINT, rows_duplicate BIGINT, extra_columns VARCHAR,
    loaded_at TIMESTAMP, run_id VARCHAR)"""
QUARANTINE_DDL = """CREATE OR REPLACE TABLE raw.quarantine (
    feed VARCHAR, business_date DATE, rule VARCHAR, "column" VARCHAR, reason VARCHAR,
    record VARCHAR, _source_file VARCHAR, _source_sha256 VARCHAR, _source_row VARCHAR,
    _loaded_at TIMESTAMP, _run_id VARCHAR)"""


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _files(landing: Path, day: str, feed: Feed) -> list[Path]:
    folder = landing / day / feed.folder
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")
                  and any(fnmatch.fnmatch(p.name.lower(), pat.lower()) for pat in feed.patterns))


def _select(feed: Feed, day: str) -> str:
    cols = []
    for c in feed.columns:
        cols.append(f"cast({_q(c.name)} AS TIMESTAMP) AS {_q(c.name)}" if c.kind == "ts" else _q(c.name))
    lineage = (f"DATE {_lit(day)} AS _business_date, filename AS _source_file, NULL::VARCHAR AS _source_sha256, "
               "NULL::VARCHAR AS _source_row, now()::TIMESTAMP AS _loaded_at, 'floor' AS _run_id")
    return ", ".join(cols) + ", " + lineage


def _load_table_feed(con, landing: Path, day: str, feed: Feed) -> list[tuple[str, int]]:
    files = _files(landing, day, feed)
    csvs = [str(p) for p in files if p.suffix.lower() == ".csv"]
    parquets = [str(p) for p in files if p.suffix.lower() == ".parquet"]
    parts = []
    if csvs:
        types = "{" + ", ".join(f"{_lit(c.name)}: {_lit(_DUCK_TYPES[c.kind])}" for c in feed.columns) + "}"
        parts.append(f"SELECT {_select(feed, day)} FROM read_csv([{', '.join(map(_lit, csvs))}], header = true, "
                     f"columns = {types}, filename = true, union_by_name = true)")
    if parquets:
        parts.append(f"SELECT {_select(feed, day)} FROM read_parquet([{', '.join(map(_lit, parquets))}], "
                     "filename = true)")
    con.execute(f"CREATE OR REPLACE TABLE {feed.table} AS {' UNION ALL BY NAME '.join(parts)}")
    return con.execute(f"SELECT _source_file, count(*) FROM {feed.table} GROUP BY 1").fetchall()


# ----------------------------------------------------------------------------- custody (camt.053)
def _load_custody(con, landing: Path, day: str) -> list[tuple[str, str, int]]:
    import pyarrow as pa

    feed = CUSTODY_FEEDS[0]
    files = _files(landing, day, feed)
    xmls = [p for p in files if p.suffix.lower() == ".xml"]
    csv_entries = [p for p in files if p.name == "entries.csv"]
    counts: list[tuple[str, str, int]] = []
    if csv_entries:  # the CSV export: plain read_csv, like the table feeds
        for f in CUSTODY_FEEDS:
            src = landing / day / "custody" / ("entries.csv" if f.name == "custody_entries" else "balances.csv")
            types = "{" + ", ".join(f"{_lit(c.name)}: {_lit(_DUCK_TYPES[c.kind] if c.kind != 'dateish' else 'VARCHAR')}"
                                    for c in f.columns) + "}"
            cols = ", ".join(f"try_cast(left({_q(c.name)}, 10) AS DATE) AS {_q(c.name)}" if c.kind == "dateish"
                             else _q(c.name) for c in f.columns)
            con.execute(f"CREATE OR REPLACE TABLE {f.table} AS SELECT {cols}, {_select_lineage(day)} "
                        f"FROM read_csv({_lit(str(src))}, header = true, columns = {types}, filename = true)")
            counts += [(f.name, *r) for r in
                       con.execute(f"SELECT _source_file, count(*) FROM {f.table} GROUP BY 1").fetchall()]
        if not xmls:
            return counts
    entries: dict[str, list] = {c.name: [] for c in CUSTODY_FEEDS[0].columns}
    balances: dict[str, list] = {c.name: [] for c in CUSTODY_FEEDS[1].columns}
    entries["_source_file"], balances["_source_file"] = [], []
    for path in xmls:
        for kind, row in _camt_rows(path):
            target = entries if kind == "entry" else balances
            for k in target:
                target[k].append(str(path) if k == "_source_file" else row.get(k))
    for f, data in ((CUSTODY_FEEDS[0], entries), (CUSTODY_FEEDS[1], balances)):
        tbl = pa.table({k: pa.array(v, pa.string()) if k != "tx_seq" else pa.array(v, pa.int64())
                        for k, v in data.items()})
        con.register("_custody", tbl)
        cols = ", ".join(f"cast({_q(c.name)} AS {_DUCK_TYPES[c.kind]}) AS {_q(c.name)}" for c in f.columns)
        con.execute(f"CREATE OR REPLACE TABLE {f.table} AS SELECT {cols}, DATE {_lit(day)} AS _business_date, "
                    "_source_file, NULL::VARCHAR AS _source_sha256, NULL::VARCHAR AS _source_row, "
                    "now()::TIMESTAMP AS _loaded_at, 'floor' AS _run_id FROM _custody")
        con.unregister("_custody")
        counts += [(f.name, *r) for r in con.execute(f"SELECT _source_file, count(*) FROM {f.table} GROUP BY 1").fetchall()]
    return counts


def _select_lineage(day: str) -> str:
    return (f"DATE {_lit(day)} AS _business_date, filename AS _source_file, NULL::VARCHAR AS _source_sha256, "
            "NULL::VARCHAR AS _source_row, now()::TIMESTAMP AS _loaded_at, 'floor' AS _run_id")


_ENTRY_KEYS = {"NtryRef": "entry_ref", "Amt": "entry_amount", "CdtDbtInd": "credit_debit", "RvslInd": "reversal",
               "Sts/Cd": "status", "BookgDt/Dt": "booking_date", "ValDt/Dt": "value_date"}
_TX_KEYS = {"Refs/EndToEndId": "end_to_end_id", "RmtInf/Ustrd": "remittance", "AmtDtls/TxAmt/Amt": "amount",
            "Amt": "amount", "CdtDbtInd": "credit_debit"}
_BAL_KEYS = {"Tp/CdOrPrtry/Cd": "type", "Amt": "amount", "CdtDbtInd": "credit_debit", "Dt/Dt": "date"}
_STMT_KEYS = {"Id": "statement_id", "Acct/Id/Othr/Id": "custody_account", "Acct/Ccy": "currency"}


def _camt_rows(path: Path) -> Iterator[tuple[str, dict]]:
    """("entry" | "balance", row) for every Ntry (one row per TxDtls of a batch) and Bal of every Stmt.

    One pass of the C parser's events; leaf texts are put in place by their path below the enclosing
    Stmt / Bal / Ntry / TxDtls (no per-field tree searches)."""
    stack: list[str] = []
    anchors: list[tuple[int, str, dict]] = []  # (depth, kind, record) of the open Stmt / Bal / Ntry / TxDtls
    stmt: dict = {}
    txs: list[dict] = []
    for event, el in ET.iterparse(path, events=("start", "end")):
        tag = el.tag
        local = tag[tag.index("}") + 1:] if tag[0] == "{" else tag
        if event == "start":
            stack.append(local)
            if local in ("Stmt", "Bal", "Ntry", "TxDtls"):
                rec: dict = {}
                anchors.append((len(stack), local, rec))
                if local == "Stmt":
                    stmt = rec
                elif local == "Ntry":
                    txs = []
                elif local == "TxDtls":
                    txs.append(rec)
            continue
        depth = len(stack)
        if anchors and anchors[-1][0] == depth:  # an anchor closes
            _, kind, rec = anchors.pop()
            if kind == "Bal":
                yield "balance", {**stmt, **rec}
            elif kind == "Ntry":
                base = {**stmt, **rec}
                if len(txs) <= 1:
                    tx = txs[0] if txs else {}
                    yield "entry", {**base, "tx_seq": 1, "amount": base.get("entry_amount"),
                                    "end_to_end_id": tx.get("end_to_end_id"), "remittance": tx.get("remittance")}
                else:
                    for k, tx in enumerate(txs, 1):
                        yield "entry", {**base, **tx, "tx_seq": k,
                                        "credit_debit": tx.get("credit_debit") or base.get("credit_debit")}
                el.clear()
            elif kind == "Stmt":
                el.clear()
        elif anchors and len(el) == 0:  # a leaf inside an anchor
            a_depth, kind, rec = anchors[-1]
            keys = _ENTRY_KEYS if kind == "Ntry" else _TX_KEYS if kind == "TxDtls" else \
                _BAL_KEYS if kind == "Bal" else _STMT_KEYS
            key = keys.get(local if depth == a_depth + 1 else "/".join(stack[a_depth:]))
            if key and key not in rec:
                text = (el.text or "").strip()
                rec[key] = text or None
        stack.pop()


# ----------------------------------------------------------------------------- stages
def connect(path: Path):
    import duckdb

    con = duckdb.connect(str(path))
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    return con


def ingest(db: Path, landing: Path, day: str) -> dict:
    """Landing files → raw.* tables (typed, no rules, no lineage beyond constants)."""
    con = connect(db)
    try:
        con.execute("CREATE SCHEMA IF NOT EXISTS raw")
        rows: list[tuple[str, str, int]] = []
        for feed in TABLE_FEEDS:
            rows += [(feed.name, f, n) for f, n in _load_table_feed(con, landing, day, feed)]
        rows += _load_custody(con, landing, day)
        con.execute(MANIFEST_DDL)
        con.execute(QUARANTINE_DDL)
        con.executemany("INSERT INTO raw.file_manifest VALUES (?, ?, ?, ?, NULL, ?, ?, ?, 0, 0, NULL, now()::TIMESTAMP, "
                        "'floor')", [(feed, day, f, Path(f).name, os.path.getsize(f), n, n) for feed, f, n in rows])
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return {"rows": {feed: sum(n for fe, _, n in rows if fe == feed) for feed in {r[0] for r in rows}}}


def scan(warehouse: Path, day: str) -> dict:
    """One pass over every column of each raw partition (count of non-null values per column)."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    out = {}
    try:
        con.execute("SET enable_progress_bar = false")
        for feed in FEEDS:
            cols = [c.name for c in feed.columns] + ["_source_file", "_source_row"]
            sel = ", ".join(f"count({_q(c)})" for c in cols)
            out[feed.name] = con.execute(f"SELECT count(*), {sel} FROM {feed.table} WHERE _business_date = ?",
                                         [day]).fetchone()[0]
    finally:
        con.close()
    return {"rows": out}


def dbt_env(warehouse: Path) -> dict[str, str]:
    return {**os.environ, "MARGINFLOW_WAREHOUSE": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DBT_TARGET_PATH": "", "DBT_LOG_PATH": ""}


def dbt(args: list[str], warehouse: Path, target: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("dbt")
    env = {k: v for k, v in dbt_env(warehouse).items() if v != ""}
    cmd = [str(exe if exe.exists() else "dbt"), *args, "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR),
           "--target-path", str(target), "--log-path", str(target / "logs")]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=str(DBT_DIR))


def compile_models(db: Path, target: Path, vars_json: str) -> dict:
    """Seeds loaded and every model compiled against the floor database (setup of the marts floor)."""
    for args in (["seed"], ["compile", "--vars", vars_json]):
        proc = dbt(args, db, target)
        if proc.returncode != 0:
            raise RuntimeError(f"dbt {args[0]} failed for the floor:\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}")
    return {"manifest": str(target / "manifest.json")}


def model_plan(manifest_path: Path, monthly: bool | None) -> list[dict]:
    """Models in dependency order: (name, relation, materialization, compiled SQL). ``monthly``: True → only
    tag:monthly, False → all but those (the daily job's selection), None → all."""
    manifest = json.loads(manifest_path.read_text())
    nodes = {k: v for k, v in manifest["nodes"].items() if v["resource_type"] == "model"}
    order: list[str] = []
    seen: set[str] = set()

    def visit(uid: str) -> None:
        if uid in seen:
            return
        seen.add(uid)
        for dep in nodes[uid]["depends_on"]["nodes"]:
            if dep in nodes:
                visit(dep)
        order.append(uid)

    for uid in sorted(nodes):
        visit(uid)
    plan = []
    for uid in order:
        n = nodes[uid]
        is_monthly = "monthly" in (n.get("tags") or []) or "monthly" in (n["config"].get("tags") or [])
        if monthly is not None and is_monthly != monthly:
            continue
        mat = n["config"]["materialized"]
        if mat == "ephemeral":
            continue
        plan.append({"name": n["name"], "relation": n["relation_name"], "schema": n["schema"],
                     "kind": "VIEW" if mat == "view" else "TABLE", "sql": n["compiled_code"]})
    return plan


def marts(db: Path, manifest_path: Path, monthly: bool | None) -> dict:
    """Every selected model's compiled SQL as CREATE OR REPLACE VIEW/TABLE, in order, one connection."""
    plan = model_plan(manifest_path, monthly)
    con = connect(db)
    timings = {}
    try:
        for schema in sorted({p["schema"] for p in plan}):
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {_q(schema)}")
        for p in plan:
            t = time.perf_counter()
            con.execute(f"CREATE OR REPLACE {p['kind']} {p['relation']} AS {p['sql']}")
            timings[p["name"]] = round(time.perf_counter() - t, 3)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    slowest = sorted(timings.items(), key=lambda kv: -kv[1])[:8]
    return {"models": len(plan), "slowest": slowest}
