"""Every fault kind of the generator is stopped by a gate of the daily run, named, and loses nothing;
after the bad file is replaced, a re-run publishes.

One small platform (5 business days) is loaded and built once; each fault gets a private copy, is
injected into one business date, and that date's daily job runs in-process through Dagster (ingest →
blocking checks → dbt build with the cross-feed gates). The faults come from simulator.faults.
"""
from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assets.common.resources import LandingResource, ReportsResource, WarehouseResource
from assets.ingest.assets import ingest_assets
from assets.ingest.load import business_dates, load_landing
from assets.metrics.assets import dbt_daily_models, dbt_resource
from assets.quality.checks import feed_checks
from assets.quality.gate_log import period_gate_problems
from simulator.faults import KINDS, inject
from tests.conftest import run_dbt

QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
RULE = r"[a-z_]+\.[a-z_]+"


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    from assets.common.warehouse import connect
    from simulator import GeneratorConfig, generate

    root = tmp_path_factory.mktemp("faults_base")
    generate(GeneratorConfig(out=root / "landing", days=5, accounts=40, quiet=True))
    with connect(root / "wh" / "warehouse.duckdb") as con:
        load_landing(con, root / "landing")
    run_dbt(["build", "--exclude-resource-type", "unit_test"], root / "wh" / "warehouse.duckdb", root / "target")
    return root


def gate_models() -> list[dg.AssetKey]:
    """The dbt models the gates read (ancestors of every test tagged `gate`): the part of the daily dbt
    build that decides publication. Building only these keeps 18 faults × 2 runs affordable."""
    import json

    from assets.metrics.project import dbt_project, model_layer

    nodes = json.loads(dbt_project.manifest_path.read_text())["nodes"]
    todo = [n for n, v in nodes.items() if v["resource_type"] == "test" and "gate" in v.get("tags", [])]
    seen: set[str] = set()
    while todo:
        for parent in nodes.get(todo.pop(), {}).get("depends_on", {}).get("nodes", []):
            if parent in nodes and parent not in seen and nodes[parent]["resource_type"] == "model":
                seen.add(parent)
                todo.append(parent)
    return [dg.AssetKey([model_layer(nodes[n]), nodes[n]["name"]]) for n in sorted(seen)]


def run_day(work: Path, day: str) -> tuple[bool, list[str], bool]:
    """The daily job for one business date (ingest → blocking checks → dbt models the gates read, with
    their tests): (success, what stopped it, whether dbt built models)."""
    resources = {
        "warehouse": WarehouseResource(path=str(work / "wh" / "warehouse.duckdb"), lake_dir=str(work / "lake")),
        "landing": LandingResource(root=str(work / "landing")),
        "reports": ReportsResource(root=str(work / "reports")),
        "dbt": dbt_resource(),
    }
    selection = dg.AssetSelection.assets(*ingest_assets) | dg.AssetSelection.assets(*GATE_MODELS)
    result = dg.materialize([*ingest_assets, *feed_checks, dbt_daily_models], partition_key=day,
                            resources=resources, raise_on_error=False, run_config=QUIET,
                            instance=dg.DagsterInstance.ephemeral(), selection=selection)
    messages = []
    for e in result.all_events:
        if e.event_type_value == "STEP_FAILURE":
            messages.append(e.event_specific_data.error.message)
        elif e.event_type_value == "ASSET_CHECK_EVALUATION" and not e.event_specific_data.passed:
            ev = e.event_specific_data
            if ev.severity == dg.AssetCheckSeverity.ERROR:
                messages.append(f"{ev.asset_check_key.name}: {ev.description}")
    dbt_ran = any(m.asset_key.path[0] != "raw" for m in result.get_asset_materialization_events())
    return result.success, messages, dbt_ran


GATE_MODELS = gate_models()


def touched_days(rec, days: list[str]) -> list[str]:
    return sorted({f.split("/")[0] for f in rec.files} & set(days))


def delivered_entries_change(rec, landing: Path) -> int:
    """Custody entries (camt.053 <Ntry>) in the landing tree now minus before the fault."""
    change = 0
    for rel, original in rec.originals.items():
        if rel.endswith(".xml"):
            now = (landing / rel).read_bytes() if (landing / rel).exists() else b""
            change += now.count(b"<Ntry>") - (original or b"").count(b"<Ntry>")
    return change


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("kind", KINDS)
def test_fault_is_stopped_named_and_loses_nothing(kind, base, tmp_path):
    work = tmp_path / "work"
    shutil.copytree(base, work, ignore=shutil.ignore_patterns("target"))
    days = business_dates(work / "landing")
    rec = inject(work / "landing", kind, days[2])
    wh = work / "wh" / "warehouse.duckdb"
    with duckdb.connect(str(wh), read_only=True) as con:
        before = {f: con.execute(f"select count(*) from raw.{f}").fetchone()[0]
                  for f in ("trades", "ledger_entries", "capital_events", "providers", "custody_entries")}

    outcomes = [run_day(work, day) for day in touched_days(rec, days)]
    assert not all(ok for ok, _, _ in outcomes), f"{kind}: the daily run published despite the fault"
    messages = [m for _, ms, _ in outcomes for m in ms]
    text = "\n".join(messages)
    # the failure names the file (one of those the fault touched) and a rule
    # (a file the fault removed is named by its folder: "<date>/custody: no statement for <account>")
    named = [Path(f).name if (work / "landing" / f).exists() else Path(f).parent.as_posix() for f in rec.files]
    assert any(n in text for n in named), f"{kind}: no file named in\n{text[:3000]}"
    assert re.search(RULE, text), f"{kind}: no rule named in\n{text[:3000]}"
    # blocked: a fault stopped at ingest or a feed check never reaches the marts of that run
    for ok, ms, dbt_ran in outcomes:
        if not ok and any("gx_suite" in m or "quarantine_policy" in m or "FeedError" in m or "file." in m
                          for m in ms) and not any("dbt build failed" in m for m in ms):
            assert not dbt_ran, f"{kind}: dbt ran although a blocking check failed"

    # nothing lost: each touched file still present is fully accounted for, or was refused as a whole
    with duckdb.connect(str(wh), read_only=True) as con:
        for rel in rec.files:
            path = work / "landing" / rel
            if not path.exists() or path.suffix == ".xml":
                continue
            row = con.execute("select rows_in_file, rows_loaded, rows_quarantined, rows_duplicate "
                              "from raw.file_manifest where file = ? and sha256 = ?", [rel, sha(path)]).fetchone()
            if row is not None:
                assert row[0] == row[1] + row[2] + row[3], f"{kind}: {rel} rows not accounted for: {row}"
                lines = path.read_bytes().count(b"\n") - 1 + (0 if path.read_bytes().endswith(b"\n") else 1)
                assert row[0] == lines, f"{kind}: {rel} has {lines} rows, manifest says {row[0]}"
        # a refused file leaves the previous load in place; a quarantined row moves, it does not vanish;
        # custody entries the fault took away (or added) were never (or were) delivered: count the change
        for feed, n in before.items():
            if feed == "custody_entries":
                n += delivered_entries_change(rec, work / "landing")
            after = con.execute(f"select count(*) from raw.{feed}").fetchone()[0]
            held = con.execute("select count(*) from raw.quarantine where feed = ?", [feed]).fetchone()[0]
            assert after + held >= n, f"{kind}: raw.{feed} lost rows ({n} expected, {after} + {held} quarantined)"

    # replace the bad files: the re-run publishes (every gate passes, the marts are built)
    rec.repair()
    for day in touched_days(rec, days):
        ok, ms, dbt_ran = run_day(work, day)
        assert ok and dbt_ran, f"{kind}: re-run after repair did not publish: {ms}"
    with duckdb.connect(str(wh), read_only=True) as con:
        from datetime import date

        for day in touched_days(rec, days):
            assert period_gate_problems(con, date.fromisoformat(day), date.fromisoformat(day)) == []
