"""`python -m simulator`: generate the synthetic platform's landing zone."""
from __future__ import annotations

import argparse
import sys
from datetime import date

from .config import GeneratorConfig, default_landing
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
    return ap


def main(argv: list[str] | None = None) -> int:
    a = parser().parse_args(argv)
    try:
        cfg = GeneratorConfig(start=a.start, days=a.days, accounts=a.accounts, providers=a.providers,
                              instruments=a.instruments, fills_per_day=a.fills_per_day, seed=a.seed,
                              out=a.out or default_landing(), trades_format=a.trades_format,
                              custody_format=a.custody_format, quiet=a.quiet)
    except ValueError as e:
        print(f"simulator: {e}", file=sys.stderr)
        return 2
    s = generate(cfg)
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
    return 0
