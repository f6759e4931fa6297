"""Shared fixtures: one generated sample platform, loaded and built once per test session.

The default sample (one month, 300 accounts, seed 7) is generated into a temp folder, loaded into
a temp DuckDB warehouse with the ingestion loader and built with `dbt build` (its own target dir,
so the project's prepared manifest is untouched).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
DBT_DIR = REPO / "dbt_project"


def dbt_bin() -> str:
    return str(Path(sys.executable).with_name("dbt"))


def run_dbt(args: list[str], warehouse: Path, target: Path, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "MARGINFLOW_WAREHOUSE": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    cmd = [dbt_bin(), *args, "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR),
           "--target-path", str(target), "--log-path", str(target / "logs")]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"dbt {' '.join(args)} failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-2000:]}")
    return proc


@pytest.fixture(scope="session")
def sample_landing(tmp_path_factory) -> Path:
    """The default demo platform (same generator settings as `make demo`)."""
    from simulator import GeneratorConfig, generate

    out = tmp_path_factory.mktemp("landing")
    generate(GeneratorConfig(out=out, quiet=True))
    return out


@pytest.fixture(scope="session")
def sample_warehouse(sample_landing, tmp_path_factory) -> Path:
    """The sample landing zone loaded into raw tables."""
    from assets.common.warehouse import connect
    from assets.ingest.load import load_landing

    path = tmp_path_factory.mktemp("warehouse") / "warehouse.duckdb"
    with connect(path) as con:
        load_landing(con, sample_landing)
    return path


@pytest.fixture(scope="session")
def built_warehouse(sample_warehouse, tmp_path_factory) -> Path:
    """The sample warehouse after a full `dbt build` (models and data tests)."""
    target = tmp_path_factory.mktemp("dbt_target")
    run_dbt(["build"], sample_warehouse, target)
    return sample_warehouse


def check_landing_module():
    """../shared/tools/check_landing.py, or skip when ../shared is not beside the repo."""
    path = SHARED / "tools" / "check_landing.py"
    if not path.exists():
        pytest.skip("../shared/tools/check_landing.py not found: the landing contract check runs only with "
                    "../shared beside the repository (as in CI)")
    import importlib.util

    spec = importlib.util.spec_from_file_location("check_landing", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["check_landing"] = mod
    spec.loader.exec_module(mod)
    return mod
