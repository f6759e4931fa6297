"""Fault injection: corrupt a generated landing tree on purpose, one targeted defect at a time.

The generator writes a clean tree (``check_landing.py`` finds 0 errors, 0 warnings). This module edits
the *written files* afterwards, so the generator itself stays clean: each fault is a small, deterministic
change of one business date (a row, a value, a file), and the returned :class:`FaultRecord` says what
was changed, where, which contract rule must catch it, and keeps the original bytes so ``repair()``
puts the good files back.

    from simulator.faults import inject
    rec = inject(landing, "unknown_account", "2026-09-03", seed=0)
    rec.expect      # [Expect(rule='ref.account', file='2026-09-03/trades/trades.csv', row=812, ...)]
    rec.repair()    # byte-identical original tree again

    python -m simulator --days 4 --accounts 30 --faults truncated_file,unknown_account --out /tmp/l

Every fault makes ``../shared/tools/check_landing.py`` report an error, except ``overlapping_statements``
whose repeated entries the contract deliberately only warns about (``custody.repeated_entry``); its
second statement for the same account and day is still the error ``custody.statement``.

``FaultRecord.expect`` lists the rules that *must* fire (rule, file, row as the checker names them);
``also`` lists rules that fire as a consequence (e.g. a dropped fill also breaks that account's
``ledger.trade_settlement``). ``ingest`` says how the raw loader (``assets/ingest/load.py``) reacts:
it refuses the file (``FeedError`` with that rule), quarantines the rows (rule in ``raw.quarantine``),
or loads the rows and leaves the defect to a later gate (cross-feed, reconciliation, plausibility).

Targets are chosen with ``random.Random(f"{seed}/{kind}/{business_date}")``: same tree, kind, date and
seed give the same bytes. When the date has no natural target (no DEPOSIT, no liquidation fill, no
capital event) the fault creates one (a REDEMPTION_REQUEST, a converted fill, a new DEPOSIT row) and
says so in ``description``. Fills are edited in a CSV trades file; with ``--trades-format parquet`` only
``truncated_file`` and ``duplicate_file`` apply to trades (the others raise :class:`FaultNotApplicable`).
Custody faults edit every form present (camt.053 XML, the CSV export, or both, consistently).

Several faults on one date stack (the CLI's ``--faults a,b,c``): pass one ``taken`` set to every
``inject`` call and a fault never picks a row, end-to-end id or custody account an earlier one hit;
inject in :func:`stacking_order` (the kinds that insert or remove CSV rows first) so that recorded row
numbers stay valid. Two pairs still mask each other: ``wrong_encoding`` makes ``providers.csv``
unreadable, so an ``unknown_provider`` of the same date is no longer checkable; and ``duplicate_file``
after ``truncated_file`` on a Parquet trades file is refused (the copy would be unreadable too).
Repair several records in reverse order of injection.
"""
from __future__ import annotations

import copy
import csv
import json
import random
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import defusedxml.ElementTree as DET

from .custody import Statement, write_csv, write_xml
from .dates import ymd

FAULTS_FILE = ".faults.json"  # written by the CLI beside the tree (a dotfile: the checker ignores it)
CMP = "CLIENT_MARGIN_POOL"
DAY_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


class FaultNotApplicable(ValueError):
    """The fault cannot be injected into this tree or date (e.g. no trades CSV, no rows at all)."""


@dataclass(frozen=True)
class Expect:
    """A rule of check_landing.py that must fire, where it names the problem."""

    rule: str
    file: str  # relative to the landing root, as the checker prints it
    row: object  # CSV line number (header = 1), "-" for a whole file/folder, "Stmt[..]/Ntry[..]" in camt.053
    why: str = ""
    severity: str = "error"

    def as_dict(self) -> dict:
        return {"rule": self.rule, "severity": self.severity, "file": self.file, "row": self.row, "why": self.why}


@dataclass(frozen=True)
class IngestExpect:
    """How the raw loader reacts to the damaged file of one feed."""

    feed: str  # registry name in assets/ingest/feeds.py (trades, ledger_entries, custody_entries, ...)
    outcome: str  # "refuse" (FeedError), "quarantine" (rows to raw.quarantine), "load" (a later gate must catch it)
    rule: str | None  # FeedError.rule or quarantine rule; None for "load"
    file: str
    gate: str = ""  # for "load": the later gate (SPEC §5) that must catch it

    def as_dict(self) -> dict:
        return {"feed": self.feed, "outcome": self.outcome, "rule": self.rule, "file": self.file, "gate": self.gate}


@dataclass
class FaultRecord:
    kind: str
    business_date: str
    landing: Path
    description: str = ""
    files: list[str] = field(default_factory=list)  # changed, added or removed (relative to the landing root)
    locators: list[str] = field(default_factory=list)  # "file:row" of every edited row / element
    expect: list[Expect] = field(default_factory=list)
    also: list[str] = field(default_factory=list)  # consequential rules that may fire too
    ingest: list[IngestExpect] = field(default_factory=list)
    originals: dict[str, bytes | None] = field(default_factory=dict, repr=False)  # None: the fault added it

    @property
    def rules(self) -> list[str]:
        """The check_landing rules that must fire (errors first)."""
        seen: dict[str, str] = {}
        for e in self.expect:
            seen.setdefault(e.rule, e.severity)
        return sorted(seen, key=lambda r: (seen[r] != "error", r))

    def repair(self, landing: Path | None = None) -> None:
        """Put the original bytes back (and remove what the fault added); ``landing``: another copy."""
        root = Path(landing) if landing is not None else self.landing
        for rel, data in self.originals.items():
            p = root / rel
            if data is None:
                if p.exists():
                    p.unlink()
            else:
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_bytes(data)

    def as_dict(self) -> dict:
        return {"kind": self.kind, "business_date": self.business_date, "description": self.description,
                "files": list(self.files), "locators": list(self.locators), "rules": self.rules,
                "expect": [e.as_dict() for e in self.expect], "also": list(self.also),
                "ingest": [i.as_dict() for i in self.ingest]}


# ==============================================================================================
# Editing helpers: every write goes through _Ctx so that the original bytes are kept first
# ==============================================================================================
class _Ctx:
    def __init__(self, landing: Path, kind: str, day: str, seed: int, taken: set[str] | None = None) -> None:
        self.root = landing
        self.taken = set() if taken is None else taken  # rows/ids/accounts earlier faults hit: not picked again
        self.day = day
        self.d = date.fromisoformat(day)
        self.rng = random.Random(f"{seed}/{kind}/{day}")
        self.rec = FaultRecord(kind, day, landing)
        self.what: list[str] = []

    # targets already hit by an earlier fault (stacked faults must not mask each other)
    def row_keys(self, t: _Csv, i: int) -> list[str]:
        r = t.row(i) or {}
        keys = [f"{t.path.parent.name}:{r.get(t.header[0], '')}"]
        if r.get("end_to_end_id"):
            keys.append(f"e2e:{r['end_to_end_id']}")
        if t.path.parent.name == "trades" and r.get("account_id"):
            keys.append(f"fills-of:{r['account_id']}")  # an account's fills are judged together (ledger vs fills)
        return keys

    def free(self, t: _Csv, rows: list[int]) -> list[int]:
        return [i for i in rows if not any(k in self.taken for k in self.row_keys(t, i))]

    def take(self, t: _Csv | None, *rows: int, keys: tuple[str, ...] = ()) -> None:
        for i in rows:
            self.taken.update(self.row_keys(t, i))
        self.taken.update(keys)

    # files
    def rel(self, p: Path) -> str:
        return p.relative_to(self.root).as_posix()

    def _keep(self, p: Path) -> None:
        rel = self.rel(p)
        if rel not in self.rec.originals:
            self.rec.originals[rel] = p.read_bytes() if p.exists() else None
            self.rec.files.append(rel)

    def write(self, p: Path, data: bytes) -> None:
        self._keep(p)
        p.write_bytes(data)

    def remove(self, p: Path) -> None:
        self._keep(p)
        p.unlink()

    def keep_then(self, p: Path, fn: Callable[[], None]) -> None:
        """Snapshot p, then let fn (a writer of the simulator) rewrite it."""
        self._keep(p)
        fn()

    # record
    def expect(self, rule: str, file: str, row: object, why: str, severity: str = "error") -> None:
        self.rec.expect.append(Expect(rule, file, row, why, severity))

    def loc(self, file: str, row: object) -> None:
        self.rec.locators.append(f"{file}:{row}")

    def ingest(self, feed: str, outcome: str, rule: str | None, file: str, gate: str = "") -> None:
        self.rec.ingest.append(IngestExpect(feed, outcome, rule, file, gate))

    def also(self, *rules: str) -> None:
        for r in rules:
            if r not in self.rec.also:
                self.rec.also.append(r)

    # feed files of the date
    def feed_file(self, feed: str, *exts: str) -> Path:
        folder = self.root / self.day / feed
        files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")
                       and p.suffix.lower() in exts) if folder.is_dir() else []
        if not files:
            raise FaultNotApplicable(f"{self.day}/{feed}: no {'/'.join(exts)} file")
        return files[0]

    def trades_csv(self) -> _Csv:
        p = self.feed_file("trades", ".csv", ".parquet")
        if p.suffix.lower() != ".csv":
            raise FaultNotApplicable(f"{self.rel(p)}: {self.rec.kind} edits fills in a CSV trades file "
                                     "(generate with --trades-format csv)")
        return _Csv(self, p)

    def table(self, feed: str, name: str | None = None) -> _Csv:
        p = (self.root / self.day / feed / name) if name else self.feed_file(feed, ".csv")
        if not p.is_file():
            raise FaultNotApplicable(f"{self.rel(p)} not found")
        return _Csv(self, p)


def _split_raw(line: str) -> list[str]:
    """Raw CSV tokens of one line (quotes kept), so untouched fields keep their exact bytes."""
    toks: list[str] = []
    cur: list[str] = []
    inq = False
    for ch in line:
        if ch == '"':
            inq = not inq
            cur.append(ch)
        elif ch == "," and not inq:
            toks.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    toks.append("".join(cur))
    return toks


def _unq(tok: str) -> str:
    if len(tok) >= 2 and tok[0] == '"' and tok[-1] == '"':
        return tok[1:-1].replace('""', '"')
    return tok


def _q(value: str) -> str:
    """A field the way the generator's writer (polars) quotes it: empty as "", quotes when needed."""
    if value == "" or any(c in value for c in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


class _Csv:
    """Line-level view of a small feed CSV: rows are edited in place, other lines keep their bytes."""

    def __init__(self, ctx: _Ctx, path: Path) -> None:
        self.ctx, self.path, self.rel = ctx, path, ctx.rel(path)
        raw = path.read_bytes()
        try:
            text, self.encoding = raw.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:  # wrong_encoding hit it before: read and write it back as Latin-1
            text, self.encoding = raw.decode("latin-1"), "latin-1"
        self.trailing_newline = text.endswith("\n")
        self.lines = (text[:-1] if self.trailing_newline else text).split("\n")
        self.header = [_unq(t).strip() for t in _split_raw(self.lines[0])]
        self.col = {h: i for i, h in enumerate(self.header)}

    def n(self) -> int:
        return len(self.lines)

    def line_no(self, i: int) -> int:
        return i + 1  # the header is line 1

    def tokens(self, i: int) -> list[str]:
        return _split_raw(self.lines[i])

    def row(self, i: int) -> dict[str, str] | None:
        toks = self.tokens(i)
        if len(toks) != len(self.header):
            return None
        return {h: _unq(t) for h, t in zip(self.header, toks)}

    def rows(self, pred: Callable[[dict[str, str]], bool] = lambda r: True) -> list[int]:
        out = []
        for i in range(1, len(self.lines)):
            r = self.row(i)
            if r is not None and pred(r):
                out.append(i)
        return out

    def set(self, i: int, **values: str) -> None:
        toks = self.tokens(i)
        for k, v in values.items():
            toks[self.col[k]] = _q(v)
        self.lines[i] = ",".join(toks)

    def insert(self, i: int, values: dict[str, str]) -> None:
        """Insert a row so that it becomes index i (line i + 1)."""
        self.lines.insert(i, ",".join(_q(values[h]) for h in self.header))

    def append(self, values: dict[str, str]) -> int:
        self.insert(len(self.lines), values)
        return len(self.lines) - 1

    def save(self) -> None:
        text = "\n".join(self.lines) + ("\n" if self.trailing_newline else "")
        self.ctx.write(self.path, text.encode(self.encoding))


def _cents(s: str) -> int:
    return int(Decimal(s) * 100)


def _fmt(c: int) -> str:
    return f"{'-' if c < 0 else ''}{abs(c) // 100}.{abs(c) % 100:02d}"


def _next_id(values: list[str], fallback: str) -> str:
    """One more than the largest id of the form <prefix><digits> (keeps the width)."""
    best: tuple[int, str, int] | None = None
    for v in values:
        m = re.fullmatch(r"(.*?)(\d+)", v)
        if m and (best is None or int(m.group(2)) > best[0]):
            best = (int(m.group(2)), m.group(1), len(m.group(2)))
    if best is None:
        return fallback
    return f"{best[1]}{best[0] + 1:0{best[2]}d}"


def _absent(candidates: tuple[str, ...], present: set[str]) -> str:
    return next(c for c in candidates if c not in present)


# ==============================================================================================
# Custody: the day's statements in every form present (XML files, the CSV pair), edited alike
# ==============================================================================================
def _parse_camt(path: Path, day: date) -> Statement:
    """One of the generator's camt.053 files as the simulator's Statement (write_xml writes it back).

    Parsed with defusedxml all the same: a landing tree is untrusted input (SPEC §2)."""
    root = DET.parse(path).getroot()
    ns = root.tag[1:root.tag.index("}")] if root.tag.startswith("{") else ""
    m = {"c": ns}

    def t(node: ET.Element, p: str) -> str:
        x = node.find(p, m)
        return (x.text or "").strip() if x is not None else ""

    stmt = root.find("c:BkToCstmrStmt/c:Stmt", m)
    if stmt is None:
        raise FaultNotApplicable(f"{path}: no statement")
    bal: dict[str, int] = {}
    for b in stmt.findall("c:Bal", m):
        sign = 1 if t(b, "c:CdtDbtInd") == "CRDT" else -1
        bal[t(b, "c:Tp/c:CdOrPrtry/c:Cd")] = sign * _cents(t(b, "c:Amt"))
    st = Statement(t(stmt, "c:Id"), t(stmt, "c:Acct/c:Id/c:Othr/c:Id"), day, bal.get("OPBD", 0), bal.get("CLBD", 0),
                   [], [], [], [], [], [])
    for n in stmt.findall("c:Ntry", m):
        sign = 1 if t(n, "c:CdtDbtInd") == "CRDT" else -1
        st.refs.append(t(n, "c:NtryRef"))
        st.amount.append(sign * _cents(t(n, "c:Amt")))
        st.reversal.append(t(n, "c:RvslInd") == "true")
        st.code.append(t(n, "c:BkTxCd/c:Prtry/c:Cd"))
        st.e2e.append(t(n, "c:NtryDtls/c:TxDtls/c:Refs/c:EndToEndId"))
        st.remit.append(t(n, "c:NtryDtls/c:TxDtls/c:RmtInf/c:Ustrd"))
    return st


def _parse_custody_csv(folder: Path, day: date) -> list[Statement]:
    with open(folder / "balances.csv", newline="", encoding="utf-8") as fh:
        bals = list(csv.DictReader(fh))
    with open(folder / "entries.csv", newline="", encoding="utf-8") as fh:
        ents = list(csv.DictReader(fh))
    sts: dict[str, Statement] = {}
    for b in bals:
        st = sts.get(b["statement_id"])
        if st is None:
            st = sts[b["statement_id"]] = Statement(b["statement_id"], b["custody_account"], day, 0, 0,
                                                    [], [], [], [], [], [])
        v = _cents(b["amount"]) * (1 if b["credit_debit"] == "CRDT" else -1)
        if b["type"] == "OPBD":
            st.opening = v
        else:
            st.closing = v
    for e in ents:
        st = sts[e["statement_id"]]
        st.refs.append(e["entry_ref"])
        st.amount.append(_cents(e["amount"]) * (1 if e["credit_debit"] == "CRDT" else -1))
        st.reversal.append(e["reversal"] == "true")
        st.e2e.append(e["end_to_end_id"])
        st.remit.append(e["remittance"])
        st.code.append(e["remittance"].split(" ")[0] if e["remittance"] else "")  # not in the CSV export
    return list(sts.values())


class _Custody:
    """One business date's custody statements: XML files and/or the CSV export."""

    def __init__(self, ctx: _Ctx, day: str) -> None:
        self.ctx = ctx
        self.day = date.fromisoformat(day)
        self.folder = ctx.root / day / "custody"
        self.xml: dict[str, tuple[Path, Statement]] = {}
        for p in sorted(self.folder.glob("*.xml")):
            st = _parse_camt(p, self.day)
            self.xml.setdefault(st.account, (p, st))
        pair = (self.folder / "entries.csv").is_file() and (self.folder / "balances.csv").is_file()
        self.csv: list[Statement] | None = _parse_custody_csv(self.folder, self.day) if pair else None
        self.dirty: set[str] = set()
        self.csv_dirty = False

    def accounts(self) -> list[str]:
        accts = list(self.xml) if self.xml else [s.account for s in self.csv or []]
        return sorted(set(accts))

    def primary(self, account: str) -> Statement | None:
        if account in self.xml:
            return self.xml[account][1]
        return next((s for s in self.csv or [] if s.account == account), None)

    def apply(self, account: str, fn: Callable[[Statement], None]) -> None:
        """Run fn on the account's (first) statement in every form present."""
        first = self.primary(account)
        if first is None:
            return
        if account in self.xml:
            fn(self.xml[account][1])
            self.dirty.add(account)
        for s in self.csv or []:
            if s.sid == first.sid:
                fn(s)
                self.csv_dirty = True

    def remove(self, account: str) -> None:
        if account in self.xml:
            self.ctx.remove(self.xml.pop(account)[0])
        if self.csv is not None:
            self.csv = [s for s in self.csv if s.account != account]
            self.csv_dirty = True

    def add_statement(self, after: str, st: Statement, xml_name: str) -> None:
        """A further statement for the same account: its own XML file, and/or rows after the first one's."""
        if account_xml := self.xml.get(after):
            p = account_xml[0].with_name(xml_name)
            self.ctx.keep_then(p, lambda: write_xml(p, st))
        if self.csv is not None:
            i = next(k for k, s in enumerate(self.csv) if s.account == after)
            self.csv.insert(i + 1, copy.deepcopy(st))
            self.csv_dirty = True

    def save(self) -> None:
        for acct in sorted(self.dirty):
            if acct in self.xml:
                p, st = self.xml[acct]
                self.ctx.keep_then(p, lambda p=p, st=st: write_xml(p, st))
        if self.csv_dirty and self.csv is not None:
            for name in ("entries.csv", "balances.csv"):
                self.ctx._keep(self.folder / name)
            write_csv(self.folder, self.csv)

    # locators as check_landing prints them (the XML form is read first when both are present)
    def entry_loc(self, account: str, ref: str) -> tuple[str, object]:
        if account in self.xml:
            p, st = self.xml[account]
            return self.ctx.rel(p), f"Stmt[{st.sid}]/Ntry[{ref}]"
        line = 2
        for s in self.csv or []:
            if ref in s.refs and s.account == account:
                return self.ctx.rel(self.folder / "entries.csv"), line + s.refs.index(ref)
            line += len(s.refs)
        raise KeyError(ref)

    def balance_loc(self, account: str, typ: str) -> tuple[str, object]:
        if account in self.xml:
            p, st = self.xml[account]
            return self.ctx.rel(p), f"Stmt[{st.sid}]/Bal[{1 if typ == 'OPBD' else 2}]"
        for k, s in enumerate(self.csv or []):
            if s.account == account:
                return self.ctx.rel(self.folder / "balances.csv"), 2 + 2 * k + (typ == "CLBD")
        raise KeyError(account)


def _later_days(ctx: _Ctx) -> list[str]:
    return sorted(p.name for p in ctx.root.iterdir()
                  if p.is_dir() and DAY_RE.fullmatch(p.name) and p.name > ctx.day)


def _shift_balances(ctx: _Ctx, cd: _Custody, account: str, delta: int) -> None:
    """Move the account's closing balance by delta on the fault date, and both balances on every later
    date, so every statement still rolls forward and each opening is the previous closing."""
    def shift_close(s: Statement) -> None:
        s.closing += delta

    def shift_both(s: Statement) -> None:
        s.opening += delta
        s.closing += delta

    cd.apply(account, shift_close)
    for day in _later_days(ctx):
        later = _Custody(ctx, day)
        if later.primary(account) is not None:
            later.apply(account, shift_both)
            later.save()


def _custody_ingest(ctx: _Ctx, cd: _Custody, account: str, gate: str) -> None:
    """The custody feed loads: the loader reads statements, the quality gates judge them."""
    if account in cd.xml:
        f = ctx.rel(cd.xml[account][0])
    elif cd.csv is not None:
        f = ctx.rel(cd.folder / "entries.csv")
    else:
        f = f"{ctx.day}/custody"
    ctx.ingest("custody_entries", "load", None, f, gate)


# ==============================================================================================
# The faults
# ==============================================================================================
def _client_fills(ctx: _Ctx, t: _Csv) -> list[int]:
    """CLIENT fills no earlier fault touched, but the last row (truncated_file's target)."""
    rows = ctx.free(t, [i for i in t.rows(lambda r: r["origin"] == "CLIENT") if i != t.n() - 1])
    if not rows:
        raise FaultNotApplicable(f"{t.rel}: no CLIENT fill on this date")
    return rows


def _pick(ctx: _Ctx, t: _Csv, rows: list[int], what: str) -> int:
    rows = ctx.free(t, rows)
    if not rows:
        raise FaultNotApplicable(f"{ctx.day}: no {what} on this date")
    i = ctx.rng.choice(rows)
    ctx.take(t, i)
    return i


def _ts_row(ledger: _Csv, account: str) -> int | None:
    rows = ledger.rows(lambda r: r["type"] == "TRADE_SETTLEMENT" and r["account_id"] == account)
    return rows[0] if rows else None


def f_truncated_file(ctx: _Ctx) -> None:
    p = ctx.feed_file("trades", ".csv", ".parquet")
    rel = ctx.rel(p)
    if p.suffix.lower() == ".parquet":
        data = p.read_bytes()
        ctx.write(p, data[: len(data) // 2])
        ctx.take(None, keys=(f"truncated:{rel}",))
        ctx.what.append(f"{rel} cut to {len(data) // 2:,} of {len(data):,} bytes (Parquet footer lost)")
        ctx.expect("file.read", rel, "-", "Parquet file cut in half: unreadable")
        ctx.also("not_checked")  # the day's ledger-vs-fills comparison is skipped
        ctx.loc(rel, "-")
        ctx.ingest("trades", "refuse", "file.read", rel)
        return
    t = _Csv(ctx, p)
    if t.n() < 2:
        raise FaultNotApplicable(f"{rel}: no fill to cut")
    i = t.n() - 1
    toks = t.tokens(i)
    cut = toks[:5] + [toks[5][: max(1, len(toks[5]) // 2)]]
    t.lines[i] = ",".join(cut)
    t.trailing_newline = False
    t.save()
    line = t.line_no(i)
    ctx.what.append(f"{rel} cut in the middle of its last row (line {line}: {len(cut)} of {len(t.header)} "
                    "fields, no trailing newline)")
    ctx.expect("row.malformed", rel, line, "last row incomplete: fewer fields than the header")
    ctx.also("ledger.trade_settlement")  # the lost fill is missing from that account's notional
    ctx.loc(rel, line)
    ctx.ingest("trades", "quarantine", "value.required", rel)


def f_duplicate_file(ctx: _Ctx) -> None:
    p = ctx.feed_file("trades", ".csv", ".parquet")
    data = p.read_bytes()
    if f"truncated:{ctx.rel(p)}" in ctx.taken:
        raise FaultNotApplicable(f"{ctx.rel(p)} was cut by truncated_file: a copy of an unreadable Parquet file "
                                 "shows no repeated fill_id")
    if p.suffix.lower() == ".csv" and data.count(b"\n") < 2:
        raise FaultNotApplicable(f"{ctx.rel(p)}: no fill (a header-only file repeats every day)")
    dup = p.with_name(f"{p.stem}_resent{p.suffix}")
    ctx.write(dup, data)
    rel = ctx.rel(dup)
    first = 2 if p.suffix.lower() == ".csv" else 1
    ctx.what.append(f"{ctx.rel(p)} delivered a second time as {rel}")
    ctx.expect("unique.fill_id", rel, first, f"every fill of {ctx.rel(p)} seen again")
    ctx.also("ledger.trade_settlement", "ledger.fee")  # the day's fills count twice
    ctx.loc(rel, "-")
    ctx.ingest("trades", "refuse", "file.duplicate", rel)


def f_duplicate_ids(ctx: _Ctx) -> None:
    t = ctx.trades_csv()
    i = _pick(ctx, t, _client_fills(ctx, t), "CLIENT fill")
    r = t.row(i)
    orders = [t.row(k)["order_id"] for k in t.rows()]
    new = dict(r, order_id=_next_id(orders, r["order_id"] + "-DUP"))
    t.insert(i + 1, new)
    t.save()
    line = t.line_no(i + 1)
    ctx.what.append(f"{t.rel}: fill {r['fill_id']} (line {line - 1}) copied to line {line} with order_id "
                    f"{new['order_id']}")
    ctx.expect("unique.fill_id", t.rel, line, f"fill_id {r['fill_id']} repeated")
    ctx.also("ledger.trade_settlement", "ledger.fee")  # the copy counts in that account's notional/commissions
    ctx.loc(t.rel, line)
    ctx.ingest("trades", "load", None, t.rel,
               gate="uniqueness of fill_id (row rule across the day/tree)")


def f_wrong_types(ctx: _Ctx) -> None:
    t = ctx.trades_csv()
    fills = _client_fills(ctx, t)
    if len(fills) < 2:
        raise FaultNotApplicable(f"{t.rel}: needs two CLIENT fills")
    a, b = sorted(ctx.rng.sample(fills, 2))
    ctx.take(t, a, b)
    t.set(a, quantity="12x")
    t.set(b, price="abc")
    t.save()
    led = ctx.table("ledger")
    big = ctx.free(led, led.rows(lambda r: r["type"] == "DEPOSIT" and _dec(r["amount"]) >= 1000)) or \
        ctx.free(led, led.rows(lambda r: _dec(r["amount"]) >= 1000))
    if big:
        k = _pick(ctx, led, big, "ledger row")
        shown = f"{Decimal(led.row(k)['amount']):,.2f}"
    else:
        k = _pick(ctx, led, led.rows(), "ledger row")
        shown = "1,000.00"
    led.set(k, amount=shown)
    led.save()
    ctx.what.append(f"{t.rel}: quantity '12x' on line {t.line_no(a)}, price 'abc' on line {t.line_no(b)}; "
                    f"{led.rel}: amount '{shown}' (thousands separator) on line {led.line_no(k)}")
    ctx.expect("value.type", t.rel, t.line_no(a), "quantity '12x' is not an integer")
    ctx.expect("value.type", t.rel, t.line_no(b), "price 'abc' is not a decimal")
    ctx.expect("value.type", led.rel, led.line_no(k), f"amount '{shown}' is not a plain decimal")
    for f, line in ((t.rel, t.line_no(a)), (t.rel, t.line_no(b)), (led.rel, led.line_no(k))):
        ctx.loc(f, line)
    ctx.ingest("trades", "quarantine", "value.type", t.rel)
    ctx.ingest("ledger_entries", "quarantine", "value.type", led.rel)


def _dec(s: str) -> Decimal:
    """|amount| of a well-formed amount, 0 for anything an earlier fault broke."""
    return abs(Decimal(s)) if re.fullmatch(r"-?\d+(\.\d+)?", s) else Decimal(0)


def _deposit_rows(ctx: _Ctx, led: _Csv) -> list[int]:
    return ctx.free(led, led.rows(lambda r: r["type"] == "DEPOSIT" and r["end_to_end_id"] != ""
                                  and _dec(r["amount"]) > 0))


def f_negative_amount(ctx: _Ctx) -> None:
    led = ctx.table("ledger")
    rows = _deposit_rows(ctx, led) or led.rows(lambda r: r["type"] not in ("TRADE_SETTLEMENT", "WRITE_OFF")
                                               and _dec(r["amount"]) > 0)
    i = _pick(ctx, led, rows, "DEPOSIT (or other positive-magnitude ledger row)")
    r = led.row(i)
    led.set(i, amount="-500.00")
    led.save()
    line = led.line_no(i)
    ctx.what.append(f"{led.rel}: {r['type']} {r['entry_id']} of {r['account_id']} amount {r['amount']} -> -500.00 "
                    f"(line {line}); its custody entry ({r['end_to_end_id']}) left as is")
    ctx.expect("value.range", led.rel, line, f"{r['type']} amount must be a positive magnitude")
    ctx.also("custody.amount_break")
    ctx.loc(led.rel, line)
    ctx.ingest("ledger_entries", "load", None, led.rel,
               gate="range: ledger amounts are positive magnitudes except TRADE_SETTLEMENT (the raw column is signed)")


def f_absurd_amount(ctx: _Ctx) -> None:
    t = ctx.trades_csv()
    led = ctx.table("ledger")
    i = _pick(ctx, t, _client_fills(ctx, t), "CLIENT fill")
    f = t.row(i)
    t.set(i, quantity="10000000000")
    t.save()
    ts = _ts_row(led, f["account_id"])
    ctx.what.append(f"{t.rel}: fill {f['fill_id']} quantity {f['quantity']} -> 10000000000 (line {t.line_no(i)})")
    ctx.loc(t.rel, t.line_no(i))
    if ts is not None:
        ctx.expect("ledger.trade_settlement", led.rel, led.line_no(ts),
                   f"{f['account_id']}'s TRADE_SETTLEMENT no longer equals its fills' notional")
    else:  # pragma: no cover - the generator books one per account with fills
        ctx.expect("ledger.trade_settlement", t.rel, "-", f"{f['account_id']} has fills but no TRADE_SETTLEMENT")
    ctx.ingest("trades", "load", None, t.rel,
               gate="ledger vs fills: TRADE_SETTLEMENT = the account's fills notional")
    deps = _deposit_rows(ctx, led)
    if deps:
        k = _pick(ctx, led, deps, "DEPOSIT")
        r = led.row(k)
        led.set(k, amount="99999999999.00")
        led.save()
        cd = _Custody(ctx, ctx.day)
        st = cd.primary(CMP)
        ctx.take(None, keys=(f"account:{CMP}",))  # its custody entry must stay for the amount break
        ctx.what.append(f"{led.rel}: DEPOSIT {r['entry_id']} {r['amount']} -> 99999999999.00 (line {led.line_no(k)})")
        ctx.loc(led.rel, led.line_no(k))
        if st is not None and r["end_to_end_id"] in st.e2e:
            ref = st.refs[st.e2e.index(r["end_to_end_id"])]
            ctx.expect("custody.amount_break", *cd.entry_loc(CMP, ref),
                       f"custody has {r['amount']}, the ledger now 99,999,999,999.00")
        ctx.ingest("ledger_entries", "load", None, led.rel,
                   gate="reconciliation: custody entry vs ledger DEPOSIT amount (amount break)")


def f_unknown_account(ctx: _Ctx) -> None:
    t = ctx.trades_csv()
    acc_file = ctx.table("reference", "accounts.csv")
    accts = {acc_file.row(k)["account_id"] for k in acc_file.rows()}
    bad = _absent(("A999999", "A9999999", "X999999"), accts)
    i = _pick(ctx, t, _client_fills(ctx, t), "CLIENT fill")
    r = t.row(i)
    t.set(i, account_id=bad)
    t.save()
    line = t.line_no(i)
    ctx.what.append(f"{t.rel}: fill {r['fill_id']} moved from {r['account_id']} to {bad} (line {line})")
    ctx.expect("ref.account", t.rel, line, f"{bad} is not in accounts.csv")
    ctx.also("ledger.trade_settlement", "ledger.fee")  # the fill leaves one account's notional, lands on none
    ctx.loc(t.rel, line)
    ctx.ingest("trades", "load", None, t.rel,
               gate="referential integrity: fill account in accounts.csv")


def f_unknown_provider(ctx: _Ctx) -> None:
    cap = ctx.table("capital")
    prov = ctx.table("reference", "providers.csv")
    known = {prov.row(k)["provider_id"] for k in prov.rows()}
    bad = _absent(("P999", "P9999", "X999"), known)
    rows = ctx.free(cap, cap.rows())
    if rows:
        i = _pick(ctx, cap, rows, "capital event")
        r = cap.row(i)
        cap.set(i, provider_id=bad)
        ctx.what.append(f"{cap.rel}: {r['type']} {r['event_id']} moved from {r['provider_id']} to {bad} "
                        f"(line {cap.line_no(i)})")
    else:
        ymd_ = ymd(ctx.d)
        i = cap.append({"event_id": f"CE{ymd_}-99999", "provider_id": bad, "tranche": "SENIOR",
                        "type": "REDEMPTION_REQUEST", "amount": "100000.00", "currency": "CNY",
                        "event_date": ctx.day, "settlement_date": ctx.day, "end_to_end_id": ""})
        ctx.what.append(f"{cap.rel}: no capital event on this date; a REDEMPTION_REQUEST of {bad} added "
                        f"(line {cap.line_no(i)})")
    cap.save()
    ctx.expect("ref.provider", cap.rel, cap.line_no(i), f"{bad} is not in providers.csv")
    ctx.loc(cap.rel, cap.line_no(i))
    ctx.ingest("capital_events", "load", None, cap.rel,
               gate="referential integrity: capital event provider in providers.csv")


def f_unknown_symbol(ctx: _Ctx) -> None:
    t = ctx.trades_csv()
    ins = ctx.table("reference", "instruments.csv")
    known = {ins.row(k)["symbol"] for k in ins.rows()}
    bad = _absent(("999999.SZ", "999998.SZ", "ZZZZZZ.XX"), known)
    i = _pick(ctx, t, _client_fills(ctx, t), "CLIENT fill")
    r = t.row(i)
    t.set(i, symbol=bad)
    t.save()
    line = t.line_no(i)
    ctx.what.append(f"{t.rel}: fill {r['fill_id']} symbol {r['symbol']} -> {bad} (line {line})")
    ctx.expect("ref.instrument", t.rel, line, f"{bad} is not in instruments.csv")
    ctx.loc(t.rel, line)
    ctx.ingest("trades", "load", None, t.rel,
               gate="referential integrity: fill symbol in instruments.csv")


def f_missing_custody_statement(ctx: _Ctx) -> None:
    cd = _Custody(ctx, ctx.day)
    accts = cd.accounts()
    accts = [a for a in accts if f"account:{a}" not in ctx.taken] or accts
    busy = [a for a in accts if cd.primary(a).amount]
    if not accts:
        raise FaultNotApplicable(f"{ctx.day}/custody: no statement")
    acct = ctx.rng.choice(busy or accts)
    ctx.take(None, keys=(f"account:{acct}", *(f"e2e:{e}" for e in cd.primary(acct).e2e)))
    st = cd.primary(acct)
    where = ctx.rel(cd.xml[acct][0]) if acct in cd.xml else f"{ctx.day}/custody/entries.csv"
    cd.remove(acct)
    cd.save()
    ctx.what.append(f"{ctx.day}/custody: the {acct} statement {st.sid} ({len(st.amount)} entries) removed "
                    f"(was {where})")
    ctx.expect("custody.statement", f"{ctx.day}/custody", "-", f"no statement for {acct} on {ctx.day}")
    ctx.also("custody.missing_entry")  # the ledger/capital rows that move cash on that account
    ctx.loc(where, "-")
    ctx.ingest("custody_entries", "load", None, f"{ctx.day}/custody",
               gate="feed complete: one statement per custody account and day (then reconciliation)")


def f_camt_rollforward(ctx: _Ctx) -> None:
    cd = _Custody(ctx, ctx.day)
    accts = cd.accounts()
    if not accts:
        raise FaultNotApplicable(f"{ctx.day}/custody: no statement")
    acct = ctx.rng.choice(accts)
    ctx.take(None, keys=(f"account:{acct}",))
    st = cd.primary(acct)
    old = st.closing

    def bump(s: Statement) -> None:
        s.closing += 100_000  # + 1,000.00

    cd.apply(acct, bump)
    cd.save()
    f, row = cd.balance_loc(acct, "CLBD")
    ctx.what.append(f"{f}: {st.sid} CLBD {_fmt(old)} -> {_fmt(old + 100_000)} (entries unchanged)")
    ctx.expect("custody.rollforward", f, row, "closing != opening + signed entries (off by 1,000.00)")
    ctx.also("custody.opening")  # the next day's opening is the true closing
    ctx.loc(f, row)
    _custody_ingest(ctx, cd, account=acct,
                    gate="custody balances roll forward (closing = opening + entries; opening = previous closing)")


def f_reversal_entries(ctx: _Ctx) -> None:
    cd = _Custody(ctx, ctx.day)
    accts = ([CMP] if cd.primary(CMP) is not None else []) + [a for a in cd.accounts() if a != CMP]
    pick = None
    for acct in accts:
        st = cd.primary(acct)
        ok = [j for j in range(len(st.amount)) if not st.reversal[j] and st.e2e[j] and st.amount[j]
              and not st.remit[j].startswith(("DUPLICATE", "REVERSAL")) and f"e2e:{st.e2e[j]}" not in ctx.taken]
        if ok:
            dep = [j for j in ok if st.code[j] == "DEPOSIT"]
            pick = (acct, ctx.rng.choice(dep or ok))
            break
    if pick is None:
        raise FaultNotApplicable(f"{ctx.day}/custody: no entry to reverse")
    acct, j = pick
    st = cd.primary(acct)
    ref, amt, e2e = st.refs[j], st.amount[j], st.e2e[j]
    ctx.take(None, keys=(f"account:{acct}", f"e2e:{e2e}"))

    def reverse(s: Statement) -> None:
        k = s.refs.index(ref)
        for lst, v in ((s.refs, ref + "R"), (s.amount, -amt), (s.e2e, e2e), (s.remit, f"REVERSAL {s.remit[k]}"),
                       (s.code, s.code[k]), (s.reversal, True)):
            lst.insert(k + 1, v)

    cd.apply(acct, reverse)
    _shift_balances(ctx, cd, acct, -amt)
    cd.save()
    f, row = cd.entry_loc(acct, ref)
    ctx.what.append(f"{f}: entry {ref} ({_fmt(amt)}, {e2e}) reversed by {ref}R (RvslInd true, opposite "
                    f"CdtDbtInd), not re-booked; {acct} closing moved by {_fmt(-amt)} on this and later dates")
    ctx.expect("custody.amount_break", f, row, f"custody nets {e2e} to 0.00, the ledger/capital row says {_fmt(amt)}")
    ctx.loc(*cd.entry_loc(acct, ref + "R"))
    _custody_ingest(ctx, cd, account=acct,
                    gate="reconciliation: custody entries vs ledger/capital by end_to_end_id (amount break)")


def f_overlapping_statements(ctx: _Ctx) -> None:
    cd = _Custody(ctx, ctx.day)
    cands = sorted(cd.accounts(), key=lambda a: (a != CMP, -len(cd.primary(a).amount)))
    cands = [a for a in cands if cd.primary(a).amount]
    if not cands:
        raise FaultNotApplicable(f"{ctx.day}/custody: no entry to repeat")
    acct = cands[0]
    st = cd.primary(acct)
    n = len(st.amount)
    k = min(3, n)
    s0 = n - k
    ctx.take(None, keys=(f"account:{acct}", *(f"e2e:{e}" for e in st.e2e[s0:])))
    st2 = Statement(f"{st.sid}-2", acct, st.day, st.opening + sum(st.amount[:s0]), st.closing,
                    st.refs[s0:], st.amount[s0:], st.e2e[s0:], st.remit[s0:], st.code[s0:], st.reversal[s0:])
    name = f"{acct}_{ymd(ctx.d)}_2.xml"
    cd.add_statement(acct, st2, name)
    cd.save()
    if acct in cd.xml:
        f = ctx.rel(cd.folder / name)
        srow: object = f"Stmt[{st2.sid}]"
        erow: object = f"Stmt[{st2.sid}]/Ntry[{st2.refs[0]}]"
        bfile = f
    else:
        f = ctx.rel(cd.folder / "entries.csv")
        bfile = ctx.rel(cd.folder / "balances.csv")
        i = next(i for i, s in enumerate(cd.csv) if s.sid == st2.sid)
        srow = 2 + 2 * i
        erow = 2 + sum(len(s.refs) for s in cd.csv[:i])
    ctx.what.append(f"{f}: a second {acct} statement {st2.sid} for {ctx.day} repeating its last {k} entries "
                    f"({', '.join(st2.refs)}) with the same NtryRef (its balances roll forward)")
    ctx.expect("custody.statement", bfile, srow, f"two statements for {acct} on {ctx.day}")
    ctx.expect("custody.repeated_entry", f, erow, "entry repeated by an overlapping statement (counted once)",
               severity="warning")
    ctx.loc(f, srow)
    ctx.ingest("custody_entries", "load", None, f,
               gate="one statement per custody account and day; entries deduplicated by entry_ref (counted once)")


def f_naive_timestamps(ctx: _Ctx) -> None:
    t = ctx.trades_csv()
    rows = ctx.free(t, [i for i in t.rows(lambda r: bool(re.search(r"(Z|[+-]\d{2}:\d{2})$", r["executed_at"])))
                        if i != t.n() - 1])
    if not rows:
        raise FaultNotApplicable(f"{t.rel}: no fill")
    picked = sorted(ctx.rng.sample(rows, min(3, len(rows))))
    ctx.take(t, *picked)
    for i in picked:
        v = t.row(i)["executed_at"]
        t.set(i, executed_at=re.sub(r"(Z|[+-]\d{2}:\d{2})$", "", v))
        ctx.expect("time.offset", t.rel, t.line_no(i), f"executed_at '{v}' without its offset")
        ctx.loc(t.rel, t.line_no(i))
    t.save()
    ctx.what.append(f"{t.rel}: UTC offset stripped from executed_at on lines "
                    f"{', '.join(str(t.line_no(i)) for i in picked)}")
    ctx.ingest("trades", "quarantine", "time.offset", t.rel)


def _next_year(ts: str) -> str:
    y, m, d = int(ts[:4]), int(ts[5:7]), int(ts[8:10])
    try:
        date(y + 1, m, d)
        return f"{y + 1:04d}{ts[4:]}"
    except ValueError:  # 29 February
        return f"{y + 1:04d}-{m:02d}-28{ts[10:]}"


def f_future_dates(ctx: _Ctx) -> None:
    t = ctx.trades_csv()
    i = _pick(ctx, t, _client_fills(ctx, t), "CLIENT fill")
    v = t.row(i)["executed_at"]
    t.set(i, executed_at=_next_year(v))
    t.save()
    ctx.what.append(f"{t.rel}: executed_at {v} -> {_next_year(v)} (line {t.line_no(i)})")
    ctx.expect("time.business_date", t.rel, t.line_no(i), "fill a year after the folder's business date")
    ctx.loc(t.rel, t.line_no(i))
    ctx.ingest("trades", "quarantine", "time.business_date", t.rel)
    risk = ctx.table("risk_events")
    ev = ctx.free(risk, risk.rows(lambda r: r["type"] in ("WARNING", "RESTRICT")))
    if ev:
        k = _pick(ctx, risk, ev, "risk event")
        w = risk.row(k)["event_time"]
        risk.set(k, event_time=_next_year(w))
        risk.save()
        ctx.what.append(f"{risk.rel}: event_time {w} -> {_next_year(w)} (line {risk.line_no(k)})")
        ctx.expect("time.business_date", risk.rel, risk.line_no(k), "risk event a year after the business date")
        ctx.loc(risk.rel, risk.line_no(k))
        ctx.ingest("risk_events", "quarantine", "time.business_date", risk.rel)


def f_wrong_encoding(ctx: _Ctx) -> None:
    prov = ctx.table("reference", "providers.csv")
    i = _pick(ctx, prov, prov.rows(), "provider")
    old = prov.row(i)["name"]
    prov.set(i, name="Société Générale")
    prov.encoding = "latin-1"
    prov.save()
    ctx.what.append(f"{prov.rel}: provider name '{old}' -> 'Société Générale' and the file written in Latin-1 "
                    f"(line {prov.line_no(i)})")
    ctx.expect("file.read", prov.rel, "-", "not UTF-8 (é, é as Latin-1 bytes 0xE9)")
    ctx.loc(prov.rel, prov.line_no(i))
    ctx.ingest("providers", "refuse", "file.encoding", prov.rel)


def f_orphan_liquidation_fill(ctx: _Ctx) -> None:
    t = ctx.trades_csv()
    used: set[str] = set()
    for day in sorted(p.name for p in ctx.root.iterdir() if p.is_dir() and DAY_RE.fullmatch(p.name)):
        rp = ctx.root / day / "risk_events"
        for p in sorted(rp.glob("*.csv")) if rp.is_dir() else []:
            with open(p, newline="", encoding="utf-8", errors="replace") as fh:
                used |= {r.get("liquidation_id", "") for r in csv.DictReader(fh)}
    bad = _absent(("LQ999999", "LQ9999999", "LQX"), used)
    liq = ctx.free(t, [i for i in t.rows(lambda r: r["origin"] == "LIQUIDATION") if i != t.n() - 1])
    if liq:
        i = _pick(ctx, t, liq, "LIQUIDATION fill")
        r = t.row(i)
        t.set(i, liquidation_id=bad)
        ctx.what.append(f"{t.rel}: LIQUIDATION fill {r['fill_id']} liquidation_id {r['liquidation_id']} -> {bad} "
                        f"(line {t.line_no(i)})")
    else:
        i = _pick(ctx, t, _client_fills(ctx, t), "fill")
        r = t.row(i)
        t.set(i, origin="LIQUIDATION", liquidation_id=bad)
        ctx.what.append(f"{t.rel}: no liquidation fill on this date; CLIENT fill {r['fill_id']} turned into a "
                        f"LIQUIDATION fill of {bad} (line {t.line_no(i)})")
    t.save()
    ctx.expect("ref.liquidation", t.rel, t.line_no(i), f"no LIQUIDATION_TRIGGER carries {bad}")
    ctx.loc(t.rel, t.line_no(i))
    ctx.ingest("trades", "load", None, t.rel,
               gate="every LIQUIDATION fill has a LIQUIDATION_TRIGGER (before it)")


def f_ledger_without_custody(ctx: _Ctx) -> None:
    led = ctx.table("ledger")
    cd = _Custody(ctx, ctx.day)
    st = cd.primary(CMP)
    deps = [i for i in _deposit_rows(ctx, led) if st is not None and led.row(i)["end_to_end_id"] in st.e2e]
    if deps:
        i = _pick(ctx, led, deps, "DEPOSIT")
        r = led.row(i)
        e2e = r["end_to_end_id"]
        gone = [(ref, a) for ref, a, e in zip(st.refs, st.amount, st.e2e) if e == e2e]
        refs = {ref for ref, _ in gone}
        delta = -sum(a for _, a in gone)
        locs = [cd.entry_loc(CMP, ref) for ref, _ in gone]

        def drop(s: Statement) -> None:
            keep = [k for k, ref in enumerate(s.refs) if ref not in refs]
            for name in ("refs", "amount", "e2e", "remit", "code", "reversal"):
                setattr(s, name, [getattr(s, name)[k] for k in keep])

        cd.apply(CMP, drop)
        _shift_balances(ctx, cd, CMP, delta)
        cd.save()
        ctx.what.append(f"{locs[0][0]}: the custody entry of DEPOSIT {r['entry_id']} ({r['amount']}, {e2e}) removed "
                        f"({', '.join(sorted(refs))}); {CMP} closing moved by {_fmt(delta)} on this and later dates")
        for f, row in locs:
            ctx.loc(f, row)
        _custody_ingest(ctx, cd, account=CMP,
                        gate="reconciliation: ledger row without its custody entry (missing entry)")
    else:
        acc = ctx.table("reference", "accounts.csv")
        accounts = [acc.row(k)["account_id"] for k in acc.rows()]
        if not accounts:
            raise FaultNotApplicable(f"{ctx.day}: no account")
        who = ctx.rng.choice(accounts)
        ids = [led.row(k)["entry_id"] for k in led.rows()]
        tag = ymd(ctx.d)
        e2e = f"E2E{tag}-9999999"
        i = led.append({"entry_id": _next_id(ids, f"LE{tag}-99999999"), "business_date": ctx.day,
                        "account_id": who, "type": "DEPOSIT", "amount": "10000.00", "currency": "CNY",
                        "end_to_end_id": e2e})
        ctx.take(led, i)
        r = led.row(i)
        ctx.what.append(f"{led.rel}: no DEPOSIT with a custody entry on this date; DEPOSIT {r['entry_id']} of "
                        f"{who} 10000.00 ({e2e}) added without any custody entry (line {led.line_no(i)})")
    led.save()
    ctx.expect("custody.missing_entry", led.rel, led.line_no(i),
               f"DEPOSIT {e2e} expects a CRDT on {CMP}; no custody entry carries it")
    ctx.loc(led.rel, led.line_no(i))
    ctx.ingest("ledger_entries", "load", None, led.rel,
               gate="reconciliation: ledger row without its custody entry (missing entry)")


# kind -> (function, what changes, check_landing rule(s) that catch it)
FAULTS: dict[str, tuple[Callable[[_Ctx], None], str, str]] = {
    "truncated_file": (f_truncated_file, "trades CSV cut mid-row, no trailing newline", "row.malformed"),
    "duplicate_file": (f_duplicate_file, "the day's trades file delivered again as trades_resent.csv",
                       "unique.fill_id"),
    "duplicate_ids": (f_duplicate_ids, "a fill copied to a second row with another order_id", "unique.fill_id"),
    "wrong_types": (f_wrong_types, "quantity '12x', price 'abc'; a ledger amount with a thousands separator",
                    "value.type"),
    "negative_amount": (f_negative_amount, "a DEPOSIT of -500.00, its custody entry unchanged", "value.range"),
    "absurd_amount": (f_absurd_amount, "a fill of 10,000,000,000 shares and a DEPOSIT of 99,999,999,999.00",
                      "ledger.trade_settlement, custody.amount_break"),
    "unknown_account": (f_unknown_account, "a fill on account A999999", "ref.account"),
    "unknown_provider": (f_unknown_provider, "a capital event for provider P999", "ref.provider"),
    "unknown_symbol": (f_unknown_symbol, "a fill on symbol 999999.SZ", "ref.instrument"),
    "missing_custody_statement": (f_missing_custody_statement, "one custody account's camt.053 removed",
                                  "custody.statement"),
    "camt_rollforward": (f_camt_rollforward, "CLBD moved by 1,000.00, entries unchanged", "custody.rollforward"),
    "reversal_entries": (f_reversal_entries, "an entry reversed without re-booking (balances roll forward)",
                         "custody.amount_break"),
    "overlapping_statements": (f_overlapping_statements, "a second statement repeating entries (same NtryRef)",
                               "custody.statement, custody.repeated_entry (warning)"),
    "naive_timestamps": (f_naive_timestamps, "executed_at without UTC offset on 3 fills", "time.offset"),
    "future_dates": (f_future_dates, "a fill (and a risk event) a year after the business date",
                     "time.business_date"),
    "wrong_encoding": (f_wrong_encoding, "providers.csv in Latin-1 with 'Société Générale'", "file.read"),
    "orphan_liquidation_fill": (f_orphan_liquidation_fill, "a LIQUIDATION fill of a liquidation_id never triggered",
                                "ref.liquidation"),
    "ledger_without_custody": (f_ledger_without_custody, "a DEPOSIT's custody entry removed (balances roll forward)",
                               "custody.missing_entry"),
}
KINDS: tuple[str, ...] = tuple(FAULTS)
# kinds that insert or remove rows (trades.csv; entries.csv/balances.csv of the custody CSV export): stacked,
# they go first, so that the row numbers recorded by the other faults stay valid
ROW_SHIFTING: tuple[str, ...] = ("duplicate_ids", "missing_custody_statement", "overlapping_statements",
                                 "reversal_entries", "ledger_without_custody")


# (a, b): with a on the same date, b's rule can no longer fire
MASKS: tuple[tuple[str, str], ...] = (("wrong_encoding", "unknown_provider"),)


def stacking_order(kinds: list[str]) -> list[str]:
    """The order in which several faults on one date are injected (each kind once)."""
    kinds = list(dict.fromkeys(kinds))
    return [k for k in kinds if k in ROW_SHIFTING] + [k for k in kinds if k not in ROW_SHIFTING]


def inject(landing: Path, kind: str, business_date: str, seed: int = 0, *,
           taken: set[str] | None = None) -> FaultRecord:
    """Corrupt the written landing tree with one fault of ``kind`` on ``business_date``.

    ``taken``: pass the same set to several calls on one date so that a fault never picks a row (or
    end-to-end id, custody account) an earlier one hit - stacked faults then do not mask each other."""
    if kind not in FAULTS:
        raise ValueError(f"unknown fault kind '{kind}'; known: {', '.join(KINDS)}")
    landing = Path(landing)
    if not (landing / business_date).is_dir():
        raise FaultNotApplicable(f"no business-date folder {business_date} under {landing}")
    ctx = _Ctx(landing, kind, business_date, seed, taken)
    try:
        FAULTS[kind][0](ctx)
    except BaseException:
        ctx.rec.repair()  # never leave a half-injected fault behind
        raise
    ctx.rec.description = "; ".join(ctx.what)
    return ctx.rec


def write_manifest(landing: Path, records: list[FaultRecord]) -> Path:
    """``<landing>/.faults.json``: what was injected (no bytes, no absolute paths: deterministic)."""
    p = Path(landing) / FAULTS_FILE
    p.write_text(json.dumps([r.as_dict() for r in records], indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return p
