"""`make demo`: generate the sample platform, run every business date through Dagster, write the reports.

Runs go through the Dagster instance in DAGSTER_HOME, so `make ui` afterwards shows them (runs,
materialisations, check results) exactly as a scheduled day would.
"""
from __future__ import annotations

import argparse
import re
import shutil
import sys
import time
from pathlib import Path

import dagster as dg
from tqdm import tqdm

from assets.common import settings

DATE_DIR = re.compile(r"\d{4}-\d{2}-\d{2}")
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}  # the UI keeps the full event log


def business_dates(landing: Path) -> list[str]:
    return sorted(p.name for p in landing.iterdir() if p.is_dir() and DATE_DIR.fullmatch(p.name))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--regenerate", action="store_true", help="regenerate the landing zone even if present")
    ap.add_argument("--fresh-warehouse", action="store_true", default=True,
                    help="start from an empty warehouse (default)")
    args = ap.parse_args(argv)

    from orchestration.definitions import defs

    landing, warehouse = settings.landing_dir(), settings.warehouse_path()
    t0 = time.monotonic()
    if args.regenerate or not landing.is_dir() or not business_dates(landing):
        from simulator.cli import main as generate

        print(f"[1/4] generating the sample platform into {landing}", flush=True)
        generate(["--out", str(landing)])
    else:
        print(f"[1/4] using the landing zone in {landing} (--regenerate to rebuild it)", flush=True)
    if args.fresh_warehouse:
        for p in (warehouse, warehouse.with_suffix(".duckdb.wal"), settings.lake_dir()):
            if p.is_dir():
                shutil.rmtree(p)
            elif p.exists():
                p.unlink()

    days = business_dates(landing)
    instance = dg.DagsterInstance.get()
    print(f"[2/4] ingest + gates for {len(days)} business dates ({days[0]} … {days[-1]})", flush=True)
    failed: list[str] = []
    ingest = defs.resolve_job_def("ingest_business_date")
    for day in tqdm(days, unit="day", file=sys.stderr):
        result = ingest.execute_in_process(partition_key=day, instance=instance, raise_on_error=False,
                                           run_config=QUIET)
        if not result.success:
            failed.append(day)
    if failed:
        print(f"ingestion or a gate failed for {', '.join(failed)}: `make ui` → Runs shows the file, row and rule",
              file=sys.stderr)
        return 1

    print(f"[3/4] dbt build of the daily models over {days[0]} … {days[-1]} (one run)", flush=True)
    window = {"dagster/asset_partition_range_start": days[0], "dagster/asset_partition_range_end": days[-1]}
    result = defs.resolve_job_def("daily_metrics").execute_in_process(
        instance=instance, tags=window, raise_on_error=False, run_config=QUIET)
    if not result.success:
        print("the dbt build failed (a model or a data test): `make ui` → Runs for the failing node", file=sys.stderr)
        return 1

    months = sorted({d[:7] for d in days})
    print(f"[4/4] monthly marts and reports for {', '.join(months)}", flush=True)
    monthly = defs.resolve_job_def("monthly_reports")
    for month in months:
        result = monthly.execute_in_process(partition_key=month, instance=instance, raise_on_error=False,
                                            run_config=QUIET)
        if not result.success:
            print(f"the monthly run for {month} failed: `make ui` → Runs", file=sys.stderr)
            return 1

    print("outputs", flush=True)
    print(f"  landing zone : {landing}")
    print(f"  warehouse    : {warehouse}")
    print(f"  parquet lake : {settings.lake_dir()}")
    print(f"  reports      : {settings.reports_dir()}")
    print(f"done in {time.monotonic() - t0:.0f} s — `make ui` to browse runs, assets and checks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
