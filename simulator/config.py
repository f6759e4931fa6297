"""Generator configuration: the CLI's knobs plus the model parameters (documented in README.md)."""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from datetime import date
from fractions import Fraction
from pathlib import Path

CMP, CAP, RSV, OPR = "CLIENT_MARGIN_POOL", "CAPITAL_POOL", "RISK_RESERVE", "PLATFORM_OPERATING"
CUSTODY_ACCOUNTS = (CMP, CAP, RSV, OPR)
CCY = "CNY"
TRANCHES = ("SENIOR", "MEZZANINE", "JUNIOR")
TIERS = ("A", "B", "C")
BOARDS = ("MAIN", "GROWTH", "ST")
BOARD_LIMIT_PCT = (10, 20, 5)  # daily price limit, % of the previous close


def default_landing() -> Path:
    return Path(os.environ.get("MARGINFLOW_LANDING") or "data/landing")


@dataclass(frozen=True)
class ModelParams:
    """Platform rules. Rates are exact fractions; money is in integer cents."""

    commission_rate: Fraction = Fraction(25, 100_000)  # 2.5 bp of fill notional ...
    commission_min: int = 500  # ... at least 5.00 per fill
    reserve_rate: Fraction = Fraction(2, 10_000)  # 2 bp of the day's turnover
    reserve_opening: int | None = None  # cents; None: 0.4 % of the planned loan book
    operating_opening: int = 100_000_000  # 1,000,000.00 brought forward on PLATFORM_OPERATING
    perf_threshold: Fraction = Fraction(1, 10)  # month P&L above 10 % of deposits ...
    perf_rate: Fraction = Fraction(1, 10)  # ... pays 10 % of the excess
    perf_provider_share: Fraction = Fraction(3, 10)  # 30 % of performance fees go to the providers
    servicing_fee: Fraction = Fraction(5, 1000)  # 0.5 % p.a. of the loan book, ACT/360
    day_count: int = 360
    slippage_bp: tuple[int, int, int] = (5, 15, 30)  # per liquidation fill step, tier A/B/C
    liq_fill_notional: int = 5_000_000  # a liquidated position is cut in fills of ~50,000.00 (1-4 fills)
    liq_gap_median_ms: int = 30_000  # lognormal gap between liquidation fills: median 30 s ...
    liq_gap_sigma: float = 1.1  # ... P95 ~ 3 min
    slots: int = 8  # position slots per account
    target_utilization: Fraction = Fraction(88, 100)  # sizes provider capital to the planned loan book


@dataclass
class GeneratorConfig:
    start: date = date(2026, 9, 1)
    days: int = 22
    accounts: int = 300
    providers: int = 20
    instruments: int = 60
    fills_per_day: int = 2000
    seed: int = 7
    out: Path = field(default_factory=default_landing)
    trades_format: str = "csv"  # csv | parquet
    custody_format: str = "xml"  # xml | csv | both
    quiet: bool = False
    chunk_rows: int = 250_000
    model: ModelParams = field(default_factory=ModelParams)

    def __post_init__(self) -> None:
        if isinstance(self.start, str):
            self.start = date.fromisoformat(self.start)
        self.out = Path(self.out)
        if self.days < 1:
            raise ValueError("days must be >= 1")
        if self.accounts < 1 or self.providers < 3 or self.instruments < 3:
            raise ValueError("need >= 1 account, >= 3 providers (one per tranche), >= 3 instruments")
        if self.trades_format not in ("csv", "parquet"):
            raise ValueError("trades_format must be csv or parquet")
        if self.custody_format not in ("xml", "csv", "both"):
            raise ValueError("custody_format must be xml, csv or both")
        if self.fills_per_day < 0:
            raise ValueError("fills_per_day must be >= 0")

    def as_dict(self) -> dict:
        d = asdict(self)
        d["start"] = self.start.isoformat()
        d["out"] = str(self.out)
        d["model"] = {k: (str(v) if isinstance(v, Fraction) else v) for k, v in d["model"].items()}
        return d
