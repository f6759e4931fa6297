"""The generator's output passes the executable landing contract with no error and no warning."""
from __future__ import annotations

import pytest

from simulator import GeneratorConfig, generate

from .conftest import load_checker


def _check(root):
    rep = load_checker().check_landing(root, cap=5)
    assert rep.count("error") == 0 and rep.count("warning") == 0, rep.text(0)
    return rep


def test_demo_passes(demo):
    rep = _check(demo[0])
    assert rep.dates == 22


def test_parquet_and_both_custody_forms_pass(small_both):
    _check(small_both[0])


@pytest.mark.parametrize("kw", [
    {"custody_format": "csv", "days": 3, "accounts": 25, "seed": 2},
    {"days": 1, "accounts": 10, "providers": 3, "instruments": 3, "fills_per_day": 50, "seed": 5},
    {"start": "2026-10-29", "days": 4, "accounts": 30, "seed": 4},  # a weekend and a month end inside the run
])
def test_other_sizes_pass(tmp_path, kw):
    kw.setdefault("instruments", 12)
    kw.setdefault("fills_per_day", 300)
    generate(GeneratorConfig(out=tmp_path, quiet=True, **kw))
    _check(tmp_path)


def test_worked_example_passes(example):
    _check(example[0])


def test_rerun_replaces_only_its_dates(tmp_path):
    keep = tmp_path / "notes.txt"
    keep.write_text("not ours")
    cfg = GeneratorConfig(out=tmp_path, days=2, accounts=8, instruments=6, fills_per_day=40, quiet=True)
    generate(cfg)
    stale = tmp_path / "2026-09-01" / "trades" / "stale.csv"
    stale.write_text("x\n")
    generate(cfg)
    assert keep.read_text() == "not ours"
    assert not stale.exists()
    assert (tmp_path / ".generator.json").is_file()
