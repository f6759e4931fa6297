"""Scripted scenarios that run the very same engine as the random generator.

``worked_example`` lands the product brief's example (SPEC §1 "Worked example") as a tiny tree whose
every figure can be checked by hand."""
from __future__ import annotations

from datetime import date
from fractions import Fraction
from pathlib import Path

import numpy as np

from .books import BUY
from .capital import Providers
from .config import ModelParams
from .dates import H, business_days
from .engine import AccountActions, CapitalAction, Engine, Population
from .market import Universe, make_day
from .runner import run


class ScriptedBehaviour:
    """Capital, cash and orders given per business-day index; nobody else acts."""

    def __init__(self, capital: dict[int, list[CapitalAction]], openings: dict[int, tuple[list, list, list]],
                 buys: dict[int, list[tuple[int, int, int, int, int]]]) -> None:
        self.capital, self.openings, self.buys = capital, openings, buys

    def capital_actions(self, eng: Engine, di: int) -> list[CapitalAction]:
        return self.capital.get(di, [])

    def account_actions(self, eng: Engine, di: int) -> AccountActions:
        acts = AccountActions()
        if di in self.openings:
            idx, dep, loan = (np.array(x, np.int64) for x in self.openings[di])
            acts.open_idx, acts.open_deposit, acts.open_loan = idx, dep, loan
        return acts

    def client_fills(self, eng: Engine, di: int, mkt) -> None:
        """buys: (account, slot, symbol, quantity, price cents, ms after midnight)."""
        rows = self.buys.get(di, [])
        if not rows:
            return
        acc, slot, sym, qty, px, ms = (np.array(c, np.int64) for c in zip(*rows))
        side = np.full(len(rows), BUY)
        eng.add_fills(acc, sym, side, qty, px, ms, np.arange(len(rows)))
        eng.apply_positions(acc, slot, sym, side, qty)


def worked_example(out: Path, quiet: bool = True) -> dict:
    """Land the brief's worked example in ``out`` and return the hand-checked expectations.

    Client A000001 deposits 100,000.00 and draws 2x financing, L = 200,000.00, at 7.20 % a year, so
    interest accrues 200,000 x 0.072 / 360 = 40.000000 a calendar day. IM 20 %, W 17.5 %, MM 15 %.
    Commission is set to zero in this scenario so the figures stay round; the reserve is funded with
    2 bp of turnover as usual. Instruments: X = 300750.SZ (GROWTH board, +-20 %, tier A, most liquid),
    Y = 600123.SH (MAIN board, +-10 %, tier C, least liquid).

    Capital: P001 SENIOR 150,000 (4 %), P002 MEZZANINE 40,000 (7 %), P003 MEZZANINE 20,000 (7 %),
    P004 JUNIOR 3,000, P005 JUNIOR 2,000, all contributed on day 1 (215,000.00). Opening balances
    brought forward: RISK_RESERVE 2,000.00, PLATFORM_OPERATING 1,000.00.

    Tue 2026-09-01  buys X 8,000 @ 18.00 = 144,000 and Y 12,000 @ 12.50 = 150,000; cash 6,000.
                    Close X 18.00, Y 12.50: G = 294,000, A = 40, E = 6,000 + 294,000 - 200,000 - 40
                    = 99,960, m = 0.340000.  Reserve funding 294,000 x 2 bp = 58.80.
    Wed 2026-09-02  X 16.20, Y 11.30: G = 265,200, A = 80, E = 71,120, m = 0.268175 (no event).
    Thu 2026-09-03  X 13.76, Y 10.20: G = 110,080 + 122,400 = 232,480, A = 120, E = 38,360,
                    m = 0.165003 < W: WARNING, RESTRICT (no new orders).
    Fri 2026-09-04  X limit-down: 13.76 x 0.8 = 11.008 -> 11.01, locked all day. Y 9.40 (limit 9.18).
                    G = 88,080 + 112,800 = 200,880, A = 160, E = 6,720, m = 0.033453 < MM:
                    LIQUIDATION_TRIGGER LQ000001. Least liquid first: Y (tier C, slippage step
                    ceil(9.40 x 30 bp) = 0.03) in 3 fills of 4,000 @ 9.37, 9.34, 9.31 = 112,080;
                    X cannot be sold (LIMIT_DOWN). Cash 118,080. Reserve funding 22.42 (22.416).
                    RISK_RESERVE closes at 2,000.00 + 58.80 + 22.42 = 2,081.22.
    Mon 2026-09-07  X no longer locked (close 8.90, limit 8.81): sold from the open, step
                    ceil(8.90 x 5 bp) = 0.01, 2 fills of 4,000 @ 8.89, 8.88 = 71,080; cash 189,160.
                    Latency trigger -> last fill: one business day and a weekend.
                    Accrued unpaid interest: Tue-Fri 4 x 40 + Sat, Sun 2 x 40 = 240.00 (Monday's
                    principal at the close is 0). E = 189,160 - 200,000 - 240 = -11,080.00:
                    LIQUIDATION_DONE, DEFAULT with equity -11,080.00 = -S.
                    Ledger (§1.2): INTEREST 240.00 (cash covers it), LOAN_REPAY 188,920.00 (cash -> 0),
                    S = 200,000 - 188,920 = 11,080.00; DEFAULT_COMPENSATION = min(S, 2,081.22) =
                    2,081.22; WRITE_OFF = 8,998.78. LOSS_ALLOCATION: JUNIOR first, each at most its
                    balance: P004 3,000.00, P005 2,000.00; the remaining 3,998.78 to MEZZANINE pro rata
                    40:20: P002 2,665.85 (2,665.853), P003 1,332.93 (1,332.927); sum 3,998.78.
                    A000001 closes on 2026-09-07.
    """
    days = business_days(date(2026, 9, 1), 5)
    u = Universe(symbols=["300750.SZ", "600123.SH"], names=["Ningsheng Battery", "Hongda Cement"],
                 board=np.array([1, 0], np.int8), tier=np.array([0, 2], np.int8),
                 base_volume=np.array([30_000_000, 900_000], np.int64))
    pct = u.limit_pct
    # (close, high, low) per day, cents; the previous close before day 1 is 18.00 / 12.50
    script = [((1800, 1820, 1780), (1250, 1260, 1240)),
              ((1620, 1790, 1610), (1130, 1240, 1130)),
              ((1376, 1590, 1376), (1020, 1120, 1020)),
              ((1101, 1101, 1101), (940, 990, 925)),
              ((890, 960, 885), (900, 950, 890))]
    prev = np.array([1800, 1250], np.int64)
    market = []
    for (x, y) in script:
        close, high, low = (np.array([x[i], y[i]], np.int64) for i in range(3))
        market.append(make_day(prev, close, high, low, pct))
        prev = close
    pop = Population(ids=["A000001"], client_id=["C000001"], group_id=["G000001"], kyc=["T1"],
                     score=np.array([720]), k=np.array([2]), im4=np.array([2000]), w4=np.array([1750]),
                     mm4=np.array([1500]), r4=np.array([720]), deposit=np.array([10_000_000]),
                     open_day=np.array([0]))
    prov = Providers(ids=["P001", "P002", "P003", "P004", "P005"],
                     names=["Harbour Senior Fund", "Jade Mezzanine Partners", "Lotus Mezzanine Trust",
                            "Kunlun First-Loss Capital", "Orchid Junior Lending LP"],
                     tranche=["SENIOR", "MEZZANINE", "MEZZANINE", "JUNIOR", "JUNIOR"],
                     commitment=[15_000_000, 4_000_000, 2_000_000, 300_000, 200_000],
                     coupon_r4=[400, 700, 700, None, None])
    capital = {0: [CapitalAction(p, "CONTRIBUTION", prov.commitment[p], days[0]) for p in range(prov.n)]}
    openings = {0: ([0], [10_000_000], [20_000_000])}
    buys = {0: [(0, 0, 0, 8_000, 1800, 10 * H), (0, 1, 1, 12_000, 1250, 10 * H + 5 * 60_000)]}
    model = ModelParams(commission_rate=Fraction(0), commission_min=0, operating_opening=100_000)
    eng = Engine(model=model, days=days, universe=u, market=market, pop=pop, prov=prov,
                 behaviour=ScriptedBehaviour(capital, openings, buys), reserve_opening=200_000, seed=0)
    summary = run(eng, Path(out), quiet=quiet, config={"scenario": "worked_example"})
    return {
        "account": "A000001",
        "events": [("2026-09-03", "WARNING"), ("2026-09-03", "RESTRICT"), ("2026-09-04", "LIQUIDATION_TRIGGER"),
                   ("2026-09-07", "LIQUIDATION_DONE"), ("2026-09-07", "DEFAULT")],
        "margin_ratio": {"2026-09-03": "0.165003", "2026-09-04": "0.033453"},
        "equity": {"2026-09-03": "38360.00", "2026-09-04": "6720.00", "2026-09-07": "-11080.00"},
        "liquidation_id": "LQ000001",
        # (business date, symbol, quantity, price) in execution order: least liquid (Y, tier C) first
        "liquidation_fills": [("2026-09-04", "600123.SH", 4000, "9.37"), ("2026-09-04", "600123.SH", 4000, "9.34"),
                              ("2026-09-04", "600123.SH", 4000, "9.31"), ("2026-09-07", "300750.SZ", 4000, "8.89"),
                              ("2026-09-07", "300750.SZ", 4000, "8.88")],
        "limit_down": ("2026-09-04", "300750.SZ"),
        "interest_charged": "240.00",
        "loan_repay": "188920.00",
        "shortfall": "11080.00",
        "reserve_before_default": "2081.22",
        "compensation": "2081.22",
        "write_off": "8998.78",
        "loss_allocation": {"P004": "3000.00", "P005": "2000.00", "P002": "2665.85", "P003": "1332.93"},
        "closed_on": "2026-09-07",
        "summary": summary,
    }
