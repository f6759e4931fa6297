"""Capital-provider statements: one PDF per provider and month.

Isolation is built in three layers:

1. the provider's own figures come only from queries filtered by ``provider_id = ?``; everything
   else is a platform aggregate (sums over all providers, tranche totals, the loan book) built by
   ``platform_block`` from queries that return no per-provider rows — no per-provider table is ever
   read into a statement;
2. the HTML is scanned before rendering, and
3. the rendered PDF's text and its embedded figures files are scanned after rendering, for any
   other provider's id or name; a hit raises ``IsolationError`` and nothing is written.

``render_all_statements`` renders every provider of a month in worker processes (one read-only
DuckDB connection and one cached platform block per worker).
"""
from __future__ import annotations

import datetime as dt
import io
import multiprocessing
import re
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from assets.common.warehouse import connect

from . import charts
from .figures import (
    INCOME_STEP,
    LOSS_ORDER,
    TRANCHES,
    FigureSet,
    Marts,
    Period,
    ReportDataError,
    add_client_money_block,
    add_reconciliation_block,
    add_reserve_block,
    base_meta,
    concentration_row,
    defaults_by_date,
    definitions_for,
    input_files,
    input_set_digest,
    leverage_rows,
    lineage_tables,
    period_end_date,
    slug,
    top_securities,
    utilization_summary,
)
from .render import (
    AttachmentSpec,
    BuiltReport,
    RenderResult,
    document_text,
    figures_attachments,
    render_html,
    write_report,
)

STATEMENT_MARTS = (
    "marts.rpt_provider_capital_monthly", "marts.fct_provider_capital_daily", "marts.rpt_utilization_monthly",
    "marts.fct_loss_allocations", "marts.fct_defaults", "marts.fct_reserve_coverage_daily",
    "marts.fct_stress_daily", "marts.fct_leverage_distribution_daily", "marts.fct_concentration_daily",
    "marts.fct_security_concentration_daily", "marts.fct_reconciliation_items", "marts.fct_reconciliation_daily",
    "marts.fct_custody_rollforward_daily", "marts.fct_client_money_daily", "marts.rpt_income_waterfall_monthly",
    "staging.stg_capital__events", "staging.stg_reference__providers", "raw.file_manifest",
)
STATEMENT_DEFINITION_IDS = ("M1", "M2", "M8", "M9", "M10", "M11", "M13", "M14")


class IsolationError(RuntimeError):
    """A statement would show another provider's id or name; it is not written."""


# --------------------------------------------------------------------------------------------------
# providers


def provider_ids(warehouse_path: Path | str | None = None, month: str | dt.date | None = None, *,
                 con: duckdb.DuckDBPyConnection | None = None) -> list[str]:
    """Providers with a statement for the month (a row in rpt_provider_capital_monthly)."""
    period = Period.month(month)

    def q(c):
        return [r[0] for r in c.execute(
            "select distinct provider_id from marts.rpt_provider_capital_monthly where month = ? order by 1",
            [period.start]).fetchall()]

    if con is not None:
        return q(con)
    with connect(warehouse_path, read_only=True) as c:
        return q(c)


@dataclass(frozen=True)
class ProviderIdentity:
    provider_id: str
    name: str
    tranche: str
    commitment: Decimal | None
    coupon_rate: Decimal | None
    currency: str


def _identity(m: Marts, provider_id: str, as_of: dt.date) -> ProviderIdentity:
    r = m.one("""
        select provider_id, provider_name, tranche, commitment, coupon_rate, currency
        from staging.stg_reference__providers where provider_id = ? and snapshot_date <= ?
        order by snapshot_date desc limit 1""", provider_id, as_of) or m.one(
        "select provider_id, provider_name, tranche, commitment, coupon_rate, currency "
        "from staging.stg_reference__providers where provider_id = ? order by snapshot_date desc limit 1", provider_id)
    if not r:
        raise ReportDataError(f"unknown provider {provider_id!r}")
    return ProviderIdentity(r["provider_id"], r["provider_name"], r["tranche"], r["commitment"], r["coupon_rate"],
                            r["currency"] or "CNY")


def _provider_directory(m: Marts) -> tuple[tuple[str, str], ...]:
    """Every provider id and name ever in the reference feed (what a statement may name only for itself)."""
    return tuple((r["provider_id"], r["provider_name"] or "") for r in m.all(
        "select distinct provider_id, provider_name from staging.stg_reference__providers order by 1, 2"))


# --------------------------------------------------------------------------------------------------
# platform aggregates (shared by every statement of the month; no provider-level rows)


def platform_block(m: Marts, period: Period) -> FigureSet:
    """Figures every statement of the month shows about the platform as a whole."""
    as_of = period_end_date(m, period)
    fs = FigureSet("platform", {"as_of": as_of})
    u = utilization_summary(m, period)
    fs.add("M1.utilization.mean", u.get("mean_utilization"), "ratio", "Platform utilization, mean of daily values")
    fs.add("M1.utilization.period_end", u.get("month_end_utilization"), "ratio", "Platform utilization at month end")
    fs.add("M1.loans.period_end", u.get("month_end_loan_book"), "money", "Platform loan book ΣL at month end")
    fs.add("M1.capital.period_end", u.get("month_end_capital_balance"), "money",
           "Providers' capital balance, all providers")

    # tranche totals at month end: the provider's place in the waterfall is told against these
    tranche = {r["tranche"]: r for r in m.all(
        "select tranche, sum(capital_balance) as capital from marts.fct_provider_capital_daily "
        "where business_date = ? group by tranche", as_of)}
    for tr in TRANCHES:
        fs.add(f"waterfall.tranche.{tr}.capital", (tranche.get(tr) or {}).get("capital", Decimal(0)), "money",
               f"{tr.title()} tranche capital (all providers)")
    add_reserve_block(fs, m, period, as_of)

    # income waterfall of the month, platform totals
    w = m.one("select * from marts.rpt_income_waterfall_monthly where month = ?", period.start)
    t = fs.table("M13.platform_income", [("Step", "l", "8%"), ("", "l", "56%"), ("Platform total", "r")],
                 note="The month's income waterfall for the platform as a whole (all providers).")
    for step, label, col in (("", "Income I (interest charged + providers' share of performance fees)", "income"),
                             ("1", "Senior coupons", "senior_coupons"),
                             ("2", "Mezzanine coupons", "mezzanine_coupons"),
                             ("3", "Platform servicing fee", "servicing_fee"),
                             ("4", "Residual to the junior tranche", "residual"),
                             ("", "Shortfall borne by providers", "shortfall")):
        t.rows.append([step, label, fs.add(f"M13.platform.{col}", w.get(col), "money", f"Platform: {label}")])
    fs.meta["waterfall_ran"] = bool(w)

    # credit events of the month, per date
    fs.meta["credit_dates"] = defaults_by_date(m, period)

    # look-through: the loan book by leverage bucket, concentration without client ids
    buckets = leverage_rows(m, as_of)
    fs.meta["leverage_buckets"] = buckets
    c = concentration_row(m, as_of)
    for k in ("top1_loan_share", "top5_loan_share", "top10_loan_share", "top1_stress_loss_share",
              "top5_stress_loss_share", "top10_stress_loss_share"):
        fs.add(f"M14.{k}", c.get(k), "percent", {
            "top1_loan_share": "Largest borrower group's share of the loan book",
            "top5_loan_share": "Five largest groups' share of the loan book",
            "top10_loan_share": "Ten largest groups' share of the loan book",
            "top1_stress_loss_share": "Largest group's share of the worst-scenario stress loss",
            "top5_stress_loss_share": "Five largest groups' share of the stress loss",
            "top10_stress_loss_share": "Ten largest groups' share of the stress loss"}[k])
    st = fs.table("M14.securities", [("Instrument", "l", "14%"), ("Board", "l", "10%"), ("Tier", "l", "7%"),
                                     ("Financed exposure", "r"), ("Share of financed exposure", "r")],
                  note="The largest financed positions of the loan book by instrument, platform-wide.")
    for r in top_securities(m, as_of, 5):
        sym = r["symbol"]
        st.rows.append([sym, r["board"], r["liquidity_tier"],
                        fs.add(f"M14.security.{sym}.financed_exposure", r["financed_exposure"], "money",
                               f"{sym}: financed exposure"),
                        fs.add(f"M14.security.{sym}.share", r["share_of_financed_exposure"], "percent",
                               f"{sym}: share of financed exposure")])

    add_reconciliation_block(fs, m, period, as_of)
    add_client_money_block(fs, m, period, as_of)
    fs.charts["leverage"] = charts.leverage_chart(buckets)
    files = input_files(m, period.start, period.end)
    fs.meta["all_files"] = files
    fs.meta["capital_files"] = [f for f in files if f["feed"] == "capital_events"]
    return fs


# --------------------------------------------------------------------------------------------------
# one statement


def build_statement_figures(m: Marts, period: Period, provider_id: str, *, run_id: str, platform: FigureSet,
                            generated_at: dt.datetime | None = None) -> FigureSet:
    as_of = platform.meta["as_of"]
    ident = _identity(m, provider_id, as_of)
    meta = base_meta(period, run_id, generated_at)
    meta.update(report_title="Capital-provider statement", provider_id=ident.provider_id,
                provider_name=ident.name, tranche=ident.tranche, period_end_close=as_of,
                business_days=m.scalar("select count(*) from marts.fct_utilization_daily "
                                       "where business_date between ? and ?", period.start, period.end),
                waterfall_ran=platform.meta["waterfall_ran"])
    fs = FigureSet("statement", meta)
    # platform aggregates first (figures, tables, charts, series are copied, never shared mutably)
    fs.figures.update(platform.figures)
    fs.tables.update(platform.tables)
    fs.series.update(platform.series)
    fs.charts.update(platform.charts)

    # --- the provider's capital account (M13), filtered by provider_id
    r = m.one("select * from marts.rpt_provider_capital_monthly where month = ? and provider_id = ?",
              period.start, provider_id)
    if not r:
        raise ReportDataError(f"no capital account for {provider_id} in {period.key}")
    meta["month_complete"] = bool(r.get("is_month_complete"))
    roll = fs.table("M13.rollforward", [("", "l", "70%"), ("Amount", "r")], css="statement-roll",
                    note="Capital balance = contributions − redemptions paid − losses allocated, by settlement "
                         "date. Redemption requests are shown for information and move no capital until paid.")
    roll.rows.append(["Opening capital", fs.add("M13.opening_capital", r["opening_capital"], "money",
                                                "Opening capital")])
    roll.rows.append(["+ Contributions", fs.add("M13.contributions", r["contributions"], "money", "Contributions")])
    roll.rows.append(["− Redemptions paid", fs.add("M13.redemptions_paid", r["redemptions_paid"], "money",
                                                   "Redemptions paid")])
    roll.rows.append(["− Losses allocated: defaults (loss waterfall)",
                      fs.add("M13.losses_default", r["losses_default"], "money", "Losses allocated from defaults")])
    roll.rows.append(["− Losses allocated: income shortfall",
                      fs.add("M13.losses_waterfall", r["losses_waterfall"], "money",
                             "Losses allocated from an income shortfall")])
    roll.total_row = ["Closing capital", fs.add("M13.closing_capital", r["closing_capital"], "money",
                                                "Closing capital")]
    fs.add("M13.losses_allocated", r["losses_allocated"], "money", "Losses allocated (total)")

    step = INCOME_STEP[ident.tranche]
    income_label = {"SENIOR": "Step 1 — senior coupon", "MEZZANINE": "Step 2 — mezzanine coupon",
                    "JUNIOR": "Step 4 — residual to the junior tranche"}[ident.tranche]
    inc = fs.table("M13.income", [("", "l", "70%"), ("Amount", "r")], css="statement-roll",
                   note="Income is allocated inside a tranche pro rata to capital·days; the performance-fee "
                        "share is the part of it that came from the providers' share of performance fees.")
    inc.rows.append([f"Income allocated: {income_label}",
                     fs.add("M13.income_allocated", r["income_allocated"], "money", "Income allocated")])
    inc.rows.append(["   of which performance-fee share",
                     fs.add("M13.performance_fee_share", r["performance_fee_share"], "money",
                            "Performance-fee share")])
    inc.rows.append(["Income distributed (rounded to the cent)",
                     fs.add("M13.income_distributed", r["income_distributed"], "money", "Income distributed")])
    inc.rows.append(["− Losses allocated", fs["M13.losses_allocated"]])
    inc.total_row = ["Net income", fs.add("M13.net_income", r["net_income"], "money", "Net income")]
    fs.add("M13.income_step", step, "int", "Income waterfall step")

    perf = [
        fs.add("M13.net_yield_annualised", r["net_yield_annualised"], "percent",
               "Net yield, annualised = net income × 365 / capital·days"),
        fs.add("M13.average_capital", r["average_capital"], "money", "Average capital = capital·days / days"),
        fs.add("M13.capital_days", r["capital_days"], "money", "Capital·days"),
        fs.add("M13.calendar_days", r["calendar_days"], "int", "Calendar days"),
        fs.add("provider.coupon_rate", ident.coupon_rate, "percent",
               "Contractual coupon (n/a for the junior tranche)"),
        fs.add("M13.redemptions_requested", r["redemptions_requested"], "money", "Redemptions requested"),
        fs.add("M13.distributions_booked", r["distributions_booked"], "money", "Distributions booked (capital feed)"),
    ]
    fs.key_table("M13.performance", perf)

    # --- utilization of the provider's capital (M1), filtered by provider_id
    d = m.one("select * from marts.fct_provider_capital_daily where business_date = ? and provider_id = ?",
              as_of, provider_id)
    up = m.one("select * from marts.rpt_utilization_monthly where month = ? and scope_level = 'PROVIDER' "
               "and scope_id = ?", period.start, provider_id)
    fs.key_table("M1.provider", [
        fs.add("provider.commitment", d.get("commitment", ident.commitment), "money", "Commitment"),
        fs.add("M1.provider.capital_balance", d.get("capital_balance"), "money", "Capital balance at month end"),
        fs.add("M1.provider.drawdown", d.get("drawdown"), "ratio", "Drawdown = capital balance / commitment"),
        fs.add("M1.provider.mean_drawdown", up.get("mean_drawdown"), "ratio", "Drawdown, mean of daily values"),
        fs.add("M1.provider.capital_share", d.get("capital_share"), "percent",
               "Share of the providers' capital (pro-rata share of the loan book)"),
        fs.add("M1.provider.loan_book_allocated", d.get("loan_book_allocated"), "money",
               "Loan book allocated to you at month end"),
        fs.add("M1.provider.mean_loan_book", up.get("mean_loan_book"), "money", "Loan book allocated, mean"),
    ])
    fs.series["provider.daily"] = m.all(
        "select business_date, capital_balance, loan_book_allocated from marts.fct_provider_capital_daily "
        "where provider_id = ? and business_date between ? and ? order by 1", provider_id, period.start, period.end)
    fs.charts["capital"] = charts.provider_capital_chart(fs.series["provider.daily"])

    # --- place in the waterfall
    order = LOSS_ORDER[ident.tranche]
    ahead_tr = [tr for tr in TRANCHES if LOSS_ORDER[tr] < order]
    behind_tr = [tr for tr in TRANCHES if LOSS_ORDER[tr] > order]
    own_tranche_capital = fs[f"waterfall.tranche.{ident.tranche}.capital"].value or Decimal(0)
    reserve = fs["M9.reserve_balance.period_end"].value or Decimal(0)
    ahead = reserve + sum((fs[f"waterfall.tranche.{tr}.capital"].value or Decimal(0) for tr in ahead_tr), Decimal(0))
    behind = sum((fs[f"waterfall.tranche.{tr}.capital"].value or Decimal(0) for tr in behind_tr), Decimal(0))
    bal = d.get("capital_balance")
    wt = fs.table("waterfall.place", [("Loss order", "l", "12%"), ("Layer", "l", "50%"), ("Capital (platform)", "r")],
                  note="Losses of a default not covered by the defaulted client are borne in this order; inside a "
                       "tranche pro rata to capital balance. Amounts at the month-end close.")
    wt.rows.append(["1", "Risk reserve (custody balance)", fs["M9.reserve_balance.period_end"]])
    for i, tr in enumerate(("JUNIOR", "MEZZANINE", "SENIOR"), start=2):
        label = f"{tr.title()} tranche" + ("  ← your tranche" if tr == ident.tranche else "")
        wt.rows.append([str(i), label, fs[f"waterfall.tranche.{tr}.capital"]])
    fs.key_table("waterfall.position", [
        fs.add("waterfall.position.tranche", ident.tranche.title(), "text", "Your tranche"),
        fs.add("waterfall.position.loss_order", order + 1, "int", "Loss order (1 = risk reserve, first loss)"),
        fs.add("waterfall.position.income_step", step, "int", "Income waterfall step"),
        fs.add("waterfall.capital_ahead", ahead, "money",
               "Loss-absorbing capital ahead of your tranche (reserve and junior layers)"),
        fs.add("waterfall.capital_behind", behind, "money", "Capital behind your tranche (more senior layers)"),
        fs.add("waterfall.tranche_share", _ratio(bal, own_tranche_capital), "percent",
               "Your share of your tranche (pro-rata share of its losses)"),
    ])

    # --- credit events and the losses allocated to this provider
    mine = {r["business_date"]: r for r in m.all(
        "select business_date, count(*) as allocations, sum(allocated_amount) as allocated "
        "from marts.fct_loss_allocations where provider_id = ? and business_date between ? and ? group by 1",
        provider_id, period.start, period.end)}
    ct = fs.table("credit.events", [("Business date", "l", "14%"), ("Defaults", "r", "9%"), ("Shortfall S", "r"),
                                    ("Reserve compensation", "r"), ("Written off", "r"), ("Allocated to you", "r")],
                  note="Defaults and their settlement are platform totals per business date; the last column is "
                       "the loss allocated to you (LOSS_ALLOCATION events).")
    dates = sorted({r["business_date"] for r in platform.meta["credit_dates"]} | set(mine))
    by_date = {r["business_date"]: r for r in platform.meta["credit_dates"]}
    for day in dates:
        pr = by_date.get(day, {})
        k = day.isoformat()
        ct.rows.append([k,
                        fs.add(f"credit.{k}.defaults", pr.get("defaults", 0), "int", f"{k}: platform defaults"),
                        fs.add(f"credit.{k}.shortfall", pr.get("shortfall"), "money", f"{k}: platform shortfall"),
                        fs.add(f"credit.{k}.compensation", pr.get("compensation"), "money",
                               f"{k}: reserve compensation"),
                        fs.add(f"credit.{k}.write_off", pr.get("write_off"), "money", f"{k}: written off"),
                        fs.add(f"credit.{k}.allocated", (mine.get(day) or {}).get("allocated", Decimal(0)), "money",
                               f"{k}: loss allocated to you")])
    fs.add("credit.allocated_total", sum(((x["allocated"] or 0) for x in mine.values()), Decimal(0)), "money",
           "Losses allocated to you from defaults in the month")

    # --- look-through of the loan book (platform aggregates × your pro-rata share)
    share = d.get("capital_share")
    lt = fs.table("lookthrough.leverage", [("Leverage λ", "l", "18%"), ("Accounts", "r"), ("Loans (platform)", "r"),
                                           ("Share of loans", "r"), ("Your pro-rata loans", "r")],
                  note="Accounts with a loan at the month-end close by leverage λ = G/E; your pro-rata loans = "
                       "the bucket's loans × your share of the providers' capital.")
    total_loans = sum(((b["loans"] or Decimal(0)) for b in platform.meta["leverage_buckets"]), Decimal(0))
    for b in platform.meta["leverage_buckets"]:
        s = slug(b["bucket"])
        loans = b["loans"] or Decimal(0)
        lt.rows.append([b["bucket"].replace("_", " "),
                        fs.add(f"lookthrough.{s}.accounts", b["accounts"], "int", f"λ {b['bucket']}: accounts"),
                        fs.add(f"lookthrough.{s}.loans", loans, "money", f"λ {b['bucket']}: loans"),
                        fs.add(f"lookthrough.{s}.loan_share", _ratio(loans, total_loans), "percent",
                               f"λ {b['bucket']}: share of loans"),
                        fs.add(f"lookthrough.{s}.your_loans", _mul(loans, share), "money",
                               f"λ {b['bucket']}: your pro-rata loans")])

    # --- transaction ledger: this provider's capital events only
    events = m.all("""
        select event_id, event_type, event_date, settlement_date, amount, currency, end_to_end_id
        from staging.stg_capital__events
        where provider_id = ? and (settlement_date between ? and ? or event_date between ? and ?)
        order by coalesce(settlement_date, event_date), event_date, event_id""",
                   provider_id, period.start, period.end, period.start, period.end)
    led = fs.table("ledger.events", [("Event", "l", "19%"), ("Type", "l", "17%"), ("Event date", "l", "12%"),
                                     ("Settlement", "l", "12%"), ("Amount", "r", "16%"), ("Reference", "l")],
                   note="Your capital events in the month, as received from the capital desk. Loss allocations "
                        "and redemption requests move no cash and carry no payment reference.")
    for e in events:
        eid = e["event_id"]
        led.rows.append([eid, e["event_type"].replace("_", " ").lower(), str(e["event_date"] or ""),
                         str(e["settlement_date"] or ""),
                         fs.add(f"ledger.{eid}.amount", e["amount"], "money", f"{eid}: {e['event_type']}"),
                         e["end_to_end_id"] or "—"])

    lineage_tables(fs, platform.meta["capital_files"], None, list_files=True)
    # the lineage digest names every file of the month, not only the capital feed
    fs.meta["input_files"] = len(platform.meta["all_files"])
    fs.meta["input_bytes"] = sum(int(f["size_bytes"] or 0) for f in platform.meta["all_files"])
    fs.meta["input_set_sha256"] = input_set_digest(platform.meta["all_files"])
    fs.meta["definitions"] = definitions_for(STATEMENT_DEFINITION_IDS)
    return fs


def _ratio(num: Any, den: Any) -> float | None:
    if num is None or den in (None, 0):
        return None
    return float(Decimal(num) / Decimal(den))


def _mul(a: Any, b: Any) -> Decimal | None:
    if a is None or b is None:
        return None
    return Decimal(a) * Decimal(repr(b) if isinstance(b, float) else b)


# --------------------------------------------------------------------------------------------------
# isolation


_WS = re.compile(r"\s+")


def _norm(text: str) -> str:
    return _WS.sub(" ", text).strip().casefold()


def _trie_pattern(words: Iterable[str]) -> str:
    """The literal ``words`` as one regex alternation shaped like a trie (shared prefixes factored out).

    Python's ``re`` tries the branches of ``a|b|…`` one by one at every position of the text: with
    1,000 providers' names that is 1,000 checks a character (≈ 0.2 s a statement); as a trie, a few.
    Longer words win as in a longest-first ``a|b|…`` (an optional tail is greedy, the caller's
    lookarounds make it backtrack to a shorter word).
    """
    trie: dict = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}  # a word ends here

    def pattern(node: dict) -> str:
        branches = [re.escape(ch) + pattern(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return pattern(trie)


class LeakScanner:
    """Finds provider ids (whole tokens) and names (case- and whitespace-insensitive, also with the
    spaces lost as text extraction sometimes does) in texts, in one regex pass per text. Compiled once
    per provider directory and shared by every statement of a run."""

    def __init__(self, ids: Iterable[str], names: Iterable[str]):
        self.ids = sorted({i for i in ids if i})
        self.names = {_norm(n): n for n in names if n and n.strip()}
        alt = _trie_pattern(self.ids)
        self._ids = re.compile(rf"(?<![A-Za-z0-9_])(?:{alt})(?![A-Za-z0-9_])") if alt else None
        alt = _trie_pattern(self.names)
        self._names = re.compile(rf"(?<!\w)(?:{alt})(?!\w)") if alt else None
        self.squashed = {_WS.sub("", k): k for k in self.names if len(_WS.sub("", k)) >= 12}
        alt = _trie_pattern(self.squashed)
        self._squashed = re.compile(rf"(?<![^\W_])(?:{alt})(?![^\W_])") if alt else None

    def leaks(self, texts: Iterable[str], own_id: str | None = None, own_names: Iterable[str] = ()) -> list[str]:
        """Ids and names other than ``own_id``/``own_names`` found in ``texts`` (own names masked first,
        so another provider's name that is part of this provider's own name is no hit)."""
        own = [_norm(n) for n in own_names if n and n.strip()]
        hits: set[str] = set()
        for text in texts:
            if not text:
                continue
            if self._ids is not None:
                hits.update(m.group(0) for m in self._ids.finditer(text) if m.group(0) != own_id)
            normed = _norm(text)
            for o in sorted(own, key=len, reverse=True):
                normed = normed.replace(o, " \x00 ")
            if self._names is not None:
                hits.update(self.names[m.group(0)] for m in self._names.finditer(normed))
            if self._squashed is not None:
                squashed = _WS.sub("", normed)
                hits.update(self.names[self.squashed[m.group(0)]] for m in self._squashed.finditer(squashed))
        return sorted(hits)


def find_leaks(texts: Iterable[str], other_ids: Sequence[str], other_names: Sequence[str],
               own_names: Sequence[str] = ()) -> list[str]:
    """Other providers' ids and names in ``texts`` (see ``LeakScanner``)."""
    return LeakScanner(other_ids, other_names).leaks(texts, None, own_names)


def pdf_text(path_or_bytes: Path | bytes) -> str:
    from pypdf import PdfReader

    src = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else str(path_or_bytes)
    reader = PdfReader(src)
    parts = [page.extract_text() or "" for page in reader.pages]
    info = reader.metadata or {}
    parts += [str(v) for v in info.values()]
    return "\n".join(parts)


def _isolation_guard(provider_id: str, own_names: Sequence[str], scanner: LeakScanner, *, deep: bool = False):
    """The post-render check: the text laid out on every page (what the PDF shows, headers and footers
    included) and every embedded file; ``deep`` also re-extracts the text from the written PDF."""

    def verify(document, pdf_path: Path, attachments: Sequence[AttachmentSpec]) -> None:
        texts = [document_text(document)] + [a.data.decode("utf-8", "replace") for a in attachments]
        if deep:
            texts.append(pdf_text(pdf_path))
        hits = scanner.leaks(texts, provider_id, own_names)
        if hits:
            raise IsolationError(f"statement of {provider_id} would disclose other providers: {hits[:5]}")

    return verify


# --------------------------------------------------------------------------------------------------
# build and render


def statement_path(out_dir: Path | str, period: Period, provider_id: str) -> Path:
    return Path(out_dir) / period.folder / "statements" / f"{provider_id}.pdf"


def build_statement(con: duckdb.DuckDBPyConnection, month: str | dt.date, provider_id: str, out_dir: Path | str, *,
                    run_id: str, platform: FigureSet | None = None, scanner: LeakScanner | None = None,
                    generated_at: dt.datetime | None = None) -> BuiltReport:
    """Marts → the provider's figures → HTML, with the isolation guard attached (no PDF yet)."""
    t0 = time.perf_counter()
    period = Period.month(month)
    m = Marts(con)
    m.require(STATEMENT_MARTS)
    if platform is None:
        platform = platform_block(m, period)
    fs = build_statement_figures(m, period, provider_id, run_id=run_id, platform=platform, generated_at=generated_at)
    pdf_path = statement_path(out_dir, period, provider_id)
    atts, json_path, _ = figures_attachments(fs, provider_id, pdf_path.parent, csv=False, what="statement")
    html = render_html("statement.html", fs)
    if scanner is None:
        directory = _provider_directory(m)
        scanner = LeakScanner((i for i, _ in directory), (n for _, n in directory))
    own_names = [r["n"] for r in m.all("select distinct provider_name as n from staging.stg_reference__providers "
                                       "where provider_id = ? and provider_name is not null", provider_id)]
    leaks = scanner.leaks([html] + [a.data.decode("utf-8") for a in atts], provider_id, own_names)
    if leaks:
        raise IsolationError(f"statement of {provider_id} would disclose other providers: {leaks[:5]}")
    return BuiltReport(html=html, figures=fs, pdf_path=pdf_path, figures_path=json_path, csv_path=None,
                       attachments=atts, verify=_isolation_guard(provider_id, own_names, scanner),
                       build_seconds=time.perf_counter() - t0)


def render_provider_statement(warehouse_path: Path | str, month: str, provider_id: str, out_dir: Path | str, *,
                              run_id: str, generated_at: dt.datetime | None = None) -> RenderResult:
    """Write ``<out_dir>/<YYYY-MM>/statements/<provider_id>.pdf`` (+ ``<provider_id>.json`` beside it)."""
    with connect(warehouse_path, read_only=True) as con:
        built = build_statement(con, month, provider_id, out_dir, run_id=run_id, generated_at=generated_at)
    return write_report(built)


# worker state: one connection and one platform block per month and process
_WORKER: dict[str, Any] = {}


def _worker_init(warehouse_path: str) -> None:
    import logging

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    _WORKER.clear()
    _WORKER["path"] = warehouse_path
    # the warehouse helper waits for a writer to let go instead of failing at once
    _WORKER["cm"] = connect(warehouse_path, read_only=True)
    _WORKER["con"] = _WORKER["cm"].__enter__()
    _WORKER["platform"] = {}


def _worker_render(args: tuple[str, str, str, str, str | None]) -> RenderResult:
    month, provider_id, out_dir, run_id, generated_iso = args
    con = _WORKER["con"]
    period = Period.month(month)
    platform = _WORKER["platform"].get(period.key)
    if platform is None:
        platform = platform_block(Marts(con), period)
        _WORKER["platform"][period.key] = platform
    scanner = _WORKER.get("scanner")
    if scanner is None:
        directory = _provider_directory(Marts(con))
        scanner = _WORKER["scanner"] = LeakScanner((i for i, _ in directory), (n for _, n in directory))
    gen = dt.datetime.fromisoformat(generated_iso) if generated_iso else None
    built = build_statement(con, month, provider_id, out_dir, run_id=run_id, platform=platform, scanner=scanner,
                            generated_at=gen)
    return write_report(built)


def render_all_statements(warehouse_path: Path | str, month: str, out_dir: Path | str, *, run_id: str,
                          workers: int = 2, providers: Sequence[str] | None = None,
                          generated_at: dt.datetime | None = None,
                          start_method: str = "spawn") -> list[RenderResult]:
    """Every provider's statement for the month, rendered by ``workers`` processes (``1`` = in process).

    Statements are independent: one that fails (e.g. an isolation hit) raises after the others have
    been written, naming the providers that failed. Workers are spawned (nothing of the caller's DuckDB
    or thread state is inherited), so a script calling this needs the ``if __name__ == "__main__"``
    guard; ``start_method="fork"`` avoids that where the caller holds no open connection."""
    ids = list(providers) if providers is not None else provider_ids(warehouse_path, month)
    gen = (generated_at or dt.datetime.now(dt.UTC).replace(microsecond=0)).isoformat()
    jobs = [(month, pid, str(out_dir), run_id, gen) for pid in ids]
    results: list[RenderResult] = []
    failures: list[tuple[str, BaseException]] = []
    if workers <= 1 or len(jobs) <= 1:
        _worker_init(str(warehouse_path))
        try:
            for job in jobs:
                try:
                    results.append(_worker_render(job))
                except Exception as exc:  # noqa: BLE001 - collected and re-raised below
                    failures.append((job[1], exc))
        finally:
            _WORKER["cm"].__exit__(None, None, None)
            _WORKER.clear()
    else:
        ctx = multiprocessing.get_context(start_method)
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker_init,
                                 initargs=(str(warehouse_path),)) as pool:
            futures = [(job[1], pool.submit(_worker_render, job)) for job in jobs]
            for pid, fut in futures:
                try:
                    results.append(fut.result())
                except Exception as exc:  # noqa: BLE001
                    failures.append((pid, exc))
    if failures:
        names = ", ".join(pid for pid, _ in failures[:10])
        raise RuntimeError(f"{len(failures)} of {len(jobs)} statements failed ({names}): {failures[0][1]!r}") \
            from failures[0][1]
    return results


__all__ = [
    "IsolationError", "LeakScanner", "build_statement", "find_leaks", "pdf_text", "platform_block", "provider_ids",
    "render_all_statements", "render_provider_statement", "statement_path",
]
