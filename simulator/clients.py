"""Random clients and capital desk: the population of accounts and what they do each day.

Everything is vectorised numpy: openings, cash movements, position building and the bulk of the order
flow, which is intraday round trips (buy q and sell q of one symbol the same day inside its low/high),
so positions - the engine's state - change only through a small number of position-building fills.
"""
from __future__ import annotations

from datetime import date

import numpy as np

from .books import BUY, SELL
from .capital import Providers
from .config import CAP, GeneratorConfig
from .dates import CLIENT_SESSION_LEN, next_business_day, session_to_clock
from .engine import OPEN, AccountActions, CapitalAction, Engine, Population
from .market import LIMIT_DOWN, NONE, MarketDay, Universe, intraday_price
from .money import MICRO_PER_CENT

ROUND_TRIP_HOLD_MS = 40 * 60 * 1000  # mean holding time of an intraday round trip


def make_population(n: int, days: int, rng: np.random.Generator) -> Population:
    ids = [f"A{i + 1:06d}" for i in range(n)]
    client = [f"C{i + 1:06d}" for i in range(n)]
    group = [f"G{i + 1:06d}" for i in range(n)]
    grouped = rng.permutation(n)[: round(n * 0.12)]
    i = 0
    while i + 1 < len(grouped):
        size = int(rng.integers(2, 5))
        members = sorted(grouped[i:i + size].tolist())
        for a in members:
            group[a] = f"G{members[0] + 1:06d}"
        i += size
    kyc_i = rng.choice(3, size=n, p=[0.3, 0.5, 0.2])
    kyc = [("T1", "T2", "T3")[t] for t in kyc_i]
    score = np.rint(np.array([760, 700, 630])[kyc_i] + rng.normal(0, 45, n)).clip(500, 850).astype(np.int64)
    kmax = np.array([4, 3, 2])[kyc_i]
    k = np.minimum(kmax, 1 + np.floor((score - 600) / 80 + rng.normal(0, 0.7, n)).clip(0, 3).astype(np.int64))
    k = np.maximum(k, 1)
    im4 = np.where(kyc_i == 2, 2500, 2000).astype(np.int64)
    w4 = np.where(kyc_i == 2, 2200, 1750).astype(np.int64)
    mm4 = np.where(kyc_i == 2, 1800, 1500).astype(np.int64)
    r4 = (600 + (850 - score) * 250 // 350 + k * 10) // 5 * 5
    r4 = r4.clip(600, 900).astype(np.int64)
    dep = np.exp(rng.normal(np.log(150_000), 0.75, n)).clip(20_000, 3_000_000)
    deposit = (np.rint(dep / 1000) * 1000).astype(np.int64) * 100
    late = rng.random(n) >= 0.55
    last_open = max(1, round(days * 0.65))
    open_day = np.where(late & (days > 1), rng.integers(1, last_open + 1, n), 0).astype(np.int64)
    return Population(ids, client, group, kyc, score, k, im4, w4, mm4, r4, deposit, open_day)


def planned_loans(pop: Population, days: int) -> int:
    opening = pop.open_day < days
    return int((pop.k * pop.deposit)[opening].sum())


class RandomBehaviour:
    """Clients and capital providers acting at random, deterministically for a seed."""

    def __init__(self, cfg: GeneratorConfig, pop: Population, u: Universe, prov: Providers,
                 days: list[date], seed: int) -> None:
        self.cfg, self.pop, self.u, self.prov, self.days, self.seed = cfg, pop, u, prov, days, seed
        rng = np.random.default_rng([seed, 202])
        n = pop.n
        self.activity = rng.lognormal(0, 1.0, n)
        self.spec = rng.random(n) < 0.3  # speculative: few names, small caps, growth board
        self.npos = np.where(self.spec, rng.integers(1, 4, n), rng.integers(2, 7, n))
        pop_w = np.array([3.0, 1.5, 1.0])[u.tier] * rng.lognormal(0, 0.5, u.n)
        spec_w = np.array([0.6, 1.5, 4.0])[u.tier] * np.array([1.0, 2.5, 1.0])[u.board] * rng.lognormal(0, 0.5, u.n)
        self.sym_w = (pop_w, spec_w)
        self.pending_open: list[int] = []
        self.today_open = np.zeros(0, np.int64)
        self.cap_plan = self._capital_plan(rng)

    # ---------------------------------------------------------------- capital desk
    def _capital_plan(self, rng: np.random.Generator) -> dict[int, list[tuple[int, str, int, int]]]:
        """(provider, type, amount, pay day index) per business-day index."""
        prov, ndays = self.prov, len(self.days)
        plan: dict[int, list] = {}
        first_of: dict[int, int] = {}
        seen: set[str] = set()
        for p in range(prov.n):
            later = prov.tranche[p] in seen and rng.random() >= 0.8 and ndays > 1
            seen.add(prov.tranche[p])
            first = int(rng.integers(1, max(2, ndays // 2 + 1))) if later else 0
            first = min(first, ndays - 1)
            first_of[p] = first
            frac = rng.uniform(0.75, 1.0)
            amt = int(prov.commitment[p] * frac) // 1_000_000 * 1_000_000
            plan.setdefault(first, []).append((p, "CONTRIBUTION", amt, first))
            rest = prov.commitment[p] - amt
            if rest > 0 and rng.random() < 0.15 and ndays > 3:
                day = int(rng.integers(first + 1, ndays)) if first + 1 < ndays else None
                if day is not None:
                    plan.setdefault(day, []).append((p, "CONTRIBUTION", rest, day))
        if ndays >= 6:
            sm = [p for p in range(prov.n) if prov.tranche[p] != "JUNIOR" and first_of[p] == 0]
            k = max(1, prov.n // 10)
            for p in rng.permutation(sm)[:k].tolist():
                req = int(rng.integers(max(1, round(ndays * 0.2)), max(2, round(ndays * 0.5)) + 1))
                amt = int(prov.commitment[p] * rng.uniform(0.08, 0.2)) // 1_000_000 * 1_000_000
                pay = req + 5
                plan.setdefault(req, []).append((p, "REDEMPTION_REQUEST", amt, pay))
                if pay < ndays:
                    plan.setdefault(pay, []).append((p, "REDEMPTION_PAID", amt, pay))
        return plan

    def _day_of(self, idx: int) -> date:
        if idx < len(self.days):
            return self.days[idx]
        d = self.days[-1]
        for _ in range(idx - len(self.days) + 1):
            d = next_business_day(d)
        return d

    def capital_actions(self, eng: Engine, di: int) -> list[CapitalAction]:
        out = []
        for p, typ, amt, pay in self.cap_plan.get(di, []):
            if typ == "REDEMPTION_PAID":
                amt = min(amt, eng.prov.balance[p])
            out.append(CapitalAction(p, typ, amt, self._day_of(pay)))
        return out

    # ---------------------------------------------------------------- client cash
    def account_actions(self, eng: Engine, di: int) -> AccountActions:
        pop, rng = self.pop, eng.rng(11)
        acts = AccountActions()
        cand = sorted(set(self.pending_open) | set(np.flatnonzero(pop.open_day == di).tolist()))
        cand = [a for a in cand if eng.status[a] == 0]
        avail = eng.cust_live[CAP] - 100_000_00  # keep 100,000.00 in the pool
        loans = pop.k[cand] * pop.deposit[cand] if cand else np.zeros(0, np.int64)
        ok = np.cumsum(loans) <= avail
        opened = np.array(cand, np.int64)[ok]
        self.pending_open = [a for a, good in zip(cand, ok) if not good]
        acts.open_idx, acts.open_deposit = opened, pop.deposit[opened]
        acts.open_loan = pop.k[opened] * pop.deposit[opened]
        self.today_open = opened

        n = pop.n
        live = (eng.status == OPEN) & (eng.liq == 0)
        live[opened] = False
        e, g = eng.last_E, eng.last_G
        u = rng.random(n)
        # restricted clients often deposit enough to get back to IM
        need = np.maximum(pop.im4 * g - e, 0) // MICRO_PER_CENT
        need = -(-need // 100_000) * 100_000  # up to 1,000.00
        cure = live & eng.restricted & (u < 0.35) & (need > 0)
        dep = live & ~eng.restricted & (u >= 0.35) & (u < 0.354)
        dep_amt = (np.rint(pop.deposit * rng.uniform(0.1, 0.5, n) / 100_000) * 100_000).astype(np.int64)
        acts.deposit_idx = np.flatnonzero(cure | dep)
        acts.deposit_amt = np.where(cure, need, dep_amt)[acts.deposit_idx]
        m_ok = e >= (pop.im4 + 1000) * g  # m >= IM + 10 %
        wd = live & ~eng.restricted & m_ok & (u >= 0.36) & (u < 0.363) & (eng.cash > 0)
        room = np.maximum((e - pop.im4 * g) // MICRO_PER_CENT, 0)
        wd_amt = np.minimum(eng.cash // 2, room // 2) // 10_000 * 10_000
        wd &= wd_amt > 0
        acts.withdraw_idx, acts.withdraw_amt = np.flatnonzero(wd), wd_amt[wd]
        rp = live & ~eng.restricted & (u >= 0.37) & (u < 0.374) & (eng.cash > 0) & (eng.loan > 0)
        rp_amt = np.minimum(eng.cash * 6 // 10, eng.loan // 4) // 10_000 * 10_000
        rp &= (rp_amt > 0) & (rp_amt < eng.loan)
        acts.repay_idx, acts.repay_amt = np.flatnonzero(rp), rp_amt[rp]
        calm = e >= 3500 * g  # m >= 0.35
        cl = live & ~eng.restricted & calm & (u >= 0.38) & (u < 0.382) & (g > 0)
        acts.close_idx = np.flatnonzero(cl)
        return acts

    # ---------------------------------------------------------------- order flow
    def _pick_symbols(self, rng, tradeable: np.ndarray, spec: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
        out = np.empty(shape, np.int64)
        for flag in (False, True):
            rows = np.flatnonzero(spec == flag)
            if len(rows) == 0:
                continue
            w = self.sym_w[int(flag)][tradeable]
            cw = np.cumsum(w)
            pick = np.searchsorted(cw, rng.random((len(rows), shape[1])) * cw[-1], side="right")
            out[rows] = tradeable[np.minimum(pick, len(tradeable) - 1)]
        return out

    def _times(self, rng, n: int, lo: float = 0.0, hi: float = 1.0) -> np.ndarray:
        return (rng.uniform(lo, hi, n) * (CLIENT_SESSION_LEN - 1)).astype(np.int64)

    def client_fills(self, eng: Engine, di: int, mkt: MarketDay) -> None:
        rng = eng.rng(21)
        tradeable = np.flatnonzero(mkt.status == NONE)
        pos0_sym, pos0_qty = eng.pos_sym.copy(), eng.pos_qty.copy()
        can = eng.client_can_trade()
        closing = np.array(sorted(eng.closing), np.int64)
        # -- voluntary closes: sell everything (cancelled when a position is locked limit-down)
        keep = []
        for a in closing.tolist():
            held = eng.pos_qty[a] > 0
            if (mkt.status[eng.pos_sym[a][held]] == LIMIT_DOWN).any():
                eng.closing.discard(a)
            else:
                keep.append(a)
        if keep:
            acc, slot = np.nonzero(eng.pos_qty[keep] > 0)
            acc = np.array(keep)[acc]
            self._sell(eng, rng, mkt, acc, slot, eng.pos_qty[acc, slot])
        can[keep] = False
        if len(tradeable) == 0:
            return
        # -- new accounts build positions: 85-95 % of buying power, several names, 1-3 fills each
        new = self.today_open[can[self.today_open]] if len(self.today_open) else self.today_open
        if len(new):
            k = eng.m.slots
            sym = self._pick_symbols(rng, tradeable, self.spec[new], (len(new), min(6, k)))
            s_sorted = np.sort(sym, axis=1)
            dup = np.zeros_like(sym, bool)
            order = np.argsort(sym, axis=1, kind="stable")
            dup_sorted = np.concatenate([np.zeros((len(new), 1), bool), s_sorted[:, 1:] == s_sorted[:, :-1]], axis=1)
            np.put_along_axis(dup, order, dup_sorted, axis=1)
            valid = ~dup & (np.arange(sym.shape[1])[None, :] < self.npos[new][:, None])
            w = rng.gamma(2.0, 1.0, sym.shape) * valid
            budget = eng.cash[new] * rng.uniform(0.85, 0.95, len(new))
            alloc = (budget[:, None] * w / np.maximum(w.sum(axis=1, keepdims=True), 1e-9)).astype(np.int64)
            hi = mkt.high[sym]
            qty = alloc // hi // 100 * 100
            valid &= qty > 0
            slot = np.cumsum(valid, axis=1) - 1
            r, c = np.nonzero(valid)
            self._buy(eng, rng, mkt, new[r], slot[r, c], sym[r, c], qty[r, c], early=True)
        # -- add-on buys with spare cash while m stays >= IM; partial reductions
        u = rng.random(eng.pop.n)
        old = can.copy()
        old[self.today_open] = False
        addon = np.flatnonzero(old & (u < 0.03) & (eng.last_G > 0))
        if len(addon):
            room = eng.last_E[addon] // eng.pop.im4[addon] - eng.last_G[addon]  # cents
            x = np.minimum(eng.cash[addon] * 9 // 10, room * 8 // 10)
            sym = self._pick_symbols(rng, tradeable, self.spec[addon], (len(addon), 1))[:, 0]
            qty = np.maximum(x, 0) // mkt.high[sym] // 100 * 100
            match = eng.pos_sym[addon] == sym[:, None]
            slot = np.where(match.any(axis=1), match.argmax(axis=1), eng.free_slot(addon))
            ok = (qty > 0) & (slot >= 0) & (x >= 1_000_000)
            self._buy(eng, rng, mkt, addon[ok], slot[ok], sym[ok], qty[ok], early=False)
        red = np.flatnonzero(old & (u >= 0.03) & (u < 0.05))
        if len(red):
            s = rng.integers(0, eng.m.slots, len(red))
            q = eng.pos_qty[red, s] // 200 * 100
            sym = eng.pos_sym[red, s]
            ok = (q > 0) & (mkt.status[np.maximum(sym, 0)] != LIMIT_DOWN)
            self._sell(eng, rng, mkt, red[ok], s[ok], q[ok])
        # -- the bulk: intraday round trips, in chunks
        elig = np.flatnonzero(can)
        if len(elig) == 0:
            return
        n_rt = max(0, self.cfg.fills_per_day - eng.books.fill_count) // 2
        cw = np.cumsum(self.activity[elig])
        chunk = max(1, self.cfg.chunk_rows // 2)
        done = 0
        while done < n_rt:
            m = min(chunk, n_rt - done)
            self._round_trips(eng, rng, mkt, tradeable, elig, cw, pos0_sym, pos0_qty, m)
            done += m

    def _buy(self, eng, rng, mkt, acc, slot, sym, qty, early: bool) -> None:
        """Buy orders of 1-3 fills each at intraday prices; positions grow."""
        if len(acc) == 0:
            return
        nf = np.minimum(rng.integers(1, 4, len(acc)), np.maximum(qty // 100, 1))
        rep = np.repeat(np.arange(len(acc)), nf)
        k = np.arange(len(rep)) - np.repeat(np.cumsum(nf) - nf, nf)  # fill number inside its order
        lots = qty[rep] // 100
        base, extra = lots // nf[rep], lots % nf[rep]
        fq = (base + (k < extra)) * 100
        t0 = self._times(rng, len(acc), 0.0, 0.5 if early else 0.95)
        ms = t0[rep] + k * rng.integers(200, 20_000, len(rep))
        ms = session_to_clock(np.minimum(ms, CLIENT_SESSION_LEN - 1))
        px = intraday_price(mkt, sym[rep], rng)
        side = np.full(len(rep), BUY)
        eng.add_fills(acc[rep], sym[rep], side, fq, px, ms, rep)
        eng.apply_positions(acc[rep], slot[rep], sym[rep], side, fq)

    def _sell(self, eng, rng, mkt, acc, slot, qty) -> None:
        if len(acc) == 0:
            return
        sym = eng.pos_sym[acc, slot]
        ms = session_to_clock(self._times(rng, len(acc)))
        px = intraday_price(mkt, sym, rng)
        side = np.full(len(acc), SELL)
        eng.add_fills(acc, sym, side, qty, px, ms, np.arange(len(acc)))
        eng.apply_positions(acc, slot, sym, side, qty)

    def _round_trips(self, eng, rng, mkt, tradeable, elig, cw, pos0_sym, pos0_qty, m: int) -> None:
        acc = elig[np.minimum(np.searchsorted(cw, rng.random(m) * cw[-1], side="right"), len(elig) - 1)]
        r = rng.integers(0, eng.m.slots, m)
        hsym, hqty = pos0_sym[acc, r], pos0_qty[acc, r] // 100 * 100
        held = (rng.random(m) < 0.6) & (hqty > 0) & (mkt.status[np.maximum(hsym, 0)] == NONE)
        spec = self.spec[acc]
        other = self._pick_symbols(rng, tradeable, spec, (m, 1))[:, 0]
        sym = np.where(held, hsym, other)
        target = eng.pop.deposit[acc] * rng.uniform(0.02, 0.12, m)
        q = np.maximum((target / mkt.close[sym]).astype(np.int64) // 100, 1) * 100
        q = np.where(held, np.minimum(q, hqty), q)
        t1 = self._times(rng, m)
        t2 = np.minimum(t1 + rng.exponential(ROUND_TRIP_HOLD_MS, m).astype(np.int64), CLIENT_SESSION_LEN - 1)
        first = np.where(held & (rng.random(m) < 0.5), SELL, BUY)
        acc2 = np.repeat(acc, 2)
        sym2 = np.repeat(sym, 2)
        side = np.empty(2 * m, np.int8)
        side[0::2], side[1::2] = first, 1 - first
        ms = np.empty(2 * m, np.int64)
        ms[0::2], ms[1::2] = t1, t2
        eng.add_fills(acc2, sym2, side, np.repeat(q, 2), intraday_price(mkt, sym2, rng),
                      session_to_clock(ms), np.arange(2 * m))
