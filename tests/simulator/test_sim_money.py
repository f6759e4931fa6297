"""Exact money helpers and the waterfalls' rounding rules."""
from __future__ import annotations

from datetime import date
from fractions import Fraction

import numpy as np

from simulator.capital import Providers, allocate_loss, monthly_waterfall, pro_rata
from simulator.money import fmt_cents, fmt_scaled, hdiv, hdiv_np


def test_half_even_division():
    assert [hdiv(x, 10) for x in (5, 15, 25, -5, -15, 14, 16)] == [0, 2, 2, 0, -2, 1, 2]
    rng = np.random.default_rng(1)
    a = rng.integers(-10**12, 10**12, 5000)
    b = 360
    got = hdiv_np(a, b)
    assert got.tolist() == [round(Fraction(int(x), b)) for x in a]


def test_formatting():
    assert fmt_cents(123456) == "1234.56" and fmt_cents(-5) == "-0.05" and fmt_cents(0) == "0.00"
    assert fmt_scaled(165003, 6) == "0.165003" and fmt_scaled(-33453, 6) == "-0.033453"


def test_pro_rata_remainder_goes_to_the_largest_then_lowest_id():
    # 1.00 split three ways: 0.33 each, the remainder 0.01 to the largest balance
    assert pro_rata(100, [10, 10, 20], ["P1", "P2", "P3"]) == [25, 25, 50]
    assert pro_rata(100, [1, 1, 1], ["P3", "P1", "P2"]) == [33, 34, 33]
    assert pro_rata(101, [2, 1], ["P1", "P2"]) == [67, 34]


def _prov(balances):
    ids = [f"P{i + 1:03d}" for i in range(len(balances))]
    tr = ["SENIOR", "MEZZANINE", "MEZZANINE", "JUNIOR"]
    return Providers(ids, ids, tr, list(balances), [400, 700, 700, None], list(balances))


def test_loss_waterfall_caps_each_tranche():
    prov = _prov([100_000, 30_000, 10_000, 5_000])
    assert allocate_loss(4_000, prov) == {3: 4_000}
    got = allocate_loss(25_000, prov)
    assert got == {3: 5_000, 1: 15_000, 2: 5_000}
    assert list(got) == [3, 1, 2]  # JUNIOR first
    assert sum(allocate_loss(10**9, prov).values()) == sum(prov.balance)


def test_monthly_waterfall_by_hand():
    prov = _prov([36_000_000, 7_200_000, 0, 3_600_000])  # cents
    days = [date(2026, 9, d) for d in range(1, 31)]
    wf = monthly_waterfall(days, lambda d: prov.balance, lambda d: 30_000_000, interest=300_000, perf_fees=100_000,
                           prov=prov, provider_share=Fraction(3, 10), servicing=Fraction(5, 1000), day_count=360)
    # coupons: 360,000.00 x 4 % x 30/360 = 1,200.00; 72,000 x 7 % x 30/360 = 420.00
    assert wf.distributions[0] == 120_000 and wf.distributions[1] == 42_000
    # fee: 300,000 x 0.5 % x 30 / 360 = 125.00; R = 3,000 + 300 - 1,620 - 125 = 1,555.00 to the junior
    assert wf.servicing_fee == 12_500 and wf.residual == 155_500 and wf.distributions[3] == 155_500
    assert 2 not in wf.distributions
    poor = monthly_waterfall(days, lambda d: prov.balance, lambda d: 30_000_000, interest=100_000, perf_fees=0,
                             prov=prov, provider_share=Fraction(3, 10), servicing=Fraction(5, 1000), day_count=360)
    assert 3 not in poor.distributions and poor.shortfall == 162_000 + 12_500 - 100_000
