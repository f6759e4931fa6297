"""``python -m bench``: generate a scale platform, time every stage against its floor, write the table."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import shutil
import sys
from pathlib import Path

from bench.measure import StageResult, run_stage
from bench.report import render

REPO = Path(__file__).resolve().parents[1]

# stage groups accepted by --stages, and the stage processes each runs (in this order)
GROUPS = {
    "generate": ["generate"],
    "ingest": ["dbt_parse", "ingest"],
    "gates": ["gates"],
    "dbt": ["dbt"],
    "rerun": ["rerun"],
    "floor": ["floor_ingest", "floor_scan", "floor_compile", "floor_marts"],
    "reports": ["monthly_marts", "regulatory", "statements", "prep_html", "floor_monthly", "floor_regulatory",
                "floor_statements"],
    "defs": ["defs_load", "import_floor"],
}
DEFAULT_STAGES = ",".join(GROUPS)


def _ints(text: str) -> list[int]:
    return [int(x.replace("_", "")) for x in text.split(",") if x.strip()]


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--fills", default="1000000,10000000", help="fills per business day, one platform each")
    ap.add_argument("--accounts", type=int, default=100_000)
    ap.add_argument("--providers", type=int, default=1_000)
    ap.add_argument("--instruments", type=int, default=2_000)
    ap.add_argument("--statements", type=int, default=1_000, help="provider statements to render (0 = every provider)")
    ap.add_argument("--floor-statements", type=int, default=200,
                    help="statements the bare-render floor renders (per-statement times are compared)")
    ap.add_argument("--reports-on", type=int, default=None,
                    help="fills size whose warehouse the reports stages use (default: the smallest)")
    ap.add_argument("--rerun-on", type=int, default=None,
                    help="fills size whose partition is re-run unchanged (default: the smallest)")
    ap.add_argument("--stages", default=DEFAULT_STAGES,
                    help=f"comma list of stage groups: {', '.join(GROUPS)} (a group needs what the earlier ones "
                         "left in --work: run with --keep to reuse a generated platform)")
    ap.add_argument("--day", default="2026-09-01", help="the business date (a weekday)")
    ap.add_argument("--custody-format", choices=("xml", "csv", "both"), default="xml")
    ap.add_argument("--work", type=Path, default=REPO / "bench" / "work", help="work folder (git-ignored)")
    ap.add_argument("--results", type=Path, default=REPO / "bench" / "results", help="where the tables are written")
    ap.add_argument("--keep", action="store_true", help="keep landing files, warehouses and PDFs after the run")
    ap.add_argument("--label", default="", help="suffix of the dated results file")
    ap.add_argument("--readme", type=Path, default=None,
                    help="also put the table between the bench markers of this file (make bench: README.md)")
    ap.add_argument("--quiet", action="store_true", help="no progress display")
    ap.add_argument("--from-json", type=Path, default=None,
                    help="re-render the table of an earlier run from its results .json (runs nothing)")
    return ap


def _env(ctx: dict) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBT_", "MARGINFLOW_"))}
    env.update({
        "PYTHONPATH": str(REPO) + (os.pathsep + os.environ["PYTHONPATH"] if os.environ.get("PYTHONPATH") else ""),
        "MARGINFLOW_LANDING": ctx["landing"], "MARGINFLOW_WAREHOUSE": ctx["warehouse"],
        "MARGINFLOW_LAKE": ctx["lake"], "MARGINFLOW_REPORTS": ctx["reports"],
        "MARGINFLOW_PARTITIONS_START": f"{ctx['day'][:4]}-01-01",
        "DAGSTER_HOME": ctx["dagster_home"],
        # dagster-dbt runs dbt in <DBT_TARGET_PATH>/<unique>/: the run's own folder, never dbt_project/target
        "DBT_TARGET_PATH": ctx["dbt_target"], "DBT_LOG_PATH": ctx["dbt_target"],
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "GX_ANALYTICS_ENABLED": "False",
        "PYTHONUNBUFFERED": "1", "TQDM_DISABLE": "1",
    })
    return env


def _context(args, fills: int, root: Path, reports: bool) -> dict:
    d = root / f"fills_{fills}"
    day = args.day
    return {
        "repo": str(REPO), "work": str(d), "day": day, "month": day[:7], "fills": fills,
        "accounts": args.accounts, "providers": args.providers, "instruments": args.instruments,
        "custody_format": args.custody_format,
        "landing": str(d / "landing"), "warehouse": str(d / "warehouse.duckdb"), "lake": str(d / "lake"),
        "reports": str(d / "reports"), "dagster_home": str(d / "dagster_home"), "dbt_target": str(d / "dbt_target"),
        "floor_db": str(d / "floor.duckdb"), "floor_target": str(d / "floor_target"), "html_dir": str(d / "html"),
        "statements": args.statements, "floor_statements": args.floor_statements or args.statements, "workers": 2,
        "vars": json.dumps({"end_date": day, "start_date": day}, sort_keys=True), "reports_stage": reports,
    }


def _prepare(ctx: dict, fresh: bool) -> None:
    d = Path(ctx["work"])
    if fresh and d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True, exist_ok=True)
    home = Path(ctx["dagster_home"])
    home.mkdir(parents=True, exist_ok=True)
    src = REPO / "dagster_home" / "dagster.yaml"
    if src.exists():
        shutil.copy(src, home / "dagster.yaml")
    Path(ctx["dbt_target"]).mkdir(parents=True, exist_ok=True)


def _cleanup(ctx: dict) -> None:
    """Big files go; the stage logs and measurements stay."""
    d = Path(ctx["work"])
    for name in ("landing", "lake", "reports", "html", "dagster_home", "prep_reports"):
        shutil.rmtree(d / name, ignore_errors=True)
    for p in d.glob("*.duckdb*"):
        p.unlink(missing_ok=True)
    for t in (Path(ctx["dbt_target"]), Path(ctx["floor_target"])):
        for sub in t.glob("*"):
            if sub.is_dir() and sub.name != "logs":
                shutil.rmtree(sub, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.from_json:
        return rerender(args.from_json, args.results)
    fills = _ints(args.fills)
    groups = [g.strip() for g in args.stages.split(",") if g.strip()]
    unknown = [g for g in groups if g not in GROUPS]
    if unknown:
        parser().error(f"unknown stage group(s) {unknown}; known: {', '.join(GROUPS)}")
    manifest = REPO / "dbt_project" / "target" / "manifest.json"
    if any(g in groups for g in ("ingest", "gates", "dbt", "rerun", "reports", "defs")) and not manifest.exists():
        print(f"{manifest} not found: run `make dbt-parse` first (the Dagster definitions load it)", file=sys.stderr)
        return 2
    root = args.work.resolve()
    root.mkdir(parents=True, exist_ok=True)
    reports_on = args.reports_on or min(fills)
    rerun_on = args.rerun_on or min(fills)
    cfg = {**vars(args), "repo": str(REPO), "command": "python -m bench " + shlex.join(argv or sys.argv[1:])}
    results: dict[int, dict[str, StageResult]] = {}
    once: dict[str, StageResult] = {}
    failed = False
    for n in fills:
        ctx = _context(args, n, root, reports=n == reports_on)
        _prepare(ctx, fresh="generate" in groups)
        env = _env(ctx)
        todo = [s for g in groups if g != "defs" for s in GROUPS[g]
                if not (g == "reports" and n != reports_on) and not (g == "rerun" and n != rerun_on)]
        r: dict[str, StageResult] = {}
        if not args.quiet:
            print(f"— {n:,} fills/day: {len(todo)} stages in {ctx['work']}", file=sys.stderr, flush=True)
        for stage in todo:
            res = run_stage(f"{stage}", stage, ctx, Path(ctx["work"]), env, quiet=args.quiet)
            r[stage] = res
            if res.returncode != 0:
                failed = True
                if stage in ("generate", "dbt_parse", "floor_compile", "prep_html"):
                    # what depends on it cannot run; say so and go on with the next size
                    print(f"{stage} failed: {res.error} (log: {ctx['work']}/{stage}.log)", file=sys.stderr)
                    break
        results[n] = r
        (Path(ctx["work"]) / "results.json").write_text(json.dumps({k: v.to_dict() for k, v in r.items()}, indent=1))
        if not args.keep:
            _cleanup(ctx)
    if "defs" in groups:
        ctx = _context(args, min(fills), root, reports=False)
        _prepare(ctx, fresh=False)
        for stage in GROUPS["defs"]:
            once[stage] = run_stage(stage, stage, ctx, root, _env(ctx), quiet=args.quiet)
    cfg["finished_at"] = dt.datetime.now().astimezone().isoformat(timespec="minutes")
    table = render(results, once, cfg, when=cfg["finished_at"])
    args.results.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y-%m-%d_%H%M")
    dated = args.results / f"{stamp}{'_' + args.label if args.label else ''}.md"
    dated.write_text(table)
    (args.results / "latest.md").write_text(table)
    cfg["finished_at"] = dt.datetime.now().astimezone().isoformat(timespec="minutes")
    raw = {"config": {k: str(v) for k, v in cfg.items()},
           "results": {str(n): {k: v.to_dict() for k, v in r.items()} for n, r in results.items()},
           "once": {k: v.to_dict() for k, v in once.items()}}
    dated.with_suffix(".json").write_text(json.dumps(raw, indent=1, default=str))
    if args.readme is not None:
        update_readme(args.readme, table, dated)
    print(table)
    print(f"written: {dated} and {args.results / 'latest.md'}", file=sys.stderr)
    return 1 if failed else 0


README_START, README_END = "<!-- bench:start -->", "<!-- bench:end -->"


def update_readme(readme: Path, table: str, source: Path) -> bool:
    """Replace what stands between the bench markers of ``readme`` with ``table`` (its title dropped,
    headings demoted under the README's section); False when the file has no markers."""
    text = readme.read_text()
    if README_START not in text or README_END not in text:
        print(f"{readme}: no {README_START} … {README_END} block: not updated", file=sys.stderr)
        return False
    body = [("#" + ln if ln.startswith("## ") else ln) for ln in table.strip().splitlines() if not ln.startswith("# ")]
    while body and not body[0].strip():
        body.pop(0)
    try:
        where = source.relative_to(readme.resolve().parent)
    except ValueError:
        where = source
    block = "\n".join([README_START, f"_Written by `python -m bench` from `{where}`._", "", *body, README_END])
    head, rest = text.split(README_START, 1)
    readme.write_text(head + block + rest.split(README_END, 1)[1])
    return True


def _stage(d: dict) -> StageResult:
    return StageResult(**{k: v for k, v in d.items() if k in StageResult.__dataclass_fields__})


def rerender(path: Path, results_dir: Path) -> int:
    """The Markdown of a finished run again (e.g. after a change to the table), from its raw JSON."""
    raw = json.loads(path.read_text())
    cfg = dict(raw["config"])
    for k in ("accounts", "providers", "instruments"):
        cfg[k] = int(cfg[k])
    results = {int(n): {k: _stage(v) for k, v in r.items()} for n, r in raw["results"].items()}
    once = {k: _stage(v) for k, v in raw["once"].items()}
    table = render(results, once, cfg, when=cfg.get("finished_at"))
    path.with_suffix(".md").write_text(table)
    results_dir.mkdir(parents=True, exist_ok=True)
    latest = results_dir / "latest.md"
    newest = max((p for p in results_dir.glob("*.json")), key=lambda p: p.name, default=None)
    if newest is None or newest.resolve() == path.resolve():
        latest.write_text(table)
    print(table)
    return 0
