"""PDF reports against the built sample warehouse (2026-09): figures equal the marts, statements are
isolated, the PDFs are PDF/A-3b with embedded fonts and their figures file attached, writes are atomic.

Text is extracted from the written PDFs with pypdf, independently of the renderer's own checks.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import re
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from pypdf import PdfReader

from assets.reports import charts, render, statements
from assets.reports import figures as figs
from assets.reports import formatting as F
from assets.reports.figures import Period

MONTH = "2026-09"
START, END = dt.date(2026, 9, 1), dt.date(2026, 9, 30)
RUN_ID = "test-run-0001"
GATES = [
    {"name": "raw feeds present and complete", "asset": "raw/trades", "status": "passed"},
    {"name": "custody balances roll forward", "asset": "marts/fct_custody_rollforward_daily", "passed": True,
     "detail": "0 breaks"},
]


# ----------------------------------------------------------------------------------------------- helpers


def pdf_text(path: Path) -> str:
    reader = PdfReader(str(path))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def attachments(path: Path) -> dict[str, bytes]:
    out = {}
    for name, contents in PdfReader(str(path)).attachments.items():
        out[name] = contents[0]
    return out


def font_dicts(reader: PdfReader):
    """Every font used by the pages and by their form XObjects (charts)."""
    seen = set()

    def walk(resources):
        if not resources:
            return
        resources = resources.get_object()
        fonts = resources.get("/Font")
        if fonts:
            for ref in fonts.get_object().values():
                font = ref.get_object()
                if id(font) not in seen:
                    seen.add(id(font))
                    yield font
        xobjects = resources.get("/XObject")
        if xobjects:
            for ref in xobjects.get_object().values():
                xo = ref.get_object()
                if xo.get("/Subtype") == "/Form":
                    yield from walk(xo.get("/Resources"))

    for page in reader.pages:
        yield from walk(page.get("/Resources"))


def font_is_embedded(font) -> bool:
    if font.get("/Subtype") == "/Type0":
        font = font["/DescendantFonts"][0].get_object()
    if font.get("/Subtype") == "/Type3":
        return True  # glyphs drawn as content streams
    desc = font.get("/FontDescriptor")
    if desc is None:
        return False
    desc = desc.get_object()
    return any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3"))


def assert_pdf_a3b(path: Path) -> PdfReader:
    reader = PdfReader(str(path))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode("utf-8", "replace")
    assert re.search(r"pdfaid:part(>|=\")\s*3", xmp), "XMP does not declare PDF/A part 3"
    assert re.search(r"pdfaid:conformance(>|=\")\s*B", xmp), "XMP does not declare conformance B"
    fonts = list(font_dicts(reader))
    assert fonts, "no fonts found"
    assert all(font_is_embedded(f) for f in fonts), [f.get("/BaseFont") for f in fonts if not font_is_embedded(f)]
    return reader


def mart(con, sql, *params):
    cur = con.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    row = cur.fetchone()
    assert row is not None, sql
    return dict(zip(names, row))


# ----------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("reports")


@pytest.fixture(scope="module")
def con(built_warehouse):
    c = duckdb.connect(str(built_warehouse), read_only=True)
    yield c
    c.close()


@pytest.fixture(scope="module")
def regulatory(built_warehouse, out_dir):
    t0 = time.perf_counter()
    res = render.render_regulatory_report(built_warehouse, START, END, out_dir, run_id=RUN_ID, gate_results=GATES)
    res_time = time.perf_counter() - t0
    print(f"\nregulatory report: {res.pages} pages in {res_time:.1f} s")
    return res


@pytest.fixture(scope="module")
def regulatory_text(regulatory) -> str:
    return flat(pdf_text(regulatory.path))


@pytest.fixture(scope="module")
def providers(con) -> dict[str, str]:
    rows = con.execute("select provider_id, arg_max(provider_name, snapshot_date) from staging.stg_reference__providers "
                       "group by 1 order by 1").fetchall()
    return dict(rows)


@pytest.fixture(scope="module")
def statement_results(built_warehouse, out_dir, providers):
    ids = statements.provider_ids(built_warehouse, MONTH)
    assert ids, "no providers with a capital account in the month"
    t0 = time.perf_counter()
    results = statements.render_all_statements(built_warehouse, MONTH, out_dir, run_id=RUN_ID, workers=2)
    wall = time.perf_counter() - t0
    print(f"\n{len(results)} statements in {wall:.1f} s wall with 2 workers = {wall / len(results):.2f} s/statement; "
          f"pages {sorted({r.pages for r in results})}")
    return {r.path.stem: r for r in results}


# ----------------------------------------------------------------------------------------------- formatting


def test_formatting_half_even_and_na():
    assert F.money(Decimal("1234567.885")) == "1,234,567.88"
    assert F.money(Decimal("2.675")) == "2.68"
    assert F.money(Decimal("-0.004")) == "0.00"
    assert F.money(Decimal("-1234.5")) == "-1,234.50"
    assert F.money(1234.5) == "1,234.50"
    assert F.money(None) == "n/a"
    assert F.ratio(0.12345) == "0.1234"  # the float's shortest repr, then half-even
    assert F.ratio(0.12355) == "0.1236"
    assert F.ratio(float("nan")) == "n/a"
    assert F.percent(0.648874) == "64.89%"
    assert F.bp(Decimal("12.345")) == "12.34 bp"
    assert F.integer(1234567) == "1,234,567"
    assert F.date(dt.datetime(2026, 9, 30, 7)) == "2026-09-30"
    assert F.fmt(None, "multiple") == "n/a"
    with pytest.raises(ValueError):
        F.fmt(1, "nope")


def test_charts_are_deterministic_vector_svg():
    series = [{"business_date": dt.date(2026, 9, d), "utilization": 0.5 + d / 100} for d in range(1, 20)]
    a = charts.utilization_chart(series, 0.6)
    b = charts.utilization_chart(series, 0.6)
    assert a == b
    assert a.startswith("<svg") and "<path" in a
    assert "dc:date" not in a and "<image" not in a  # no timestamp, no raster


# ----------------------------------------------------------------------------------------------- regulatory


def test_regulatory_files_and_pdf_a(regulatory, out_dir):
    assert regulatory.path == out_dir / MONTH / f"regulatory_report_{MONTH}.pdf"
    assert regulatory.figures_path == out_dir / MONTH / f"regulatory_report_{MONTH}.json"
    assert regulatory.path.exists() and regulatory.figures_path.exists()
    reader = assert_pdf_a3b(regulatory.path)
    assert len(reader.pages) == regulatory.pages
    assert 10 <= regulatory.pages <= 80
    # attachments equal the files beside the PDF and parse
    att = attachments(regulatory.path)
    assert att[regulatory.figures_path.name] == regulatory.figures_path.read_bytes()
    assert att[regulatory.csv_path.name] == regulatory.csv_path.read_bytes()
    data = json.loads(att[regulatory.figures_path.name])
    assert data["report"] == "regulatory" and data["meta"]["run_id"] == RUN_ID
    assert "M1.utilization.mean" in data["figures"]
    # no temp files left beside the outputs
    assert not list(regulatory.path.parent.glob(".*.tmp"))


def test_regulatory_structure(regulatory, regulatory_text):
    t = regulatory_text
    for needle in ("Regulatory disclosure report", "Marginflow Platform Ltd.", "Contents", "15:00 Asia/Shanghai",
                   RUN_ID, "Appendix — Definitions", "Appendix — Data lineage", "Risk warning",
                   "Leverage magnifies gains and losses", f"Page 1 of {regulatory.pages}",
                   f"Page {regulatory.pages} of {regulatory.pages}", "raw feeds present and complete"):
        assert needle in t, needle
    for section in ("Trading volumes", "Capital sources and utilization", "Client-asset protection",
                    "Credit risk and default resources", "Margin", "Default management", "Concentration",
                    "Liquidity", "Data quality"):
        assert section in t, section


def test_regulatory_headline_figures_equal_marts(con, regulatory, regulatory_text):
    t = regulatory_text
    fig = json.loads(regulatory.figures_path.read_bytes())["figures"]
    month = START
    checks: list[tuple[str, object, str]] = []
    u = mart(con, "select * from marts.rpt_utilization_monthly where month = ? and scope_level = 'PLATFORM'", month)
    checks += [("M1.utilization.mean", u["mean_utilization"], "ratio"),
               ("M1.utilization.peak", u["peak_utilization"], "ratio"),
               ("M1.loans.at_peak", u["loan_book_at_peak"], "money")]
    d = mart(con, "select * from marts.rpt_default_ratio_monthly where month = ?", month)
    checks += [("M5.default_ratio.count", d["default_ratio_count"], "ratio"),
               ("M5.shortfall", d["total_shortfall"], "money"),
               ("M5.default_ratio.amount_annualised", d["default_ratio_amount_annualised"], "ratio")]
    mc = mart(con, "select * from marts.rpt_margin_calls_monthly where month = ?", month)
    checks += [("M4.calls_issued", mc["calls_issued"], "int"), ("M4.cure_rate", mc["cure_rate"], "ratio")]
    rc = mart(con, "select * from marts.rpt_reserve_coverage_monthly where month = ?", month)
    checks += [("M9.days_below_one", rc["days_below_one"], "int"), ("M9.largest_gap", rc["largest_gap"], "money"),
               ("M9.reserve_balance.period_end", rc["closing_reserve_balance"], "money")]
    lat = mart(con, "select * from marts.rpt_liquidation_latency_monthly where month = ? and population = 'all'", month)
    checks += [("M6.all.last_fill.p50", lat["last_fill_p50_seconds"], "seconds"),
               ("M6.all.sla_share", lat["sla_share"], "percent")]
    last = mart(con, "select max(business_date) as d from marts.fct_utilization_daily where business_date <= ?", END)["d"]
    cm = mart(con, "select * from marts.fct_client_money_daily where business_date = ? and currency = 'CNY'", last)
    checks += [("M10.CNY.coverage", cm["coverage_ratio"], "ratio"), ("M10.CNY.custody_balance", cm["custody_balance"], "money")]
    cc = mart(con, "select * from marts.fct_concentration_daily where business_date = ?", last)
    checks += [("M14.top10_loan_share", cc["top10_loan_share"], "percent")]
    lq = mart(con, "select * from marts.fct_liquidity_coverage_daily where business_date = ?", last)
    checks += [("M15.coverage.period_end", lq["liquidity_coverage"], "ratio")]
    w = mart(con, "select * from marts.rpt_income_waterfall_monthly where month = ?", month)
    checks += [("M13.income", w["income"], "money"), ("M13.senior_coupons", w["senior_coupons"], "money")]
    fills = mart(con, "select count(*) as n from staging.stg_trading__fills where business_date between ? and ?",
                 START, END)
    checks += [("V.fills", fills["n"], "int")]
    missing = []
    for fid, value, kind in checks:
        shown = F.fmt(value, kind)
        assert fig[fid]["display"] == shown, (fid, fig[fid]["display"], shown)
        exact = fig[fid]["value"]
        if isinstance(value, Decimal):
            assert Decimal(exact) == value, fid
        elif isinstance(value, float):
            assert exact == pytest.approx(value, rel=0, abs=0), fid
        if shown not in t:
            missing.append((fid, shown))
    assert not missing, f"figures not found in the PDF text: {missing}"


def test_regulatory_range_path_matches_monthly_marts(con, monkeypatch):
    """The on-demand (non-month) SQL reproduces the monthly marts when asked for the whole month."""
    month_fs = figs.build_regulatory_figures(con, Period(START, END), run_id="x")
    monkeypatch.setattr(figs, "_use_monthly", lambda *a, **k: False)
    range_fs = figs.build_regulatory_figures(con, Period(START, END), run_id="x")
    for fid in ("M1.utilization.mean", "M1.utilization.peak", "M1.utilization.peak_date", "M1.loans.at_peak",
                "M4.calls_issued", "M4.calls_cured", "M4.calls_liquidated", "M4.cure_rate", "M4.peak_below_warning",
                "M5.accounts_defaulted", "M5.accounts_with_loan", "M5.default_ratio.count", "M5.default_ratio.amount",
                "M5.default_ratio.amount_annualised", "M6.all.liquidations", "M6.all.sla_share",
                "M6.all.last_fill.p50", "M6.limit_down.last_fill.p99", "M6.normal.first_fill.mean",
                "M9.days_below_one", "M9.largest_gap", "M9.largest_gap_date", "M9.min_coverage"):
        assert month_fs[fid].text == range_fs[fid].text, (fid, month_fs[fid].text, range_fs[fid].text)


def test_regulatory_date_range_file_name(built_warehouse, tmp_path):
    built = render.build_regulatory(built_warehouse, dt.date(2026, 9, 1), dt.date(2026, 9, 15), tmp_path,
                                    run_id=RUN_ID)
    assert built.pdf_path == tmp_path / "2026-09" / "regulatory_report_2026-09-01_2026-09-15.pdf"
    assert built.figures.meta["last_close"] <= dt.date(2026, 9, 15)
    assert "2026-09-01 to 2026-09-15" in built.html


# ----------------------------------------------------------------------------------------------- statements


def test_statements_for_every_provider(con, statement_results, providers, out_dir):
    ids = statements.provider_ids(con=con, month=MONTH)
    assert sorted(statement_results) == sorted(ids)
    for pid, res in statement_results.items():
        assert res.path == out_dir / MONTH / "statements" / f"{pid}.pdf"
        assert 4 <= res.pages <= 40
        assert res.figures_path.exists()
    assert not list((out_dir / MONTH / "statements").glob(".*.tmp"))


def test_statement_figures_equal_marts(con, statement_results):
    for pid, res in statement_results.items():
        text = flat(pdf_text(res.path))
        r = mart(con, "select * from marts.rpt_provider_capital_monthly where month = ? and provider_id = ?", START, pid)
        for col, kind in (("opening_capital", "money"), ("contributions", "money"), ("redemptions_paid", "money"),
                          ("losses_allocated", "money"), ("closing_capital", "money"), ("income_allocated", "money"),
                          ("performance_fee_share", "money"), ("net_income", "money"),
                          ("net_yield_annualised", "percent")):
            shown = F.fmt(r[col], kind)
            assert shown in text, (pid, col, shown)
        fig = json.loads(res.figures_path.read_bytes())["figures"]
        assert Decimal(fig["M13.closing_capital"]["value"]) == r["closing_capital"]


def test_statements_are_isolated(statement_results, providers):
    for pid, res in statement_results.items():
        others_ids = [p for p in providers if p != pid]
        others_names = [n for p, n in providers.items() if p != pid and n != providers[pid]]
        text = pdf_text(res.path)
        att = attachments(res.path)
        assert list(att) == [res.figures_path.name]
        assert att[res.figures_path.name] == res.figures_path.read_bytes()
        blobs = [text, flat(text)] + [b.decode("utf-8") for b in att.values()]
        assert providers[pid] in flat(text) and pid in text  # its own identity is there …
        for other in others_ids:  # … and nobody else's
            pat = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(other)}(?![A-Za-z0-9_])")
            assert not any(pat.search(b) for b in blobs), (pid, other)
        for name in others_names:
            assert not any(name.casefold() in flat(b).casefold() for b in blobs), (pid, name)
        assert statements.find_leaks(blobs, others_ids, others_names) == []


def test_statement_pdf_a_and_fonts(statement_results):
    res = next(iter(statement_results.values()))
    assert_pdf_a3b(res.path)
    data = json.loads(attachments(res.path)[res.figures_path.name])
    assert data["report"] == "statement" and data["meta"]["provider_id"] == res.path.stem


def test_isolation_guard_refuses_a_leaking_statement(built_warehouse, tmp_path, providers, con, monkeypatch):
    pid, other = sorted(providers)[:2]
    # 1) before rendering: the HTML names another provider
    real = statements.render_html
    monkeypatch.setattr(statements, "render_html", lambda tpl, fs: real(tpl, fs).replace(
        "</body>", f"<p>{providers[other]}</p></body>"))
    with pytest.raises(statements.IsolationError):
        statements.build_statement(con, MONTH, pid, tmp_path, run_id=RUN_ID)
    monkeypatch.setattr(statements, "render_html", real)
    # 2) after rendering: the laid-out text shows another provider's id (the pre-check bypassed)
    built = statements.build_statement(con, MONTH, pid, tmp_path, run_id=RUN_ID)
    built.html = built.html.replace("</body>", f"<p>Also see {other}.</p></body>")
    with pytest.raises(statements.IsolationError):
        render.write_report(built)
    folder = statements.statement_path(tmp_path, Period.month(MONTH), pid).parent
    assert not folder.exists() or not any(folder.iterdir()), list(folder.iterdir())


def test_find_leaks_tokens_and_names():
    ids, names = ["P002", "P010"], ["Jade Asset Management Senior 2"]
    assert statements.find_leaks(["statement of P001, page 2"], ids, names) == []
    assert statements.find_leaks(["P0020 is not P002"], ids, names) == ["P002"]
    assert statements.find_leaks(["JADE ASSET\nMANAGEMENT  senior 2"], ids, names) == names
    assert statements.find_leaks(["JadeAssetManagementSenior2"], ids, names) == names  # lost spaces
    assert statements.find_leaks(["Jade Asset Management Senior 21"], ids, names) == []


# ----------------------------------------------------------------------------------------------- atomic write


def test_atomic_write_leaves_nothing_when_render_fails(built_warehouse, tmp_path, monkeypatch, providers):
    import weasyprint

    pid = min(providers)
    final = statements.statement_path(tmp_path, Period.month(MONTH), pid)
    real_write = weasyprint.Document.write_pdf

    def half_then_fail(self, target=None, *args, **kwargs):
        data = real_write(self, None, *args, **kwargs)
        target.write(data[: len(data) // 2])  # a partial PDF reaches the disk …
        raise RuntimeError("killed mid-write")  # … and the run dies

    monkeypatch.setattr(weasyprint.Document, "write_pdf", half_then_fail)
    with pytest.raises(RuntimeError, match="killed mid-write"):
        statements.render_provider_statement(built_warehouse, MONTH, pid, tmp_path, run_id=RUN_ID)
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert leftovers == [], leftovers
    assert not final.exists()


def test_atomic_write_keeps_the_previous_pdf(built_warehouse, tmp_path, monkeypatch, providers):
    import weasyprint

    pid = min(providers)
    first = statements.render_provider_statement(built_warehouse, MONTH, pid, tmp_path, run_id=RUN_ID)
    before = first.path.read_bytes()

    def fail(self, target=None, *args, **kwargs):
        target.write(b"%PDF-1.7 partial")
        raise RuntimeError("disk full")

    monkeypatch.setattr(weasyprint.Document, "write_pdf", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        statements.render_provider_statement(built_warehouse, MONTH, pid, tmp_path, run_id="second-run")
    assert first.path.read_bytes() == before
    assert sorted(p.name for p in first.path.parent.iterdir()) == sorted([first.path.name, first.figures_path.name])


def test_bare_render_of_prebuilt_html(built_warehouse, tmp_path, providers):
    """The benchmark path: HTML built once, then only WeasyPrint is timed."""
    with duckdb.connect(str(built_warehouse), read_only=True) as c:
        built = statements.build_statement(c, MONTH, min(providers), tmp_path, run_id=RUN_ID)
    t0 = time.perf_counter()
    pdf = render.html_to_pdf(built.html, built.attachments)
    print(f"\nbare WeasyPrint render of one statement: {time.perf_counter() - t0:.2f} s")
    assert pdf.startswith(b"%PDF-")
    assert len(PdfReader(io.BytesIO(pdf)).pages) >= 4
