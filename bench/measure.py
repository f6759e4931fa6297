"""Run one stage in its own subprocess and measure it: wall time, CPU time, peak RSS.

CPU and peak RSS come from ``os.wait4`` on the stage's process: the kernel's rusage of that child and
of every descendant it waited for (dbt, WeasyPrint workers). ``ru_maxrss`` is the largest single
process of the tree; the sum over the live tree is also sampled from /proc every 0.2 s
(``tree_rss``), which is what matters for stages with worker processes. A tqdm line per stage shows
the elapsed time and the live tree RSS.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@dataclass
class StageResult:
    name: str
    wall_s: float
    user_s: float
    sys_s: float
    maxrss_mib: float
    tree_rss_mib: float
    returncode: int
    ok: bool
    setup_s: float = 0.0  # imports / definitions load inside the stage, as the stage reports it
    work_s: float | None = None  # the timed section inside the stage (without interpreter start and setup)
    info: dict = field(default_factory=dict)
    error: str = ""

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.sys_s

    def to_dict(self) -> dict:
        return asdict(self)


def _children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
            ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        kids.setdefault(ppid, []).append(int(entry.name))
    return kids


def tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants (Linux /proc; 0 elsewhere)."""
    if not os.path.isdir("/proc"):
        return 0
    kids = _children_map()
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/statm", "rb") as fh:
                total += int(fh.read().split()[1]) * PAGE
        except (OSError, ValueError, IndexError):
            pass
        todo.extend(kids.get(p, ()))
    return total


def run_stage(name: str, stage: str, ctx: dict, workdir: Path, env: dict[str, str], *, position: int = 0,
              quiet: bool = False, log: Path | None = None) -> StageResult:
    """``python -m bench.stages <stage> <ctx.json> <out.json>`` measured as described above."""
    from tqdm import tqdm

    workdir.mkdir(parents=True, exist_ok=True)
    ctx_path = workdir / f"{name}.ctx.json"
    out_path = workdir / f"{name}.out.json"
    ctx_path.write_text(json.dumps(ctx, indent=1, default=str))
    out_path.unlink(missing_ok=True)
    log = log or workdir / f"{name}.log"
    cmd = [sys.executable, "-m", "bench.stages", stage, str(ctx_path), str(out_path)]
    peak = 0
    tty = sys.stderr.isatty()
    bar = None if quiet else tqdm(desc=f"{name:<20}", bar_format="{desc} {elapsed} {postfix}", file=sys.stderr,
                                  leave=True, mininterval=0.5 if tty else 3600, disable=None if tty else False)
    t0 = time.perf_counter()
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd, env=env, stdout=fh, stderr=subprocess.STDOUT, cwd=str(ctx["repo"]))
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.2):
            rss = tree_rss(proc.pid)
            peak = max(peak, rss)
            if bar is not None:
                bar.set_postfix_str(f"RSS {rss / 2**20:,.0f} MiB (peak {peak / 2**20:,.0f})", refresh=tty)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    out = {}
    if out_path.exists():
        try:
            out = json.loads(out_path.read_text())
        except json.JSONDecodeError:
            out = {}
    error = out.get("error", "")
    if proc.returncode != 0 and not error:
        tail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
        error = f"exit {proc.returncode}: {tail.strip().splitlines()[-1] if tail.strip() else ''}"
    res = StageResult(name=name, wall_s=wall, user_s=ru.ru_utime, sys_s=ru.ru_stime,
                      maxrss_mib=ru.ru_maxrss / 1024, tree_rss_mib=max(peak, ru.ru_maxrss * 1024) / 2**20,
                      returncode=proc.returncode, ok=proc.returncode == 0 and bool(out.get("ok", False)),
                      setup_s=float(out.get("setup_s") or 0.0), work_s=out.get("work_s"), info=out.get("info") or {},
                      error=error)
    if bar is not None:
        status_txt = "ok" if res.ok else ("FAILED" if proc.returncode else "done, gate/check failed")
        bar.set_postfix_str(f"{status_txt} · CPU {res.cpu_s:,.1f} s · peak RSS {res.tree_rss_mib:,.0f} MiB")
        bar.close()
    return res
