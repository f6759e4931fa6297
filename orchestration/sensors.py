"""Sensor: start the daily run as soon as a complete landing folder appears."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import dagster as dg

from assets.common.partitions import business_days
from assets.common.settings import landing_dir
from assets.ingest.feeds import LANDING_FOLDERS
from orchestration.jobs import daily_job

CUSTODY_ACCOUNTS = 4


def folder_is_complete(day_dir: Path) -> tuple[bool, str]:
    """Every feed folder has its file(s): the reference trio, a data file per feed, custody statements."""
    for feed in LANDING_FOLDERS:
        d = day_dir / feed
        files = [p for p in d.glob("*") if p.is_file() and not p.name.startswith(".")] if d.is_dir() else []
        if not files:
            return False, f"{feed} has no file yet"
        if feed == "reference" and {"providers.csv", "accounts.csv", "instruments.csv"} - {p.name for p in files}:
            return False, "reference snapshots incomplete"
        if feed == "custody":
            xml = [p for p in files if p.suffix.lower() == ".xml"]
            pair = {"entries.csv", "balances.csv"} <= {p.name for p in files}
            if len(xml) < CUSTODY_ACCOUNTS and not pair:
                return False, f"custody has {len(xml)} of {CUSTODY_ACCOUNTS} statements"
    return True, "complete"


def folder_fingerprint(day_dir: Path) -> str:
    """Names, sizes and mtimes of the folder's files: a re-delivered file starts a new run."""
    items = sorted((str(p.relative_to(day_dir)), p.stat().st_size, int(p.stat().st_mtime))
                   for p in day_dir.rglob("*") if p.is_file() and not p.name.startswith("."))
    return hashlib.sha256(json.dumps(items).encode()).hexdigest()[:16]


@dg.sensor(job=daily_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED,
           description="Watches the landing zone; a complete <YYYY-MM-DD> folder (all seven feeds) starts that "
                       "business date's run. Re-delivered files start it again (run_key = folder fingerprint).")
def landing_folder_sensor(context: dg.SensorEvaluationContext):
    root = landing_dir()
    if not root.is_dir():
        return dg.SkipReason(f"landing zone {root} does not exist")
    known = set(business_days.get_partition_keys())
    requests = []
    for day_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        if day_dir.name not in known:
            continue
        ok, why = folder_is_complete(day_dir)
        if not ok:
            context.log.info(f"{day_dir.name}: waiting ({why})")
            continue
        requests.append(dg.RunRequest(run_key=f"{day_dir.name}:{folder_fingerprint(day_dir)}",
                                      partition_key=day_dir.name, tags={"trigger": "landing_sensor"}))
    return requests or dg.SkipReason("no new complete landing folder")


sensors = [landing_folder_sensor]
