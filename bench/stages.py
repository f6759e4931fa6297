"""Stage bodies, each run in its own process: ``python -m bench.stages <stage> <ctx.json> <out.json>``.

The pipeline stages run the project's own code the way the daily and monthly runs do:
ingestion, gates and dbt go through the Dagster definitions (``orchestration.definitions.defs``,
in-process executor, a throw-away instance under the work dir), one Dagster run per stage; the
reports call ``render_regulatory_report`` and ``render_all_statements(workers=2)`` (the report assets
do the same after their publication gate, which the benchmark skips: at this scale a gate may fail).
The floor stages are in ``bench.floor``. Each stage writes ``{"ok", "setup_s", "work_s", "info",
"error"}`` to ``out.json``; the parent measures the process (``bench.measure``).
"""
from __future__ import annotations

import json
import os
import pickle
import sys
import time
import traceback
from pathlib import Path

T0 = time.perf_counter()

DAY_JOBS = ("ingest", "gates", "dbt")
QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


# ----------------------------------------------------------------------------- Dagster stages
def _bench_defs():
    """The project's definitions plus the stage jobs (same assets and checks, split by stage)."""
    import dagster as dg

    from assets.ingest.assets import ingest_assets
    from assets.metrics.assets import dbt_monthly_models
    from orchestration.definitions import defs

    jobs = [
        dg.define_asset_job("bench_ingest", selection=dg.AssetSelection.assets(*ingest_assets).without_checks()),
        dg.define_asset_job("bench_gates", selection=dg.AssetSelection.checks_for_assets(*ingest_assets)),
        dg.define_asset_job("bench_monthly_marts", selection=dg.AssetSelection.assets(dbt_monthly_models)),
    ]
    return dg.Definitions.merge(defs, dg.Definitions(jobs=jobs))


def _run_job(defs, job: str, partition: str) -> dict:
    import dagster as dg

    instance = dg.DagsterInstance.get()
    t = time.perf_counter()
    # the partition as a run tag: a checks-only job has no asset whose partitions Dagster could validate
    # the key against (execute_in_process(partition_key=...) refuses it), the checks read it all the same
    result = defs.resolve_job_def(job).execute_in_process(tags={"dagster/partition": partition}, instance=instance,
                                                         raise_on_error=False, run_config=QUIET)
    seconds = time.perf_counter() - t
    checks = result.get_asset_check_evaluations()
    failed_checks = [f"{'/'.join(ev.asset_key.path)}:{ev.check_name}" for ev in checks if not ev.passed]
    failed_steps = [e.step_key for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    mats = [e.event_specific_data.materialization for e in result.all_events
            if e.event_type_value == "ASSET_MATERIALIZATION"]
    return {"job": job, "seconds": round(seconds, 3), "success": result.success, "materializations": len(mats),
            "checks": len(checks), "failed_checks": failed_checks, "failed_steps": failed_steps,
            # work skipped on unchanged inputs: loads that kept the earlier load, gates that reused a pass
            "unchanged": sum(1 for m in mats if _flag(m.metadata, "unchanged")),
            "reused": sum(1 for ev in checks if _flag(ev.metadata, "reused"))}


def _flag(metadata, key: str) -> bool:
    value = (metadata or {}).get(key)
    return getattr(value, "value", value) is True


_JOB = {"ingest": "bench_ingest", "gates": "bench_gates", "dbt": "daily_metrics"}


def _dbt_parse_info(target: Path) -> dict:
    """Whether the dbt invocation Dagster ran could parse partially (its log in its own target dir)."""
    logs = sorted(target.glob("*/dbt.log"), key=lambda p: p.stat().st_mtime)
    if not logs:
        return {}
    text = logs[-1].read_text(errors="replace")
    marker = "Unable to do partial parsing because "
    if marker in text:
        reason = text.split(marker, 1)[1].split('"', 1)[0].split("\n", 1)[0].strip()
        return {"dbt_parse": {"partial_parse": False, "reason": reason}}
    return {"dbt_parse": {"partial_parse": True, "reason": ""}}


def stage_day(ctx: dict, which: str) -> dict:
    defs = _bench_defs()
    setup = time.perf_counter() - T0
    info = _run_job(defs, _JOB[which], ctx["day"])
    if which == "dbt":
        info.update(_dbt_parse_info(Path(ctx["dbt_target"])))
    # a gate that fails is a result, not a harness error: the stage ran
    ok = not info["failed_steps"] or which == "gates"
    return {"ok": ok and (info["success"] or which == "gates"), "setup_s": setup, "work_s": info["seconds"],
            "info": info}


def stage_rerun(ctx: dict) -> dict:
    """The same partition again, unchanged: ingest, gates and dbt as the daily job re-runs them."""
    defs = _bench_defs()
    setup = time.perf_counter() - T0
    runs = {w: _run_job(defs, _JOB[w], ctx["day"]) for w in DAY_JOBS}
    work = sum(r["seconds"] for r in runs.values())
    info = {w: {k: r[k] for k in ("seconds", "success", "materializations", "unchanged", "checks", "reused")}
            for w, r in runs.items()}
    info["failed_checks"] = [c for r in runs.values() for c in r["failed_checks"]]
    # as for the gates stage, a failed gate is a result; a failed ingest or dbt step is not
    return {"ok": not runs["ingest"]["failed_steps"] and not runs["dbt"]["failed_steps"], "setup_s": setup,
            "work_s": work, "info": info}


def stage_monthly_marts(ctx: dict) -> dict:
    defs = _bench_defs()
    setup = time.perf_counter() - T0
    info = _run_job(defs, "bench_monthly_marts", ctx["month"])
    return {"ok": info["success"], "setup_s": setup, "work_s": info["seconds"], "info": info}


def stage_defs_load(ctx: dict) -> dict:
    from orchestration.definitions import defs  # noqa: F401 - the import is what is timed

    return {"ok": True, "setup_s": 0.0, "work_s": time.perf_counter() - T0, "info": {}}


def stage_import_floor(ctx: dict) -> dict:
    """Floor of the definitions load: importing dagster and dagster_dbt, nothing of the project."""
    import dagster  # noqa: F401
    import dagster_dbt  # noqa: F401

    return {"ok": True, "setup_s": 0.0, "work_s": time.perf_counter() - T0, "info": {}}


# ----------------------------------------------------------------------------- generation, dbt parse
def stage_generate(ctx: dict) -> dict:
    from simulator.cli import main as generate

    setup = time.perf_counter() - T0
    t = time.perf_counter()
    args = ["--out", ctx["landing"], "--accounts", str(ctx["accounts"]), "--providers", str(ctx["providers"]),
            "--instruments", str(ctx["instruments"]), "--days", "1", "--fills-per-day", str(ctx["fills"]),
            "--start", ctx["day"], "--custody-format", ctx["custody_format"], "--quiet"]
    rc = generate(args)
    sizes = {}
    for p in Path(ctx["landing"]).rglob("*"):
        if p.is_file() and not p.name.startswith("."):
            sizes[p.parent.name] = sizes.get(p.parent.name, 0) + p.stat().st_size
    days = sorted(p.name for p in Path(ctx["landing"]).iterdir() if p.is_dir() and not p.name.startswith("."))
    return {"ok": rc in (0, None), "setup_s": setup, "work_s": time.perf_counter() - t,
            "info": {"bytes": sizes, "days": days}}


def stage_dbt_parse(ctx: dict) -> dict:
    """``dbt parse`` into the run's own target dir (what ``make dbt-parse`` prepares; setup, not a stage)."""
    from bench.floor import dbt

    t = time.perf_counter()
    proc = dbt(["parse"], Path(ctx["warehouse"]), Path(ctx["dbt_target"]))
    return {"ok": proc.returncode == 0, "setup_s": 0.0, "work_s": time.perf_counter() - t,
            "error": "" if proc.returncode == 0 else proc.stdout[-2000:] + proc.stderr[-1000:]}


# ----------------------------------------------------------------------------- reports
def _month_bounds(month: str):
    import calendar
    import datetime as dt

    y, m = map(int, month.split("-"))
    return dt.date(y, m, 1), dt.date(y, m, calendar.monthrange(y, m)[1])


def stage_regulatory(ctx: dict) -> dict:
    import logging

    from assets.reports.render import render_regulatory_report

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    setup = time.perf_counter() - T0
    start, end = _month_bounds(ctx["month"])
    t = time.perf_counter()
    res = render_regulatory_report(ctx["warehouse"], start, end, ctx["reports"], run_id="bench")
    return {"ok": True, "setup_s": setup, "work_s": time.perf_counter() - t,
            "info": {"pages": res.pages, "path": str(res.path)}}


def _statement_ids(ctx: dict) -> list[str]:
    from assets.reports.statements import provider_ids

    ids = provider_ids(ctx["warehouse"], ctx["month"])
    return ids[: ctx["statements"]] if ctx.get("statements") else ids


def stage_statements(ctx: dict) -> dict:
    from assets.reports.statements import render_all_statements

    ids = _statement_ids(ctx)
    setup = time.perf_counter() - T0
    t = time.perf_counter()
    results = render_all_statements(ctx["warehouse"], ctx["month"], ctx["reports"], run_id="bench",
                                    workers=ctx.get("workers", 2), providers=ids)
    work = time.perf_counter() - t
    pages = [r.pages for r in results]
    return {"ok": len(results) == len(ids), "setup_s": setup, "work_s": work,
            "info": {"statements": len(results), "per_statement_s": work / max(len(results), 1),
                     "pages_mean": sum(pages) / max(len(pages), 1)}}


def stage_prep_html(ctx: dict) -> dict:
    """Pre-built HTML (+ attachments) of the regulatory report and of the floor's statements (setup)."""
    import logging

    from assets.common.warehouse import connect
    from assets.reports.figures import Marts, Period
    from assets.reports.render import build_regulatory
    from assets.reports.statements import LeakScanner, _provider_directory, build_statement, platform_block

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    start, end = _month_bounds(ctx["month"])
    t = time.perf_counter()
    html_dir = Path(ctx["html_dir"])
    html_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(ctx["work"]) / "prep_reports"
    reg = build_regulatory(ctx["warehouse"], start, end, scratch, run_id="bench")
    (html_dir / "regulatory.pkl").write_bytes(pickle.dumps((reg.html, reg.attachments)))
    ids = _statement_ids(ctx)[: ctx["floor_statements"]]
    built = []
    with connect(ctx["warehouse"], read_only=True) as con:
        m = Marts(con)
        platform = platform_block(m, Period.month(ctx["month"]))
        directory = _provider_directory(m)
        scanner = LeakScanner((i for i, _ in directory), (n for _, n in directory))
        for pid in ids:
            b = build_statement(con, ctx["month"], pid, scratch, run_id="bench", platform=platform, scanner=scanner)
            built.append((pid, b.html, b.attachments))
    (html_dir / "statements.pkl").write_bytes(pickle.dumps(built))
    return {"ok": True, "setup_s": 0.0, "work_s": time.perf_counter() - t, "info": {"statements": len(built)}}


def _bare_init() -> None:
    import logging

    import weasyprint  # noqa: F401 - imported before the clock starts, as the pipeline's workers are warm

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)


def _bare_render(job) -> int:
    from assets.reports.render import html_to_pdf

    html, attachments = job
    return len(html_to_pdf(html, attachments))


def stage_floor_regulatory(ctx: dict) -> dict:
    _bare_init()
    html, atts = pickle.loads((Path(ctx["html_dir"]) / "regulatory.pkl").read_bytes())
    setup = time.perf_counter() - T0
    t = time.perf_counter()
    size = _bare_render((html, atts))
    return {"ok": size > 0, "setup_s": setup, "work_s": time.perf_counter() - t, "info": {"bytes": size}}


def stage_floor_statements(ctx: dict) -> dict:
    """WeasyPrint rendering the same pre-built statement HTML, ``workers`` processes, nothing else."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    built = pickle.loads((Path(ctx["html_dir"]) / "statements.pkl").read_bytes())
    jobs = [(html, atts) for _, html, atts in built]
    workers = ctx.get("workers", 2)
    setup = time.perf_counter() - T0
    if workers <= 1:
        _bare_init()
        t = time.perf_counter()
        sizes = [_bare_render(j) for j in jobs]
    else:
        mp = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=mp, initializer=_bare_init) as pool:
            list(pool.map(_noop, range(workers * 2)))  # workers up and warm before the clock starts
            t = time.perf_counter()
            sizes = list(pool.map(_bare_render, jobs))
    work = time.perf_counter() - t
    return {"ok": all(sizes), "setup_s": setup, "work_s": work,
            "info": {"statements": len(jobs), "per_statement_s": work / max(len(jobs), 1)}}


def _noop(_):
    return None


# ----------------------------------------------------------------------------- floor
def stage_floor_ingest(ctx: dict) -> dict:
    from bench import floor

    db = Path(ctx["floor_db"])
    for p in (db, db.with_suffix(".duckdb.wal")):
        p.unlink(missing_ok=True)
    setup = time.perf_counter() - T0
    t = time.perf_counter()
    info = floor.ingest(db, Path(ctx["landing"]), ctx["day"])
    return {"ok": True, "setup_s": setup, "work_s": time.perf_counter() - t, "info": info}


def stage_floor_scan(ctx: dict) -> dict:
    from bench import floor

    setup = time.perf_counter() - T0
    t = time.perf_counter()
    info = floor.scan(Path(ctx["warehouse"]), ctx["day"])
    return {"ok": True, "setup_s": setup, "work_s": time.perf_counter() - t, "info": info}


def stage_floor_compile(ctx: dict) -> dict:
    from bench import floor

    t = time.perf_counter()
    info = floor.compile_models(Path(ctx["floor_db"]), Path(ctx["floor_target"]), ctx["vars"])
    return {"ok": True, "setup_s": 0.0, "work_s": time.perf_counter() - t, "info": info}


def stage_floor_marts(ctx: dict, monthly: bool) -> dict:
    from bench import floor

    setup = time.perf_counter() - T0
    t = time.perf_counter()
    info = floor.marts(Path(ctx["floor_db"]), Path(ctx["floor_target"]) / "manifest.json", monthly)
    return {"ok": True, "setup_s": setup, "work_s": time.perf_counter() - t, "info": info}


STAGES = {
    "generate": stage_generate,
    "dbt_parse": stage_dbt_parse,
    "ingest": lambda c: stage_day(c, "ingest"),
    "gates": lambda c: stage_day(c, "gates"),
    "dbt": lambda c: stage_day(c, "dbt"),
    "rerun": stage_rerun,
    "monthly_marts": stage_monthly_marts,
    "regulatory": stage_regulatory,
    "statements": stage_statements,
    "defs_load": stage_defs_load,
    "import_floor": stage_import_floor,
    "prep_html": stage_prep_html,
    "floor_ingest": stage_floor_ingest,
    "floor_scan": stage_floor_scan,
    "floor_compile": stage_floor_compile,
    "floor_marts": lambda c: stage_floor_marts(c, False),
    "floor_monthly": lambda c: stage_floor_marts(c, True),
    "floor_regulatory": stage_floor_regulatory,
    "floor_statements": stage_floor_statements,
}


def main(argv: list[str]) -> int:
    stage, ctx_path, out_path = argv
    ctx = json.loads(Path(ctx_path).read_text())
    sys.path.insert(0, ctx["repo"])
    try:
        out = STAGES[stage](ctx)
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which keeps going
        traceback.print_exc()
        out = {"ok": False, "error": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:500]}
        Path(out_path).write_text(json.dumps(out, default=str))
        return 1
    Path(out_path).write_text(json.dumps(out, default=str))
    return 0


if __name__ == "__main__":
    # spawned statement workers re-import this module: only the command line runs a stage
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    sys.exit(main(sys.argv[1:]))
