"""`python -m simulator`: generate the synthetic platform's landing zone."""
from __future__ import annotations

import argparse
import json
import sys
from datetime import date

from .config import GeneratorConfig, default_landing
from .dates import business_days
from .faults import FAULTS, FAULTS_FILE, MASKS, FaultNotApplicable, inject, stacking_order, write_manifest
from .runner import generate


def _date(s: str) -> date:
    try:
        return date.fromisoformat(s)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {s}") from e


def _positive(s: str) -> int:
    v = int(s)
    if v < 1:
        raise argparse.ArgumentTypeError("must be >= 1")
    return v


def _kinds(s: str) -> list[str]:
    kinds = [k.strip() for k in s.split(",") if k.strip()]
    bad = [k for k in kinds if k not in FAULTS]
    if bad or not kinds:
        raise argparse.ArgumentTypeError(f"unknown fault kind(s) {', '.join(bad) or repr(s)}; "
                                         f"known: {', '.join(FAULTS)}")
    return list(dict.fromkeys(kinds))  # each kind once, in the order given


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m simulator",
                                 description="Write a synthetic margin-financing platform's landing feeds (SPEC §2).")
    ap.add_argument("--start", type=_date, default=date(2026, 9, 1), help="first business date (default 2026-09-01)")
    ap.add_argument("--days", type=_positive, default=22, help="number of business days, Mon-Fri (default 22)")
    ap.add_argument("--accounts", type=_positive, default=300, help="client accounts (default 300)")
    ap.add_argument("--providers", type=int, default=20, help="capital providers, >= 3 (default 20)")
    ap.add_argument("--instruments", type=int, default=60, help="instruments, >= 3 (default 60)")
    ap.add_argument("--fills-per-day", type=int, default=2000, help="client fills per day, approx. (default 2000)")
    ap.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    ap.add_argument("--out", default=None, help="landing folder (default $MARGINFLOW_LANDING or data/landing)")
    ap.add_argument("--trades-format", choices=("csv", "parquet"), default="csv")
    ap.add_argument("--custody-format", choices=("xml", "csv", "both"), default="xml")
    ap.add_argument("--quiet", action="store_true", help="no progress bar, no summary")
    ap.add_argument("--faults", type=_kinds, default=None, metavar="KIND[,KIND...]",
                    help="corrupt the written tree on purpose (see --list-faults); recorded in <out>/.faults.json")
    ap.add_argument("--fault-date", type=_date, default=None, help="business date of the faults (default: the 3rd)")
    ap.add_argument("--fault-seed", type=int, default=0, help="picks the rows the faults hit (default 0)")
    ap.add_argument("--list-faults", action="store_true", help="list the fault kinds and exit")
    return ap


def _stale_manifest(out, written: set[str]) -> None:
    """A re-run without faults over every faulted date leaves no stale .faults.json behind."""
    p = out / FAULTS_FILE
    if not p.is_file():
        return
    try:
        days = {r["business_date"] for r in json.loads(p.read_text(encoding="utf-8"))}
    except (ValueError, KeyError, TypeError):
        return
    if days <= written:
        p.unlink()


def main(argv: list[str] | None = None) -> int:
    a = parser().parse_args(argv)
    if a.list_faults:
        for kind, (_, what, rules) in FAULTS.items():
            print(f"{kind:26} {what}  [{rules}]")
        return 0
    try:
        cfg = GeneratorConfig(start=a.start, days=a.days, accounts=a.accounts, providers=a.providers,
                              instruments=a.instruments, fills_per_day=a.fills_per_day, seed=a.seed,
                              out=a.out or default_landing(), trades_format=a.trades_format,
                              custody_format=a.custody_format, quiet=a.quiet)
    except ValueError as e:
        print(f"simulator: {e}", file=sys.stderr)
        return 2
    days = [d.isoformat() for d in business_days(cfg.start, cfg.days)]
    fault_date = a.fault_date.isoformat() if a.fault_date else days[min(2, len(days) - 1)]
    if a.faults and fault_date not in days:
        print(f"simulator: --fault-date {fault_date} is not one of the business dates {days[0]}..{days[-1]}",
              file=sys.stderr)
        return 2
    s = generate(cfg)
    records = []
    if not a.faults:
        _stale_manifest(cfg.out, set(days))
    else:  # after the tree is written: the generator itself stays clean
        for x, y in MASKS:
            if x in a.faults and y in a.faults:
                print(f"simulator: warning: {x} masks {y} on the same date (its rule cannot fire)", file=sys.stderr)
        taken: set[str] = set()  # a fault never hits what an earlier one hit
        try:
            for kind in stacking_order(a.faults):
                records.append(inject(cfg.out, kind, fault_date, a.fault_seed, taken=taken))
        except FaultNotApplicable as e:
            print(f"simulator: fault {kind}: {e}", file=sys.stderr)
            return 2
        finally:
            write_manifest(cfg.out, records)
    if not a.quiet:
        c = s["counts"]
        print(f"landed {len(s['business_dates'])} business days {s['business_dates'][0]}..{s['business_dates'][-1]} "
              f"into {cfg.out} in {s['_seconds']:.1f} s")
        print(f"  fills {sum(c['fills'].values()):,} ({c['fills'].get('LIQUIDATION', 0):,} liquidation), "
              f"ledger rows {s['rows'].get('ledger', 0):,}, custody entries {s['rows'].get('custody_entries', 0):,}, "
              f"capital events {s['rows'].get('capital', 0):,}, risk events {s['rows'].get('risk_events', 0):,}")
        r = c["risk_events"]
        print(f"  warnings {r.get('WARNING', 0)}, liquidations {s['liquidations']} "
              f"(longest {s['max_liquidation_business_days']} business days), defaults {s['defaults']}, "
              f"limit-down days {s['limit_down_days']}")
        print(f"  shortfall {s['total_shortfall']}, reserve draws {s['reserve_draws']}, "
              f"write-offs {s['write_offs']}, loss allocated {s['loss_allocated']} CNY")
        for r in records:
            print(f"fault {r.kind} on {r.business_date}: {r.description}")
            print(f"  must be caught by: {', '.join(r.rules)}")
        if records:
            print(f"  faults recorded in {cfg.out / FAULTS_FILE}")
    return 0
