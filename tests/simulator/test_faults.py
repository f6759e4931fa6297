"""Fault injection (simulator/faults.py): every fault is caught by the landing contract, and repaired.

One small platform is generated per module (5 business days, 40 accounts); each test corrupts a fresh
copy. The fourth business date (2026-09-04) has every natural target: DEPOSITs, a capital event,
liquidation fills of a triggered liquidation, WARNING/RESTRICT events; the fallbacks (a date without
such a row) are tested apart.
"""
from __future__ import annotations

import csv
import hashlib
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from simulator import GeneratorConfig, generate
from simulator.custody import write_xml
from simulator.faults import (
    FAULTS_FILE,
    KINDS,
    ROW_SHIFTING,
    FaultNotApplicable,
    FaultRecord,
    _parse_camt,
    inject,
    stacking_order,
)

REPO = Path(__file__).resolve().parents[2]
CHECKER = REPO.parent / "shared/tools/check_landing.py"
CFG = {"days": 5, "accounts": 40, "instruments": 20, "providers": 8, "fills_per_day": 600, "seed": 7}
DAY = "2026-09-04"  # 4th business date: every fault has a natural target
THIRD = "2026-09-03"  # the CLI's default fault date: no liquidation fill, no risk event
CUSTODY_KINDS = ("missing_custody_statement", "camt_rollforward", "reversal_entries", "overlapping_statements",
                 "ledger_without_custody")


def checker():
    if not CHECKER.exists():
        pytest.skip(f"../shared/tools/check_landing.py not found: {CHECKER} (the landing contract check runs "
                    "only with ../shared beside the repo)")
    if "check_landing" in sys.modules:
        return sys.modules["check_landing"]
    spec = importlib.util.spec_from_file_location("check_landing", CHECKER)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["check_landing"] = mod
    spec.loader.exec_module(mod)
    return mod


def check(root: Path):
    return checker().check_landing(root, cap=1_000_000)


def hashes(root: Path) -> dict[str, str]:
    """Every file of the tree (dotfiles of the generator and the CLI left out)."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.name.startswith(".")}


def copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def assert_caught(rep, rec: FaultRecord) -> None:
    """Every expected rule fires and names the file (and row) the record names; nothing unexplained fires."""
    assert rec.expect, rec
    for e in rec.expect:
        got = rep.rules.get(e.rule)
        assert got is not None, f"{rec.kind}: {e.rule} did not fire\n{rec.description}\n{rep.text(0)}"
        assert got["severity"] == e.severity, (rec.kind, e.rule)
        where = {(it["file"], str(it["row"])) for it in got["items"]}
        assert (e.file, str(e.row)) in where, f"{rec.kind}: {e.rule} at {e.file}:{e.row}, checker has {sorted(where)[:5]}"
    unexplained = rep.fired() - set(rec.rules) - set(rec.also)
    assert not unexplained, f"{rec.kind}: unexpected rules {unexplained}\n{rep.text(0)}"
    if rec.kind == "overlapping_statements":  # the contract only warns about a repeated entry ...
        assert "custody.repeated_entry" in rep.fired("warning")
    assert rep.count("error") > 0  # ... and every fault (overlap too: two statements a day) is an error


def assert_repaired(rec: FaultRecord, root: Path, clean: Path) -> None:
    rec.repair()
    rep = check(root)
    assert rep.count("error") == 0 and rep.count("warning") == 0, rep.text(0)
    assert hashes(root) == hashes(clean)


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("faults_clean")
    generate(GeneratorConfig(out=out, quiet=True, **CFG))
    return out


@pytest.fixture(scope="module")
def clean_forms(tmp_path_factory) -> dict[str, Path]:
    """Custody as both forms (XML + CSV export), and as the CSV export only with Parquet trades."""
    out = {}
    for name, kw in (("both", {"custody_format": "both"}),
                     ("csv", {"custody_format": "csv", "trades_format": "parquet"})):
        p = tmp_path_factory.mktemp(f"faults_{name}")
        generate(GeneratorConfig(out=p, quiet=True, days=4, accounts=20, instruments=12, providers=6,
                                 fills_per_day=300, seed=3, **kw))
        out[name] = p
    return out


def test_clean_tree_passes_and_has_every_target(clean):
    rep = check(clean)
    assert rep.count("error") == 0 and rep.count("warning") == 0, rep.text(0)
    day = clean / DAY
    ledger = (day / "ledger" / "ledger.csv").read_text()
    assert ",DEPOSIT," in ledger
    assert (day / "capital" / "capital.csv").read_text().count("\n") > 1
    trades = (day / "trades" / "trades.csv").read_text()
    assert ",LIQUIDATION,LQ" in trades
    risk = (day / "risk_events" / "risk_events.csv").read_text()
    assert ",WARNING," in risk and ",LIQUIDATION_TRIGGER," in risk


def test_catalogue():
    assert len(KINDS) >= 17 and len(set(KINDS)) == len(KINDS)
    for k in ("truncated_file", "duplicate_file", "duplicate_ids", "wrong_types", "negative_amount",
              "absurd_amount", "unknown_account", "unknown_provider", "unknown_symbol", "missing_custody_statement",
              "camt_rollforward", "reversal_entries", "overlapping_statements", "naive_timestamps", "future_dates",
              "wrong_encoding", "orphan_liquidation_fill", "ledger_without_custody"):
        assert k in KINDS
    assert set(ROW_SHIFTING) <= set(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_fault_is_caught_and_repaired(kind, clean, tmp_path):
    root = copy(clean, tmp_path / "landing")
    rec = inject(root, kind, DAY, seed=0)
    assert rec.kind == kind and rec.business_date == DAY and rec.description
    assert rec.files and set(rec.originals) == set(rec.files)
    assert all(not Path(f).is_absolute() and f[:10] >= DAY for f in rec.files)
    assert rec.locators and rec.rules and all(e.why for e in rec.expect)
    assert rec.ingest and all(i.outcome in ("refuse", "quarantine", "load") for i in rec.ingest)
    json.dumps(rec.as_dict())  # the CLI's manifest: serialisable, no bytes
    changed = {f for f, h in hashes(root).items() if hashes(clean).get(f) != h}
    removed = set(hashes(clean)) - set(hashes(root))
    assert changed | removed <= set(rec.files)
    assert_caught(check(root), rec)
    assert_repaired(rec, root, clean)


@pytest.mark.parametrize("kind", ["unknown_account", "reversal_entries", "naive_timestamps", "wrong_encoding"])
def test_same_seed_same_bytes(kind, clean, tmp_path):
    a = inject(copy(clean, tmp_path / "a"), kind, DAY, seed=5)
    b = inject(copy(clean, tmp_path / "b"), kind, DAY, seed=5)
    assert hashes(tmp_path / "a") == hashes(tmp_path / "b")
    assert a.as_dict() == b.as_dict()
    others = []
    for seed in (6, 7, 8):
        c = inject(copy(clean, tmp_path / f"s{seed}"), kind, DAY, seed=seed)
        others.append(c.locators)
    assert any(loc != a.locators for loc in others)  # the seed picks the target


@pytest.mark.parametrize("kind, day, taken", [
    ("unknown_provider", "2026-09-07", None),  # no capital event that day: a REDEMPTION_REQUEST is added
    ("orphan_liquidation_fill", THIRD, None),  # no liquidation fill: a CLIENT fill is converted
    ("future_dates", THIRD, None),  # no risk event: the fill alone
    ("ledger_without_custody", THIRD, "deposits"),  # every DEPOSIT taken: a DEPOSIT row without custody is added
])
def test_fallback_targets(kind, day, taken, clean, tmp_path):
    root = copy(clean, tmp_path / "landing")
    used: set[str] = set()
    if taken == "deposits":
        with open(root / day / "ledger" / "ledger.csv", newline="") as fh:
            used = {f"e2e:{r['end_to_end_id']}" for r in csv.DictReader(fh) if r["type"] == "DEPOSIT"}
        assert used
    rec = inject(root, kind, day, seed=0, taken=used)
    assert_caught(check(root), rec)
    assert_repaired(rec, root, clean)


@pytest.mark.parametrize("kind", CUSTODY_KINDS + ("negative_amount",))
@pytest.mark.parametrize("form", ["both", "csv"])
def test_custody_faults_in_every_form(form, kind, clean_forms, tmp_path):
    clean = clean_forms[form]
    assert check(clean).count("error") == 0
    root = copy(clean, tmp_path / "landing")
    rec = inject(root, kind, THIRD, seed=1)
    assert_caught(check(root), rec)
    if form == "both" and kind in CUSTODY_KINDS:  # XML and CSV edited alike
        assert any(f.endswith(".xml") for f in rec.files) and any(f.endswith(".csv") for f in rec.files)
    assert_repaired(rec, root, clean)


def test_parquet_trades(clean_forms, tmp_path):
    clean = clean_forms["csv"]
    for kind in ("truncated_file", "duplicate_file"):
        root = copy(clean, tmp_path / kind)
        rec = inject(root, kind, THIRD)
        assert rec.files[0].endswith(".parquet")
        assert_caught(check(root), rec)
        assert_repaired(rec, root, clean)
    root = copy(clean, tmp_path / "rows")
    for kind in ("unknown_account", "wrong_types", "naive_timestamps", "orphan_liquidation_fill"):
        with pytest.raises(FaultNotApplicable, match="CSV trades"):
            inject(root, kind, THIRD)
    assert hashes(root) == hashes(clean)  # a refused fault leaves nothing behind


def test_stacked_faults_do_not_mask_each_other(clean, tmp_path):
    root = copy(clean, tmp_path / "landing")
    kinds = [k for k in KINDS if k != "wrong_encoding"]  # it makes providers.csv unreadable: unknown_provider masked
    taken: set[str] = set()
    recs = [inject(root, k, DAY, seed=0, taken=taken) for k in stacking_order(kinds)]
    rep = check(root)
    for rec in recs:
        for e in rec.expect:
            where = {(it["file"], str(it["row"])) for it in rep.rules.get(e.rule, {}).get("items", [])}
            assert (e.file, str(e.row)) in where, (rec.kind, e)
    assert rep.fired() <= set().union(*(set(r.rules) | set(r.also) for r in recs))
    for rec in reversed(recs):
        rec.repair()
    assert hashes(root) == hashes(clean)


def test_stacking_order():
    order = stacking_order(["unknown_account", "duplicate_ids", "truncated_file", "reversal_entries", "duplicate_ids"])
    assert order == ["duplicate_ids", "reversal_entries", "unknown_account", "truncated_file"]


def test_custody_parse_write_roundtrip(clean):
    """Custody faults rewrite a statement with the generator's own writer: untouched parts keep their bytes."""
    from datetime import date

    for p in sorted(clean.glob(f"{DAY}/custody/*.xml")):
        out = p.with_name(".roundtrip.xml")
        try:
            write_xml(out, _parse_camt(p, date.fromisoformat(DAY)))
            assert out.read_bytes() == p.read_bytes(), p.name
        finally:
            out.unlink(missing_ok=True)


def test_bad_requests_leave_the_tree_alone(clean, tmp_path):
    root = copy(clean, tmp_path / "landing")
    with pytest.raises(ValueError, match="unknown fault kind"):
        inject(root, "gremlins", DAY)
    with pytest.raises(FaultNotApplicable, match="no business-date folder"):
        inject(root, "wrong_types", "2026-12-25")
    assert hashes(root) == hashes(clean)


@pytest.mark.parametrize("kind", KINDS)
def test_loader_reaction(kind, clean, tmp_path):
    """FaultRecord.ingest says how assets/ingest/load.py treats the damaged file: refuse, quarantine or load."""
    duckdb = pytest.importorskip("duckdb")
    from assets.common.errors import FeedError
    from assets.ingest.load import load_feed

    root = copy(clean, tmp_path / "landing")
    rec = inject(root, kind, DAY)
    for ie in rec.ingest:
        con = duckdb.connect()
        try:
            if ie.outcome == "refuse":
                with pytest.raises(FeedError) as err:
                    load_feed(con, root, DAY, ie.feed)
                assert (err.value.rule, err.value.file) == (ie.rule, ie.file)
                continue
            load_feed(con, root, DAY, ie.feed)
            rules = {r for (r,) in con.execute("SELECT DISTINCT rule FROM raw.quarantine WHERE _source_file = ?",
                                               [ie.file]).fetchall()}
            assert rules == ({ie.rule} if ie.outcome == "quarantine" else set()), (kind, ie)
            if ie.outcome == "load":
                assert ie.gate, (kind, ie)
        finally:
            con.close()


def _cli(out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "simulator", "--days", "4", "--accounts", "30",
                           "--faults", "truncated_file,unknown_account", "--out", str(out), *extra],
                          check=False, cwd=REPO, capture_output=True, text=True, timeout=300)


def test_cli_faults_deterministic(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        proc = _cli(out)
        assert proc.returncode == 0, proc.stderr
    assert "fault truncated_file on 2026-09-03" in proc.stdout  # default: the 3rd business date
    assert hashes(a) == hashes(b)
    manifest = json.loads((a / FAULTS_FILE).read_text())
    assert (a / FAULTS_FILE).read_bytes() == (b / FAULTS_FILE).read_bytes()
    assert [r["kind"] for r in manifest] == ["truncated_file", "unknown_account"]
    rep = check(a)
    assert {"row.malformed", "ref.account"} <= rep.fired("error")
    for r in manifest:
        for e in r["expect"]:
            assert (e["file"], str(e["row"])) in {(it["file"], str(it["row"])) for it in rep.rules[e["rule"]]["items"]}


def test_cli_options(tmp_path):
    from simulator.cli import main

    out = tmp_path / "l"
    args = ["--days", "3", "--accounts", "12", "--instruments", "8", "--fills-per-day", "100", "--quiet",
            "--out", str(out)]
    assert main([*args, "--faults", "camt_rollforward", "--fault-date", "2026-09-02", "--fault-seed", "4"]) == 0
    rec = json.loads((out / FAULTS_FILE).read_text())[0]
    assert rec["business_date"] == "2026-09-02" and rec["rules"] == ["custody.rollforward"]
    assert main([*args, "--faults", "wrong_types", "--fault-date", "2026-09-05"]) == 2  # not a business date
    with pytest.raises(SystemExit) as exit_:
        main([*args, "--faults", "gremlins"])
    assert exit_.value.code == 2
    assert main(args) == 0  # a clean re-run over the faulted dates drops the stale manifest
    assert not (out / FAULTS_FILE).exists()
    assert check(out).count("error") == 0
    assert main(["--list-faults"]) == 0
