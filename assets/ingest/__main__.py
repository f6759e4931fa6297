"""Load a landing zone into a DuckDB warehouse without Dagster: `python -m assets.ingest LANDING WAREHOUSE`."""
import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from assets.common.warehouse import connect
from assets.ingest.load import business_dates, load_landing


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("landing", type=Path)
    ap.add_argument("warehouse", type=Path)
    ap.add_argument("--lake", type=Path, default=None)
    args = ap.parse_args(argv)
    with connect(args.warehouse) as con:
        for day in tqdm(business_dates(args.landing), unit="day", file=sys.stderr):
            load_landing(con, args.landing, [day], lake=args.lake)
    return 0


if __name__ == "__main__":
    sys.exit(main())
