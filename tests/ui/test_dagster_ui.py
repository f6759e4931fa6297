"""The Dagster UI of a small materialised platform, driven in Chromium: the asset graph with its five
layer groups and key assets, an asset's materialisation metadata (row count, key figures) equal to the
warehouse, its blocking checks with their results, the published report and the runs.

The platform (3 business days, 40 accounts) goes through the same jobs as `make demo`, into a temp
Dagster instance, and `dagster dev -w workspace.yaml` serves it (fixtures in conftest.py). Every wait is
on a selector or a text; screenshots land in tests/artifacts/ui/ (MARGINFLOW_UPDATE_DOCS_IMG=1 refreshes
the README's docs/img/ too).
"""
from __future__ import annotations

import hashlib
import math
import re

import pytest

from tests.ui.conftest import Platform, save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

GROUPS = ("ingest", "staging", "intermediate", "metrics", "reports")
KEY_ASSETS = ("raw/trades", "marts/fct_utilization_daily", "reports/regulatory_report")


def graph(pg):
    """The asset graph canvas (nodes are HTML inside the SVG)."""
    return pg.locator("svg foreignObject")


def settle(locator) -> None:
    """Wait until an element stops moving (the graph animates its zoom-to-fit) and the fonts are loaded."""
    locator.evaluate("""el => document.fonts.ready.then(() => new Promise(resolve => {
        let last = '', same = 0;
        const started = performance.now();
        const tick = () => {
            const r = el.getBoundingClientRect();
            const now = [r.x, r.y, r.width, r.height].map(Math.round).join();
            same = now === last ? same + 1 : 0;
            last = now;
            // 10 unchanged frames; give up after 10 s (the screenshot is only a picture)
            if (same >= 10 || performance.now() - started > 10000) resolve(); else requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
    }))""")


def metadata_table(pg, must_contain: str) -> dict[str, str]:
    """Key → value of the metadata table (the one headed `Key … Value`) once it shows `must_contain`."""
    from playwright.sync_api import expect

    table = pg.get_by_role("table").filter(has=pg.get_by_role("cell", name="Key", exact=True))
    expect(table.first).to_contain_text(must_contain)
    rows = table.first.evaluate("""t => Array.from(t.rows).filter(r => r.cells.length >= 2)
        .map(r => [r.cells[0].innerText.trim(), r.cells[r.cells.length - 1].innerText.trim()])""")
    return dict(rows)


def check_metadata(pg, must_contain: str) -> dict[str, str]:
    """Key → value of the check result's metadata table (two columns, no header) once it shows `must_contain`."""
    from playwright.sync_api import expect

    table = pg.get_by_role("table").filter(has=pg.get_by_role("cell", name=must_contain, exact=True))
    expect(table.first).to_be_visible()
    return dict(table.first.evaluate("""t => Array.from(t.rows).filter(r => r.cells.length == 2)
        .map(r => [r.cells[0].innerText.trim(), r.cells[1].innerText.trim()])"""))


def scroll_to_top(locator) -> None:
    locator.evaluate("el => el.scrollIntoView({block: 'start'})")


def test_asset_graph_shows_the_layer_groups_and_key_assets(page, dagster_ui: str, ui_platform: Platform):
    from playwright.sync_api import expect

    page.goto(f"{dagster_ui}/asset-groups")
    expect(page.get_by_text("Global asset lineage")).to_be_visible()
    canvas = graph(page)
    for group in GROUPS:
        expect(canvas.get_by_text(group, exact=True)).to_be_visible()
    settle(canvas.get_by_text("reports", exact=True))
    save_screenshot(page, "01_asset_graph_groups")

    # narrow the graph to the key assets with the selection syntax, as a user would, and open the groups
    query = " or ".join(f'key:"{key}"' for key in KEY_ASSETS)
    page.get_by_label("Search and filter assets").focus()
    page.keyboard.insert_text(query)
    page.keyboard.press("Enter")
    expect(canvas.get_by_text("staging", exact=True)).to_have_count(0)
    page.get_by_role("button").filter(has=page.get_by_role("img", name="settings", exact=True)) \
        .filter(has_not_text="Settings").click()
    page.get_by_role("menuitem", name=re.compile("Expand all groups")).click()
    page.keyboard.press("Escape")
    expect(page.get_by_role("menuitem")).to_have_count(0)
    for key in KEY_ASSETS:
        expect(canvas.get_by_text(key.split("/")[-1], exact=True)).to_be_visible()
    # the selection and the open groups live in the URL: loading it again fits the graph to the window
    page.reload()
    for key in KEY_ASSETS:
        expect(canvas.get_by_text(key.split("/")[-1], exact=True)).to_be_visible()
    settle(canvas.get_by_text("regulatory_report", exact=True))
    save_screenshot(page, "02_asset_graph_key_assets")

    # a node opens its side panel: materialised, its dbt tests passed; from there to the asset's page
    canvas.get_by_text("fct_utilization_daily", exact=True).click()
    expect(page.get_by_text("marts / fct_utilization_daily", exact=True)).to_be_visible()
    expect(page.get_by_text("Passed", exact=True).first).to_be_visible()
    page.get_by_role("link", name="View in Asset Catalog").click()
    expect(page).to_have_url(re.compile(r"/assets/marts/fct_utilization_daily"))

    # its lineage: intermediate → metrics → reports, with materialisation and check status on each node
    page.get_by_role("tab", name="Lineage").click()
    expect(canvas.get_by_text("fct_utilization_daily", exact=True)).to_be_visible()
    expect(canvas.get_by_text("int_capital__calendar_days", exact=True)).to_be_visible()
    expect(canvas.get_by_text("regulatory_report", exact=True)).to_be_visible()
    settle(canvas.get_by_text("regulatory_report", exact=True))
    save_screenshot(page, "03_lineage_fct_utilization_daily", docs_name="dagster_asset_graph")


def test_materialised_raw_asset_shows_row_count_and_file_lineage(page, dagster_ui: str, ui_platform: Platform):
    from playwright.sync_api import expect

    day, n = ui_platform.last_day, ui_platform.trades_rows
    page.goto(f"{dagster_ui}/assets/raw/trades")
    status = page.get_by_text("Latest materialization", exact=True).locator("..")
    expect(status).to_contain_text(day)                     # the partition (business date) last materialised
    row_count = page.get_by_text("Row count", exact=True).locator("..")
    expect(row_count).to_contain_text(f"{n:,}")             # dagster/row_count == rows in the warehouse
    meta = metadata_table(page, "file_manifest")
    assert meta["rows_in_files"] == str(n)
    assert meta["rows_quarantined"] == "0"
    assert meta["files"] == "1"
    assert f"{day}/trades/trades.csv" in meta["file_manifest"]
    save_screenshot(page, "04_raw_trades_overview")
    scroll_to_top(page.get_by_text("Metadata", exact=True).first)
    save_screenshot(page, "05_raw_trades_metadata")


def test_materialised_mart_shows_its_key_figures(page, dagster_ui: str, ui_platform: Platform):
    from playwright.sync_api import expect

    page.goto(f"{dagster_ui}/assets/marts/fct_utilization_daily")
    expect(page.get_by_text("Latest materialization", exact=True).locator("..")).to_contain_text(ui_platform.last_day)
    meta = metadata_table(page, "key_figures")
    for name, expected in ui_platform.utilization.items():
        shown = float(meta[name].replace(",", ""))
        assert math.isclose(shown, expected, rel_tol=1e-12), f"{name}: UI {meta[name]} vs warehouse {expected}"
    assert "utilization" in meta["key_figures"] and f"{ui_platform.utilization['total_loans']:,.4f}" in meta["key_figures"]
    scroll_to_top(page.get_by_text("Metadata", exact=True).first)
    save_screenshot(page, "06_fct_utilization_daily_key_figures", docs_name="dagster_asset_metadata")


def test_feed_checks_show_their_results(page, dagster_ui: str, ui_platform: Platform):
    from playwright.sync_api import expect

    page.goto(f"{dagster_ui}/assets/raw/trades")
    page.get_by_role("tab", name="Checks").click()
    expect(page).to_have_url(re.compile(r"view=checks"))
    expect(page.get_by_text("Checks (2)", exact=True)).to_be_visible()
    for check, other in (("gx_suite", "quarantine_policy"), ("quarantine_policy", "gx_suite")):
        # the list item: the nearest ancestor of the name that says Succeeded without holding the other check
        item = page.get_by_text(check, exact=True).first.locator(
            f"xpath=ancestor::*[contains(., 'Succeeded') and not(contains(., '{other}'))][1]")
        expect(item).to_be_visible()

    # the GX suite: blocking, passed on the last business date, every row of the partition validated
    expect(page.get_by_text("all expectations met", exact=True)).to_be_visible()
    expect(page.get_by_text("Passed", exact=True).first).to_be_visible()
    expect(page.get_by_text("blocking", exact=True).first).to_be_visible()
    gx = check_metadata(page, "rows_validated")
    assert gx["business_date"] == ui_platform.last_day
    assert gx["rows_validated"] == str(ui_platform.trades_rows)
    assert gx["expectations_failed"] == "0" and int(gx["expectations"]) > 10
    save_screenshot(page, "07_raw_trades_check_gx_suite", docs_name="dagster_asset_checks")

    # the quarantine policy: nothing quarantined, policy block
    page.get_by_text("quarantine_policy", exact=True).first.click()
    expect(page.get_by_text("no row quarantined", exact=True)).to_be_visible()
    expect(page.get_by_text("Passed", exact=True).first).to_be_visible()
    quarantine = check_metadata(page, "rows_quarantined")
    assert quarantine["rows_quarantined"] == "0"
    assert quarantine["policy"] == "block"
    assert quarantine["feed"] == "trades" and quarantine["business_date"] == ui_platform.last_day
    save_screenshot(page, "08_raw_trades_check_quarantine_policy")


def test_runs_of_the_platform_are_listed(page, dagster_ui: str, ui_platform: Platform):
    """One ingest run per business date, one dbt build over the range, the month's run; all succeeded (the
    month's may fail its publication gate on a partial month: then it is the one that did not)."""
    from playwright.sync_api import expect

    page.goto(f"{dagster_ui}/runs")
    jobs = {"ingest_business_date": len(ui_platform.days), "daily_metrics": 1, "monthly_reports": 1}
    for job, count in jobs.items():
        expect(page.get_by_role("link", name=job, exact=True)).to_have_count(count)
    succeeded = sum(jobs.values()) - (0 if ui_platform.report else 1)
    expect(page.get_by_role("img", name="run_success", exact=True)).to_have_count(succeeded)
    save_screenshot(page, "09_runs")


def test_published_report_shows_its_file(page, dagster_ui: str, ui_platform: Platform):
    if ui_platform.report is None:
        pytest.skip("the monthly run did not publish the partial month (publication gate): no report to show")
    page.goto(f"{dagster_ui}/assets/reports/regulatory_report")
    meta = metadata_table(page, "sha256")
    assert meta["path"] == str(ui_platform.report)
    assert int(meta["pages"]) >= 1
    assert meta["sha256"] == hashlib.sha256(ui_platform.report.read_bytes()).hexdigest()
    save_screenshot(page, "10_regulatory_report")
