"""Validate one business date of a raw table against its GX suite, with bounded memory.

There is no DuckDB engine for GX here (no duckdb SQLAlchemy driver), so row-level expectations run
on the GX pandas engine over chunks of ``chunk_rows`` rows streamed from DuckDB through Arrow, and
their outcomes are summed across chunks. Expectations that need the whole partition (key
uniqueness, row counts against ``raw.file_manifest``) are evaluated in DuckDB SQL and reported in
the same ``Outcome`` shape. Great Expectations is imported on first use only (~3-4 s).
"""
from __future__ import annotations

import math
import os
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from assets.ingest.feeds import Feed
from assets.ingest.rules import q
from assets.quality.suites import END_OF_DAY, MANIFEST_ROWS, Check, build_suite, checks

if TYPE_CHECKING:
    import duckdb
    import pandas as pd
    import pyarrow as pa

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
LINEAGE = ("_source_file", "_source_row")
ROW_ORDER = "_source_file, length(_source_row), _source_row"  # numeric order of the text row numbers


# ----------------------------------------------------------------------------- results
@dataclass
class Outcome:
    expectation_type: str
    rule: str
    columns: tuple[str, ...]
    success: bool
    unexpected_count: int
    unexpected_percent: float
    samples: list[dict]  # offending rows: _source_file, _source_row, key and checked values
    message: str
    element_count: int = 0
    description: str = ""
    engine: str = "gx"
    observed: Any = None  # table-level expectations: what was seen
    check: str = ""  # id unique within the suite, e.g. "value.required(symbol)" (a rule can apply to many columns)


@dataclass
class ValidationReport:
    feed: str
    business_date: str
    success: bool
    rows_validated: int
    outcomes: list[Outcome]
    chunks: int = 0

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.success]

    def to_markdown(self, max_rows: int = 60) -> str:
        """Compact table for Dagster check metadata: failures first, one sample location each."""
        n_ok = len(self.outcomes) - len(self.failures)
        head = (f"**{self.feed} {self.business_date}**: {'passed' if self.success else 'FAILED'} — "
                f"{n_ok}/{len(self.outcomes)} expectations, {self.rows_validated:,} rows")
        lines = [head, "", "| | rule | column(s) | unexpected | % | first sample |", "|---|---|---|---:|---:|---|"]
        ordered = sorted(self.outcomes, key=lambda o: o.success)
        for o in ordered[:max_rows]:
            s = o.samples[0] if o.samples else None
            where = f"`{s.get('_source_file')}:{s.get('_source_row')}`" if s else ""
            lines.append(f"| {'✅' if o.success else '❌'} | `{o.rule}` | {', '.join(o.columns)} | "
                         f"{o.unexpected_count:,} | {o.unexpected_percent:.2f} | {where} |")
        if len(ordered) > max_rows:
            lines.append(f"| | … {len(ordered) - max_rows} more | | | | |")
        return "\n".join(lines)


# ----------------------------------------------------------------------------- GX, once per process
_lock = threading.Lock()
_validate_lock = threading.Lock()
_state: dict[str, Any] = {}


def gx_context():
    """Ephemeral GX context with one pandas data source, created once per process."""
    with _lock:
        if "context" not in _state:
            os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
            import great_expectations as gx
            from great_expectations.data_context.types.base import ProgressBarsConfig
            from great_expectations.execution_engine import pandas_execution_engine

            # GX fingerprints every pandas batch under HASH_THRESHOLD bytes (a hash of every value,
            # ≈ 20 % of a validation here) for a batch marker nothing reads: a chunk's lineage is
            # its source files' SHA-256 in raw.file_manifest. Above the threshold GX skips it.
            pandas_execution_engine.HASH_THRESHOLD = 0

            ctx = gx.get_context(mode="ephemeral")
            ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
            _state["context"] = ctx
            _state["source"] = ctx.data_sources.add_pandas("raw_partitions")
        return _state["context"]


def _feed_gx(feed: Feed):
    """(batch definition, chunk suite, checks by id) for a feed, cached."""
    gx_context()
    with _lock:
        key = f"feed:{feed.name}"
        if key not in _state:
            asset = _state["source"].add_dataframe_asset(feed.name)
            batch_def = asset.add_batch_definition_whole_dataframe("chunk")
            all_checks = checks(feed)
            suite = build_suite(feed, [c for c in all_checks if c.engine == "gx"])
            _state[key] = (batch_def, suite, {c.id: c for c in all_checks})
        return _state[key]


# ----------------------------------------------------------------------------- helpers
def end_of_business_date_utc(business_date: str) -> datetime:
    """Business date 24:00 Asia/Shanghai as naive UTC (raw timestamps are naive UTC)."""
    local = datetime.combine(date.fromisoformat(business_date) + timedelta(days=1), time(0), tzinfo=LOCAL_TZ)
    return local.astimezone(UTC).replace(tzinfo=None)


def _plain(v: Any) -> Any:
    """JSON-friendly value for sample rows (exact decimals as text)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, Decimal):
        return str(v)
    if hasattr(v, "isoformat"):
        return None if str(v) == "NaT" else v.isoformat()
    if hasattr(v, "item"):  # numpy scalar
        return v.item()
    return v


def _sample_columns(feed: Feed, check: Check, available) -> list[str]:
    cols = [*LINEAGE, *feed.key, *check.columns, *([check.when[0]] if check.when else [])]
    return [c for c in dict.fromkeys(cols) if c in available]


def _pct(unexpected: int, denominator: int) -> float:
    return 100.0 * unexpected / denominator if denominator else 0.0


def _files_text(files) -> str:
    files = sorted(f for f in files if f)
    if not files:
        return ""
    more = f" (+{len(files) - 3} more)" if len(files) > 3 else ""
    return " in " + ", ".join(files[:3]) + more


def _exception_message(info: dict) -> str | None:
    """GX reports an expectation's exception flat, or (in suite results) per metric that raised."""
    for d in (info, *(v for v in info.values() if isinstance(v, dict))):
        if d.get("raised_exception"):
            return str(d.get("exception_message")).splitlines()[0]
    return None


@dataclass
class _Tally:
    """A row-level expectation's outcome summed over chunks."""

    check: Check
    type: str
    success: bool = True
    element: int = 0
    denominator: int = 0
    unexpected: int = 0
    samples: list = field(default_factory=list)
    files: set = field(default_factory=set)
    observed: Any = None
    error: str | None = None

    def add(self, r, batch: pa.RecordBatch, feed: Feed, sample_rows: int) -> None:
        res = dict(r.result or {})
        self.success = self.success and bool(r.success)
        error = _exception_message(r.exception_info or {})
        if error:  # e.g. a column the expectation needs is missing (schema.columns names it too)
            self.error = self.error or error
            return
        if "unexpected_count" not in res:  # table-level expectation (columns): keep the first failure
            if not r.success and self.observed is None:
                self.observed = {"observed": res.get("observed_value"), **(res.get("details") or {})}
            return
        element = int(res.get("element_count") or 0)
        self.element += element
        # GX's percent is over non-missing values where it reports them, else over all rows
        missing = int(res.get("missing_count") or 0) if "unexpected_percent_nonmissing" in res else 0
        self.denominator += element - missing
        self.unexpected += int(res.get("unexpected_count") or 0)
        idx = res.get("partial_unexpected_index_list") or []
        if idx:  # row positions in the chunk: read the rows from Arrow, with exact decimals
            cols = _sample_columns(feed, self.check, batch.schema.names)
            rows = batch.select(cols).take(list(idx)).to_pylist()
            self.files.update(row.get("_source_file") for row in rows)
            for rec in rows[: max(sample_rows - len(self.samples), 0)]:
                self.samples.append({k: _plain(v) for k, v in rec.items()})

    def outcome(self, feed: Feed, business_date: str, rows: int) -> Outcome:
        c = self.check
        where = f"{feed.name} {business_date}: {c.rule}" + (f" on {', '.join(c.columns)}" if c.columns else "")
        if self.error:
            msg = f"{where} could not be evaluated: {self.error}"
        elif self.observed is not None:
            mism = self.observed.get("mismatched") or {}
            msg = (f"{where} failed: missing {mism.get('missing') or []}, unexpected {mism.get('unexpected') or []}"
                   if mism else f"{where} failed: observed {self.observed.get('observed')}")
        elif self.unexpected:
            first = self.samples[0] if self.samples else {}
            msg = (f"{where} failed for {self.unexpected:,} of {self.denominator:,} rows"
                   f"{_files_text(self.files)}; first at {first.get('_source_file')}:{first.get('_source_row')}")
        else:
            msg = f"{where} passed ({rows:,} rows)"  # passes come from the verdict-only pass: no counts
        mism = (self.observed or {}).get("mismatched") or {}
        unexpected = self.unexpected or len(mism.get("missing") or []) + len(mism.get("unexpected") or [])
        return Outcome(self.type, c.rule, c.columns, self.success and not self.error, unexpected,
                       _pct(self.unexpected, self.denominator), self.samples, msg, self.element or rows, c.description,
                       "gx", self.observed, c.id)


# ----------------------------------------------------------------------------- SQL pushdown
def _unique(con, feed: Feed, bd: str, c: Check, sample_rows: int) -> Outcome:
    keys = c.columns
    kq = ", ".join(q(k) for k in keys)
    # GX semantics: rows whose key is entirely missing are ignored; every row of a repeated key is unexpected
    base = f"FROM {feed.table} WHERE _business_date = ? AND ({' OR '.join(f'{q(k)} IS NOT NULL' for k in keys)})"
    dups = f"SELECT {kq} {base} GROUP BY {kq} HAVING count(*) > 1"
    (total,) = con.execute(f"SELECT count(*) {base}", [bd]).fetchone()
    (unexpected,) = con.execute(f"SELECT coalesce(sum(n), 0) FROM (SELECT count(*) AS n {base} "
                                f"GROUP BY {kq} HAVING count(*) > 1)", [bd]).fetchone()
    samples, files = [], []
    if unexpected:
        on = " AND ".join(f"t.{q(k)} IS NOT DISTINCT FROM d.{q(k)}" for k in keys)
        rows = f"FROM {feed.table} t SEMI JOIN ({dups}) d ON {on} WHERE t._business_date = ?"
        cur = con.execute(f"SELECT t._source_file, t._source_row, {', '.join('t.' + q(k) for k in keys)} {rows} "
                          f"ORDER BY {', '.join('t.' + q(k) for k in keys)}, {ROW_ORDER} LIMIT {int(sample_rows)}",
                          [bd, bd])
        names = [d[0] for d in cur.description]
        samples = [{n: _plain(v) for n, v in zip(names, r)} for r in cur.fetchall()]
        files = [r[0] for r in con.execute(f"SELECT DISTINCT t._source_file {rows} ORDER BY 1 LIMIT 4",
                                           [bd, bd]).fetchall()]
    where = f"{feed.name} {bd}: {c.rule}"
    msg = (f"{where} failed: {unexpected:,} of {total:,} rows share a ({', '.join(keys)}){_files_text(files)}"
           if unexpected else f"{where} passed ({total:,} rows)")
    return Outcome(_etype(c), c.rule, keys, not unexpected, int(unexpected), _pct(unexpected, total), samples, msg,
                   int(total), c.description, "duckdb", check=c.id)


def _rows_loaded(con, feed: Feed, bd: str, c: Check, sample_rows: int) -> Outcome:
    """Rows in the table per file vs rows_loaded in the manifest (Σ = the table's row count)."""
    cur = con.execute(f"""
        WITH t AS (SELECT _source_file AS file, count(*) AS n FROM {feed.table} WHERE _business_date = ? GROUP BY 1),
             m AS (SELECT file, sum(rows_loaded) AS loaded FROM raw.file_manifest
                   WHERE feed = ? AND business_date = ? GROUP BY 1)
        SELECT coalesce(t.file, m.file) AS file, coalesce(t.n, 0), m.loaded
        FROM t FULL JOIN m ON t.file = m.file ORDER BY 1""", [bd, feed.name, bd])
    per_file = cur.fetchall()
    in_table = sum(n for _, n, _ in per_file)
    loaded = sum(m or 0 for _, _, m in per_file)
    bad = [(f, n, m) for f, n, m in per_file if n != (m or 0)]
    off = sum(abs(n - (m or 0)) for _, n, m in bad)
    samples = [{"_source_file": f, "_source_row": "-", "rows_in_table": n, "rows_loaded": m}
               for f, n, m in bad[:sample_rows]]
    where = f"{feed.name} {bd}: {c.rule}"
    msg = (f"{where} failed: {in_table:,} rows in {feed.table}, Σ rows_loaded {loaded:,} in raw.file_manifest; "
           f"{len(bad)} file(s) differ by {off:,} rows{_files_text(f for f, _, _ in bad)}"
           if bad else f"{where} passed ({in_table:,} rows = Σ rows_loaded)")
    return Outcome(_etype(c), c.rule, (), not bad, off, _pct(off, max(in_table, loaded)), samples, msg, in_table,
                   c.description, "duckdb", {"rows_in_table": in_table, MANIFEST_ROWS: loaded}, c.id)


def _file_rows(con, feed: Feed, bd: str, c: Check, sample_rows: int) -> Outcome:
    cur = con.execute("SELECT file, rows_in_file, rows_loaded, rows_quarantined, rows_duplicate FROM raw.file_manifest "
                      "WHERE feed = ? AND business_date = ? ORDER BY file", [feed.name, bd])
    files = cur.fetchall()

    def broken(r) -> bool:
        counts = r[1:]
        return any(v is None or v < 0 for v in counts) or r[2] + r[3] + r[4] != r[1]

    bad = [r for r in files if broken(r)]
    samples = [{"_source_file": f, "_source_row": "-", "rows_in_file": n, "rows_loaded": lo, "rows_quarantined": qu,
                "rows_duplicate": du} for f, n, lo, qu, du in bad[:sample_rows]]
    where = f"{feed.name} {bd}: {c.rule}"
    msg = (f"{where} failed: {len(bad)} of {len(files)} file(s) do not account for every row"
           f"{_files_text(r[0] for r in bad)}" if bad else f"{where} passed ({len(files)} file(s))")
    return Outcome(_etype(c), c.rule, c.columns, not bad, len(bad), _pct(len(bad), len(files)), samples, msg,
                   len(files), c.description, "duckdb", check=c.id)


_PUSHDOWN = {"unique": _unique, "manifest.rows_loaded": _rows_loaded, "manifest.file_rows": _file_rows}


def _etype(c: Check) -> str:
    """GX snake_case type of an expectation class name (ExpectTableRowCountToEqual → expect_table_row_count_to_equal)."""
    return "expect" + re.sub(r"([A-Z])", r"_\1", c.expectation[len("Expect"):]).lower()


# ----------------------------------------------------------------------------- entry point
def validate_partition(con: duckdb.DuckDBPyConnection, feed: Feed, business_date: str, *,
                       chunk_rows: int = 200_000, sample_rows: int = 5) -> ValidationReport:
    """Validate the rows of ``raw.<feed>`` whose ``_business_date`` is ``business_date``.

    Two passes over the partition's chunks. The first runs the whole suite for a verdict only (GX's
    ``BOOLEAN_ONLY``: no lists of unexpected values and rows, ≈ 2.5× faster than ``SUMMARY``). Only
    if an expectation failed does a second pass run the failed ones again, with counts and sample rows.
    """
    bd = date.fromisoformat(business_date).isoformat()
    batch_def, suite, by_id = _feed_gx(feed)  # first: imports GX
    params = {END_OF_DAY: end_of_business_date_utc(bd)}
    with _no_progress_bar(con):
        tallies, rows, chunks = _pass(con, feed, bd, batch_def, suite, params, by_id,
                                      {"result_format": "BOOLEAN_ONLY"}, chunk_rows, sample_rows)
        failed = [by_id[cid] for cid, t in tallies.items() if not t.success or t.error]
        if failed:
            summary = {"result_format": "SUMMARY", "partial_unexpected_count": max(sample_rows, 1)}
            detailed, _, _ = _pass(con, feed, bd, batch_def, build_suite(feed, failed), params, by_id, summary,
                                   chunk_rows, sample_rows)
            tallies.update(detailed)
        outcomes = [tallies[c.id].outcome(feed, bd, rows) for c in by_id.values() if c.id in tallies]
        for c in by_id.values():
            if c.engine == "duckdb":
                fn = _PUSHDOWN["unique" if c.rule.startswith("unique.") else c.rule]
                outcomes.append(fn(con, feed, bd, c, sample_rows))
    return ValidationReport(feed.name, bd, all(o.success for o in outcomes), rows, outcomes, chunks)


def _pass(con, feed: Feed, bd: str, batch_def, suite, params: dict, by_id: dict[str, Check], result_format: dict,
          chunk_rows: int, sample_rows: int) -> tuple[dict[str, _Tally], int, int]:
    """One pass of ``suite`` over the partition, ``chunk_rows`` at a time: (tallies by check, rows, chunks)."""
    from great_expectations.validator.v1_validator import Validator

    tallies: dict[str, _Tally] = {}
    rows = chunks = 0
    cur = con.execute(f"SELECT * FROM {feed.table} WHERE _business_date = ?", [bd])
    # streams chunk_rows at a time (DuckDB 1.5 renamed fetch_record_batch to to_arrow_reader)
    reader = getattr(cur, "to_arrow_reader", cur.fetch_record_batch)(chunk_rows)
    for batch in _nonempty(reader):
        df = _frame(batch, feed)
        rows += len(df)
        chunks += 1
        # What Batch.validate runs, minus a second load of the same chunk. The data source's one
        # execution engine holds the active batch: one validation at a time.
        with _validate_lock:
            res = Validator(batch_definition=batch_def, batch_parameters={"dataframe": df},
                            result_format=result_format).validate_expectation_suite(suite, params)
        for r in res.results:
            cfg = r.expectation_config
            t = tallies.setdefault(cfg.meta["check"], _Tally(by_id[cfg.meta["check"]], cfg.type))
            t.add(r, batch, feed, sample_rows)
        del df, res
    return tallies, rows, chunks


@contextmanager
def _no_progress_bar(con):
    """DuckDB draws a progress bar on stderr for long queries: keep check logs clean, then restore."""
    (was,) = con.execute("SELECT current_setting('enable_progress_bar')").fetchone()
    con.execute("SET enable_progress_bar = false")
    try:
        yield
    finally:
        con.execute(f"SET enable_progress_bar = {'true' if was else 'false'}")


def _frame(batch: pa.RecordBatch, feed: Feed) -> pd.DataFrame:
    """Chunk as pandas in dtypes GX's pandas engine compares vectorised.

    Decimals become float64: GX maps Python ``Decimal`` objects one by one (~1 µs a value per
    expectation). Going through the decimal text makes the conversion correctly rounded (Arrow's
    direct cast is off by an ulp for ~1 value in 8), hence monotone and exact at every bound used
    here (0, 1, 10^6, 10^8, ±10^10): a value meeting a bound never fails it, and one exceeding it by
    a cent of money always does. Sample rows are read back from Arrow, so reported values stay exact.
    Timestamps go to ns (GX's vectorised datetime path); enums, currencies and per-file lineage
    become categoricals (cheap to hash: GX fingerprints every batch it loads).
    """
    import pyarrow as pa

    categorical = {c.name for c in feed.columns if c.kind in ("enum", "ccy")} | {"_source_file", "_source_sha256",
                                                                                  "_run_id"}
    arrays = []
    for name, col in zip(batch.schema.names, batch.columns):
        if pa.types.is_decimal(col.type):
            col = col.cast(pa.string()).cast(pa.float64())
        elif name in categorical and pa.types.is_string(col.type):
            col = col.dictionary_encode()
        arrays.append(col)
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names).to_pandas(coerce_temporal_nanoseconds=True)


def _nonempty(reader):
    """Record batches of the reader; an empty partition still yields one empty batch (schema checks run)."""
    import pyarrow as pa

    seen = False
    for b in reader:
        if b.num_rows:
            seen = True
            yield b
    if not seen:
        yield pa.RecordBatch.from_pylist([], schema=reader.schema)
