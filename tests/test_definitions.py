"""The Dagster code location loads and shows the expected assets, groups and jobs."""
import dagster as dg


def test_definitions_load():
    from orchestration.definitions import defs

    repo = defs.get_repository_def()
    keys = {k.to_user_string() for k in repo.asset_graph.get_all_asset_keys()}
    for feed in ("trades", "ledger_entries", "capital_events", "risk_events", "custody_entries",
                 "custody_balances", "accounts", "providers", "instruments", "market_prices"):
        assert f"raw/{feed}" in keys
    assert defs.get_job_def("daily_business_date") is not None
    node = repo.asset_graph.get(dg.AssetKey(["raw", "trades"]))
    assert node.group_name == "ingest"
    assert node.partitions_def is not None
