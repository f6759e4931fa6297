"""Capital providers, their tranches, the loss waterfall (§1.2) and the monthly income waterfall (§1)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction

import numpy as np

from .money import fmt_scaled, hdiv, round_fraction

LOSS_ORDER = ("JUNIOR", "MEZZANINE", "SENIOR")
COUPON_R4 = {"SENIOR": 400, "MEZZANINE": 700, "JUNIOR": None}  # 0.0400, 0.0700, residual
TRANCHE_SHARE = {"SENIOR": 50, "MEZZANINE": 30, "JUNIOR": 20}  # % of capital

_FIRST = ("Harbour", "Jade", "Pearl River", "Golden Bay", "Summit", "Lotus", "Evergreen", "Bamboo",
          "Silk Road", "Crescent", "Northstar", "Red Lantern", "Blue Ocean", "Kunlun", "Yangtze", "Orchid")
_LAST = ("Capital", "Asset Management", "Investment Partners", "Credit Fund", "Family Office", "Trust",
         "Income Fund", "Lending LP")


@dataclass
class Providers:
    ids: list[str]
    names: list[str]
    tranche: list[str]
    commitment: list[int]  # cents
    coupon_r4: list[int | None]  # coupon in units of 1e-4; None for JUNIOR
    balance: list[int] = field(default_factory=list)  # capital balance, cents (§1.2)

    def __post_init__(self) -> None:
        if not self.balance:
            self.balance = [0] * len(self.ids)

    @property
    def n(self) -> int:
        return len(self.ids)

    def rows(self) -> dict[str, list]:
        from .money import fmt_cents, fmt_rate4
        return {"provider_id": self.ids, "name": self.names, "tranche": self.tranche,
                "commitment": [fmt_cents(c) for c in self.commitment],
                "coupon_rate": ["" if r is None else fmt_rate4(r) for r in self.coupon_r4],
                "currency": ["CNY"] * self.n}


def make_providers(n: int, total_capital: int, rng: np.random.Generator) -> Providers:
    """n providers (>= 3) across the tranches; commitments split total_capital 50/30/20."""
    counts = {"JUNIOR": max(1, round(n * 0.3)), "MEZZANINE": max(1, round(n * 0.3))}
    counts["SENIOR"] = max(1, n - counts["JUNIOR"] - counts["MEZZANINE"])
    while sum(counts.values()) > n:
        big = max(counts, key=lambda t: counts[t])
        counts[big] -= 1
    ids, names, tranche, commitment, coupon = [], [], [], [], []
    i = 0
    for tr in ("SENIOR", "MEZZANINE", "JUNIOR"):
        k = counts[tr]
        cap = total_capital * TRANCHE_SHARE[tr] // 100
        w = rng.gamma(2.0, 1.0, k)
        parts = [int(x) for x in (w / w.sum() * cap) // 1_000_000 * 1_000_000]  # 10,000.00 steps
        parts[0] += cap - sum(parts)
        for c in parts:
            i += 1
            ids.append(f"P{i:03d}")
            names.append(f"{_FIRST[rng.integers(len(_FIRST))]} {_LAST[rng.integers(len(_LAST))]} {tr.title()} {i}")
            tranche.append(tr)
            commitment.append(max(c, 1_000_000))
            r = COUPON_R4[tr]
            coupon.append(None if r is None else r + int(rng.integers(-50, 51)) // 25 * 25)
    return Providers(ids, names, tranche, commitment, coupon)


def pro_rata(total: int, weights: list[int], ids: list[str]) -> list[int]:
    """Split total cents pro rata to weights, each share half-even; the largest weight (then the
    lowest id) takes the rounding remainder so the shares sum to total."""
    wsum = sum(weights)
    if total == 0 or wsum == 0:
        return [0] * len(weights)
    shares = [hdiv(total * w, wsum) for w in weights]
    rem = total - sum(shares)
    if rem:
        j = min(range(len(weights)), key=lambda i: (-weights[i], ids[i]))
        shares[j] += rem
    return shares


def allocate_loss(total: int, prov: Providers, weights: list[int] | None = None) -> dict[int, int]:
    """§1.2 loss waterfall: JUNIOR, then MEZZANINE, then SENIOR; each tranche bears at most its
    capital balance, pro rata to weights (default: capital balance) inside the tranche."""
    weights = prov.balance if weights is None else weights
    out: dict[int, int] = {}
    left = total
    for tr in LOSS_ORDER:
        if left <= 0:
            break
        idx = [i for i in range(prov.n) if prov.tranche[i] == tr and prov.balance[i] > 0]
        cap = sum(prov.balance[i] for i in idx)
        take = min(left, cap)
        if take <= 0:
            continue
        shares = pro_rata(take, [weights[i] for i in idx], [prov.ids[i] for i in idx])
        for i, s in zip(idx, shares):
            if s:
                out[i] = s
        left -= take
    return out


@dataclass
class Waterfall:
    income: Fraction
    interest: int
    perf_fees: int
    coupons: dict[int, Fraction]
    servicing_fee: Fraction
    residual: Fraction
    capital_days: list[int]
    loan_days: int
    distributions: dict[int, int]
    shortfall: int  # cents borne by providers as LOSS_ALLOCATION when the residual is negative

    def as_dict(self, prov: Providers) -> dict:
        def f(x) -> str:  # cents (exact rational) -> CNY with 6 dp, half-even
            return fmt_scaled(round(Fraction(x) * 10_000), 6)

        return {"income": f(self.income), "interest": f(self.interest), "performance_fees": f(self.perf_fees),
                "coupons": {prov.ids[i]: f(c) for i, c in self.coupons.items()},
                "servicing_fee": f(self.servicing_fee), "residual": f(self.residual),
                "distributions": {prov.ids[i]: f(c) for i, c in self.distributions.items()},
                "shortfall": f(self.shortfall)}


def monthly_waterfall(days: list[date], balance_on, loanbook_on, interest: int, perf_fees: int,
                      prov: Providers, provider_share: Fraction, servicing: Fraction,
                      day_count: int) -> Waterfall:
    """§1 income waterfall for one month, exact rationals, rounded once per DISTRIBUTION.

    I = interest charged + share x performance fees; coupon_p = rate_p x sum_d B_p(d) / 360;
    F = servicing x sum_d L(d) / 360; R = I - coupons - F, to JUNIOR pro rata to capital-days."""
    cap_days = [0] * prov.n
    loan_days = 0
    for d in days:
        bal = balance_on(d)
        for i in range(prov.n):
            cap_days[i] += bal[i]
        loan_days += loanbook_on(d)
    income = interest + provider_share * perf_fees
    coupons: dict[int, Fraction] = {}
    for i in range(prov.n):
        r = prov.coupon_r4[i]
        if r is not None:
            coupons[i] = Fraction(r, 10_000) * cap_days[i] / day_count
    fee = servicing * loan_days / day_count
    resid = income - sum(coupons.values(), Fraction(0)) - fee
    dist: dict[int, int] = {}
    for i, c in coupons.items():
        a = round_fraction(c)
        if a > 0:
            dist[i] = a
    shortfall = 0
    juniors = [i for i in range(prov.n) if prov.tranche[i] == "JUNIOR"]
    jdays = sum(cap_days[i] for i in juniors)
    if resid >= 0:
        if jdays > 0:
            for i in juniors:
                a = round_fraction(resid * cap_days[i] / jdays)
                if a > 0:
                    dist[i] = a
    else:
        shortfall = round_fraction(-resid)
    return Waterfall(income, interest, perf_fees, coupons, fee, resid, cap_days, loan_days, dist, shortfall)
