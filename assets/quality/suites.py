"""Great Expectations suites of the raw feeds (SPEC §2, §5), built from the feed registry.

A suite is data first: ``checks(feed)`` lists engine-neutral ``Check``s — the registry contract
(columns, required, enums, ranges, currency, key) plus per-feed semantic extras that the syntactic
loader lets through — and ``build_suite`` turns them into GX expectations. Great Expectations is
imported inside the functions only: importing this module stays cheap (Dagster loads in < 5 s).

Every expectation carries ``meta = {"rule": <stable short id>, "check": <id unique in the suite>,
"engine": "gx" | "duckdb"}``. ``engine="duckdb"`` marks expectations that are not chunk-local
(key uniqueness over the business date, row counts against ``raw.file_manifest``): the runner
evaluates them in SQL and reports them in the same shape as GX results.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assets.ingest.feeds import FEEDS, LINEAGE_COLUMNS, RISK_TYPES, Feed

if TYPE_CHECKING:
    import great_expectations as gx

# "Absurd" magnitudes: syntactically fine, but a unit, scale or parsing error in practice.
ABSURD_AMOUNT = 10_000_000_000  # 10 bn in any currency, for one client's or provider's row
# custody rows are platform aggregates (one net trade settlement a day for all clients): 50 bn is a
# busy day at scale, not an error
ABSURD_AGGREGATE = 100_000_000_000_000
AGGREGATE_FEEDS = ("custody_entries", "custody_balances")
ABSURD_PRICE = 1_000_000
ABSURD_QUANTITY = 100_000_000

# Suite parameters, supplied per partition by the runner.
END_OF_DAY = "end_of_business_date_utc"  # business date 24:00 Asia/Shanghai, as naive UTC
MANIFEST_ROWS = "manifest_rows_loaded"  # Σ rows_loaded of the partition's files in raw.file_manifest

Condition = tuple[str, str, Any]  # (column, "==" | "!=" | "in" | "not_in", value)


@dataclass(frozen=True)
class Check:
    """One expectation, engine-neutral: GX class name, its kwargs, rule id and why it exists."""

    rule: str
    expectation: str  # GX expectation class, e.g. "ExpectColumnValuesToBeBetween"
    kwargs: dict
    description: str
    when: Condition | None = None  # row condition: the expectation applies to these rows only
    engine: str = "gx"  # "gx": GX pandas engine chunk by chunk; "duckdb": partition-wide SQL

    @property
    def columns(self) -> tuple[str, ...]:
        k = self.kwargs
        if "column" in k:
            return (k["column"],)
        if "column_A" in k:
            return (k["column_A"], k["column_B"])
        return tuple(k.get("column_list", ()))

    @property
    def id(self) -> str:
        return f"{self.rule}({','.join(self.columns)})" if self.columns else self.rule


# ----------------------------------------------------------------------------- small builders
def _num(literal: str) -> int | float:
    return int(literal) if literal.lstrip("-").isdigit() else float(literal)


def _between(rule: str, column: str, desc: str, lo=None, hi=None, *, strict_min=False, strict_max=False,
             when: Condition | None = None) -> Check:
    kw: dict = {"column": column}
    if lo is not None:
        kw.update(min_value=lo, strict_min=strict_min)
    if hi is not None:
        kw.update(max_value=hi, strict_max=strict_max)
    return Check(rule, "ExpectColumnValuesToBeBetween", kw, desc, when)


def _present(rule: str, column: str, when: Condition, desc: str) -> Check:
    return Check(rule, "ExpectColumnValuesToNotBeNull", {"column": column}, desc, when)


def _absent(rule: str, column: str, when: Condition, desc: str) -> Check:
    return Check(rule, "ExpectColumnValuesToBeNull", {"column": column}, desc, when)


def _ordered(rule: str, low: str, high: str, desc: str) -> Check:
    """low ≤ high on every row where both are present."""
    return Check(rule, "ExpectColumnPairValuesAToBeGreaterThanB",
                 {"column_A": high, "column_B": low, "or_equal": True, "ignore_row_if": "either_value_is_missing"},
                 desc)


def _price_caps(*columns: str) -> tuple[Check, ...]:
    return tuple(_between("value.absurd_price", c, f"{c} ≤ {ABSURD_PRICE:,} (a larger price is a scale error)",
                          hi=ABSURD_PRICE) for c in columns)


CASH_CAPITAL = ("CONTRIBUTION", "REDEMPTION_PAID", "DISTRIBUTION")
NO_CASH_CAPITAL = ("REDEMPTION_REQUEST", "LOSS_ALLOCATION")

# Per-feed semantic rules (SPEC §1, §1.1, §1.2, §2) the row-level loader cannot see.
EXTRAS: dict[str, tuple[Check, ...]] = {
    "trades": (
        *_price_caps("price"),
        _between("value.absurd_quantity", "quantity", f"quantity ≤ {ABSURD_QUANTITY:,} shares in one fill",
                 hi=ABSURD_QUANTITY),
        _present("liquidation.id_required", "liquidation_id", ("origin", "==", "LIQUIDATION"),
                 "a LIQUIDATION fill names its liquidation_id (latency and slippage are per liquidation)"),
    ),
    "ledger_entries": (
        _between("ledger.amount_sign", "amount", "ledger amounts are magnitudes ≥ 0; only TRADE_SETTLEMENT is signed",
                 lo=0, when=("type", "!=", "TRADE_SETTLEMENT")),
        _present("e2e.required", "end_to_end_id", ("type", "!=", "WRITE_OFF"),
                 "every ledger entry that moves custody cash carries its end_to_end_id (all types but WRITE_OFF)"),
        _absent("e2e.empty", "end_to_end_id", ("type", "==", "WRITE_OFF"),
                "a WRITE_OFF moves no cash, so it has no end_to_end_id"),
    ),
    "capital_events": (
        _present("e2e.required", "end_to_end_id", ("type", "in", CASH_CAPITAL),
                 f"cash-moving capital events ({'/'.join(CASH_CAPITAL)}) carry their end_to_end_id"),
        _absent("e2e.empty", "end_to_end_id", ("type", "in", NO_CASH_CAPITAL),
                f"{'/'.join(NO_CASH_CAPITAL)} move no cash, so they have no end_to_end_id"),
        _ordered("capital.settles_after_event", "event_date", "settlement_date",
                 "an event settles on or after its event date"),
    ),
    "risk_events": (
        _between("risk.default_equity", "equity", "a DEFAULT event has negative equity (equity = −shortfall)",
                 hi=0, strict_max=True, when=("type", "==", "DEFAULT")),
        _present("liquidation.id_required", "liquidation_id",
                 ("type", "in", tuple(t for t in RISK_TYPES if t.startswith("LIQUIDATION"))),
                 "LIQUIDATION_TRIGGER/LIQUIDATION_DONE name their liquidation_id (fills are matched on it)"),
    ),
    "accounts": (
        _ordered("rates.mm_le_warning", "mm_rate", "warning_rate", "maintenance margin ≤ warning line"),
        _ordered("rates.warning_le_im", "warning_rate", "im_rate", "warning line ≤ initial margin"),
        _ordered("dates.opened_le_closed", "opened_on", "closed_on", "an account closes on or after it opened"),
    ),
    "providers": (
        _present("coupon.required", "coupon_rate", ("tranche", "in", ("SENIOR", "MEZZANINE")),
                 "SENIOR and MEZZANINE tranches have a fixed coupon"),
        _absent("coupon.empty", "coupon_rate", ("tranche", "==", "JUNIOR"),
                "JUNIOR gets the residual: no coupon_rate"),
    ),
    "market_prices": (
        *_price_caps("close", "high", "low"),
        _ordered("market.low_le_close", "low", "close", "the close is not below the day's low"),
        _ordered("market.close_le_high", "close", "high", "the close is not above the day's high"),
    ),
}


# ----------------------------------------------------------------------------- the suite
def contract_checks(feed: Feed) -> list[Check]:
    """What the registry says about the feed, plus money/price sanity that follows from a column's kind."""
    columns = [c.name for c in feed.columns] + [n for n, _ in LINEAGE_COLUMNS]
    out = [Check("schema.columns", "ExpectTableColumnsToMatchSet", {"column_set": columns, "exact_match": True},
                 f"{feed.table} has exactly the contract columns plus lineage")]
    out += [Check("lineage.required", "ExpectColumnValuesToNotBeNull", {"column": n},
                  f"every row names its {n} (operators find rows by it)") for n in ("_source_file", "_source_row")]
    for c in feed.columns:
        if c.required:
            out.append(Check("value.required", "ExpectColumnValuesToNotBeNull", {"column": c.name},
                             f"{c.name} is present"))
        if c.kind == "enum":
            out.append(Check("value.enum", "ExpectColumnValuesToBeInSet",
                             {"column": c.name, "value_set": list(c.values)}, f"{c.name} in {'/'.join(c.values)}"))
        if c.kind == "ccy":
            out.append(Check("value.currency", "ExpectColumnValuesToMatchRegex",
                             {"column": c.name, "regex": "^[A-Z]{3}$"}, f"{c.name} is an ISO 4217 code"))
        if c.min is not None or c.max is not None:
            lo = None if c.min is None else _num(c.min)
            hi = None if c.max is None else _num(c.max)
            bounds = " and ".join(filter(None, [lo is not None and f"{'>' if c.min_exclusive else '≥'} {c.min}",
                                                hi is not None and f"≤ {c.max}"]))
            out.append(_between("value.range", c.name, f"{c.name} {bounds}", lo, hi, strict_min=c.min_exclusive))
        if c.kind in ("money", "smoney"):
            bound = ABSURD_AGGREGATE if feed.name in AGGREGATE_FEEDS else ABSURD_AMOUNT
            out.append(_between("value.absurd_amount", c.name, f"|{c.name}| ≤ {bound:,}",
                                -bound if c.kind == "smoney" else None, bound))
        if c.kind == "ts":
            out.append(_between("time.future", c.name, f"{c.name} not after the business date's 24:00 Asia/Shanghai",
                                hi={"$PARAMETER": END_OF_DAY}))
    return out


def partition_checks(feed: Feed) -> list[Check]:
    """Checks over the whole business date (not chunk-local): evaluated in DuckDB by the runner."""
    out: list[Check] = []
    if feed.key:
        if len(feed.key) == 1:
            exp, kw = "ExpectColumnValuesToBeUnique", {"column": feed.key[0]}
        else:
            exp, kw = "ExpectCompoundColumnsToBeUnique", {"column_list": list(feed.key)}
        out.append(Check(f"unique.{'+'.join(feed.key)}", exp, kw,
                         f"({', '.join(feed.key)}) is unique within the business date", engine="duckdb"))
    out.append(Check("manifest.rows_loaded", "ExpectTableRowCountToEqual", {"value": {"$PARAMETER": MANIFEST_ROWS}},
                     f"rows in {feed.table} (per file) = rows_loaded in raw.file_manifest", engine="duckdb"))
    # Domain is raw.file_manifest, one row per file: loaded + quarantined + duplicate = rows in file.
    out.append(Check("manifest.file_rows", "ExpectColumnPairValuesToBeEqual",
                     {"column_A": "rows_accounted", "column_B": "rows_in_file"},
                     "per file: rows_loaded + rows_quarantined + rows_duplicate = rows_in_file, none negative",
                     engine="duckdb"))
    return out


def checks(feed: Feed) -> list[Check]:
    out = contract_checks(feed) + list(EXTRAS.get(feed.name, ())) + partition_checks(feed)
    ids = [c.id for c in out]
    dup = {i for i in ids if ids.count(i) > 1}
    assert not dup, f"{feed.name}: check ids not unique: {dup}"
    return out


def to_expectation(check: Check):
    """The GX expectation of a check (imports GX)."""
    import great_expectations.expectations as gxe

    kw = dict(check.kwargs)
    if check.when is not None:
        kw["row_condition"] = _condition(check.when)
    meta = {"rule": check.rule, "check": check.id, "engine": check.engine}
    return getattr(gxe, check.expectation)(**kw, meta=meta, description=check.description)


def _condition(when: Condition):
    from great_expectations.expectations.row_conditions import Column

    column, op, value = when
    col = Column(column)
    if op == "==":
        return col == value
    if op == "!=":
        return col != value
    if op == "in":
        return col.is_in(value)
    if op == "not_in":
        return col.is_not_in(value)
    raise ValueError(f"unknown condition operator {op!r}")


def build_suite(feed: Feed, checks_: list[Check] | None = None) -> gx.ExpectationSuite:
    """The feed's suite: ``raw.<feed>``, one expectation per check."""
    import great_expectations as gx

    return gx.ExpectationSuite(name=feed.table, expectations=[to_expectation(c) for c in (checks_ or checks(feed))],
                               meta={"feed": feed.name, "table": feed.table})


def build_all() -> dict[str, gx.ExpectationSuite]:
    return {f.name: build_suite(f) for f in FEEDS}
