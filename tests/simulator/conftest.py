"""Shared landing trees for the simulator tests (generated once per session, small and fast)."""
from __future__ import annotations

import csv
import hashlib
import importlib.util
import sys
from pathlib import Path

import pytest

from simulator import GeneratorConfig, generate
from simulator.scenarios import worked_example

CHECKER = Path(__file__).parents[2] / "../shared/tools/check_landing.py"


def load_checker():
    if not CHECKER.exists():
        pytest.skip("../shared/tools/check_landing.py not found: the landing contract check runs only with "
                    "../shared beside the repo")
    if "check_landing" in sys.modules:
        return sys.modules["check_landing"]
    spec = importlib.util.spec_from_file_location("check_landing", CHECKER.resolve())
    mod = importlib.util.module_from_spec(spec)
    sys.modules["check_landing"] = mod
    spec.loader.exec_module(mod)
    return mod


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def rows(root: Path, feed: str, name: str) -> list[dict[str, str]]:
    """All rows of one feed file across the tree, each with its business date as `_day`."""
    out = []
    for day in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for r in read_csv(day / feed / name):
            r["_day"] = day.name
            out.append(r)
    return out


def tree_hashes(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.name.startswith(".")}


@pytest.fixture(scope="session")
def demo(tmp_path_factory) -> tuple[Path, dict]:
    """The default demo: 22 business days, 300 accounts, 2,000 fills a day, seed 7."""
    out = tmp_path_factory.mktemp("demo")
    return out, generate(GeneratorConfig(out=out, quiet=True))


@pytest.fixture(scope="session")
def small_both(tmp_path_factory) -> tuple[Path, dict]:
    """Both custody forms and Parquet trades."""
    out = tmp_path_factory.mktemp("both")
    cfg = GeneratorConfig(out=out, days=8, accounts=60, providers=6, instruments=20, fills_per_day=600, seed=11,
                          custody_format="both", trades_format="parquet", quiet=True)
    return out, generate(cfg)


@pytest.fixture(scope="session")
def example(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("worked_example")
    return out, worked_example(out)
