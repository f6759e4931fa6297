"""The platform: cash and loans per account, interest accrual, the daily risk engine, staged
liquidation, default settlement (§1.2), reserve funding, month-end fees and the income waterfall.

The engine is driven day by day by a *behaviour* (random clients and capital desk, or a script) and a
list of MarketDay (random walk or scripted). All money is integer cents; accrued interest is integer
micro-CNY (DECIMAL(38,6)). See README.md for the rules and the order of a day.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

import numpy as np

from .books import CLIENT, LIQUIDATION, RESERVE_ACCOUNT, SELL, DayBooks, commission
from .capital import Providers, allocate_loss, monthly_waterfall
from .config import CAP, CMP, OPR, RSV, ModelParams
from .dates import LAST_FILL, MORNING_OPEN, RISK_TIME, is_last_business_day_of_month, month_days
from .market import LIMIT_DOWN, MarketDay, Universe
from .money import MICRO_PER_CENT, hdiv, hdiv_np

NOT_OPEN, OPEN, CLOSED = 0, 1, 2


@dataclass
class Population:
    """Static account attributes (accounts.csv) and the plan the behaviour follows."""
    ids: list[str]
    client_id: list[str]
    group_id: list[str]
    kyc: list[str]
    score: np.ndarray
    k: np.ndarray  # leverage multiple (max), int
    im4: np.ndarray  # rates in units of 1e-4
    w4: np.ndarray
    mm4: np.ndarray
    r4: np.ndarray  # interest rate, 1e-4 units (4 dp)
    deposit: np.ndarray  # planned first deposit D, cents
    open_day: np.ndarray  # business-day index the account opens (>= days: never in this run)

    @property
    def n(self) -> int:
        return len(self.ids)


@dataclass
class CapitalAction:
    provider: int
    typ: str  # CONTRIBUTION | REDEMPTION_REQUEST | REDEMPTION_PAID
    amount: int
    settle: date


@dataclass
class AccountActions:
    open_idx: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    open_deposit: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    open_loan: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    deposit_idx: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    deposit_amt: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    withdraw_idx: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    withdraw_amt: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    repay_idx: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    repay_amt: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    close_idx: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # sell out and leave


class Behaviour(Protocol):
    def capital_actions(self, eng: Engine, di: int) -> list[CapitalAction]: ...
    def account_actions(self, eng: Engine, di: int) -> AccountActions: ...
    def client_fills(self, eng: Engine, di: int, mkt: MarketDay) -> None: ...


class Engine:
    def __init__(self, *, model: ModelParams, days: list[date], universe: Universe, market: list[MarketDay],
                 pop: Population, prov: Providers, behaviour: Behaviour, reserve_opening: int, seed: int) -> None:
        self.m = model
        self.days = days
        self.u = universe
        self.market = market
        self.pop = pop
        self.prov = prov
        self.beh = behaviour
        self.seed = seed
        n, k = pop.n, model.slots
        self.status = np.zeros(n, np.int8)
        self.opened_on: list[date | None] = [None] * n
        self.closed_on: list[date | None] = [None] * n
        self.cash = np.zeros(n, np.int64)
        self.loan = np.zeros(n, np.int64)
        self.unpaid = np.zeros(n, np.int64)  # accrued - charged - written off, micro-CNY
        self.cum_dep = np.zeros(n, np.int64)
        self.month_net_dep = np.zeros(n, np.int64)
        self.e_month_start = np.zeros(n, np.int64)  # equity (micro) at the previous month-end close
        self.pos_sym = np.full((n, k), -1, np.int32)
        self.pos_qty = np.zeros((n, k), np.int64)
        self.restricted = np.zeros(n, bool)
        self.liq = np.zeros(n, np.int32)  # active liquidation number (0: none)
        self.liq_trigger_day = np.zeros(n, np.int32)
        self.last_E = np.zeros(n, np.int64)  # equity (micro) and gross exposure at the last close
        self.last_G = np.zeros(n, np.int64)
        self.day_ts = np.zeros(n, np.int64)
        self.day_fee = np.zeros(n, np.int64)
        self.day_nfill = np.zeros(n, np.int32)
        self.liq_counter = 0
        self.cust = {CMP: 0, CAP: 0, RSV: reserve_opening, OPR: model.operating_opening}
        self.cust_prev_close = dict(self.cust)
        self.history: list[tuple[date, list[int], int]] = []  # end of business day: balances, loan book
        self.month_interest = 0
        self.month_perf = 0
        self.prev_day: date | None = None
        self.stats: dict = {"defaults": 0, "shortfall": 0, "reserve_draws": 0, "write_offs": 0,
                            "written_off_interest": 0, "loss_allocated": 0, "unallocated_loss": 0,
                            "dropped_subcent_micro": 0, "liquidations": 0, "liquidations_done": 0,
                            "max_liquidation_days": 0, "repaid_after_liquidation": 0,
                            "voluntary_closes": 0, "waterfalls": []}
        self.books: DayBooks | None = None
        self.di = 0
        self.mkt: MarketDay | None = None

    # ================================================================ helpers
    @property
    def day(self) -> date:
        return self.days[self.di]

    def rng(self, purpose: int, extra: int = 0) -> np.random.Generator:
        return np.random.default_rng([self.seed, 9001, self.di, purpose, extra])

    def values(self, close: np.ndarray) -> np.ndarray:
        """Market value per account (long positions only: MV = G)."""
        held = self.pos_qty > 0
        px = close[np.where(held, self.pos_sym, 0)]
        return (self.pos_qty * px * held).sum(axis=1)

    def today_accrual(self) -> np.ndarray:
        """Accrual of one calendar day on the current principal, micro-CNY (L x r / 360, half-even)."""
        return hdiv_np(self.loan * self.pop.r4, self.m.day_count)

    def equity_micro(self, close: np.ndarray, include_today: bool = True) -> tuple[np.ndarray, np.ndarray]:
        mv = self.values(close)
        a = self.unpaid + (self.today_accrual() if include_today else 0)
        return (self.cash + mv - self.loan) * MICRO_PER_CENT - a, mv

    def client_can_trade(self) -> np.ndarray:
        return (self.status == OPEN) & ~self.restricted & (self.liq == 0)

    def free_slot(self, acc: np.ndarray) -> np.ndarray:
        """First empty position slot of each account (-1 when full)."""
        empty = self.pos_qty[acc] == 0
        first = empty.argmax(axis=1)
        return np.where(empty.any(axis=1), first, -1)

    # ================================================================ fills
    def add_fills(self, acc, sym, side, qty, price, ms, order, origin=CLIENT, liq=0) -> None:
        """Book fills: commissions, the day's net settlement and fees per account, turnover."""
        acc = np.asarray(acc, np.int64)
        qty = np.asarray(qty, np.int64)
        price = np.asarray(price, np.int64)
        side = np.asarray(side, np.int8)
        notional = qty * price
        comm = commission(notional, self.m.commission_rate, self.m.commission_min)
        signed = np.where(side == SELL, notional, -notional)
        np.add.at(self.day_ts, acc, signed)
        np.add.at(self.day_fee, acc, comm)
        np.add.at(self.day_nfill, acc, 1)
        np.add.at(self.cash, acc, signed - comm)
        np.add.at(self.sym_qty, np.asarray(sym, np.int64), qty)
        self.turnover += int(notional.sum())
        self.books.add_fills(acc, sym, side, qty, price, comm, ms, order, origin, liq)

    def apply_positions(self, acc, slot, sym, side, qty) -> None:
        """Position change of fills that build or reduce positions (slot-addressed)."""
        acc, slot, qty = np.asarray(acc, np.int64), np.asarray(slot, np.int64), np.asarray(qty, np.int64)
        sign = np.where(np.asarray(side) == SELL, -1, 1)
        buy = sign > 0
        self.pos_sym[acc[buy], slot[buy]] = np.asarray(sym)[buy]
        np.add.at(self.pos_qty, (acc, slot), sign * qty)
        if (self.pos_qty[acc, slot] < 0).any():
            raise AssertionError("a position went short")
        gone = self.pos_qty[acc, slot] == 0
        self.pos_sym[acc[gone], slot[gone]] = -1

    # ================================================================ the day
    def step(self, di: int) -> DayBooks:
        self.di = di
        d = self.days[di]
        mkt = self.mkt = self.market[di]
        b = self.books = DayBooks(d, self.pop.ids)
        self.turnover = 0
        self.sym_qty = np.zeros(self.u.n, np.int64)
        self.day_ts[:] = 0
        self.day_fee[:] = 0
        self.day_nfill[:] = 0
        self.done: list[tuple[int, int]] = []  # (done ms, account) of liquidations flat today
        self.reserve_avail = self.cust_prev_close[RSV]
        # 0. calendar days since the previous business day accrue on that day's closing principal
        if self.prev_day is not None:
            gap = (d - self.prev_day).days - 1
            if gap > 0:
                self.unpaid += gap * self.today_accrual()
        # 1. capital desk
        for a in self.beh.capital_actions(self, di):
            self.capital_event(a.provider, a.typ, a.amount, a.settle)
        # 2. client cash movements and openings (before the open)
        acts = self.beh.account_actions(self, di)
        self.open_accounts(acts.open_idx, acts.open_deposit, acts.open_loan)
        self.cash_movement("DEPOSIT", acts.deposit_idx, acts.deposit_amt)
        self.cash_movement("WITHDRAWAL", acts.withdraw_idx, acts.withdraw_amt)
        self.cash_movement("LOAN_REPAY", acts.repay_idx, acts.repay_amt)
        # 3. liquidations left over from earlier days sell from the open
        for a in np.flatnonzero(self.liq > 0):
            self.liquidate(int(a), MORNING_OPEN + int(self.rng(3, int(a)).integers(0, 5000)))
        # 4. client order flow (09:30-14:30)
        self.closing = {int(a) for a in acts.close_idx}
        self.beh.client_fills(self, di, mkt)
        month_end = is_last_business_day_of_month(d)
        # 5. month-end performance fee, on the close
        if month_end:
            self.performance_fees(mkt)
        # 6. risk engine at 14:30 on the close, 7. staged liquidation of new triggers
        self.risk_engine(mkt)
        # 8. one TRADE_SETTLEMENT and one FEE row per account with fills, one custody net entry each
        self.trade_settlement_rows()
        # 9. liquidations that ended flat today: DONE, then DEFAULT or repayment, in event-time order
        for ms, a in sorted(self.done):
            self.settle_liquidation(a, ms)
        # 10. voluntary closes (sold out today)
        for a in sorted(self.closing):
            self.close_voluntarily(a)
        # 11. reserve funding: 2 bp of the day's turnover
        fund = hdiv(self.turnover * self.m.reserve_rate.numerator, self.m.reserve_rate.denominator)
        e2e = b.ledger_rows("RESERVE_FUNDING", [RESERVE_ACCOUNT], [fund])
        if len(e2e):
            b.custody[OPR].remit[-1] = [f"RESERVE_FUNDING {d.isoformat()}"]
            b.custody[RSV].remit[-1] = [f"RESERVE_FUNDING {d.isoformat()}"]
        # 12. today's accrual on the closing principal
        self.unpaid += self.today_accrual()
        # 13. month end: interest charged for accruals up to and including today
        if month_end:
            self.charge_month_interest()
        self.history.append((d, list(self.prov.balance), int(self.loan.sum())))
        if month_end:
            self.income_waterfall()
        # custody balances
        for cust, ce in b.custody.items():
            amt = ce.columns()[0]
            self.cust[cust] += int(amt.sum())
        self.cust_prev_close = dict(self.cust)
        self.prev_day = d
        return b

    # ================================================================ capital
    def capital_event(self, p: int, typ: str, amount: int, settle: date) -> None:
        if amount <= 0:
            return
        prov = self.prov
        self.books.capital_event(prov.ids[p], prov.tranche[p], typ, amount, settle)
        if typ == "CONTRIBUTION":
            prov.balance[p] += amount
            self.cust_flow(CAP, amount)
        elif typ in ("REDEMPTION_PAID", "DISTRIBUTION"):
            if typ == "REDEMPTION_PAID":
                prov.balance[p] -= amount
            self.cust_flow(CAP, -amount)
        elif typ == "LOSS_ALLOCATION":
            prov.balance[p] -= amount

    def cust_flow(self, cust: str, amount: int) -> None:
        """Intraday running custody cash (the behaviour checks CAPITAL_POOL before lending)."""
        self.cust_live[cust] = self.cust_live.get(cust, 0) + amount

    @property
    def cust_live(self) -> dict:
        if getattr(self, "_live_day", None) != self.di:
            self._live_day = self.di
            self._live = dict(self.cust_prev_close)
        return self._live

    # ================================================================ client cash
    def open_accounts(self, idx, deposit, loan) -> None:
        idx = np.asarray(idx, np.int64)
        if len(idx) == 0:
            return
        self.status[idx] = OPEN
        for a in idx.tolist():
            self.opened_on[a] = self.day
        self.cash_movement("DEPOSIT", idx, deposit)
        self.cash_movement("LOAN_DRAW", idx, loan)

    def cash_movement(self, typ: str, idx, amt) -> None:
        idx, amt = np.asarray(idx, np.int64), np.asarray(amt, np.int64)
        keep = amt > 0
        idx, amt = idx[keep], amt[keep]
        if len(idx) == 0:
            return
        self.books.ledger_rows(typ, idx, amt)
        if typ in ("DEPOSIT", "LOAN_DRAW"):
            np.add.at(self.cash, idx, amt)
        else:
            np.add.at(self.cash, idx, -amt)
        total = int(amt.sum())
        if typ == "DEPOSIT":
            np.add.at(self.cum_dep, idx, amt)
            np.add.at(self.month_net_dep, idx, amt)
            self.cust_flow(CMP, total)
        elif typ == "WITHDRAWAL":
            np.add.at(self.month_net_dep, idx, -amt)
            self.cust_flow(CMP, -total)
        elif typ == "LOAN_DRAW":
            np.add.at(self.loan, idx, amt)
            self.cust_flow(CAP, -total)
            self.cust_flow(CMP, total)
        elif typ == "LOAN_REPAY":
            np.add.at(self.loan, idx, -amt)
            self.cust_flow(CAP, total)
            self.cust_flow(CMP, -total)

    # ================================================================ settlement rows
    def trade_settlement_rows(self) -> None:
        b = self.books
        acc = np.flatnonzero(self.day_nfill > 0)
        if len(acc) == 0:
            return
        d = b.day.isoformat()
        ts, fee = self.day_ts[acc], self.day_fee[acc]
        e_ts = int(b.new_e2e()[0])
        b.ledger_rows("TRADE_SETTLEMENT", acc, ts, e_ts)
        net = int(ts.sum())
        if net:
            b.custody_net(CMP, net, e_ts, f"TRADE_SETTLEMENT NET {d} {len(acc)} ACCOUNTS", "TRADE_SETTLEMENT")
        total_fee = int(fee.sum())
        if total_fee:
            e_fee = int(b.new_e2e()[0])
            b.ledger_rows("FEE", acc, fee, e_fee)
            b.custody_net(CMP, -total_fee, e_fee, f"FEE NET {d} COMMISSIONS", "FEE")
            b.custody_net(OPR, total_fee, e_fee, f"FEE NET {d} COMMISSIONS", "FEE")

    # ================================================================ month end
    def performance_fees(self, mkt: MarketDay) -> None:
        m = self.m
        e, _ = self.equity_micro(mkt.close)
        elig = (self.status == OPEN) & (self.liq == 0)
        thr, rate = m.perf_threshold, m.perf_rate
        pnl = e - self.e_month_start - self.month_net_dep * MICRO_PER_CENT
        excess = pnl * thr.denominator - self.cum_dep * MICRO_PER_CENT * thr.numerator  # x thr.den
        fee = hdiv_np(np.maximum(excess, 0) * rate.numerator, thr.denominator * rate.denominator * MICRO_PER_CENT)
        fee = np.where(elig, fee, 0)
        idx = np.flatnonzero(fee > 0)
        self.books.ledger_rows("PERFORMANCE_FEE", idx, fee[idx])
        self.cash -= fee
        self.month_perf += int(fee.sum())
        self.e_month_start = np.where(self.status == OPEN, e - fee * MICRO_PER_CENT, 0)
        self.month_net_dep[:] = 0

    def charge_month_interest(self) -> None:
        charge = np.where(self.status == OPEN, hdiv_np(self.unpaid, MICRO_PER_CENT), 0)
        charge = np.maximum(charge, 0)
        idx = np.flatnonzero(charge > 0)
        self.books.ledger_rows("INTEREST", idx, charge[idx])
        self.unpaid -= charge * MICRO_PER_CENT  # the sub-cent remainder carries on
        self.cash -= charge
        self.month_interest += int(charge.sum())

    def balance_on(self, d: date) -> list[int]:
        best = None
        for hd, bal, _ in self.history:
            if hd <= d:
                best = bal
        return best if best is not None else [0] * self.prov.n

    def loanbook_on(self, d: date) -> int:
        best = 0
        for hd, _, lb in self.history:
            if hd <= d:
                best = lb
        return best

    def income_waterfall(self) -> None:
        m = self.m
        wf = monthly_waterfall(month_days(self.day), self.balance_on, self.loanbook_on, self.month_interest,
                               self.month_perf, self.prov, m.perf_provider_share, m.servicing_fee, m.day_count)
        for p, amt in sorted(wf.distributions.items()):
            self.capital_event(p, "DISTRIBUTION", amt, self.day)
        if wf.shortfall:
            alloc = allocate_loss(wf.shortfall, self.prov, weights=wf.capital_days)
            for p, amt in alloc.items():  # waterfall order: JUNIOR, MEZZANINE, SENIOR
                self.capital_event(p, "LOSS_ALLOCATION", amt, self.day)
        rec = wf.as_dict(self.prov)
        rec["month_end"] = self.day.isoformat()
        self.stats["waterfalls"].append(rec)
        self.month_interest = 0
        self.month_perf = 0

    # ================================================================ risk engine
    def risk_engine(self, mkt: MarketDay) -> None:
        b = self.books
        pop = self.pop
        e, g = self.equity_micro(mkt.close)
        self.last_E, self.last_G = e, g
        cand = (self.status == OPEN) & (self.loan > 0) & (self.liq == 0) & (g > 0)
        idx = np.flatnonzero(cand)
        if len(idx) == 0:
            return
        below_w = e < pop.w4 * g
        below_mm = e < pop.mm4 * g
        step = max(3, min(2000, 600_000 // len(idx)))
        t_of = {int(a): RISK_TIME + r * step for r, a in enumerate(idx)}
        events = idx[(below_w[idx] & ~self.restricted[idx]) | below_mm[idx]]
        for a in events.tolist():
            t = t_of[a]
            eq, gr = hdiv(int(e[a]), MICRO_PER_CENT), int(g[a])
            ratio = hdiv(int(e[a]) * 100, gr)
            if not self.restricted[a]:
                b.risk_event(t, a, "WARNING", eq, gr, ratio)
                b.risk_event(t + 1, a, "RESTRICT", eq, gr, ratio)
            if below_mm[a]:
                self.liq_counter += 1
                lid = self.liq_counter
                self.liq[a] = lid
                self.liq_trigger_day[a] = self.di
                self.stats["liquidations"] += 1
                b.risk_event(t + 2, a, "LIQUIDATION_TRIGGER", eq, gr, ratio, lid)
        # an episode lasts until a close with m >= W
        self.restricted[idx] = below_w[idx]
        for a in np.flatnonzero(cand & below_mm).tolist():
            self.liquidate(a, t_of[a] + 2)

    # ================================================================ staged liquidation
    def liquidate(self, a: int, t0: int) -> None:
        """Sell every position that is not locked limit-down today, least liquid first (tier C, B, A),
        in 1-4 fills each at the close minus a growing slippage (never below the day's low)."""
        mkt, m, u = self.mkt, self.m, self.u
        slots = [s for s in range(m.slots) if self.pos_qty[a, s] > 0]
        slots.sort(key=lambda s: (-int(u.tier[self.pos_sym[a, s]]), int(self.pos_sym[a, s])))
        sell = [s for s in slots if mkt.status[self.pos_sym[a, s]] != LIMIT_DOWN]
        rows = []  # (slot, sym, qty, price, order)
        for o, s in enumerate(sell):
            sym, q = int(self.pos_sym[a, s]), int(self.pos_qty[a, s])
            c, low = int(mkt.close[sym]), int(mkt.low[sym])
            n = min(4, max(1, -(-(q * c) // m.liq_fill_notional)), max(1, q // 100))
            lots, odd = divmod(q, 100)
            base, extra = divmod(lots, n)
            step = max(1, -(-(c * m.slippage_bp[int(u.tier[sym])]) // 10_000))
            for j in range(n):
                qj = (base + (1 if j < extra else 0)) * 100 + (odd if j == n - 1 else 0)
                rows.append((s, sym, qj, max(low, c - (j + 1) * step), o))
        if rows:
            rng = self.rng(7, a)
            gaps = np.maximum(rng.lognormal(np.log(m.liq_gap_median_ms), m.liq_gap_sigma, len(rows)), 1000)
            room = max(LAST_FILL - t0, len(rows))
            if gaps.sum() > room:
                gaps = gaps * (room / gaps.sum())
            ms = t0 + np.maximum(np.cumsum(gaps).astype(np.int64), 1)
            ms = np.maximum.accumulate(ms)
            slot = np.array([r[0] for r in rows])
            sym = np.array([r[1] for r in rows])
            qty = np.array([r[2] for r in rows])
            px = np.array([r[3] for r in rows])
            acc = np.full(len(rows), a)
            self.add_fills(acc, sym, np.full(len(rows), SELL), qty, px, ms, [r[4] for r in rows],
                           LIQUIDATION, int(self.liq[a]))
            self.apply_positions(acc, slot, sym, np.full(len(rows), SELL), qty)
            t_last = int(ms[-1])
        else:
            t_last = t0
        if not (self.pos_qty[a] > 0).any():
            self.done.append((t_last + 1000, a))

    def settle_liquidation(self, a: int, ms: int) -> None:
        """§1.2: LIQUIDATION_DONE; if equity < 0: DEFAULT, INTEREST as far as cash covers it, LOAN_REPAY
        of the rest, DEFAULT_COMPENSATION from the reserve, WRITE_OFF, LOSS_ALLOCATIONs; else repay."""
        b, lid = self.books, int(self.liq[a])
        self.stats["liquidations_done"] += 1
        self.stats["max_liquidation_days"] = max(self.stats["max_liquidation_days"],
                                                 self.di - int(self.liq_trigger_day[a]))
        cash, loan = int(self.cash[a]), int(self.loan[a])
        due = hdiv(int(self.unpaid[a]), MICRO_PER_CENT)
        self.stats["dropped_subcent_micro"] += int(self.unpaid[a]) - due * MICRO_PER_CENT
        equity = cash - loan - due
        b.risk_event(ms, a, "LIQUIDATION_DONE", equity, 0, None, lid)
        if equity < 0:
            interest = min(due, max(cash, 0))
            b.ledger_rows("INTEREST", [a], [interest])
            self.month_interest += interest
            cash -= interest
            repay = max(cash, 0)
            b.ledger_rows("LOAN_REPAY", [a], [repay])
            cash -= repay
            loan -= repay
            unpaid_int = due - interest
            s = loan + unpaid_int
            b.risk_event(ms + 100, a, "DEFAULT", -s, 0, None, lid)
            comp = min(s, self.reserve_avail)
            self.reserve_avail -= comp
            wo = s - comp
            b.ledger_rows("DEFAULT_COMPENSATION", [a], [comp])
            b.ledger_rows("WRITE_OFF", [a], [wo])
            self.stats["defaults"] += 1
            self.stats["shortfall"] += s
            self.stats["reserve_draws"] += comp
            self.stats["write_offs"] += wo
            self.stats["written_off_interest"] += max(0, unpaid_int - comp)
            if wo:
                alloc = allocate_loss(wo, self.prov)
                for p, amt in alloc.items():  # waterfall order: JUNIOR, MEZZANINE, SENIOR
                    self.capital_event(p, "LOSS_ALLOCATION", amt, self.day)
                got = sum(alloc.values())
                self.stats["loss_allocated"] += got
                self.stats["unallocated_loss"] += wo - got
            self.cash[a] = cash
        else:
            b.ledger_rows("INTEREST", [a], [due])
            self.month_interest += max(due, 0)
            b.ledger_rows("LOAN_REPAY", [a], [loan])
            b.ledger_rows("WITHDRAWAL", [a], [cash - due - loan])
            self.cash[a] = 0
            self.stats["repaid_after_liquidation"] += 1
        self.loan[a] = 0
        self.unpaid[a] = 0
        self.liq[a] = 0
        self.restricted[a] = False
        self.close(a)

    def close(self, a: int) -> None:
        self.status[a] = CLOSED
        self.closed_on[a] = self.day

    def close_voluntarily(self, a: int) -> None:
        """A client that sold out today repays interest and loan, withdraws the rest and leaves."""
        if self.status[a] != OPEN or self.liq[a] or (self.pos_qty[a] > 0).any():
            return
        due = hdiv(int(self.unpaid[a]), MICRO_PER_CENT)
        cash, loan = int(self.cash[a]), int(self.loan[a])
        if cash < due + loan:
            return  # cannot repay in full: stays open
        self.stats["dropped_subcent_micro"] += int(self.unpaid[a]) - due * MICRO_PER_CENT
        b = self.books
        b.ledger_rows("INTEREST", [a], [due])
        self.month_interest += max(due, 0)
        b.ledger_rows("LOAN_REPAY", [a], [loan])
        b.ledger_rows("WITHDRAWAL", [a], [cash - due - loan])
        self.cash[a] = 0
        self.loan[a] = 0
        self.unpaid[a] = 0
        self.restricted[a] = False
        self.stats["voluntary_closes"] += 1
        self.close(a)
