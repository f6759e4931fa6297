"""The one registry of landing feeds (SPEC §2): what each feed is, where its files are, its schema.

Everything that touches a feed is driven from here: the loader (types, row rules, quarantine),
the raw DuckDB tables, the Dagster assets and the Great Expectations suites. Adding a feed is
adding a ``Feed`` to ``FEEDS``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["id", "str", "date", "dateish", "ts", "money", "smoney", "dec", "int", "enum", "ccy", "bool"]

# DuckDB type each kind lands as in the raw layer. Money is exact DECIMAL(18,2); prices and
# ratios keep up to 10 decimals; timestamps are stored as UTC (naive TIMESTAMP, documented).
SQL_TYPES: dict[str, str] = {
    "id": "VARCHAR",
    "str": "VARCHAR",
    "enum": "VARCHAR",
    "ccy": "VARCHAR",
    "date": "DATE",
    "dateish": "DATE",
    "ts": "TIMESTAMP",
    "money": "DECIMAL(18,2)",
    "smoney": "DECIMAL(18,2)",
    "dec": "DECIMAL(38,10)",
    "int": "BIGINT",
    "bool": "BOOLEAN",
}

TRANCHES = ("SENIOR", "MEZZANINE", "JUNIOR")
CAPITAL_TYPES = ("CONTRIBUTION", "REDEMPTION_REQUEST", "REDEMPTION_PAID", "DISTRIBUTION", "LOSS_ALLOCATION")
LEDGER_TYPES = ("DEPOSIT", "WITHDRAWAL", "LOAN_DRAW", "LOAN_REPAY", "TRADE_SETTLEMENT", "INTEREST", "FEE",
                "PERFORMANCE_FEE", "RESERVE_FUNDING", "DEFAULT_COMPENSATION", "WRITE_OFF")
RISK_TYPES = ("WARNING", "RESTRICT", "LIQUIDATION_TRIGGER", "LIQUIDATION_DONE", "DEFAULT")
BOARDS = ("MAIN", "GROWTH", "ST")
LIQUIDITY_TIERS = ("A", "B", "C")
LIMIT_STATUS = ("NONE", "LIMIT_UP", "LIMIT_DOWN")
CUSTODY_ACCOUNTS = ("CLIENT_MARGIN_POOL", "CAPITAL_POOL", "RISK_RESERVE", "PLATFORM_OPERATING")


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool = True
    values: tuple[str, ...] = ()  # accepted values for kind "enum"
    min: str | None = None  # inclusive lower bound (SQL literal)
    min_exclusive: bool = False
    max: str | None = None  # inclusive upper bound
    description: str = ""

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.kind]


@dataclass(frozen=True)
class Feed:
    name: str  # raw table name (schema ``raw``) and asset name suffix
    folder: str  # landing sub-folder
    patterns: tuple[str, ...]  # file-name globs inside the folder
    columns: tuple[Column, ...]
    description: str
    key: tuple[str, ...] = ()  # unique within a business date
    reader: Literal["table", "custody"] = "table"
    group: str = "ingest"
    # business-date column that must equal the folder's date (None: the folder gives the date)
    date_column: str | None = None
    extra_checks: tuple[str, ...] = field(default_factory=tuple)

    @property
    def table(self) -> str:
        return f"raw.{self.name}"

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _rate(name: str, required: bool = True, description: str = "") -> Column:
    return Column(name, "dec", required, min="0", max="1", description=description)


def _money(name: str, description: str = "", required: bool = True) -> Column:
    return Column(name, "money", required, min="0", description=description)


FEEDS: tuple[Feed, ...] = (
    Feed(
        name="trades",
        folder="trades",
        patterns=("*.csv", "*.parquet"),
        key=("fill_id",),
        description="Fills from the trading system: client orders and staged liquidation fills.",
        columns=(
            Column("fill_id", "id"), Column("order_id", "id"), Column("account_id", "id"),
            Column("symbol", "id"), Column("side", "enum", values=("BUY", "SELL")),
            Column("quantity", "int", min="0", min_exclusive=True),
            Column("price", "dec", min="0", min_exclusive=True),
            _money("commission"), Column("executed_at", "ts", description="UTC at rest"),
            Column("origin", "enum", values=("CLIENT", "LIQUIDATION")),
            Column("liquidation_id", "str", required=False),
        ),
    ),
    Feed(
        name="capital_events",
        folder="capital",
        patterns=("*.csv",),
        key=("event_id",),
        date_column="event_date",
        description="Capital desk: provider contributions, redemptions, distributions, loss allocations.",
        columns=(
            Column("event_id", "id"), Column("provider_id", "id"), Column("tranche", "enum", values=TRANCHES),
            Column("type", "enum", values=CAPITAL_TYPES), _money("amount"), Column("currency", "ccy"),
            Column("event_date", "date"), Column("settlement_date", "date"),
            Column("end_to_end_id", "str", required=False),
        ),
    ),
    Feed(
        name="ledger_entries",
        folder="ledger",
        patterns=("*.csv",),
        key=("entry_id",),
        date_column="business_date",
        description="The platform's own cash book (SPEC §1.1 ledger semantics).",
        columns=(
            Column("entry_id", "id"), Column("business_date", "date"), Column("account_id", "id"),
            Column("type", "enum", values=LEDGER_TYPES), Column("amount", "smoney"), Column("currency", "ccy"),
            Column("end_to_end_id", "str", required=False),
        ),
    ),
    Feed(
        name="risk_events",
        folder="risk_events",
        patterns=("*.csv",),
        key=("event_id",),
        description="Risk-engine log: warnings, restrictions, liquidation triggers, done, defaults.",
        columns=(
            Column("event_id", "id"), Column("account_id", "id"), Column("type", "enum", values=RISK_TYPES),
            Column("event_time", "ts"), Column("equity", "smoney"), _money("gross_exposure"),
            Column("margin_ratio", "dec", required=False), Column("liquidation_id", "str", required=False),
        ),
    ),
    Feed(
        name="providers",
        folder="reference",
        patterns=("providers.csv",),
        key=("provider_id",),
        description="Reference snapshot: capital providers and their tranche, commitment and coupon.",
        columns=(
            Column("provider_id", "id"), Column("name", "id"), Column("tranche", "enum", values=TRANCHES),
            _money("commitment"), _rate("coupon_rate", required=False), Column("currency", "ccy"),
        ),
    ),
    Feed(
        name="accounts",
        folder="reference",
        patterns=("accounts.csv",),
        key=("account_id",),
        description="Reference snapshot: client margin accounts, tiers and margin parameters.",
        columns=(
            Column("account_id", "id"), Column("client_id", "id"), Column("group_id", "id"),
            Column("kyc_tier", "id"), Column("credit_score", "int"),
            Column("leverage_tier", "dec", min="0", min_exclusive=True),
            _rate("im_rate"), _rate("warning_rate"), _rate("mm_rate"), _rate("interest_rate"),
            Column("opened_on", "date"), Column("closed_on", "date", required=False),
        ),
    ),
    Feed(
        name="instruments",
        folder="reference",
        patterns=("instruments.csv",),
        key=("symbol",),
        description="Reference snapshot: instruments, board (price limit) and liquidity tier.",
        columns=(
            Column("symbol", "id"), Column("name", "id"), Column("board", "enum", values=BOARDS),
            Column("liquidity_tier", "enum", values=LIQUIDITY_TIERS), Column("currency", "ccy"),
        ),
    ),
    Feed(
        name="market_prices",
        folder="market",
        patterns=("*.csv",),
        key=("symbol",),
        description="End-of-day prices with the limit status of the day.",
        columns=(
            Column("symbol", "id"), Column("close", "dec", min="0", min_exclusive=True),
            Column("high", "dec", min="0", min_exclusive=True), Column("low", "dec", min="0", min_exclusive=True),
            Column("volume", "int", min="0"), Column("limit_status", "enum", values=LIMIT_STATUS),
        ),
    ),
    Feed(
        name="custody_entries",
        folder="custody",
        patterns=("*.xml", "entries.csv"),
        key=("statement_id", "entry_ref", "tx_seq"),
        reader="custody",
        description="Custodian statement entries (camt.053 XML or its CSV export), one row per transaction.",
        columns=(
            Column("statement_id", "id"), Column("custody_account", "enum", values=CUSTODY_ACCOUNTS),
            Column("currency", "ccy"), Column("entry_ref", "id"), Column("tx_seq", "int", min="1"),
            Column("booking_date", "dateish", required=False), Column("value_date", "dateish", required=False),
            _money("entry_amount"), _money("amount"), Column("credit_debit", "enum", values=("CRDT", "DBIT")),
            Column("reversal", "bool"), Column("status", "id"),
            Column("end_to_end_id", "str", required=False), Column("remittance", "str", required=False),
        ),
    ),
    Feed(
        name="custody_balances",
        folder="custody",
        patterns=("*.xml", "balances.csv"),
        key=("statement_id", "type"),
        reader="custody",
        description="Custodian statement opening (OPBD) and closing (CLBD) balances.",
        columns=(
            Column("statement_id", "id"), Column("custody_account", "enum", values=CUSTODY_ACCOUNTS),
            Column("currency", "ccy"), Column("type", "enum", values=("OPBD", "CLBD")),
            Column("date", "date", required=False), _money("amount"),
            Column("credit_debit", "enum", values=("CRDT", "DBIT")),
        ),
    ),
)

FEEDS_BY_NAME: dict[str, Feed] = {f.name: f for f in FEEDS}
TABLE_FEEDS: tuple[Feed, ...] = tuple(f for f in FEEDS if f.reader == "table")
CUSTODY_FEEDS: tuple[Feed, ...] = tuple(f for f in FEEDS if f.reader == "custody")
LANDING_FOLDERS: tuple[str, ...] = ("custody", "trades", "capital", "ledger", "risk_events", "reference", "market")

# Lineage columns every raw row carries (SPEC §2: every row keeps (source_file, source_row)).
LINEAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_business_date", "DATE"),
    ("_source_file", "VARCHAR"),
    ("_source_sha256", "VARCHAR"),
    ("_source_row", "VARCHAR"),
    ("_loaded_at", "TIMESTAMP"),
    ("_run_id", "VARCHAR"),
)
