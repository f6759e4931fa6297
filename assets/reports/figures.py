"""Marts → one figures set per report.

Every number a report prints is a ``Figure`` keyed by a metric id (``M1.utilization.mean``,
``M8.scenario.limit_down_3d.cover_2``); tables are lists of figures, charts are drawn from series.
The templates only place and format them: anything derived (a sum over a period, a share) is
computed here in SQL, or — preferably — read from a monthly ``rpt_`` mart as it stands.

Reads go through one read-only DuckDB connection. A calendar month is read from the monthly marts;
any other date range (on demand) from the daily and event marts with the same definitions.
"""
from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import json
import math
import os
import re
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import yaml
from markupsafe import Markup, escape

from assets.common.settings import BUSINESS_TZ, CUTOFF_LOCAL, REPO_ROOT

from . import formatting as F

DEFAULT_ENTITY = "Marginflow Platform Ltd."
ENTITY_ENV = "MARGINFLOW_ENTITY"
DEFINITIONS_FILE = Path(__file__).with_name("metric_definitions.yml")
FIGURES_SCHEMA = "marginflow.report-figures/1"

TRANCHES = ("SENIOR", "MEZZANINE", "JUNIOR")
LOSS_ORDER = {"JUNIOR": 1, "MEZZANINE": 2, "SENIOR": 3}  # after the risk reserve (SPEC §1)
INCOME_STEP = {"SENIOR": 1, "MEZZANINE": 2, "JUNIOR": 4}  # 3 = platform servicing fee


class ReportDataError(RuntimeError):
    """The warehouse cannot support the report (missing marts, no closes in the period)."""


# --------------------------------------------------------------------------------------------------
# data model


@dataclass(frozen=True)
class Figure:
    """One published number (or date/text) with the metric id it is known by."""

    id: str
    value: Any
    kind: str = "text"
    label: str = ""

    @property
    def text(self) -> str:
        return F.fmt(self.value, self.kind)

    def __str__(self) -> str:
        return self.text

    def __html__(self) -> str:
        return str(escape(self.text))

    @property
    def numeric(self) -> bool:
        return self.kind not in ("text", "date", "datetime", "bool")

    def json_value(self) -> Any:
        v = self.value
        if v is None:
            return None
        if isinstance(v, Decimal):
            return format(v, "f")  # exact: a string, never a binary float
        if isinstance(v, (dt.datetime, dt.date)):
            return v.isoformat()
        if isinstance(v, float) and not math.isfinite(v):
            return None
        return v


@dataclass(frozen=True)
class Column:
    label: str
    align: str = "r"  # "l" text, "r" numbers
    width: str | None = None


@dataclass
class Table:
    id: str
    columns: list[Column]
    rows: list[list[Figure | str]] = field(default_factory=list)
    caption: str = ""
    note: str = ""
    total_row: list[Figure | str] | None = None
    css: str = ""

    def __bool__(self) -> bool:  # an empty table is falsy, so templates can say "none in the period"
        return bool(self.rows)


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"period ends before it starts: {self.start} > {self.end}")

    @classmethod
    def month(cls, month: str | dt.date) -> Period:
        if isinstance(month, str):
            y, m = (int(x) for x in month[:7].split("-"))
        else:
            y, m = month.year, month.month
        return cls(dt.date(y, m, 1), dt.date(y, m, calendar.monthrange(y, m)[1]))

    @property
    def is_month(self) -> bool:
        return self.start.day == 1 and self.start.replace(
            day=calendar.monthrange(self.start.year, self.start.month)[1]) == self.end

    @property
    def key(self) -> str:
        """File-name key: ``2026-09`` for a month, ``2026-09-01_2026-09-15`` otherwise."""
        return self.start.strftime("%Y-%m") if self.is_month else f"{self.start}_{self.end}"

    @property
    def folder(self) -> str:
        """Output folder: the month of the period's start."""
        return self.start.strftime("%Y-%m")

    @property
    def title(self) -> str:
        if self.is_month:
            return self.start.strftime("%B %Y")
        return f"{self.start.isoformat()} to {self.end.isoformat()}"

    @property
    def calendar_days(self) -> int:
        return (self.end - self.start).days + 1


class FigureSet:
    """The figures of one report: metric id → Figure, named tables, chart series, metadata."""

    def __init__(self, report: str, meta: dict[str, Any]):
        self.report = report
        self.meta = meta
        self.figures: dict[str, Figure] = {}
        self.tables: dict[str, Table] = {}
        self.series: dict[str, list[dict[str, Any]]] = {}
        self.charts: dict[str, str] = {}
        self.notes: dict[str, str] = {}

    # figures
    def add(self, fid: str, value: Any, kind: str, label: str = "") -> Figure:
        if fid in self.figures:
            raise KeyError(f"duplicate figure id {fid}")
        fig = Figure(fid, value, kind, label)
        self.figures[fid] = fig
        return fig

    def __getitem__(self, fid: str) -> Figure:
        try:
            return self.figures[fid]
        except KeyError:
            raise KeyError(f"no figure {fid!r} in the {self.report} figures") from None

    def __contains__(self, fid: str) -> bool:
        return fid in self.figures

    def get(self, fid: str) -> Figure | None:
        return self.figures.get(fid)

    def add_row(self, prefix: str, row: dict[str, Any], spec: Sequence[tuple[str, str, str]]) -> list[Figure]:
        """Figures ``prefix.<col>`` for ``(column, kind, label)`` in spec, in order."""
        return [self.add(f"{prefix}.{col}", row.get(col), kind, label) for col, kind, label in spec]

    def key_table(self, tid: str, figs: Iterable[Figure], caption: str = "", note: str = "") -> Table:
        """A two-column "figure / value" table with each figure's metric id."""
        t = Table(tid, [Column("Metric id", "l", "34%"), Column("Figure", "l"), Column("Value", "r", "24%")],
                  caption=caption, note=note, css="keyfigures")
        for fig in figs:
            t.rows.append([Markup(f'<span class="mid">{escape(fig.id)}</span>'), fig.label, fig])
        self.tables[tid] = t
        return t

    def table(self, tid: str, columns: Sequence[Column | tuple], caption: str = "", note: str = "", css: str = "") -> Table:
        cols = [c if isinstance(c, Column) else Column(*c) for c in columns]
        t = Table(tid, cols, caption=caption, note=note, css=css)
        self.tables[tid] = t
        return t

    # export
    def to_json_dict(self) -> dict[str, Any]:
        return {
            "schema": FIGURES_SCHEMA,
            "report": self.report,
            "meta": {k: _jsonable(v) for k, v in self.meta.items() if not k.startswith("_")},
            "figures": {
                fid: {"value": f.json_value(), "kind": f.kind, "label": f.label, "display": f.text}
                for fid, f in self.figures.items()
            },
            "series": {k: [{kk: _jsonable(vv) for kk, vv in p.items()} for p in pts] for k, pts in self.series.items()},
        }

    def to_json_bytes(self) -> bytes:
        return (json.dumps(self.to_json_dict(), ensure_ascii=False, indent=1) + "\n").encode("utf-8")

    def to_csv_bytes(self) -> bytes:
        import csv
        import io

        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["metric_id", "value", "kind", "display", "label"])
        for fid, f in self.figures.items():
            v = f.json_value()
            w.writerow([fid, "" if v is None else v, f.kind, f.text, f.label])
        return buf.getvalue().encode("utf-8")


def _jsonable(v: Any) -> Any:
    if isinstance(v, Decimal):
        return format(v, "f")
    if isinstance(v, (dt.datetime, dt.date)):
        return v.isoformat()
    if isinstance(v, Path):
        return str(v)
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    return v


def slug(label: str) -> str:
    """Metric-id-safe form of a bucket label: ``(1,2]`` → ``1-2``, ``>=300%`` → ``ge300``."""
    s = str(label).strip().replace("%", "")
    s = s.replace(">=", "ge").replace("<=", "le").replace(">", "gt").replace("<", "lt")
    s = re.sub(r"[\[\]()]", "", s).replace(",", "-")
    s = re.sub(r"[^A-Za-z0-9_.-]+", "_", s)
    return s.strip("_") or "x"


# --------------------------------------------------------------------------------------------------
# warehouse access


class Marts:
    """Small query helper over a read-only connection: rows as dicts."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con

    def all(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        cur = self.con.execute(sql, list(params))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]

    def one(self, sql: str, *params: Any) -> dict[str, Any]:
        rows = self.all(sql, *params)
        return rows[0] if rows else {}

    def scalar(self, sql: str, *params: Any) -> Any:
        row = self.con.execute(sql, list(params)).fetchone()
        return row[0] if row else None

    def relations(self) -> frozenset[str]:
        rows = self.con.execute(
            "select table_schema || '.' || table_name from information_schema.tables").fetchall()
        return frozenset(r[0] for r in rows)

    def require(self, names: Iterable[str]) -> None:
        if not hasattr(self, "_relations"):
            self._relations = self.relations()
        missing = sorted(set(names) - self._relations)
        if missing:
            raise ReportDataError("the warehouse lacks " + ", ".join(missing) + " (run the dbt build first)")


REGULATORY_MARTS = (
    "marts.fct_utilization_daily", "marts.fct_provider_capital_daily", "marts.rpt_utilization_monthly",
    "marts.fct_client_money_daily", "marts.fct_reconciliation_items", "marts.fct_reconciliation_daily",
    "marts.fct_custody_rollforward_daily", "marts.fct_stress_daily", "marts.fct_reserve_coverage_daily",
    "marts.rpt_reserve_coverage_monthly", "marts.fct_defaults", "marts.fct_loss_allocations",
    "marts.fct_interest_daily", "marts.rpt_income_waterfall_monthly", "marts.fct_leverage_distribution_daily",
    "marts.fct_leverage_percentiles_daily", "marts.fct_collateral_buckets_daily", "marts.fct_margin_calls",
    "marts.fct_margin_calls_daily", "marts.rpt_margin_calls_monthly", "marts.fct_margin_recommendation_daily",
    "marts.rpt_default_ratio_monthly", "marts.fct_liquidations", "marts.rpt_liquidation_latency_monthly",
    "marts.fct_concentration_daily", "marts.fct_security_concentration_daily", "marts.fct_liquidity_coverage_daily",
    "marts.fct_data_quality_daily", "raw.file_manifest", "staging.stg_trading__fills",
    "staging.stg_reference__providers",
)


# --------------------------------------------------------------------------------------------------
# versions and lineage


def entity_name() -> str:
    return os.environ.get(ENTITY_ENV) or DEFAULT_ENTITY


@lru_cache(maxsize=1)
def code_version() -> str:
    """``git describe`` of the repository, else the installed package version."""
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty", "--tags"], cwd=REPO_ROOT,
                             capture_output=True, text=True, timeout=10, check=False)
        if out.returncode == 0 and out.stdout.strip():
            return "git " + out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        from importlib.metadata import version

        return "marginflow " + version("marginflow")
    except Exception:  # noqa: BLE001 - a version string must never break a report
        return "unknown"


@lru_cache(maxsize=1)
def model_version() -> str:
    """dbt project name and version, the dbt version of the prepared manifest, and a digest of the
    model files (SQL + YAML), so a report names exactly which metric definitions produced it."""
    dbt_dir = REPO_ROOT / "dbt_project"
    name, version = "marginflow", "?"
    try:
        proj = yaml.safe_load((dbt_dir / "dbt_project.yml").read_text())
        name, version = proj.get("name", name), str(proj.get("version", version))
    except (OSError, yaml.YAMLError):
        pass
    h = hashlib.sha256()
    for p in sorted((dbt_dir / "models").rglob("*")) + sorted((dbt_dir / "macros").rglob("*")) + sorted(
            (dbt_dir / "seeds").rglob("*")):
        if p.is_file() and p.suffix in (".sql", ".yml", ".yaml", ".csv"):
            h.update(str(p.relative_to(dbt_dir)).encode())
            h.update(p.read_bytes())
    dbt_v = ""
    manifest = dbt_dir / "target" / "manifest.json"
    if manifest.exists():
        try:
            with manifest.open("rb") as fh:
                head = fh.read(4096).decode("utf-8", "replace")
            m = re.search(r'"dbt_version":\s*"([^"]+)"', head)
            dbt_v = f", dbt {m.group(1)}" if m else ""
        except OSError:
            pass
    return f"{name} {version} (models {h.hexdigest()[:12]}{dbt_v})"


def _now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def base_meta(period: Period, run_id: str, generated_at: dt.datetime | None = None) -> dict[str, Any]:
    gen = (generated_at or _now_utc()).astimezone(dt.UTC)
    from zoneinfo import ZoneInfo

    return {
        "entity": entity_name(),
        "period_start": period.start,
        "period_end": period.end,
        "period_key": period.key,
        "period_title": period.title,
        "is_month": period.is_month,
        "cutoff": f"{CUTOFF_LOCAL} {BUSINESS_TZ}",
        "generated_at": gen.strftime("%Y-%m-%d %H:%M:%S UTC"),
        "generated_at_local": gen.astimezone(ZoneInfo(BUSINESS_TZ)).strftime("%Y-%m-%d %H:%M:%S") + f" {BUSINESS_TZ}",
        "generated_at_iso": gen.isoformat(),
        "run_id": run_id,
        "code_version": code_version(),
        "model_version": model_version(),
        "currency": "CNY",
    }


def input_files(m: Marts, start: dt.date, end: dt.date, feeds: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Files behind the period (raw.file_manifest), one row per distinct file and hash."""
    feed_sql = ""
    params: list[Any] = [start, end]
    if feeds:
        feed_sql = f" and feed in ({', '.join('?' for _ in feeds)})"
        params += list(feeds)
    return m.all(
        "select business_date, feed, file, any_value(sha256) as sha256, max(size_bytes) as size_bytes, "
        "max(rows_in_file) as rows_in_file, max(rows_loaded) as rows_loaded, max(rows_quarantined) as rows_quarantined "
        f"from raw.file_manifest where business_date between ? and ?{feed_sql} "
        "group by business_date, feed, file, sha256 order by business_date, feed, file", *params)


def input_set_digest(files: Sequence[dict[str, Any]]) -> str:
    """SHA-256 over the sorted ``path  sha256`` lines: one hash that names the whole input set."""
    h = hashlib.sha256()
    for line in sorted(f"{r['file']}  {r['sha256']}" for r in files):
        h.update(line.encode() + b"\n")
    return h.hexdigest()


@lru_cache(maxsize=1)
def metric_definitions() -> dict[str, dict[str, Any]]:
    """The definitions appendix as data: metric id → name, formula, numerator, denominator, source."""
    data = yaml.safe_load(DEFINITIONS_FILE.read_text(encoding="utf-8"))
    return {str(k): v for k, v in data["metrics"].items()}


def definitions_for(ids: Iterable[str]) -> list[dict[str, Any]]:
    defs = metric_definitions()
    out = []
    for mid in ids:
        d = dict(defs[mid])
        d["id"] = mid
        out.append(d)
    return out


def lineage_tables(fs: FigureSet, files: Sequence[dict[str, Any]], gate_results: Sequence[dict] | None,
                   list_files: bool = True) -> None:
    """Input files with SHA-256 and the gate results, as tables of the lineage appendix."""
    fs.meta["input_files"] = len(files)
    fs.meta["input_set_sha256"] = input_set_digest(files)
    fs.meta["input_bytes"] = sum(int(r["size_bytes"] or 0) for r in files)
    if list_files:
        t = fs.table("lineage.files", [("File (landing path)", "l", "38%"), ("Rows", "r", "7%"),
                                       ("SHA-256", "l", "55%")], css="lineage")
        for r in files:
            t.rows.append([r["file"], F.integer(r["rows_in_file"]),
                           Markup(f'<span class="hash">{escape(r["sha256"])}</span>')])
    g = fs.table("lineage.gates", [("Gate / check", "l", "40%"), ("Asset", "l", "24%"), ("Result", "l", "12%"),
                                   ("Detail", "l")], css="gates")
    passed = failed = 0
    for r in gate_results or []:
        ok = _gate_passed(r)
        passed += ok is True
        failed += ok is False
        g.rows.append([str(r.get("name") or r.get("check") or r.get("check_name") or "?"),
                       str(r.get("asset") or r.get("asset_key") or ""),
                       Markup('<span class="pass">passed</span>') if ok else (
                           Markup('<span class="fail">FAILED</span>') if ok is False else "n/a"),
                       str(r.get("detail") or r.get("description") or r.get("severity") or "")])
    fs.meta["gates_passed"] = passed
    fs.meta["gates_failed"] = failed
    fs.meta["gates_supplied"] = gate_results is not None


def _gate_passed(r: dict) -> bool | None:
    for key in ("passed", "success", "ok"):
        if key in r and r[key] is not None:
            return bool(r[key])
    status = str(r.get("status") or r.get("result") or "").lower()
    if status in ("passed", "pass", "success", "succeeded", "ok"):
        return True
    if status in ("failed", "fail", "failure", "error"):
        return False
    return None


# --------------------------------------------------------------------------------------------------
# period helpers


def business_days(m: Marts, p: Period) -> list[dt.date]:
    return [r["business_date"] for r in m.all(
        "select business_date from marts.fct_utilization_daily where business_date between ? and ? order by 1",
        p.start, p.end)]


def _month_start(p: Period) -> dt.date:
    return p.start


def _use_monthly(m: Marts, p: Period, mart: str) -> bool:
    """A calendar month is read from its monthly mart when the mart has the month."""
    return p.is_month and bool(m.scalar(f"select count(*) from marts.{mart} where month = ?", p.start))


# --------------------------------------------------------------------------------------------------
# shared platform blocks (aggregates only: safe for provider statements too)


def utilization_series(m: Marts, p: Period) -> list[dict[str, Any]]:
    return m.all("select business_date, total_loans, total_capital, utilization from marts.fct_utilization_daily "
                 "where business_date between ? and ? order by business_date", p.start, p.end)


def utilization_summary(m: Marts, p: Period) -> dict[str, Any]:
    """M1 platform: mean and peak over the period's closes, with the peak's numerator/denominator."""
    if _use_monthly(m, p, "rpt_utilization_monthly"):
        r = m.one("select * from marts.rpt_utilization_monthly where month = ? and scope_level = 'PLATFORM'", p.start)
        if r:
            r["source"] = "rpt_utilization_monthly"
            return r
    r = m.one("""
        with d as (select * from marts.fct_utilization_daily where business_date between ? and ?),
        pk as (select business_date, total_loans, total_capital, utilization from d
               order by utilization desc nulls last, business_date limit 1),
        me as (select * from d order by business_date desc limit 1)
        select (select count(*) from d) as business_days,
               (select avg(utilization) from d) as mean_utilization,
               (select max(utilization) from d) as peak_utilization,
               pk.business_date as peak_utilization_date, pk.total_loans as loan_book_at_peak,
               pk.total_capital as capital_balance_at_peak,
               (select avg(total_loans) from d) as mean_loan_book, (select max(total_loans) from d) as peak_loan_book,
               (select avg(total_capital) from d) as mean_capital_balance,
               (select avg(drawdown) from d) as mean_drawdown, (select max(drawdown) from d) as peak_drawdown,
               me.total_capital as month_end_capital_balance, me.total_commitment as month_end_commitment,
               me.total_loans as month_end_loan_book, me.utilization as month_end_utilization
        from pk, me""", p.start, p.end)
    r["source"] = "fct_utilization_daily"
    return r


def period_end_date(m: Marts, p: Period) -> dt.date:
    d = m.scalar("select max(business_date) from marts.fct_utilization_daily where business_date between ? and ?",
                 p.start, p.end)
    if d is None:
        raise ReportDataError(f"no business-day closes in the warehouse between {p.start} and {p.end}")
    return d


def tranche_rows(m: Marts, as_of: dt.date, p: Period) -> list[dict[str, Any]]:
    """Capital by tranche at ``as_of`` (platform totals), with period means of balance and loan book."""
    return m.all("""
        with day as (
            select tranche, sum(capital_balance) as capital_balance, sum(commitment) as commitment,
                   sum(loan_book_allocated) as loan_book_allocated, max(total_capital) as total_capital
            from marts.fct_provider_capital_daily where business_date = ? group by tranche),
        per_day as (
            select business_date, tranche, sum(capital_balance) as bal, sum(loan_book_allocated) as lb
            from marts.fct_provider_capital_daily where business_date between ? and ? group by 1, 2),
        means as (select tranche, avg(bal) as mean_capital_balance, avg(lb) as mean_loan_book from per_day group by 1)
        select t.tranche, t.capital_balance, t.commitment,
               case when t.commitment = 0 then null else cast(t.capital_balance as double) / cast(t.commitment as double) end as drawdown,
               case when t.total_capital = 0 then null else cast(t.capital_balance as double) / cast(t.total_capital as double) end as capital_share,
               t.loan_book_allocated, mn.mean_capital_balance, mn.mean_loan_book
        from day t left join means mn using (tranche)
        order by case t.tranche when 'SENIOR' then 1 when 'MEZZANINE' then 2 else 3 end""", as_of, p.start, p.end)


def reserve_summary(m: Marts, p: Period) -> dict[str, Any]:
    """M9 over the period: days below 1, largest gap, closing coverage."""
    if _use_monthly(m, p, "rpt_reserve_coverage_monthly"):
        r = m.one("select * from marts.rpt_reserve_coverage_monthly where month = ?", p.start)
        if r:
            r["source"] = "rpt_reserve_coverage_monthly"
            return r
    r = m.one("""
        with d as (select * from marts.fct_reserve_coverage_daily where business_date between ? and ?),
        g as (select business_date, coverage_gap from d where coverage_gap > 0
              order by coverage_gap desc, business_date limit 1),
        me as (select * from d order by business_date desc limit 1)
        select (select count(*) from d) as business_days,
               (select count(*) from d where worst_cover_2 > 0) as days_with_shortfall,
               (select count(*) from d where is_below_one) as days_below_one,
               (select min(reserve_to_cover_2) from d) as min_reserve_to_cover_2,
               coalesce((select coverage_gap from g), 0) as largest_gap, (select business_date from g) as largest_gap_date,
               me.business_date as last_business_date, me.reserve_balance as closing_reserve_balance,
               me.worst_cover_2 as closing_worst_cover_2, me.reserve_to_cover_2 as closing_reserve_to_cover_2
        from me""", p.start, p.end)
    r["source"] = "fct_reserve_coverage_daily"
    return r


def reserve_series(m: Marts, p: Period) -> list[dict[str, Any]]:
    return m.all("select business_date, reserve_balance, worst_cover_2, reserve_to_cover_2, worst_scenario_id "
                 "from marts.fct_reserve_coverage_daily where business_date between ? and ? order by 1", p.start, p.end)


def stress_rows(m: Marts, as_of: dt.date) -> list[dict[str, Any]]:
    return m.all("select * from marts.fct_stress_daily where business_date = ? order by scenario_id", as_of)


def add_reserve_block(fs: FigureSet, m: Marts, p: Period, as_of: dt.date) -> None:
    """M8/M9 figures (platform aggregates) shared by the regulatory report and the statements."""
    rs = reserve_summary(m, p)
    cov = m.one("select * from marts.fct_reserve_coverage_daily where business_date = ?", as_of)
    figs = [
        fs.add("M9.reserve_balance.period_end", rs.get("closing_reserve_balance"), "money",
               "Risk reserve (custody closing balance of RISK_RESERVE) — numerator"),
        fs.add("M9.cover_2.period_end", rs.get("closing_worst_cover_2"), "money",
               "Worst-scenario Cover-2 stress shortfall — denominator"),
        fs.add("M9.coverage.period_end", rs.get("closing_reserve_to_cover_2"), "ratio",
               "Reserve coverage = reserve / Cover-2 (n/a when Cover-2 is 0)"),
        fs.add("M9.worst_scenario.period_end", cov.get("worst_scenario_id"), "text", "Worst scenario at period end"),
        fs.add("M9.total_loans.period_end", cov.get("total_loans"), "money", "Loan book ΣL — denominator"),
        fs.add("M9.reserve_to_loans.period_end", cov.get("reserve_to_loans"), "ratio", "Reserve / ΣL"),
        fs.add("M9.days_below_one", rs.get("days_below_one"), "int", "Business days with coverage below 1"),
        fs.add("M9.days_with_shortfall", rs.get("days_with_shortfall"), "int", "Business days with a Cover-2 above 0"),
        fs.add("M9.min_coverage", rs.get("min_reserve_to_cover_2"), "ratio", "Lowest daily coverage in the period"),
        fs.add("M9.largest_gap", rs.get("largest_gap"), "money", "Largest gap, max(0, Cover-2 − reserve)"),
        fs.add("M9.largest_gap_date", rs.get("largest_gap_date"), "date", "Date of the largest gap"),
    ]
    fs.key_table("M9.summary", figs)
    t = fs.table("M8.scenarios", [("Scenario", "l", "22%"), ("Stress loss", "r"), ("Cover-1", "r"), ("Cover-2", "r"),
                                  ("Aggregate shortfall", "r"), ("Groups in shortfall", "r", "11%"), ("Worst", "l", "7%")],
                 note="Per beneficial-owner group g: shortfall_g = max(0, stress loss_g − E_g). Cover-1 = largest "
                      "group shortfall, Cover-2 = the two largest, aggregate = Σ_g. Figures at the period-end close.")
    for r in stress_rows(m, as_of):
        sid = r["scenario_id"]
        pre = f"M8.scenario.{sid}"
        t.rows.append([
            sid,
            fs.add(f"{pre}.stress_loss", r["stress_loss"], "money", f"{sid}: stress loss"),
            fs.add(f"{pre}.cover_1", r["cover_1"], "money", f"{sid}: Cover-1"),
            fs.add(f"{pre}.cover_2", r["cover_2"], "money", f"{sid}: Cover-2"),
            fs.add(f"{pre}.aggregate_shortfall", r["aggregate_shortfall"], "money", f"{sid}: aggregate shortfall"),
            fs.add(f"{pre}.groups_in_shortfall", r["groups_in_shortfall"], "int", f"{sid}: groups in shortfall"),
            "worst" if r["is_worst"] else "",
        ])
    fs.series["M9.daily"] = [
        {"business_date": r["business_date"], "reserve_balance": r["reserve_balance"],
         "worst_cover_2": r["worst_cover_2"], "reserve_to_cover_2": r["reserve_to_cover_2"]}
        for r in reserve_series(m, p)]


def leverage_rows(m: Marts, as_of: dt.date, kyc_tier: str = "ALL") -> list[dict[str, Any]]:
    return m.all("select * from marts.fct_leverage_distribution_daily where business_date = ? and kyc_tier = ? "
                 "order by bucket_order", as_of, kyc_tier)


def concentration_row(m: Marts, as_of: dt.date) -> dict[str, Any]:
    return m.one("select * from marts.fct_concentration_daily where business_date = ?", as_of)


def top_securities(m: Marts, as_of: dt.date, n: int = 10) -> list[dict[str, Any]]:
    return m.all("select * from marts.fct_security_concentration_daily where business_date = ? and financed_exposure > 0 "
                 "order by financed_exposure desc, symbol limit ?", as_of, n)


def reconciliation_summary(m: Marts, p: Period, as_of: dt.date) -> tuple[list[dict], dict, list[dict]]:
    """M11: items first seen in the period by status (as of the last load), the outstanding breaks at
    the period-end close, and the custody roll-forward per custody account."""
    status = m.all("""
        select status, count(*) as items, sum(abs(expected_amount)) as expected_abs,
               sum(break_amount) as break_amount, max(age_business_days) as max_age
        from marts.fct_reconciliation_items where first_date between ? and ? group by status
        order by case status when 'matched' then 0 when 'pending' then 9 else 1 end, status""", p.start, p.end)
    daily = m.one("select * from marts.fct_reconciliation_daily where business_date = ?", as_of)
    roll = m.all("""
        select custody_account, count(*) as statements,
               count(*) filter (where coalesce(opening_break, 0) <> 0) as opening_breaks,
               count(*) filter (where rollforward_break is null or rollforward_break <> 0) as rollforward_breaks,
               count(*) filter (where has_break) as statements_with_break,
               sum(counted_entries) as entries,
               arg_max(closing_balance, business_date) as closing_balance
        from marts.fct_custody_rollforward_daily where business_date between ? and ?
        group by custody_account order by custody_account""", p.start, p.end)
    return status, daily, roll


def add_reconciliation_block(fs: FigureSet, m: Marts, p: Period, as_of: dt.date) -> None:
    status, daily, roll = reconciliation_summary(m, p, as_of)
    t = fs.table("M11.items", [("Status", "l", "28%"), ("Items", "r"), ("Σ |expected|", "r"), ("Σ break amount", "r"),
                               ("Oldest (business days)", "r")],
                 note="Custody entries matched to ledger and capital events by end_to_end_id and amount "
                      "(rows sharing an id match as a sum). Items first dated in the period, status as of the "
                      "latest close loaded.")
    for r in status:
        s = r["status"]
        t.rows.append([s.replace("_", " "),
                       fs.add(f"M11.status.{s}.items", r["items"], "int", f"Items {s}"),
                       fs.add(f"M11.status.{s}.expected_abs", r["expected_abs"], "money", f"Σ |expected| {s}"),
                       fs.add(f"M11.status.{s}.break_amount", r["break_amount"], "money", f"Σ break amount {s}"),
                       fs.add(f"M11.status.{s}.max_age_business_days", r["max_age"], "int", f"Oldest {s}")])
    figs = [
        fs.add("M11.breaks_outstanding.period_end", daily.get("breaks_outstanding"), "int",
               "Reconciliation breaks outstanding at the period-end close"),
        fs.add("M11.breaks_outstanding_amount.period_end", daily.get("breaks_outstanding_amount"), "money",
               "Amount of the outstanding breaks"),
        fs.add("M11.oldest_break_age.period_end", daily.get("oldest_break_age_business_days"), "int",
               "Age of the oldest outstanding break (business days)"),
        fs.add("M11.entries_without_e2e.period_end", daily.get("entries_without_e2e"), "int",
               "Custody entries without end_to_end_id (period-end statement)"),
    ]
    fs.key_table("M11.summary", figs)
    rt = fs.table("M11.rollforward", [("Custody account", "l", "26%"), ("Statements", "r"), ("Entries", "r"),
                                      ("Opening breaks", "r"), ("Roll-forward breaks", "r"), ("Closing balance", "r")],
                  note="Opening balance = previous closing; closing = opening + Σ signed entries. Counts of "
                       "statements in the period that break either rule.")
    for r in roll:
        a = r["custody_account"]
        rt.rows.append([a,
                        fs.add(f"M11.custody.{a}.statements", r["statements"], "int", f"{a}: statements"),
                        fs.add(f"M11.custody.{a}.entries", r["entries"], "int", f"{a}: entries counted"),
                        fs.add(f"M11.custody.{a}.opening_breaks", r["opening_breaks"], "int", f"{a}: opening breaks"),
                        fs.add(f"M11.custody.{a}.rollforward_breaks", r["rollforward_breaks"], "int",
                               f"{a}: roll-forward breaks"),
                        fs.add(f"M11.custody.{a}.closing_balance", r["closing_balance"], "money",
                               f"{a}: closing balance at period end")])


def add_client_money_block(fs: FigureSet, m: Marts, p: Period, as_of: dt.date) -> None:
    rows = m.all("""
        select c.currency, c.custody_balance, c.client_cash, c.coverage_ratio, c.break_amount,
               s.days_with_break, s.min_coverage
        from marts.fct_client_money_daily c
        join (select currency, count(*) filter (where has_break) as days_with_break, min(coverage_ratio) as min_coverage
              from marts.fct_client_money_daily where business_date between ? and ? group by currency) s using (currency)
        where c.business_date = ? order by c.currency""", p.start, p.end, as_of)
    t = fs.table("M10.currencies", [("Currency", "l", "10%"), ("Custody balance", "r"), ("Client cash (ledger)", "r"),
                                    ("Coverage", "r"), ("Break", "r"), ("Days with break", "r"), ("Lowest coverage", "r")],
                 note="Coverage = custody closing balance of CLIENT_MARGIN_POOL / Σ client cash_i; break = custody − "
                      "ledger. Period-end close; days and lowest coverage over the period.")
    for r in rows:
        c = r["currency"]
        t.rows.append([c,
                       fs.add(f"M10.{c}.custody_balance", r["custody_balance"], "money", f"{c}: custody balance"),
                       fs.add(f"M10.{c}.client_cash", r["client_cash"], "money", f"{c}: client cash"),
                       fs.add(f"M10.{c}.coverage", r["coverage_ratio"], "ratio", f"{c}: coverage"),
                       fs.add(f"M10.{c}.break_amount", r["break_amount"], "money", f"{c}: break"),
                       fs.add(f"M10.{c}.days_with_break", r["days_with_break"], "int", f"{c}: days with break"),
                       fs.add(f"M10.{c}.min_coverage", r["min_coverage"], "ratio", f"{c}: lowest coverage")])


def defaults_by_date(m: Marts, p: Period) -> list[dict[str, Any]]:
    """Platform credit events per business date (no account or client ids)."""
    return m.all("""
        select business_date, count(*) as defaults, sum(shortfall) as shortfall, sum(compensation) as compensation,
               sum(write_off) as write_off, sum(loss_allocated) as loss_allocated
        from marts.fct_defaults where business_date between ? and ? group by 1 order by 1""", p.start, p.end)


# --------------------------------------------------------------------------------------------------
# the regulatory report


REG_DEFINITION_IDS = ("V", "M1", "M2", "M3", "M4", "M5", "M6", "M7", "M8", "M9", "M10", "M11", "M12", "M13",
                      "M14", "M15", "M16", "M17")


def build_regulatory_figures(con: duckdb.DuckDBPyConnection, period: Period, *, run_id: str,
                             gate_results: Sequence[dict] | None = None,
                             generated_at: dt.datetime | None = None) -> FigureSet:
    m = Marts(con)
    m.require(REGULATORY_MARTS)
    as_of = period_end_date(m, period)
    days = business_days(m, period)
    meta = base_meta(period, run_id, generated_at)
    meta.update(report_title="Regulatory disclosure report", period_end_close=as_of, business_days=len(days),
                first_close=days[0], last_close=days[-1])
    fs = FigureSet("regulatory", meta)
    p = period

    _volumes(fs, m, p, as_of)
    _capital(fs, m, p, as_of)
    add_client_money_block(fs, m, p, as_of)
    add_reconciliation_block(fs, m, p, as_of)
    add_reserve_block(fs, m, p, as_of)
    _loss_waterfall(fs, m, p)
    _interest_and_income(fs, m, p)
    _margin(fs, m, p, as_of)
    _defaults(fs, m, p)
    _concentration(fs, m, p, as_of)
    _liquidity(fs, m, p, as_of)
    _data_quality(fs, m, p)
    _provider_register(fs, m, as_of)

    files = input_files(m, p.start, p.end)
    lineage_tables(fs, files, gate_results)
    fs.meta["definitions"] = definitions_for(REG_DEFINITION_IDS)
    return fs


def _volumes(fs: FigureSet, m: Marts, p: Period, as_of: dt.date) -> None:
    r = m.one("""
        select count(*) as fills, count(*) filter (where origin = 'LIQUIDATION') as liquidation_fills,
               count(distinct order_id) as orders, count(distinct account_id) as accounts_trading,
               sum(notional) as notional, sum(notional) filter (where side = 'BUY') as buy_notional,
               sum(notional) filter (where side = 'SELL') as sell_notional, sum(commission) as commissions,
               count(distinct symbol) as symbols
        from staging.stg_trading__fills where business_date between ? and ?""", p.start, p.end)
    u = m.one("""select max(accounts_with_loan) as peak_accounts_with_loan,
                        arg_max(accounts_with_loan, business_date) as accounts_with_loan_end
                 from marts.fct_utilization_daily where business_date between ? and ?""", p.start, p.end)
    figs = [
        fs.add("V.fills", r.get("fills"), "int", "Fills executed"),
        fs.add("V.liquidation_fills", r.get("liquidation_fills"), "int", "of which liquidation fills"),
        fs.add("V.orders", r.get("orders"), "int", "Orders with a fill"),
        fs.add("V.notional", r.get("notional"), "money", "Traded notional Σ quantity × price"),
        fs.add("V.buy_notional", r.get("buy_notional"), "money", "Buy notional"),
        fs.add("V.sell_notional", r.get("sell_notional"), "money", "Sell notional"),
        fs.add("V.commissions", r.get("commissions"), "money", "Commissions"),
        fs.add("V.accounts_trading", r.get("accounts_trading"), "int", "Accounts with a fill"),
        fs.add("V.symbols", r.get("symbols"), "int", "Instruments traded"),
        fs.add("V.accounts_with_loan.period_end", u.get("accounts_with_loan_end"), "int",
               "Accounts with a loan at the period-end close"),
        fs.add("V.accounts_with_loan.peak", u.get("peak_accounts_with_loan"), "int",
               "Accounts with a loan, peak daily count"),
    ]
    fs.key_table("V.summary", figs)


def _capital(fs: FigureSet, m: Marts, p: Period, as_of: dt.date) -> None:
    u = utilization_summary(m, p)
    d = m.one("select * from marts.fct_utilization_daily where business_date = ?", as_of)
    figs = [
        fs.add("M1.utilization.mean", u.get("mean_utilization"), "ratio", "Utilization, mean of daily values"),
        fs.add("M1.utilization.peak", u.get("peak_utilization"), "ratio", "Utilization, peak daily value"),
        fs.add("M1.utilization.peak_date", u.get("peak_utilization_date"), "date", "Date of the peak"),
        fs.add("M1.loans.at_peak", u.get("loan_book_at_peak"), "money", "ΣL on the peak day — numerator"),
        fs.add("M1.capital.at_peak", u.get("capital_balance_at_peak"), "money",
               "Providers' capital on the peak day — denominator"),
        fs.add("M1.utilization.period_end", d.get("utilization"), "ratio", "Utilization at the period-end close"),
        fs.add("M1.loans.period_end", d.get("total_loans"), "money", "Loan book ΣL at period end — numerator"),
        fs.add("M1.capital.period_end", d.get("total_capital"), "money", "Providers' capital balance — denominator"),
        fs.add("M1.commitment.period_end", d.get("total_commitment"), "money", "Providers' commitments"),
        fs.add("M1.drawdown.period_end", d.get("drawdown"), "ratio", "Drawdown = capital balance / commitment"),
        fs.add("M1.loans.mean", u.get("mean_loan_book"), "money", "Loan book, mean of daily values"),
        fs.add("M1.providers.period_end", d.get("providers_with_capital"), "int", "Providers with capital"),
    ]
    fs.key_table("M1.summary", figs)
    t = fs.table("M1.tranches", [("Tranche", "l", "13%"), ("Capital balance", "r"), ("Commitment", "r"),
                                 ("Drawdown", "r", "10%"), ("Share of capital", "r", "10%"), ("Loan book allocated", "r"),
                                 ("Mean capital", "r"), ("Mean loan book", "r")],
                 note="At the period-end close; loan book allocated pro rata to capital balance. Means are over the "
                      "period's business-day closes.")
    for r in tranche_rows(m, as_of, p):
        tr = r["tranche"]
        pre = f"M1.tranche.{tr}"
        t.rows.append([tr.title(),
                       fs.add(f"{pre}.capital_balance", r["capital_balance"], "money", f"{tr}: capital balance"),
                       fs.add(f"{pre}.commitment", r["commitment"], "money", f"{tr}: commitment"),
                       fs.add(f"{pre}.drawdown", r["drawdown"], "ratio", f"{tr}: drawdown"),
                       fs.add(f"{pre}.capital_share", r["capital_share"], "percent", f"{tr}: share of capital"),
                       fs.add(f"{pre}.loan_book_allocated", r["loan_book_allocated"], "money", f"{tr}: loan book"),
                       fs.add(f"{pre}.mean_capital_balance", r["mean_capital_balance"], "money", f"{tr}: mean capital"),
                       fs.add(f"{pre}.mean_loan_book", r["mean_loan_book"], "money", f"{tr}: mean loan book")])
    fs.series["M1.daily"] = [
        {"business_date": r["business_date"], "utilization": r["utilization"], "total_loans": r["total_loans"],
         "total_capital": r["total_capital"]} for r in utilization_series(m, p)]


def _provider_register(fs: FigureSet, m: Marts, as_of: dt.date) -> None:
    rows = m.all("""
        with names as (select provider_id, arg_max(provider_name, snapshot_date) as provider_name
                       from staging.stg_reference__providers group by 1)
        select c.provider_id, n.provider_name, c.tranche, c.commitment, c.capital_balance, c.drawdown,
               c.capital_share, c.loan_book_allocated
        from marts.fct_provider_capital_daily c left join names n using (provider_id)
        where c.business_date = ?
        order by case c.tranche when 'SENIOR' then 1 when 'MEZZANINE' then 2 else 3 end, c.provider_id""", as_of)
    t = fs.table("M1.providers", [("Provider", "l", "8%"), ("Name", "l", "27%"), ("Tranche", "l", "10%"),
                                  ("Commitment", "r"), ("Capital balance", "r"), ("Drawdown", "r", "8%"),
                                  ("Share", "r", "8%"), ("Loan book allocated", "r")], css="register")
    for r in rows:
        pid = r["provider_id"]
        pre = f"M1.provider.{pid}"
        t.rows.append([pid, r["provider_name"] or "", r["tranche"].title(),
                       fs.add(f"{pre}.commitment", r["commitment"], "money", f"{pid}: commitment"),
                       fs.add(f"{pre}.capital_balance", r["capital_balance"], "money", f"{pid}: capital balance"),
                       fs.add(f"{pre}.drawdown", r["drawdown"], "ratio", f"{pid}: drawdown"),
                       fs.add(f"{pre}.capital_share", r["capital_share"], "percent", f"{pid}: share of capital"),
                       fs.add(f"{pre}.loan_book_allocated", r["loan_book_allocated"], "money",
                              f"{pid}: loan book allocated")])


def _loss_waterfall(fs: FigureSet, m: Marts, p: Period) -> None:
    r = m.one("""
        select count(*) as defaults, coalesce(sum(shortfall), 0) as shortfall,
               coalesce(sum(compensation), 0) as compensation, coalesce(sum(write_off), 0) as write_off,
               coalesce(sum(interest_written_off), 0) as interest_written_off,
               coalesce(sum(principal_written_off), 0) as principal_written_off,
               coalesce(sum(loss_allocated), 0) as loss_allocated, coalesce(sum(loss_unallocated), 0) as loss_unallocated
        from marts.fct_defaults where business_date between ? and ?""", p.start, p.end)
    by_tranche = {x["tranche"]: x for x in m.all(
        "select tranche, sum(allocated_amount) as allocated from marts.fct_loss_allocations "
        "where business_date between ? and ? group by tranche", p.start, p.end)}
    t = fs.table("waterfall.losses", [("Step", "l", "8%"), ("Layer", "l", "44%"), ("Amount", "r")],
                 note="A default's shortfall S = −E after the account is flat is covered by the risk reserve first, "
                      "then written off and allocated JUNIOR → MEZZANINE → SENIOR, pro rata to capital balance "
                      "inside a tranche.")
    t.rows.append(["", "Shortfall of defaulted accounts Σ S",
                   fs.add("waterfall.shortfall", r.get("shortfall"), "money", "Σ shortfall S of the period's defaults")])
    t.rows.append(["1", "Risk reserve (default compensation)",
                   fs.add("waterfall.reserve", r.get("compensation"), "money", "Covered by the risk reserve")])
    for i, tr in enumerate(("JUNIOR", "MEZZANINE", "SENIOR"), start=2):
        t.rows.append([str(i), f"{tr.title()} tranche",
                       fs.add(f"waterfall.{tr}", (by_tranche.get(tr) or {}).get("allocated", Decimal(0)), "money",
                              f"Loss allocated to {tr}")])
    t.rows.append(["", "Not allocated (no capital left to bear it)",
                   fs.add("waterfall.unallocated", r.get("loss_unallocated"), "money", "Write-off not allocated")])
    figs = [
        fs.add("M5.defaults.count", r.get("defaults"), "int", "Defaults in the period"),
        fs.add("waterfall.write_off", r.get("write_off"), "money", "Written off (shortfall − compensation)"),
        fs.add("waterfall.interest_written_off", r.get("interest_written_off"), "money", "of which unpaid interest"),
        fs.add("waterfall.principal_written_off", r.get("principal_written_off"), "money", "of which principal"),
        fs.add("waterfall.loss_allocated", r.get("loss_allocated"), "money", "Allocated to providers"),
    ]
    fs.key_table("waterfall.summary", figs)


def _income_waterfall_row(m: Marts, p: Period) -> dict[str, Any]:
    """M13 for the months whose waterfall ran in the period (one row for a month; summed for a range)."""
    return m.one("""
        select count(*) as months, sum(interest_charged) as interest_charged, sum(performance_fees) as performance_fees,
               sum(performance_fee_share) as performance_fee_share, sum(income) as income,
               sum(senior_coupons) as senior_coupons, sum(mezzanine_coupons) as mezzanine_coupons,
               sum(servicing_fee) as servicing_fee, sum(residual) as residual,
               sum(junior_residual_allocated) as junior_residual_allocated, sum(distributions_total) as distributions_total,
               sum(shortfall) as shortfall, sum(shortfall_junior) as shortfall_junior,
               sum(shortfall_mezzanine) as shortfall_mezzanine, sum(shortfall_senior) as shortfall_senior,
               sum(shortfall_unallocated) as shortfall_unallocated
        from marts.rpt_income_waterfall_monthly where month_end_business_date between ? and ?""", p.start, p.end)


def _interest_and_income(fs: FigureSet, m: Marts, p: Period) -> None:
    i = m.one("""
        select sum(interest_accrued) as accrued, sum(interest_charged) as charged,
               sum(interest_compensated) as compensated, sum(interest_written_off) as written_off,
               sum(interest_dropped) as dropped, arg_max(interest_outstanding, business_date) as outstanding
        from marts.fct_interest_daily where business_date between ? and ?""", p.start, p.end)
    fs.key_table("M12.summary", [
        fs.add("M12.accrued", i.get("accrued"), "money", "Interest accrued (ACT/360, every calendar day)"),
        fs.add("M12.charged", i.get("charged"), "money", "Interest charged to clients"),
        fs.add("M12.compensated", i.get("compensated"), "money", "Unpaid interest covered by the risk reserve"),
        fs.add("M12.written_off", i.get("written_off"), "money", "Unpaid interest written off"),
        fs.add("M12.outstanding.period_end", i.get("outstanding"), "money", "Accrued unpaid interest at period end"),
    ])
    w = _income_waterfall_row(m, p)
    fs.meta["income_waterfall_months"] = int(w.get("months") or 0)
    t = fs.table("M13.income", [("Step", "l", "8%"), ("", "l", "52%"), ("Amount", "r")],
                 note="Interest charged in the month plus the providers' share of performance fees, paid in order; "
                      "a shortfall is borne JUNIOR first. Coupons ACT/360 on the tranche's daily capital balance.")
    rows = [
        ("", "Interest charged to clients", "M13.interest_charged", w.get("interest_charged")),
        ("", "Providers' share of performance fees", "M13.performance_fee_share", w.get("performance_fee_share")),
        ("", "Income I", "M13.income", w.get("income")),
        ("1", "Senior coupons", "M13.senior_coupons", w.get("senior_coupons")),
        ("2", "Mezzanine coupons", "M13.mezzanine_coupons", w.get("mezzanine_coupons")),
        ("3", "Platform servicing fee", "M13.servicing_fee", w.get("servicing_fee")),
        ("4", "Residual to the junior tranche", "M13.residual", w.get("residual")),
        ("", "Distributions paid", "M13.distributions_total", w.get("distributions_total")),
        ("", "Shortfall borne by providers", "M13.shortfall", w.get("shortfall")),
    ]
    for step, label, fid, v in rows:
        t.rows.append([step, label, fs.add(fid, v, "money", label)])


def _margin(fs: FigureSet, m: Marts, p: Period, as_of: dt.date) -> None:
    # M2 leverage distribution at the period-end close
    t = fs.table("M2.buckets", [("Leverage λ", "l", "18%"), ("Accounts", "r"), ("Share of accounts", "r"),
                                ("Gross exposure", "r"), ("Loans", "r")],
                 note="Accounts with a loan at the period-end close, by λ = G/E (upper bound included); "
                      "E ≤ 0 is shown as negative equity.")
    buckets = leverage_rows(m, as_of)
    fs.series["M2.buckets"] = [{"bucket": r["bucket"], "accounts": r["accounts"], "loans": r["loans"],
                                "gross_exposure": r["gross_exposure"]} for r in buckets]
    for r in buckets:
        b = slug(r["bucket"])
        t.rows.append([r["bucket"].replace("_", " "),
                       fs.add(f"M2.bucket.{b}.accounts", r["accounts"], "int", f"λ {r['bucket']}: accounts"),
                       fs.add(f"M2.bucket.{b}.account_share", r["account_share"], "percent", f"λ {r['bucket']}: share"),
                       fs.add(f"M2.bucket.{b}.gross_exposure", r["gross_exposure"], "money", f"λ {r['bucket']}: exposure"),
                       fs.add(f"M2.bucket.{b}.loans", r["loans"], "money", f"λ {r['bucket']}: loans")])
    pt = fs.table("M2.percentiles", [("KYC tier", "l", "14%"), ("Accounts with loan", "r"), ("E > 0", "r"),
                                     ("P50", "r"), ("P90", "r"), ("P99", "r"), ("Max", "r")],
                  note="Percentiles of λ (continuous) over accounts with positive equity.")
    for r in m.all("select * from marts.fct_leverage_percentiles_daily where business_date = ? "
                   "order by case when kyc_tier = 'ALL' then 0 else 1 end, kyc_tier", as_of):
        k = r["kyc_tier"]
        pre = f"M2.leverage.{k}"
        pt.rows.append(["All" if k == "ALL" else k,
                        fs.add(f"{pre}.accounts", r["population_accounts"], "int", f"{k}: accounts with loan"),
                        fs.add(f"{pre}.positive_equity_accounts", r["positive_equity_accounts"], "int", f"{k}: E > 0"),
                        fs.add(f"{pre}.p50", r["leverage_p50"], "multiple", f"{k}: λ P50"),
                        fs.add(f"{pre}.p90", r["leverage_p90"], "multiple", f"{k}: λ P90"),
                        fs.add(f"{pre}.p99", r["leverage_p99"], "multiple", f"{k}: λ P99"),
                        fs.add(f"{pre}.max", r["leverage_max"], "multiple", f"{k}: λ max")])
    # M3 collateral ratio buckets
    ct = fs.table("M3.buckets", [("Collateral ratio MR", "l", "22%"), ("Accounts", "r"), ("Share of accounts", "r"),
                                 ("Loans", "r"), ("Share of loans", "r")],
                  note="MR = (cash + MV) / (L + A), lower bound included; accounts with a loan at the period-end close.")
    for r in m.all("select * from marts.fct_collateral_buckets_daily where business_date = ? order by bucket_order", as_of):
        b = slug(r["bucket"])
        ct.rows.append([r["bucket"],
                        fs.add(f"M3.bucket.{b}.accounts", r["accounts"], "int", f"MR {r['bucket']}: accounts"),
                        fs.add(f"M3.bucket.{b}.account_share", r["account_share"], "percent", f"MR {r['bucket']}: share"),
                        fs.add(f"M3.bucket.{b}.loans", r["loans"], "money", f"MR {r['bucket']}: loans"),
                        fs.add(f"M3.bucket.{b}.loan_share", r["loan_share"], "percent", f"MR {r['bucket']}: loan share")])
    # M4 margin calls
    mc = _margin_calls(m, p)
    fs.key_table("M4.summary", [
        fs.add("M4.calls_issued", mc.get("calls_issued"), "int", "Margin calls issued (WARNING events)"),
        fs.add("M4.calls_cured", mc.get("calls_cured"), "int", "Cured (closed ≥ W before any liquidation)"),
        fs.add("M4.calls_liquidated", mc.get("calls_liquidated"), "int", "Ended in liquidation"),
        fs.add("M4.calls_open", mc.get("calls_open_at_month_end"), "int", "Still open at period end (reported apart)"),
        fs.add("M4.cure_rate", mc.get("cure_rate"), "ratio", "Cure rate = cured / (issued − open)"),
        fs.add("M4.peak_below_warning", mc.get("peak_accounts_below_warning"), "int",
               "Peak accounts below the warning line W at a close"),
        fs.add("M4.peak_below_maintenance", mc.get("peak_accounts_below_maintenance"), "int",
               "Peak accounts below maintenance MM at a close"),
        fs.add("M4.liquidation_triggers", mc.get("liquidation_triggers"), "int", "Liquidation triggers"),
    ])
    fs.series["M4.daily"] = m.all(
        "select business_date, warnings_issued, accounts_below_warning, accounts_below_maintenance, liquidation_triggers "
        "from marts.fct_margin_calls_daily where business_date between ? and ? order by 1", p.start, p.end)
    # M16 dynamic margin
    s = m.one("""
        select count(*) as instruments, count(*) filter (where is_high_vol) as high_vol,
               sum(accounts_new_breach_mm) as accounts_new_breach, sum(new_breach_exposure) as new_breach_exposure,
               sum(additional_mm_required) as additional_mm_required
        from marts.fct_margin_recommendation_daily where business_date = ?""", as_of)
    fs.key_table("M16.summary", [
        fs.add("M16.instruments", s.get("instruments"), "int", "Instruments assessed"),
        fs.add("M16.high_vol", s.get("high_vol"), "int", "High-volatility instruments (20-day realised)"),
        fs.add("M16.additional_mm_required", s.get("additional_mm_required"), "money",
               "Additional maintenance margin under the recommendation"),
        fs.add("M16.accounts_new_breach", s.get("accounts_new_breach"), "int",
               "Account-instrument pairs that would newly breach MM (Σ over instruments)"),
        fs.add("M16.new_breach_exposure", s.get("new_breach_exposure"), "money", "Their financed exposure"),
    ])
    ht = fs.table("M16.instruments", [("Symbol", "l", "11%"), ("Board", "l", "9%"), ("Tier", "l", "6%"),
                                      ("Vol. (ann.)", "r"), ("Rec. IM", "r"), ("Rec. MM", "r"),
                                      ("Financed exposure", "r"), ("New MM breaches", "r")],
                  note="High-volatility instruments at the period-end close (largest financed exposure first, "
                       "at most 15).")
    for r in m.all("""select * from marts.fct_margin_recommendation_daily where business_date = ? and is_high_vol
                      order by financed_exposure desc nulls last, symbol limit 15""", as_of):
        sym = r["symbol"]
        pre = f"M16.instrument.{sym}"
        ht.rows.append([sym, r["board"], r["liquidity_tier"],
                        fs.add(f"{pre}.vol_annualised", r["vol_annualised"], "percent", f"{sym}: volatility"),
                        fs.add(f"{pre}.recommended_im", r["recommended_im"], "percent", f"{sym}: recommended IM"),
                        fs.add(f"{pre}.recommended_mm", r["recommended_mm"], "percent", f"{sym}: recommended MM"),
                        fs.add(f"{pre}.financed_exposure", r["financed_exposure"], "money", f"{sym}: financed exposure"),
                        fs.add(f"{pre}.accounts_new_breach", r["accounts_new_breach_mm"], "int", f"{sym}: new breaches")])


def _margin_calls(m: Marts, p: Period) -> dict[str, Any]:
    if _use_monthly(m, p, "rpt_margin_calls_monthly"):
        r = m.one("select * from marts.rpt_margin_calls_monthly where month = ?", p.start)
        if r:
            return r
    return m.one("""
        with c as (select * from marts.fct_margin_calls where business_date between ? and ?),
        s as (select count(*) as issued,
                     count(*) filter (where cured_on <= ?) as cured,
                     count(*) filter (where not coalesce(cured_on <= ?, false) and liquidated_on <= ?) as liquidated
              from c),
        d as (select max(accounts_below_warning) as pw, max(accounts_below_maintenance) as pm,
                     sum(liquidation_triggers) as lt
              from marts.fct_margin_calls_daily where business_date between ? and ?)
        select s.issued as calls_issued, s.cured as calls_cured, s.liquidated as calls_liquidated,
               s.issued - s.cured - s.liquidated as calls_open_at_month_end,
               case when s.cured + s.liquidated = 0 then null
                    else cast(s.cured as double) / (s.cured + s.liquidated) end as cure_rate,
               d.pw as peak_accounts_below_warning, d.pm as peak_accounts_below_maintenance, d.lt as liquidation_triggers
        from s, d""", p.start, p.end, p.end, p.end, p.end, p.start, p.end)


def _default_ratio(m: Marts, p: Period) -> dict[str, Any]:
    if _use_monthly(m, p, "rpt_default_ratio_monthly"):
        r = m.one("select * from marts.rpt_default_ratio_monthly where month = ?", p.start)
        if r:
            return r
    # on-demand range: the same definitions over the range (the population of accounts with a loan at
    # any close comes from the account-day model the marts are built on)
    return m.one("""
        with d as (select * from marts.fct_defaults where business_date between ? and ?),
        pop as (select count(distinct account_id) as n from (
                    select account_id from intermediate.int_accounts__daily
                    where has_loan and business_date between ? and ?
                    union all select account_id from d)),  -- a default's account counts even if its
                                                            -- last loan close was before the range
        l as (select avg(total_loans) as mean_loans, count(*) as bd from marts.fct_utilization_daily
              where business_date between ? and ?)
        select (select count(*) from d) as defaults, (select count(distinct account_id) from d) as accounts_defaulted,
               pop.n as accounts_with_loan,
               case when pop.n = 0 then null else cast((select count(distinct account_id) from d) as double) / pop.n end
                   as default_ratio_count,
               (select coalesce(sum(shortfall), 0) from d) as total_shortfall, l.mean_loans as mean_total_loans,
               case when coalesce(l.mean_loans, 0) = 0 then null
                    else cast((select coalesce(sum(shortfall), 0) from d) as double) / cast(l.mean_loans as double) end
                   as default_ratio_amount,
               case when coalesce(l.mean_loans, 0) = 0 then null
                    else cast((select coalesce(sum(shortfall), 0) from d) as double) / cast(l.mean_loans as double)
                         * 365.0 / ? end as default_ratio_amount_annualised,
               (select sum(compensation) from d) as total_compensation, (select sum(write_off) from d) as total_write_off,
               (select sum(loss_allocated) from d) as total_loss_allocated
        from pop, l""", p.start, p.end, p.start, p.end, p.start, p.end, p.calendar_days)


def _latency(m: Marts, p: Period) -> list[dict[str, Any]]:
    if _use_monthly(m, p, "rpt_liquidation_latency_monthly"):
        rows = m.all("select * from marts.rpt_liquidation_latency_monthly where month = ? "
                     "order by case population when 'all' then 0 when 'normal' then 1 else 2 end", p.start)
        if rows:
            return rows
    return m.all("""
        with l as (select *, is_complete and fills > 0 as is_measured from marts.fct_liquidations
                   where trigger_business_date between ? and ?),
        x as (select 'all' as population, * from l
              union all select case when is_limit_down then 'limit_down' else 'normal' end, * from l),
        pops as (select * from (values ('all', 0), ('normal', 1), ('limit_down', 2)) v(population, ord))
        select pops.population, count(x.liquidation_id) as liquidations,
               count(*) filter (where x.is_measured) as measured_liquidations,
               count(x.liquidation_id) - count(*) filter (where x.is_measured) as unmeasured_liquidations,
               max(x.sla_seconds) as sla_seconds, count(*) filter (where x.within_sla) as within_sla,
               case when count(*) filter (where x.is_measured) = 0 then null else
                   cast(count(*) filter (where x.within_sla) as double) / count(*) filter (where x.is_measured) end as sla_share,
               avg(case when x.is_measured then x.latency_first_fill_seconds end) as first_fill_mean_seconds,
               quantile_cont(case when x.is_measured then x.latency_first_fill_seconds end, 0.5) as first_fill_p50_seconds,
               quantile_cont(case when x.is_measured then x.latency_first_fill_seconds end, 0.95) as first_fill_p95_seconds,
               quantile_cont(case when x.is_measured then x.latency_first_fill_seconds end, 0.99) as first_fill_p99_seconds,
               max(case when x.is_measured then x.latency_first_fill_seconds end) as first_fill_max_seconds,
               avg(case when x.is_measured then x.latency_last_fill_seconds end) as last_fill_mean_seconds,
               quantile_cont(case when x.is_measured then x.latency_last_fill_seconds end, 0.5) as last_fill_p50_seconds,
               quantile_cont(case when x.is_measured then x.latency_last_fill_seconds end, 0.95) as last_fill_p95_seconds,
               quantile_cont(case when x.is_measured then x.latency_last_fill_seconds end, 0.99) as last_fill_p99_seconds,
               max(case when x.is_measured then x.latency_last_fill_seconds end) as last_fill_max_seconds
        from pops left join x using (population) group by pops.population, pops.ord order by pops.ord""",
                 p.start, p.end)


def _defaults(fs: FigureSet, m: Marts, p: Period) -> None:
    r = _default_ratio(m, p)
    fs.key_table("M5.summary", [
        fs.add("M5.accounts_defaulted", r.get("accounts_defaulted"), "int", "Accounts with a DEFAULT — numerator"),
        fs.add("M5.accounts_with_loan", r.get("accounts_with_loan"), "int",
               "Accounts with a loan at any close — denominator"),
        fs.add("M5.default_ratio.count", r.get("default_ratio_count"), "ratio", "Default ratio (count)"),
        fs.add("M5.shortfall", r.get("total_shortfall"), "money", "Σ shortfall S — numerator"),
        fs.add("M5.mean_loans", r.get("mean_total_loans"), "money", "Mean daily ΣL — denominator"),
        fs.add("M5.default_ratio.amount", r.get("default_ratio_amount"), "ratio", "Default ratio (amount)"),
        fs.add("M5.default_ratio.amount_annualised", r.get("default_ratio_amount_annualised"), "ratio",
               "Default ratio (amount), annualised × 365 / calendar days"),
    ])
    lat = _latency(m, p)
    t = fs.table("M6.latency", [("Population", "l", "13%"), ("Liquidations", "r", "10%"), ("Within SLA", "r", "9%"),
                                ("Mean", "r"), ("P50", "r"), ("P95", "r"), ("P99", "r"), ("Max", "r")],
                 note="Seconds from LIQUIDATION_TRIGGER to the last liquidation fill; share within the SLA. "
                      "A liquidation is limit-down when an instrument held at the trigger was locked limit-down "
                      "between the trigger and the last fill.")
    ft = fs.table("M6.latency_first", [("Population", "l", "13%"), ("Measured", "r", "10%"), ("Mean", "r"),
                                       ("P50", "r"), ("P95", "r"), ("P99", "r"), ("Max", "r")],
                  note="Seconds from LIQUIDATION_TRIGGER to the first liquidation fill.")
    for r in lat:
        pop = r["population"]
        pre = f"M6.{pop}"
        label = {"all": "All", "normal": "Normal", "limit_down": "Limit-down"}.get(pop, pop)
        fs.add(f"{pre}.sla_seconds", r["sla_seconds"], "int", f"{label}: SLA (s)")
        t.rows.append([label,
                       fs.add(f"{pre}.liquidations", r["liquidations"], "int", f"{label}: liquidations"),
                       fs.add(f"{pre}.sla_share", r["sla_share"], "percent", f"{label}: share within SLA"),
                       fs.add(f"{pre}.last_fill.mean", r["last_fill_mean_seconds"], "seconds", f"{label}: mean"),
                       fs.add(f"{pre}.last_fill.p50", r["last_fill_p50_seconds"], "seconds", f"{label}: P50"),
                       fs.add(f"{pre}.last_fill.p95", r["last_fill_p95_seconds"], "seconds", f"{label}: P95"),
                       fs.add(f"{pre}.last_fill.p99", r["last_fill_p99_seconds"], "seconds", f"{label}: P99"),
                       fs.add(f"{pre}.last_fill.max", r["last_fill_max_seconds"], "seconds", f"{label}: max")])
        ft.rows.append([label,
                        fs.add(f"{pre}.measured", r["measured_liquidations"], "int", f"{label}: measured"),
                        fs.add(f"{pre}.first_fill.mean", r["first_fill_mean_seconds"], "seconds", f"{label}: mean"),
                        fs.add(f"{pre}.first_fill.p50", r["first_fill_p50_seconds"], "seconds", f"{label}: P50"),
                        fs.add(f"{pre}.first_fill.p95", r["first_fill_p95_seconds"], "seconds", f"{label}: P95"),
                        fs.add(f"{pre}.first_fill.p99", r["first_fill_p99_seconds"], "seconds", f"{label}: P99"),
                        fs.add(f"{pre}.first_fill.max", r["first_fill_max_seconds"], "seconds", f"{label}: max")])
    fs.meta["sla_seconds"] = next((r["sla_seconds"] for r in lat if r.get("sla_seconds")), None)
    fs.series["M6.liquidations"] = m.all(
        "select latency_last_fill_seconds, is_limit_down from marts.fct_liquidations "
        "where trigger_business_date between ? and ? and is_complete and fills > 0 order by liquidation_id",
        p.start, p.end)
    # M7 slippage: Σ over the period's liquidations; bp of the reference notional
    st = fs.table("M7.slippage", [("Population", "l", "16%"), ("Liquidations", "r"), ("Reference notional", "r"),
                                  ("Slippage", "r"), ("Slippage (bp)", "r")],
                  note="Reference price = the instrument's close on the business day before the trigger; sells "
                       "Σ qty·(reference − price), buys Σ qty·(price − reference); bp of the reference notional.")
    for r in m.all("""
        with l as (select * from marts.fct_liquidations where trigger_business_date between ? and ?),
        x as (select 'all' as population, * from l
              union all select case when is_limit_down then 'limit_down' else 'normal' end, * from l),
        pops as (select * from (values ('all', 0), ('normal', 1), ('limit_down', 2)) v(population, ord))
        select pops.population, count(x.liquidation_id) as liquidations,
               coalesce(sum(x.reference_notional), 0) as reference_notional, coalesce(sum(x.slippage), 0) as slippage,
               case when coalesce(sum(x.reference_notional), 0) = 0 then null
                    else cast(sum(x.slippage) as double) / cast(sum(x.reference_notional) as double) * 10000 end as slippage_bp
        from pops left join x using (population) group by pops.population, pops.ord order by pops.ord""",
                   p.start, p.end):
        pop = r["population"]
        label = {"all": "All", "normal": "Normal", "limit_down": "Limit-down"}.get(pop, pop)
        st.rows.append([label,
                        fs.add(f"M7.{pop}.liquidations", r["liquidations"], "int", f"{label}: liquidations"),
                        fs.add(f"M7.{pop}.reference_notional", r["reference_notional"], "money",
                               f"{label}: reference notional"),
                        fs.add(f"M7.{pop}.slippage", r["slippage"], "money", f"{label}: slippage"),
                        fs.add(f"M7.{pop}.slippage_bp", r["slippage_bp"], "bp", f"{label}: slippage in bp")])
    dt_ = fs.table("M5.by_date", [("Business date", "l", "16%"), ("Defaults", "r", "10%"), ("Shortfall S", "r"),
                                  ("Reserve compensation", "r"), ("Written off", "r"), ("Allocated to providers", "r")],
                   note="Platform totals per business date.")
    for r in defaults_by_date(m, p):
        d = r["business_date"].isoformat()
        dt_.rows.append([d,
                         fs.add(f"M5.date.{d}.defaults", r["defaults"], "int", f"{d}: defaults"),
                         fs.add(f"M5.date.{d}.shortfall", r["shortfall"], "money", f"{d}: shortfall"),
                         fs.add(f"M5.date.{d}.compensation", r["compensation"], "money", f"{d}: compensation"),
                         fs.add(f"M5.date.{d}.write_off", r["write_off"], "money", f"{d}: written off"),
                         fs.add(f"M5.date.{d}.loss_allocated", r["loss_allocated"], "money", f"{d}: allocated")])


def _concentration(fs: FigureSet, m: Marts, p: Period, as_of: dt.date) -> None:
    c = concentration_row(m, as_of)
    fs.key_table("M14.summary", [
        fs.add("M14.top1_loan_share", c.get("top1_loan_share"), "percent", "Largest group's share of ΣL"),
        fs.add("M14.top5_loan_share", c.get("top5_loan_share"), "percent", "Top-5 groups' share of ΣL"),
        fs.add("M14.top10_loan_share", c.get("top10_loan_share"), "percent", "Top-10 groups' share of ΣL"),
        fs.add("M14.total_loans", c.get("total_loans"), "money", "ΣL — denominator of the loan shares"),
        fs.add("M14.top1_stress_loss_share", c.get("top1_stress_loss_share"), "percent",
               "Largest group's share of the worst scenario's stress loss"),
        fs.add("M14.top5_stress_loss_share", c.get("top5_stress_loss_share"), "percent", "Top-5 groups' share"),
        fs.add("M14.top10_stress_loss_share", c.get("top10_stress_loss_share"), "percent", "Top-10 groups' share"),
        fs.add("M14.total_stress_loss", c.get("total_stress_loss"), "money", "Stress loss — denominator"),
        fs.add("M14.top10_capital_share", c.get("top10_capital_share"), "percent",
               "Top-10 providers' share of capital"),
    ])
    t = fs.table("M14.securities", [("Symbol", "l", "10%"), ("Board", "l", "9%"), ("Tier", "l", "6%"),
                                    ("Financed exposure", "r"), ("Share of financed", "r"), ("Traded value", "r"),
                                    ("Exposure / traded value", "r")],
                 note="The ten instruments with the largest financed exposure (market value held by accounts with a "
                      "loan) at the period-end close, against the day's traded value.")
    for r in top_securities(m, as_of):
        sym = r["symbol"]
        pre = f"M14.security.{sym}"
        t.rows.append([sym, r["board"], r["liquidity_tier"],
                       fs.add(f"{pre}.financed_exposure", r["financed_exposure"], "money", f"{sym}: financed exposure"),
                       fs.add(f"{pre}.share", r["share_of_financed_exposure"], "percent", f"{sym}: share"),
                       fs.add(f"{pre}.traded_value", r["traded_value"], "money", f"{sym}: traded value"),
                       fs.add(f"{pre}.exposure_to_traded_value", r["financed_exposure_to_traded_value"], "ratio",
                              f"{sym}: exposure / traded value")])


def _liquidity(fs: FigureSet, m: Marts, p: Period, as_of: dt.date) -> None:
    r = m.one("select * from marts.fct_liquidity_coverage_daily where business_date = ?", as_of)
    lo = m.one("select business_date, liquidity_coverage from marts.fct_liquidity_coverage_daily "
               "where business_date between ? and ? order by liquidity_coverage asc nulls last, business_date limit 1",
               p.start, p.end)
    fs.key_table("M15.summary", [
        fs.add("M15.capital_pool", r.get("capital_pool_balance"), "money", "CAPITAL_POOL custody balance"),
        fs.add("M15.client_margin_pool", r.get("client_margin_pool_balance"), "money",
               "CLIENT_MARGIN_POOL custody balance"),
        fs.add("M15.available_cash", r.get("available_cash"), "money", "Cash available within the horizon — numerator"),
        fs.add("M15.pending_redemptions", r.get("pending_redemptions"), "money", "Redemptions requested, not yet paid"),
        fs.add("M15.stressed_withdrawals", r.get("stressed_withdrawals"), "money", "Stressed client withdrawals"),
        fs.add("M15.stressed_outflows", r.get("stressed_outflows"), "money", "Stressed outflows — denominator"),
        fs.add("M15.coverage.period_end", r.get("liquidity_coverage"), "ratio", "Liquidity coverage at period end"),
        fs.add("M15.coverage.min", lo.get("liquidity_coverage"), "ratio", "Lowest daily coverage in the period"),
        fs.add("M15.coverage.min_date", lo.get("business_date"), "date", "Date of the lowest coverage"),
        fs.add("M15.horizon_days", r.get("horizon_days"), "int", "Horizon (calendar days)"),
    ])


def _data_quality(fs: FigureSet, m: Marts, p: Period) -> None:
    rows = m.all("""
        select feed, sum(files) as files, sum(rows_in_files) as rows_in_files, sum(rows_loaded) as rows_loaded,
               sum(rows_quarantined) as rows_quarantined, sum(rows_duplicate) as rows_duplicate,
               sum(duplicate_key_rows) as duplicate_key_rows, count(*) filter (where is_feed_missing) as missing_days,
               sum(reconciliation_breaks) as reconciliation_breaks
        from marts.fct_data_quality_daily where business_date between ? and ? group by feed order by feed""",
                 p.start, p.end)
    t = fs.table("M17.feeds", [("Feed", "l", "16%"), ("Files", "r", "7%"), ("Rows in files", "r"), ("Loaded", "r"),
                               ("Quarantined", "r"), ("Duplicate", "r"), ("Repeated keys", "r"),
                               ("Days missing", "r", "8%"), ("Recon. breaks", "r", "8%")],
                 note="Loaded + quarantined + duplicate = rows in the files; nothing is dropped silently.")
    for r in rows:
        f = r["feed"]
        pre = f"M17.{f}"
        t.rows.append([f,
                       fs.add(f"{pre}.files", r["files"], "int", f"{f}: files"),
                       fs.add(f"{pre}.rows_in_files", r["rows_in_files"], "int", f"{f}: rows in files"),
                       fs.add(f"{pre}.rows_loaded", r["rows_loaded"], "int", f"{f}: rows loaded"),
                       fs.add(f"{pre}.rows_quarantined", r["rows_quarantined"], "int", f"{f}: rows quarantined"),
                       fs.add(f"{pre}.rows_duplicate", r["rows_duplicate"], "int", f"{f}: duplicate rows"),
                       fs.add(f"{pre}.duplicate_key_rows", r["duplicate_key_rows"], "int", f"{f}: repeated keys"),
                       fs.add(f"{pre}.missing_days", r["missing_days"], "int", f"{f}: days missing"),
                       fs.add(f"{pre}.reconciliation_breaks", r["reconciliation_breaks"], "int",
                              f"{f}: reconciliation breaks")])
    tot = m.one("""select sum(rows_in_files) as rows_in_files, sum(rows_loaded) as rows_loaded,
                          sum(rows_quarantined) as rows_quarantined, count(*) filter (where is_feed_missing) as missing
                   from marts.fct_data_quality_daily where business_date between ? and ?""", p.start, p.end)
    fs.key_table("M17.summary", [
        fs.add("M17.rows_in_files", tot.get("rows_in_files"), "int", "Rows received"),
        fs.add("M17.rows_loaded", tot.get("rows_loaded"), "int", "Rows loaded"),
        fs.add("M17.rows_quarantined", tot.get("rows_quarantined"), "int", "Rows quarantined (row rules)"),
        fs.add("M17.feed_days_missing", tot.get("missing"), "int", "Feed-days missing"),
    ])
