"""The results as Markdown: one table of stages with their floors and ratios, then the targets."""
from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
from pathlib import Path

from bench.measure import StageResult

GIB = 1024.0


def _f(x: float | None, nd: int = 1) -> str:
    return "—" if x is None else f"{x:,.{nd}f}"


def _ratio(a: float | None, b: float | None) -> str:
    return "—" if a is None or not b else f"{a / b:.2f}×"


def _versions() -> str:
    parts = []
    for mod in ("duckdb", "dagster", "dbt.version", "great_expectations", "weasyprint", "polars"):
        try:
            m = __import__(mod, fromlist=["x"])
            v = getattr(m, "__version__", None) or getattr(m, "installed", None) or getattr(m, "VERSION", "")
            parts.append(f"{mod.split('.')[0]} {v}")
        except Exception:  # noqa: BLE001 - informational only
            pass
    return ", ".join(parts)


def _git(repo: Path) -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True, text=True,
                              timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return f"{head}{' + uncommitted changes' if dirty else ''}" if head else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _mem_gib() -> str:
    try:
        with open("/proc/meminfo") as fh:
            kb = int(fh.readline().split()[1])
        return f"{kb / 2**20:.0f} GiB"
    except (OSError, ValueError, IndexError):
        return "?"


def chain(r: dict[str, StageResult]) -> float | None:
    """Ingestion → gates → marts as one daily run would take it: the three Dagster runs' own times plus
    one process start and definitions load (each stage process pays its own; a daily run pays it once)."""
    parts = [r.get(k) for k in ("ingest", "gates", "dbt")]
    if any(p is None or p.work_s is None for p in parts):
        return None
    return sum(p.work_s for p in parts) + max(p.setup_s for p in parts)


def floor_chain(r: dict[str, StageResult]) -> float | None:
    a, b = r.get("floor_ingest"), r.get("floor_marts")
    return None if a is None or b is None else a.wall_s + b.wall_s


def _status(s: StageResult) -> str:
    if s.returncode != 0:
        return f"**failed**: {s.error}"
    notes = []
    info = s.info or {}
    if info.get("failed_checks"):
        fc = info["failed_checks"]
        notes.append(f"{len(fc)} check(s) failed: {', '.join(fc[:4])}{' …' if len(fc) > 4 else ''}")
    if info.get("failed_steps"):
        notes.append(f"failed steps: {', '.join(info['failed_steps'][:4])}")
    parts = [f"{k} {v['seconds']:.1f} s" for k, v in info.items() if isinstance(v, dict) and "seconds" in v]
    if parts:
        notes.append(" + ".join(parts))
    p = info.get("dbt_parse")
    if p:
        notes.append("dbt partial parse used" if p["partial_parse"] else f"dbt re-parsed the whole project ({p['reason']})")
    if s.setup_s >= 1:
        notes.append(f"of which {s.setup_s:.1f} s start-up + definitions")
    if not s.ok and not notes:
        notes.append("not ok")
    return "; ".join(notes) or "ok"


def stage_rows(fills: int, r: dict[str, StageResult]) -> list[str]:
    rows = []

    def row(label: str, s: StageResult | None, floor_label: str = "", floor: StageResult | None = None,
            wall: float | None = None, floor_wall: float | None = None, status: str | None = None) -> None:
        if s is None and wall is None:
            return
        w = wall if wall is not None else s.wall_s
        fw = floor_wall if floor_wall is not None else (floor.wall_s if floor else None)
        cpu = s.cpu_s if s else None
        rss = s.tree_rss_mib if s else None
        rows.append(f"| {fills:,} | {label} | {_f(w)} | {_f(cpu)} | {_f(cpu / w if cpu and w else None, 2)} | "
                    f"{_f(rss, 0)} | {floor_label or '—'} | {_f(fw)} | {_ratio(w, fw)} | "
                    f"{status if status is not None else (_status(s) if s else '')} |")

    row("generation (simulator)", r.get("generate"))
    row("ingestion (Dagster raw assets)", r.get("ingest"), "DuckDB read_csv + iterparse", r.get("floor_ingest"))
    row("GX gates (asset checks)", r.get("gates"), "one DuckDB scan of every column", r.get("floor_scan"))
    row("dbt build, daily models + tests", r.get("dbt"), "compiled SQL, one connection", r.get("floor_marts"))
    c, fc = chain(r), floor_chain(r)
    if c is not None:
        rows.append(f"| {fills:,} | **ingestion → gates → marts** | **{_f(c)}** | — | — | "
                    f"{_f(max(r[k].tree_rss_mib for k in ('ingest', 'gates', 'dbt')), 0)} | ingest + marts floors | "
                    f"{_f(fc)} | **{_ratio(c, fc)}** | one start-up counted |")
    rr = r.get("rerun")
    if rr is not None and c is not None:
        row("re-run of the unchanged partition", rr, "first run (chain)", None, wall=rr.work_s + rr.setup_s,
            floor_wall=c, status=_status(rr) + "; ratio = re-run / first run")
    row("dbt build, monthly marts", r.get("monthly_marts"), "compiled SQL, one connection", r.get("floor_monthly"))
    reg, freg = r.get("regulatory"), r.get("floor_regulatory")
    if reg is not None:
        row("regulatory report (build + PDF/A)", reg, "WeasyPrint, pre-built HTML", None, wall=reg.wall_s,
            floor_wall=None, status=f"{_status(reg)}; render {_f(reg.work_s, 2)} s vs bare "
                                    f"{_f(freg.work_s if freg else None, 2)} s = "
                                    f"{_ratio(reg.work_s, freg.work_s if freg else None)}")
    st, fst = r.get("statements"), r.get("floor_statements")
    if st is not None:
        n = st.info.get("statements", 0)
        per = st.info.get("per_statement_s")
        fper = fst.info.get("per_statement_s") if fst else None
        rows.append(f"| {fills:,} | {n:,} provider statements, 2 workers | {_f(st.wall_s)} | {_f(st.cpu_s)} | "
                    f"{_f(st.cpu_s / st.wall_s, 2)} | {_f(st.tree_rss_mib, 0)} | WeasyPrint, pre-built HTML, 2 workers "
                    f"({fst.info.get('statements', 0) if fst else 0} statements) | "
                    f"{_f(fst.work_s * n / max(fst.info.get('statements', 1), 1) if fst else None)} | "
                    f"{_ratio(per, fper)} per statement | {_f(per, 3)} s vs {_f(fper, 3)} s each; {_status(st)} |")
    return rows


def targets(results: dict[int, dict[str, StageResult]], once: dict[str, StageResult], cfg: dict) -> list[str]:
    out = ["| target | measured | verdict |", "|---|---|---|"]

    def verdict(ok: bool | None, miss: str = "") -> str:
        return "—" if ok is None else ("met" if ok else f"**missed** {miss}".strip())

    small = min(results) if results else None
    big = max(results) if results else None
    r = results.get(small, {})
    c, fc = chain(r), floor_chain(r)
    if c is not None and fc:
        gates = r["gates"].wall_s if "gates" in r else None
        why = f"; the GX gates alone are {gates:.1f} s, all of it overhead (the floor has no checks)" if gates else ""
        out.append(f"| {small:,}-fill day: ingestion → gates → marts ≤ 2× the floor | {c:.1f} s vs floor {fc:.1f} s "
                   f"= {c / fc:.2f}× | {verdict(c <= 2 * fc, f'by {c / (2 * fc):.2f}× ({c - 2 * fc:,.0f} s over 2× floor){why}')} |")
        out.append(f"| {small:,}-fill day: ingestion → gates → marts < 60 s | {c:.1f} s | "
                   f"{verdict(c < 60, f'by {c - 60:,.0f} s ({c / 60:.1f}× the budget); the floor alone takes {fc:.1f} s')} |")
    if big is not None and big != small or (big is not None and len(results) == 1):
        rb = results[big]
        stages = [rb[k] for k in ("ingest", "gates", "dbt") if k in rb]
        if stages:
            peak = max(s.tree_rss_mib for s in stages)
            done = all(s.returncode == 0 for s in stages)
            worst = max(stages, key=lambda s: s.tree_rss_mib)
            out.append(f"| {big:,}-fill day completes, peak RSS < 4 GiB | "
                       f"{'completed' if done else 'did not complete'}; peak {peak / GIB:.2f} GiB ({worst.name}) | "
                       f"{verdict(done and peak < 4 * GIB, f'(peak {peak / GIB:.2f} GiB)' if done else '(a stage failed)')} |")
    for fills, rr in results.items():
        st, fst = rr.get("statements"), rr.get("floor_statements")
        if st is None:
            continue
        per, fper = st.info.get("per_statement_s"), (fst.info.get("per_statement_s") if fst else None)
        n = st.info.get("statements", 0)
        if per and fper:
            miss = (f"by {per / (1.3 * fper):.2f}×: figures, chart, isolation scans and atomic writes add "
                    f"{per - fper:.3f} s a statement")
            out.append(f"| provider statement ≤ 1.3× the bare render | {per:.3f} s vs {fper:.3f} s = {per / fper:.2f}× | "
                       f"{verdict(per <= 1.3 * fper, miss)} |")
        proj = per * 1000 if per else None
        both = st.cpu_s / st.wall_s if st.wall_s else 0
        label = f"{n:,} statements" if n == 1000 else f"{n:,} statements (1,000 projected: {_f(proj, 0)} s)"
        ok = (proj or 1e9) < 240 and both >= 1.5
        bare = f"; the bare render alone: {_f(fper * 1000, 0)} s for 1,000" if fper else ""
        out.append(f"| 1,000 statements < 4 min using both cores | {label}: {st.wall_s:.1f} s, CPU/wall {both:.2f} | "
                   f"{verdict(ok, f'({_f(proj, 0)} s projected for 1,000; CPU/wall {both:.2f}{bare})')} |")
    d, fd = once.get("defs_load"), once.get("import_floor")
    if d is not None:
        out.append(f"| Dagster definitions load < 5 s (fresh process) | {d.wall_s:.2f} s "
                   f"(`import dagster, dagster_dbt` alone: {_f(fd.wall_s if fd else None, 2)} s) | "
                   f"{verdict(d.wall_s < 5, f'by {d.wall_s - 5:.2f} s')} |")
    for fills, rr in results.items():
        rerun = rr.get("rerun")
        c = chain(rr)
        if rerun is not None and c:
            t = rerun.work_s + rerun.setup_s
            skipped, what = rerun_skipped(rerun.info or {})
            out.append(f"| re-running an unchanged partition does not redo the heavy work (no file reloaded, no "
                       f"suite re-validated, no dbt build) | {fills:,} fills: {what}; {t:.1f} s = {t / c:.0%} of "
                       f"the first run ({c:.1f} s) | {verdict(skipped, '(some work was redone)')} |")
    return out


def rerun_skipped(info: dict) -> tuple[bool, str]:
    """Whether the re-run skipped the heavy work, from what its three jobs reported."""
    ing, gates, dbt = (info.get(k) or {} for k in ("ingest", "gates", "dbt"))
    if "unchanged" not in ing:  # results written before the bench recorded it
        return False, "skipped work not recorded"
    ok = (ing["materializations"] > 0 and ing["unchanged"] == ing["materializations"]
          and gates["checks"] > 0 and gates["reused"] == gates["checks"] and dbt["materializations"] == 0)
    return ok, (f"{ing['unchanged']}/{ing['materializations']} loads kept, {gates['reused']}/{gates['checks']} "
                f"gates reused, dbt {'not run' if dbt['materializations'] == 0 else 'rebuilt'}")


def render(results: dict[int, dict[str, StageResult]], once: dict[str, StageResult], cfg: dict,
           when: str | None = None) -> str:
    now = dt.datetime.fromisoformat(when) if when else dt.datetime.now().astimezone()
    lines = [f"# Benchmark results {now:%Y-%m-%d %H:%M %Z}", "",
             f"- platform: {cfg['accounts']:,} accounts, {cfg['providers']:,} providers, {cfg['instruments']:,} "
             f"instruments; one business day ({cfg['day']}), custody as camt.053 {cfg['custody_format']}; "
             f"fills per day: {', '.join(f'{f:,}' for f in results) or '—'}",
             f"- machine: {os.cpu_count()} cores, {_mem_gib()}, {platform.platform()}, Python {platform.python_version()}",
             f"- software: {_versions()}; code {_git(Path(cfg['repo']))}",
             f"- command: `{cfg['command']}`",
             "",
             "Wall and CPU (user + system, the stage process and its children) in seconds; peak RSS in MiB is the "
             "whole process tree's resident memory sampled every 0.2 s (at least the largest process's `ru_maxrss`). "
             "× floor = wall ÷ floor wall. Pipeline stages run in their own process, through the project's "
             "Dagster definitions (start-up and definitions load included in their wall).",
             "",
             "| fills/day | stage | wall s | CPU s | CPU/wall | peak RSS MiB | floor | floor s | × floor | notes |",
             "|---:|---|---:|---:|---:|---:|---|---:|---:|---|"]
    for fills, r in results.items():
        lines += stage_rows(fills, r)
    for key, label, floor_key, floor_label in (("defs_load", "Dagster definitions load (fresh process)", "import_floor",
                                                "`import dagster, dagster_dbt`"),):
        s, f = once.get(key), once.get(floor_key)
        if s is not None:
            lines.append(f"| — | {label} | {_f(s.wall_s, 2)} | {_f(s.cpu_s)} | {_f(s.cpu_s / s.wall_s, 2)} | "
                         f"{_f(s.tree_rss_mib, 0)} | {floor_label} | {_f(f.wall_s if f else None, 2)} | "
                         f"{_ratio(s.wall_s, f.wall_s if f else None)} | {_status(s)} |")
    lines += ["", "## Targets", ""] + targets(results, once, cfg)
    setup = [(fills, s) for fills, r in results.items() for k, s in r.items()
             if k in ("dbt_parse", "floor_compile", "prep_html")]
    if setup:
        lines += ["", "Setup steps (not stages, not in any ratio): " + "; ".join(
            f"{k.name} ({fills:,}) {k.wall_s:.1f} s" for fills, k in setup) + "."]
    slow = [(fills, r["floor_marts"].info.get("slowest")) for fills, r in results.items() if "floor_marts" in r]
    for fills, s in slow:
        if s:
            lines.append(f"Slowest models in the floor ({fills:,} fills): "
                         + ", ".join(f"{n} {t:.1f} s" for n, t in s[:6]) + ".")
    return "\n".join(lines) + "\n"
