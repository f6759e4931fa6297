"""The clean demo month passes every gate: every feed's GX suite on every business date, no quarantined
row, and (the built_warehouse fixture's `dbt build`) every dbt data test and cross-feed gate."""
from __future__ import annotations

import duckdb

from assets.ingest.feeds import FEEDS
from assets.quality.gx_runner import validate_partition


def test_every_feed_and_date_passes_its_suite(built_warehouse):
    with duckdb.connect(str(built_warehouse), read_only=True) as con:
        days = [r[0].isoformat() for r in con.execute(
            "select distinct business_date from raw.file_manifest order by 1").fetchall()]
        assert len(days) == 22
        failures = []
        for feed in FEEDS:
            for day in days:
                report = validate_partition(con, feed, day)
                failures += [o.message for o in report.failures]
        assert failures == []
        assert con.execute("select count(*) from raw.quarantine").fetchone()[0] == 0
        # the cross-feed gates stored their (empty) failure sets when dbt build ran them
        gates = con.execute("select table_name from information_schema.tables "
                            "where table_schema = 'gate_failures'").fetchall()
        assert len(gates) == 11
        for (name,) in gates:
            assert con.execute(f"select count(*) from gate_failures.{name}").fetchone()[0] == 0, name
