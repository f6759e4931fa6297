"""Load one business date of one feed from the landing zone into its raw DuckDB table.

Files are read with polars (as text, in bounded batches) and handed to DuckDB through Arrow; one
SQL statement per batch types the columns and splits clean rows from rows that break a contract
rule (those go to ``raw.quarantine``). Batches land in a staging table; the partition of the raw
table is then replaced in one short transaction: a failure leaves what was loaded before
untouched, and re-loading a partition replaces its rows exactly.
"""
from __future__ import annotations

import codecs
import contextlib
import fnmatch
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa

from assets.common.errors import FeedError
from assets.ingest.feeds import CUSTODY_FEEDS, FEEDS, LINEAGE_COLUMNS, Feed
from assets.ingest.rules import create_table_sql, lit, q, typed_select, violation_sql

BATCH_ROWS = 250_000
CSV_BLOCK_BYTES = 32 << 20  # ~250k fills a block
# Bump when the rules or the typing change: a partition loaded by another version is loaded again.
LOADER_VERSION = "2"

QUARANTINE_DDL = """
CREATE TABLE IF NOT EXISTS raw.quarantine (
    feed VARCHAR, business_date DATE, rule VARCHAR, "column" VARCHAR, reason VARCHAR,
    record VARCHAR, _source_file VARCHAR, _source_sha256 VARCHAR, _source_row VARCHAR,
    _loaded_at TIMESTAMP, _run_id VARCHAR
)"""

MANIFEST_DDL = """
CREATE TABLE IF NOT EXISTS raw.file_manifest (
    feed VARCHAR, business_date DATE, file VARCHAR, file_name VARCHAR, sha256 VARCHAR, size_bytes BIGINT,
    rows_in_file BIGINT, rows_loaded BIGINT, rows_quarantined BIGINT, rows_duplicate BIGINT, extra_columns VARCHAR,
    loaded_at TIMESTAMP, run_id VARCHAR
)"""


@dataclass
class FileStat:
    path: Path
    rel: str  # path relative to the landing root, as operators see it
    sha256: str
    size: int
    lines: int  # newline-terminated lines (plus one for an unterminated last line)


@dataclass
class FeedLoad:
    feed: str
    business_date: str
    files: list[dict] = field(default_factory=list)
    rows_loaded: int = 0
    rows_quarantined: int = 0
    warnings: list[str] = field(default_factory=list)
    unchanged: bool = False  # the same files were loaded before by this loader version: nothing redone

    @property
    def rows_in_files(self) -> int:
        return sum(f["rows_in_file"] for f in self.files)


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    for feed in FEEDS:
        con.execute(create_table_sql(feed, LINEAGE_COLUMNS))
    con.execute(QUARANTINE_DDL)
    con.execute(MANIFEST_DDL)
    con.execute("ALTER TABLE raw.file_manifest ADD COLUMN IF NOT EXISTS loader_version VARCHAR")


def unchanged_load(con: duckdb.DuckDBPyConnection, feed_name: str, business_date: str,
                   stats: list[FileStat]) -> FeedLoad | None:
    """The previous load of this partition when it read exactly these files (name and SHA-256) with
    this loader version: re-running an unchanged partition does not redo the work."""
    rows = con.execute(
        "SELECT file, file_name, sha256, size_bytes, rows_in_file, rows_loaded, rows_quarantined, loader_version "
        "FROM raw.file_manifest WHERE feed = ? AND business_date = ? ORDER BY file", [feed_name, business_date]).fetchall()
    if not rows or any(r[7] != LOADER_VERSION for r in rows):
        return None
    if sorted((r[0], r[2]) for r in rows) != sorted((st.rel, st.sha256) for st in stats):
        return None
    res = FeedLoad(feed_name, business_date, unchanged=True,
                   warnings=["unchanged since the last load (same files, same SHA-256): not reloaded"])
    for f, name, sha, size, n, loaded, quarantined, _ in rows:
        res.files.append({"file": f, "file_name": name, "sha256": sha, "size_bytes": size, "rows_in_file": n,
                          "rows_loaded": loaded, "rows_quarantined": quarantined, "extra": []})
        res.rows_loaded += loaded
        res.rows_quarantined += quarantined
    return res


# ----------------------------------------------------------------------------- files
def discover(landing_root: Path, business_date: str, feed: Feed) -> list[Path]:
    """The feed's files for a business date; a missing folder or file is an error."""
    folder = landing_root / business_date / feed.folder
    rel = f"{business_date}/{feed.folder}"
    if not (landing_root / business_date).is_dir():
        raise FeedError(business_date, "layout.folder_missing",
                        f"no landing folder for business date {business_date} under {landing_root}")
    if not folder.is_dir():
        raise FeedError(rel, "layout.feed_missing", f"feed folder '{feed.folder}' missing for {business_date}")
    files = sorted(p for p in folder.iterdir()
                   if p.is_file() and not p.name.startswith(".")
                   and any(fnmatch.fnmatch(p.name.lower(), pat.lower()) for pat in feed.patterns))
    if not files:
        raise FeedError(rel, "layout.file_missing",
                        f"no {feed.name} file ({' or '.join(feed.patterns)}) in {rel}; an empty feed still lands its file with a header")
    return files


def file_stat(path: Path, rel: str, *, check_utf8: bool = True) -> FileStat:
    """SHA-256, size and line count in one streaming pass; refuses files that are not UTF-8."""
    h = hashlib.sha256()
    size = lines = 0
    last = b""
    dec = codecs.getincrementaldecoder("utf-8")() if check_utf8 else None
    offset = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
            lines += chunk.count(b"\n")
            last = chunk[-1:]
            if dec is not None:
                try:
                    dec.decode(chunk)
                except UnicodeDecodeError as exc:
                    raise FeedError(rel, "file.encoding",
                                    f"not UTF-8 at byte {offset + exc.start}: {exc.reason} (feeds are UTF-8)") from None
            offset += len(chunk)
    if dec is not None:
        try:
            dec.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise FeedError(rel, "file.encoding", f"not UTF-8: truncated multi-byte sequence at the end ({exc.reason})") from None
    if size and last != b"\n":
        lines += 1
    return FileStat(path, rel, h.hexdigest(), size, lines)


def check_duplicates(con: duckdb.DuckDBPyConnection, feed: Feed, business_date: str, stats: list[FileStat]) -> None:
    """The same bytes landed twice (in this folder or for another date/file) is a duplicate delivery."""
    seen: dict[str, str] = {}
    for s in stats:
        if s.lines <= 1 and s.path.suffix.lower() != ".xml":
            continue  # a header-only file (an empty feed) looks the same every day
        if s.sha256 in seen:
            raise FeedError(s.rel, "file.duplicate", f"same content (SHA-256 {s.sha256[:12]}…) as {seen[s.sha256]}")
        seen[s.sha256] = s.rel
    if not seen:
        return
    rows = con.execute(
        "SELECT file, sha256 FROM raw.file_manifest WHERE sha256 IN (SELECT unnest(?)) "
        "AND file NOT IN (SELECT unnest(?))",  # re-loading the same file is a reload, not a duplicate
        [list(seen), [s.rel for s in stats]],
    ).fetchall()
    # reference snapshots legitimately repeat day to day; everything else must be new bytes
    if rows and feed.folder != "reference":
        file, sha = rows[0]
        raise FeedError(seen[sha], "file.duplicate", f"same content (SHA-256 {sha[:12]}…) was already loaded as {file}")


# ----------------------------------------------------------------------------- table feeds
def _header(path: Path, rel: str) -> list[str]:
    if path.suffix.lower() == ".parquet":
        try:
            return list(pl.read_parquet_schema(path).keys())
        except Exception as exc:  # noqa: BLE001 - any reader failure means the file is unreadable
            raise FeedError(rel, "file.read", f"Parquet unreadable: {exc}") from None
    with open(path, encoding="utf-8-sig", newline="") as fh:
        first = fh.readline()
    if not first.strip():
        raise FeedError(rel, "file.read", "empty file: no header line (an empty feed still has its header)", row=1)
    return [h.strip() for h in first.rstrip("\r\n").split(",")]


def check_columns(feed: Feed, rel: str, header: list[str]) -> list[str]:
    """Missing or repeated contract columns refuse the file; extra ones are a warning (returned)."""
    dup = sorted({h for h in header if header.count(h) > 1})
    if dup:
        raise FeedError(rel, "columns.duplicate", f"column(s) {', '.join(dup)} appear twice in the header", row=1)
    want = [c.name for c in feed.columns]
    missing = [c for c in want if c not in header]
    if missing:
        raise FeedError(rel, "columns.missing",
                        f"column(s) {', '.join(missing)} missing (the {feed.name} contract has {', '.join(want)})", row=1)
    return [h for h in header if h not in want]


def _batches(path: Path, rel: str, feed: Feed) -> Iterator[pl.DataFrame]:
    """Text columns plus ``_line`` (the CSV line number; the header is line 1; Parquet: 1-based row)."""
    names = [c.name for c in feed.columns]
    if path.suffix.lower() == ".parquet":
        lf = pl.scan_parquet(path).select([pl.col(n).cast(pl.Utf8) for n in names])
        lf = lf.with_row_index("_line", offset=1)
        try:
            yield from lf.collect_batches(chunk_size=BATCH_ROWS)
        except pl.exceptions.ComputeError as exc:
            raise FeedError(rel, "file.read", f"Parquet unreadable: {str(exc).splitlines()[0]}") from None
        return
    yield from _csv_batches(path, rel, names)


def _csv_batches(path: Path, rel: str, names: list[str]) -> Iterator[pl.DataFrame]:
    """The CSV in blocks of whole lines, each parsed by polars as it is needed.

    polars' own ``collect_batches`` reads ahead of a slow consumer without bound (a 10M-row file
    ended up in memory while DuckDB inserted); here the memory is one block of ``CSV_BLOCK_BYTES``.
    A quoted field with a line break would be split between blocks: such files are refused anyway
    (rows read must equal data lines, see ``row.count``)."""
    header = _header(path, rel)
    line = 2
    with open(path, "rb") as fh:
        fh.readline()  # the header (checked by check_columns)
        carry = b""
        while True:
            block = fh.read(CSV_BLOCK_BYTES)
            data = carry + block
            if block:
                cut = data.rfind(b"\n") + 1
                if cut == 0:  # one line longer than a block: keep reading
                    carry = data
                    continue
                data, carry = data[:cut], data[cut:]
            if data.strip():
                try:
                    # the header's width, not the block's first line: a short last row reads as nulls
                    df = pl.read_csv(data, has_header=False, schema=dict.fromkeys(header, pl.Utf8),
                                     encoding="utf8", quote_char='"', truncate_ragged_lines=False)
                except pl.exceptions.PolarsError as exc:
                    msg = str(exc).splitlines()[0]
                    raise FeedError(rel, "row.malformed", f"cannot be read as CSV (lines from {line:,}): {msg}") from None
                yield df.select(names).with_row_index("_line", offset=line)
                line += df.height
            if not block:
                return


def _load_table_file(con: duckdb.DuckDBPyConnection, feed: Feed, business_date: str, st: FileStat,
                     run_id: str, loaded_at: datetime, table: str, quarantine: str) -> dict:
    header = _header(st.path, st.rel)
    extra = check_columns(feed, st.rel, header)
    bd = f"DATE {lit(business_date)}"
    number, rule, column, reason = violation_sql(feed, bd)
    names = [c.name for c in feed.columns]
    lineage = (f"{bd}, {lit(st.rel)}, {lit(st.sha256)}, cast(_line AS VARCHAR), "
               f"TIMESTAMP {lit(loaded_at.strftime('%Y-%m-%d %H:%M:%S.%f'))}, {lit(run_id)}")
    loaded = quarantined = rows = 0
    for df in _batches(st.path, st.rel, feed):
        rows += df.height
        batch = df.to_arrow()
        con.register("_batch", batch)
        try:
            con.execute(f"CREATE OR REPLACE TEMP TABLE _checked AS SELECT *, {number} AS _rule_no FROM _batch")
            con.execute(f"INSERT INTO {table} SELECT {typed_select(feed)}, {lineage} "
                        f"FROM _checked WHERE _rule_no IS NULL")
            con.execute(
                f"INSERT INTO {quarantine} (feed, rule, \"column\", reason, record, business_date, _source_file, "
                "_source_sha256, _source_row, _loaded_at, _run_id) "
                f"SELECT {lit(feed.name)}, {rule}, {column}, {reason}, "
                f"to_json(struct_pack({', '.join(f'{q(n)} := {q(n)}' for n in names)}))::VARCHAR, "
                f"{lineage} FROM _checked WHERE _rule_no IS NOT NULL")
            n_bad = con.execute("SELECT count(*) FROM _checked WHERE _rule_no IS NOT NULL").fetchone()[0]
        finally:
            con.unregister("_batch")
        quarantined += n_bad
        loaded += df.height - n_bad
    expected = max(st.lines - 1, 0) if st.path.suffix.lower() != ".parquet" else rows
    if rows != expected:
        raise FeedError(st.rel, "row.count",
                        f"read {rows:,} rows but the file has {expected:,} data lines "
                        "(embedded line breaks or a damaged file)")
    return {"rows_in_file": rows, "rows_loaded": loaded, "rows_quarantined": quarantined, "extra": extra}


# ----------------------------------------------------------------------------- custody
_ARROW_TYPES = {"money": pa.decimal128(18, 2), "date": pa.date32(), "dateish": pa.date32(), "int": pa.int64(),
                "bool": pa.bool_()}


def _custody_arrow(statements: list, feed: Feed) -> pa.Table:
    """One Arrow table of a custody feed's rows (entries or balances) with file and row lineage."""
    cols = [c.name for c in feed.columns]
    data: dict[str, list] = {n: [] for n in [*cols, "_source_file", "_source_row"]}
    for s in statements:
        entries = feed.name == "custody_entries"
        # the CSV export keeps balances in balances.csv, beside entries.csv
        file = s.file if entries or s.form != "csv" else s.file.replace("entries.csv", "balances.csv")
        for r in (s.entries if entries else s.balances):
            if r.amount.as_tuple().exponent < -2:  # DECIMAL(18,2) would round it silently
                raise FeedError(s.file, "value.money_dp", f"amount {r.amount} has more than 2 decimal places",
                                row=r.source_row)
            for n in cols:
                data[n].append(getattr(r, n))
            data["_source_file"].append(file)
            data["_source_row"].append(r.source_row)
    schema = pa.schema([pa.field(c.name, _ARROW_TYPES.get(c.kind, pa.string())) for c in feed.columns]
                       + [pa.field("_source_file", pa.string()), pa.field("_source_row", pa.string())])
    return pa.Table.from_pydict(data, schema=schema)


def read_custody(landing_root: Path, business_date: str, max_bytes: int = 256 << 20
                 ) -> tuple[list, list, list[FileStat], list[str]]:
    """Statements of a business date from camt.053 XML and/or the CSV export, each statement once.

    Returns (statements loaded, every statement read, file stats, warnings). A statement delivered in both forms must agree.
    Custody files are all-or-nothing: a statement is one financial document, so a bad value refuses
    the file (naming statement and entry) rather than quarantining part of a statement.
    """
    from assets.ingest.readers.camt053 import parse_camt053
    from assets.ingest.readers.custody_csv import read_custody_csv, statements_equal

    feed = CUSTODY_FEEDS[0]
    files = discover(landing_root, business_date, feed)
    stats = [file_stat(p, p.relative_to(landing_root).as_posix()) for p in files if p.suffix.lower() == ".xml"]
    statements: list = []
    for st in stats:
        for s in parse_camt053(st.path, display_name=st.rel, max_bytes=max_bytes):
            s.file = st.rel
            statements.append(s)
    folder = landing_root / business_date / feed.folder
    ent, bal = folder / "entries.csv", folder / "balances.csv"
    if ent.exists() != bal.exists():
        missing = bal if ent.exists() else ent
        raise FeedError(missing.relative_to(landing_root).as_posix(), "layout.file_missing",
                        "the custody CSV export is a pair: entries.csv and balances.csv")
    if ent.exists():
        csv_stats = [file_stat(p, p.relative_to(landing_root).as_posix()) for p in (ent, bal)]
        stats += csv_stats
        for s in read_custody_csv(ent, bal, display_dir=f"{business_date}/{feed.folder}"):
            s.file = csv_stats[0].rel  # entries.csv names the statement; balances.csv is its pair
            statements.append(s)
    warnings: list[str] = []
    chosen: dict[str, object] = {}
    for s in statements:
        first = chosen.get(s.statement_id)
        if first is None:
            chosen[s.statement_id] = s
            continue
        diffs = statements_equal(first, s)
        if diffs:
            raise FeedError(s.file, "custody.forms_disagree",
                            f"statement {s.statement_id} differs from {first.file}: {'; '.join(diffs[:5])}")
        warnings.append(f"statement {s.statement_id} delivered in {first.file} and {s.file}: loaded once")
    return list(chosen.values()), statements, stats, warnings


def _rows_by_file(statements: list, feed: Feed) -> dict[str, int]:
    """Rows each file delivered (a statement sent in two forms counts in both), as _custody_arrow files them."""
    counts: dict[str, int] = {}
    entries = feed.name == "custody_entries"
    for s in statements:
        file = s.file if entries or s.form != "csv" else s.file.replace("entries.csv", "balances.csv")
        counts[file] = counts.get(file, 0) + len(s.entries if entries else s.balances)
    return counts


def _count_by_file(tbl: pa.Table) -> dict[str, int]:
    counts: dict[str, int] = {}
    for f in tbl.column("_source_file").to_pylist():
        counts[f] = counts.get(f, 0) + 1
    return counts


def _load_custody(con: duckdb.DuckDBPyConnection, landing_root: Path, business_date: str, run_id: str,
                  loaded_at: datetime, max_bytes: int) -> dict[str, FeedLoad]:
    files = discover(landing_root, business_date, CUSTODY_FEEDS[0])
    stats = [file_stat(p, p.relative_to(landing_root).as_posix()) for p in files]
    previous = {f.name: unchanged_load(con, f.name, business_date,
                                       [st for st in stats if st.path.name != ("balances.csv" if f.name == "custody_entries" else "entries.csv")])
                for f in CUSTODY_FEEDS}
    if all(previous.values()):
        return previous
    statements, everything, stats, warnings = read_custody(landing_root, business_date, max_bytes)
    check_duplicates(con, CUSTODY_FEEDS[0], business_date, stats)
    ts = lit(loaded_at.strftime("%Y-%m-%d %H:%M:%S.%f"))
    results: dict[str, FeedLoad] = {}
    for feed in CUSTODY_FEEDS:
        res = FeedLoad(feed.name, business_date, warnings=list(warnings))
        tbl = _custody_arrow(statements, feed)
        con.execute(f"DELETE FROM {feed.table} WHERE _business_date = ?", [business_date])
        con.register("_custody", tbl)
        try:
            sha = " ".join(f"WHEN {lit(st.rel)} THEN {lit(st.sha256)}" for st in stats)
            con.execute(
                f"INSERT INTO {feed.table} SELECT {', '.join(q(c.name) for c in feed.columns)}, "
                f"DATE {lit(business_date)}, _source_file, CASE _source_file {sha} END, _source_row, "
                f"TIMESTAMP {ts}, {lit(run_id)} FROM _custody")
        finally:
            con.unregister("_custody")
        loaded = _count_by_file(tbl)
        read = _rows_by_file(everything, feed)
        res.rows_loaded = tbl.num_rows
        for st in stats:
            if st.path.name == ("balances.csv" if feed.name == "custody_entries" else "entries.csv"):
                continue
            # a statement delivered twice (XML and CSV) is loaded from its first form only
            res.files.append({"file": st.rel, "file_name": st.path.name, "sha256": st.sha256, "size_bytes": st.size,
                              "rows_in_file": read.get(st.rel, 0), "rows_loaded": loaded.get(st.rel, 0),
                              "rows_quarantined": 0, "extra": []})
        results[feed.name] = res
    return results


# ----------------------------------------------------------------------------- partition
def _record_manifest(con: duckdb.DuckDBPyConnection, res: FeedLoad, run_id: str, loaded_at: datetime) -> None:
    con.execute("DELETE FROM raw.file_manifest WHERE feed = ? AND business_date = ?", [res.feed, res.business_date])
    for f in res.files:
        con.execute("INSERT INTO raw.file_manifest VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [res.feed, res.business_date, f["file"], f["file_name"], f["sha256"], f["size_bytes"],
                     f["rows_in_file"], f["rows_loaded"], f["rows_quarantined"],
                     f["rows_in_file"] - f["rows_loaded"] - f["rows_quarantined"], ",".join(f["extra"]) or None,
                     loaded_at, run_id, LOADER_VERSION])


def _export_parquet(con: duckdb.DuckDBPyConnection, feed: Feed, business_date: str, lake: Path | None) -> None:
    """Raw rows of the partition as Parquet: the engine-neutral hand-off (SPEC §3)."""
    if lake is None:
        return
    out = lake / "raw" / feed.name
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / f".{business_date}.parquet.tmp"
    con.execute(f"COPY (SELECT * FROM {feed.table} WHERE _business_date = {lit(business_date)}) "
                f"TO {lit(str(tmp))} (FORMAT PARQUET)")
    tmp.replace(out / f"{business_date}.parquet")


@contextlib.contextmanager
def _transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Commit what the block did, or roll all of it back."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def load_feed(con: duckdb.DuckDBPyConnection, landing_root: Path, business_date: str, feed_name: str, *,
              run_id: str = "manual", lake: Path | None = None, max_custody_bytes: int = 256 << 20) -> dict[str, FeedLoad]:
    """Replace one business date of a feed (custody: both custody tables) in one transaction."""
    date.fromisoformat(business_date)  # a bad partition key is a programming error, fail loudly
    landing_root = Path(landing_root)
    ensure_schema(con)
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    feed = next(f for f in FEEDS if f.name == feed_name)
    if feed.reader == "custody":
        with _transaction(con):
            results = _load_custody(con, landing_root, business_date, run_id, loaded_at, max_custody_bytes)
            for res in results.values():
                if not res.unchanged:
                    _record_manifest(con, res, run_id, loaded_at)
    else:
        results = _load_table_feed(con, landing_root, business_date, feed, run_id, loaded_at)
    for name in results:
        if not results[name].unchanged:
            _export_parquet(con, next(f for f in FEEDS if f.name == name), business_date, lake)
    return results


def _load_table_feed(con: duckdb.DuckDBPyConnection, landing_root: Path, business_date: str, feed: Feed,
                     run_id: str, loaded_at: datetime) -> dict[str, FeedLoad]:
    """Rows are checked and typed into staging tables first, committed batch by batch (DuckDB keeps
    an open transaction's inserts in memory: a 10M-row day would hold gigabytes), then swapped into
    the raw tables in one short transaction, so readers never see half a partition."""
    res = FeedLoad(feed.name, business_date)
    files = discover(landing_root, business_date, feed)
    stats = [file_stat(p, p.relative_to(landing_root).as_posix(), check_utf8=p.suffix.lower() != ".parquet")
             for p in files]
    previous = unchanged_load(con, feed.name, business_date, stats)
    if previous is not None:
        return {feed.name: previous}
    check_duplicates(con, feed, business_date, stats)
    suffix = f"{feed.name}__{business_date.replace('-', '_')}"
    stage, stage_q = f"raw_staging.{suffix}", f"raw_staging.quarantine__{suffix}"
    con.execute("CREATE SCHEMA IF NOT EXISTS raw_staging")
    con.execute(f"CREATE OR REPLACE TABLE {stage} AS SELECT * FROM {feed.table} LIMIT 0")
    con.execute(f"CREATE OR REPLACE TABLE {stage_q} AS SELECT * FROM raw.quarantine LIMIT 0")
    try:
        for st in stats:
            got = _load_table_file(con, feed, business_date, st, run_id, loaded_at, stage, stage_q)
            res.files.append({"file": st.rel, "file_name": st.path.name, "sha256": st.sha256,
                              "size_bytes": st.size, **got})
            res.rows_loaded += got["rows_loaded"]
            res.rows_quarantined += got["rows_quarantined"]
            if got["extra"]:
                res.warnings.append(f"{st.rel}: extra column(s) {', '.join(got['extra'])} ignored")
        with _transaction(con):
            con.execute(f"DELETE FROM {feed.table} WHERE _business_date = ?", [business_date])
            con.execute(f"INSERT INTO {feed.table} SELECT * FROM {stage}")
            con.execute("DELETE FROM raw.quarantine WHERE feed = ? AND business_date = ?", [feed.name, business_date])
            con.execute(f"INSERT INTO raw.quarantine SELECT * FROM {stage_q}")
            _record_manifest(con, res, run_id, loaded_at)
    finally:
        con.execute(f"DROP TABLE IF EXISTS {stage}")
        con.execute(f"DROP TABLE IF EXISTS {stage_q}")
    return {feed.name: res}


def business_dates(landing_root: Path) -> list[str]:
    """Business-date folders of a landing zone, in order."""
    import re

    return sorted(p.name for p in Path(landing_root).iterdir()
                  if p.is_dir() and re.fullmatch(r"\d{4}-\d{2}-\d{2}", p.name))


def load_landing(con: duckdb.DuckDBPyConnection, landing_root: Path, dates: list[str] | None = None, *,
                 lake: Path | None = None, run_id: str = "manual") -> dict[tuple[str, str], FeedLoad]:
    """Every feed of every business date (outside Dagster: development, benchmarks' floor)."""
    out: dict[tuple[str, str], FeedLoad] = {}
    names = [f.name for f in FEEDS if f.reader == "table"] + [CUSTODY_FEEDS[0].name]
    for day in dates or business_dates(landing_root):
        for name in names:
            for feed_name, res in load_feed(con, landing_root, day, name, run_id=run_id, lake=lake).items():
                out[(feed_name, day)] = res
    return out
