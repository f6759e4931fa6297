"""ISO 20022 camt.053 (bank-to-customer statement) reader for the custody feed (SPEC §2).

Custody files are untrusted input. Before the XML parser sees a byte, the whole file is screened:
size cap, UTF-8 only, no ``<!DOCTYPE``/``<!ENTITY`` (so nothing can be expanded or fetched). Parsing
then streams with lxml (no DTD loaded, no entity resolved, no network: a second line of defence),
and only the elements that matter (``Document``, ``GrpHdr``, ``Stmt``, ``Bal``, ``Ntry``) come back
to Python — the tag filter runs in C, which keeps a 150 MB statement file to seconds; each
``Bal``/``Ntry`` is turned into rows and dropped as soon as it is complete, so memory stays bounded
by the largest single entry, not the file.

Any camt.053.001.NN namespace is read: elements are matched by local name inside the document's own
namespace, which is how the versions differ (``Sts`` text in .02-.06 vs ``Sts/Cd`` from .07, ...).
"""
from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from lxml import etree as ET

from assets.common.errors import FeedError
from assets.ingest.readers.custody_model import (
    AMOUNT_RE,
    BALANCE_TYPES,
    CCY_RE,
    CREDIT_DEBIT,
    CustodyBalance,
    CustodyEntry,
    CustodyStatement,
    parse_iso_date,
    parse_timestamp,
    shanghai_date,
)

CAMT_NS_RE = re.compile(r"urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.\d{2}", re.ASCII)
_DECL_RE = re.compile(rb"<!(?:doctype|entity)", re.IGNORECASE)
_CHUNK = 1 << 20
PARSE = "custody.parse"
# the elements the reader acts on, in any namespace (the root's namespace is checked once)
_TAGS = ("{*}Document", "{*}GrpHdr", "{*}Stmt", "{*}Bal", "{*}Ntry")


def parse_camt053(path: Path, *, display_name: str | None = None,
                  max_bytes: int = 256 << 20) -> list[CustodyStatement]:
    """Every statement of one camt.053 file, or FeedError (rule ``custody.parse`` when refused)."""
    path = Path(path)
    name = display_name or str(path)
    _screen(path, name, max_bytes)
    reader = _Reader(name)
    events = None
    try:
        with open(path, "rb") as fh:
            # encoding="utf-8" overrides the XML declaration: the bytes were verified as UTF-8 above,
            # and ISO 20022 messages are UTF-8 whatever a (wrong) declaration says.
            events = ET.iterparse(fh, events=("start", "end"), tag=_TAGS, encoding="utf-8",
                                  resolve_entities=False, load_dtd=False, no_network=True, huge_tree=False,
                                  remove_comments=True, remove_pis=True)
            for event, el in events:
                if reader.ns is None:
                    reader.root(el.getroottree().getroot())
                if event == "end":
                    reader.end(el)
                else:
                    reader.start(el)
    except ET.XMLSyntaxError as e:
        line, col = e.position if e.position else (e.lineno, 0)
        if "entit" in e.msg.lower() or "doctype" in e.msg.lower():
            raise FeedError(name, PARSE, f"DTD or entity refused as untrusted input: {e.msg} "
                                         f"(line {line}, column {col})") from None
        raise FeedError(name, PARSE, f"malformed XML: {e.msg} (line {line}, column {col})") from None
    except OSError as e:
        raise FeedError(name, PARSE, f"cannot read: {e}") from None
    if reader.ns is None and events is not None and events.root is not None:
        reader.root(events.root)
    if not reader.statements:
        raise FeedError(name, PARSE, "no <Stmt> statement in the document (camt.053 needs at least one)")
    return reader.statements


def _screen(path: Path, name: str, max_bytes: int) -> None:
    """Refuse oversized, non-UTF-8 and DTD/entity-bearing files by streaming the raw bytes."""
    try:
        size = path.stat().st_size
    except OSError as e:
        raise FeedError(name, PARSE, f"cannot read: {e}") from None
    if size > max_bytes:
        raise FeedError(name, PARSE, f"oversized: {size:,} bytes > limit {max_bytes:,}")
    utf8 = codecs.getincrementaldecoder("utf-8")("strict")
    offset, tail = 0, b""
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            if offset == 0 and chunk[:2] in (b"\xff\xfe", b"\xfe\xff"):
                raise FeedError(name, PARSE, "not UTF-8: UTF-16 byte-order mark (ISO 20022 messages are UTF-8)")
            nul = chunk.find(b"\x00")
            if nul >= 0:
                raise FeedError(name, PARSE, f"not UTF-8: NUL byte at offset {offset + nul} (UTF-16/32?)")
            if _DECL_RE.search(tail + chunk):  # the tail catches a declaration split across chunks
                raise FeedError(name, PARSE, "DTD or entity declaration (<!DOCTYPE/<!ENTITY): "
                                             "refused as untrusted input, nothing expanded")
            pending = len(utf8.getstate()[0])
            try:
                utf8.decode(chunk)
            except UnicodeDecodeError as e:
                raise FeedError(name, PARSE, f"not UTF-8: invalid byte at offset {offset - pending + e.start}") from None
            offset += len(chunk)
            if offset > max_bytes:  # grew since stat(): still refuse
                raise FeedError(name, PARSE, f"oversized: more than {max_bytes:,} bytes")
            tail = chunk[-16:]
    try:
        utf8.decode(b"", final=True)
    except UnicodeDecodeError:
        raise FeedError(name, PARSE, "not UTF-8: truncated multi-byte sequence at end of file") from None


@dataclass
class _Stmt:
    """A statement being read: rows are added as its Bal/Ntry children complete."""
    el: ET._Element
    n: int
    sid: str | None = None
    account: str = ""
    n_bal: int = 0
    n_ntry: int = 0
    balances: list[CustodyBalance] = field(default_factory=list)
    entries: list[CustodyEntry] = field(default_factory=list)


class _Reader:
    """Event handler for iterparse: the document namespace and the statement being read."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.ns: str | None = None
        self.tags: dict[str, str] = {}  # local name -> "{ns}local"
        self.paths: dict[str, tuple[str, ...]] = {}  # "A/B" -> ("{ns}A", "{ns}B")
        self.STMT = self.NTRY = self.BAL = self.GRPHDR = ""
        self.cur: _Stmt | None = None
        self.statements: list[CustodyStatement] = []
        self.message_id: str | None = None

    # ---------------------------------------------------------------- events
    def root(self, el: ET._Element) -> None:
        doc = el.getroottree().docinfo
        if doc.doctype or doc.internalDTD is not None:  # the byte screen refuses these first
            raise FeedError(self.name, PARSE, "DTD or entity declaration (<!DOCTYPE): refused as untrusted input")
        tag = el.tag
        ns = tag[1:tag.index("}")] if tag.startswith("{") else ""
        if tag.rsplit("}", 1)[-1] != "Document" or not CAMT_NS_RE.fullmatch(ns):
            raise FeedError(self.name, PARSE, f"root {tag} is not a camt.053.001.NN Document")
        self.ns = ns
        self.STMT, self.NTRY, self.BAL, self.GRPHDR = (self._q(n) for n in ("Stmt", "Ntry", "Bal", "GrpHdr"))

    def start(self, el: ET._Element) -> None:
        if self.cur is None and el.tag == self.STMT:
            self.cur = _Stmt(el, len(self.statements) + 1)

    def end(self, el: ET._Element) -> None:
        cur = self.cur
        if cur is None:
            if el.tag == self.GRPHDR:
                self.message_id = self._t(el, "MsgId") or None
                el.clear()
            return
        parent = el.getparent()
        if parent is cur.el and (el.tag == self.NTRY or el.tag == self.BAL):
            self._header(cur)
            if el.tag == self.NTRY:
                cur.entries.extend(self._entry(el, cur))
            else:
                self._balance(el, cur)
            parent.remove(el)  # done with it: memory stays bounded by one entry
        elif el is cur.el:
            self.statements.append(self._statement(cur))
            self.cur = None
            el.clear()
            if parent is not None:
                parent.remove(el)

    # ---------------------------------------------------------------- helpers
    # Direct child lookups by local name: lxml's iterchildren(tag) matches in C (no ElementPath: this
    # runs for every element of big files); a path's qualified tags are built once.
    def _q(self, local: str) -> str:
        tag = self.tags.get(local)
        if tag is None:
            tag = self.tags[local] = f"{{{self.ns}}}{local}"
        return tag

    def _path(self, path: str) -> tuple[str, ...]:
        tags = self.paths.get(path)
        if tags is None:
            tags = self.paths[path] = tuple(self._q(local) for local in path.split("/"))
        return tags

    def _find(self, node: ET._Element | None, path: str) -> ET._Element | None:
        for tag in self._path(path):
            if node is None:
                return None
            node = next(node.iterchildren(tag), None)
        return node

    def _findall(self, node: ET._Element | None, path: str) -> list[ET._Element]:
        nodes = [node] if node is not None else []
        for tag in self._path(path):
            nodes = [c for n in nodes for c in n.iterchildren(tag)]
        return nodes

    def _t(self, node: ET._Element | None, path: str) -> str:
        x = self._find(node, path)
        return (x.text or "").strip() if x is not None else ""

    def _fail(self, rule: str, where: str, msg: str) -> FeedError:
        return FeedError(self.name, rule, msg, where)

    def _header(self, st: _Stmt) -> None:
        # Id and Acct precede Bal/Ntry in every camt.053 version, so they are known by now.
        if st.sid is None:
            st.sid = self._t(st.el, "Id") or f"#{st.n}"
            st.account = self._t(st.el, "Acct/Id/Othr/Id") or self._t(st.el, "Acct/Id/IBAN")

    def _amount(self, node: ET._Element | None, where: str, what: str) -> tuple[Decimal, str]:
        s = (node.text or "").strip() if node is not None else ""
        if not s:
            raise self._fail("value.required", where, f"{what} Amt missing")
        if not AMOUNT_RE.fullmatch(s):
            raise self._fail("value.type", where, f"{what} amount {s!r} is not a plain non-negative decimal")
        ccy = node.get("Ccy", "")
        if not CCY_RE.fullmatch(ccy):
            raise self._fail("value.currency", where, f"{what} Ccy {ccy!r} is not 3 upper-case letters")
        return Decimal(s), ccy

    def _cd(self, node: ET._Element, where: str, what: str) -> str:
        s = self._t(node, "CdtDbtInd")
        if s not in CREDIT_DEBIT:
            raise self._fail("value.enum" if s else "value.required", where,
                             f"{what} CdtDbtInd {s!r} is not CRDT/DBIT")
        return s

    def _date(self, node: ET._Element, path: str, where: str, what: str) -> date | None:
        """``<path><Dt>`` (a date) or ``<path><DtTm>`` (its Asia/Shanghai date); None when absent."""
        s = self._t(node, f"{path}/Dt")
        if s:
            d = parse_iso_date(s)
            if d is None:
                raise self._fail("value.type", where, f"{what} {s!r} is not an ISO date YYYY-MM-DD")
            return d
        s = self._t(node, f"{path}/DtTm")
        if not s:
            return None
        dt, err = parse_timestamp(s)
        if err == "offset":
            raise self._fail("time.offset", where, f"{what} {s!r} has no UTC offset: its Asia/Shanghai date is unknown")
        if dt is None:
            raise self._fail("value.type", where, f"{what} {s!r} is not an ISO-8601 timestamp")
        return shanghai_date(dt)

    # ---------------------------------------------------------------- rows
    def _balance(self, b: ET._Element, st: _Stmt) -> None:
        st.n_bal += 1
        where = f"Stmt[{st.sid}]/Bal[{st.n_bal}]"
        code = self._t(b, "Tp/CdOrPrtry/Cd") or self._t(b, "Tp/CdOrPrtry/Prtry")
        if code not in BALANCE_TYPES:
            return  # OPAV, CLAV, ITBD ... are not part of the contract
        amount, ccy = self._amount(self._find(b, "Amt"), where, code)
        st.balances.append(CustodyBalance(
            st.sid, st.account, ccy, code, self._date(b, "Dt", where, f"{code} date"),
            amount, self._cd(b, where, code), where))

    def _entry(self, ntry: ET._Element, st: _Stmt) -> list[CustodyEntry]:
        st.n_ntry += 1
        ref = self._t(ntry, "NtryRef") or self._t(ntry, "AcctSvcrRef") or f"#{st.n_ntry}"
        where = f"Stmt[{st.sid}]/Ntry[{ref}]"
        amount, ccy = self._amount(self._find(ntry, "Amt"), where, "entry")
        cd = self._cd(ntry, where, "entry")
        sts = self._t(ntry, "Sts/Cd") or self._t(ntry, "Sts/Prtry") or self._t(ntry, "Sts")
        common = {
            "statement_id": st.sid, "custody_account": st.account, "currency": ccy, "entry_ref": ref,
            "booking_date": self._date(ntry, "BookgDt", where, "BookgDt"),
            "value_date": self._date(ntry, "ValDt", where, "ValDt"),
            "entry_amount": amount, "reversal": self._t(ntry, "RvslInd").lower() in ("true", "1"),
            "status": sts or "BOOK"}
        txs = self._findall(ntry, "NtryDtls/TxDtls")
        if len(txs) <= 1:
            # One transaction (or none): the entry's own amount and indicator are what was booked; a
            # lone TxDtls/Amt may be in another currency (instructed amount) and is not used.
            tx = txs[0] if txs else None
            return [CustodyEntry(**common, tx_seq=1, amount=amount, credit_debit=cd,
                                 end_to_end_id=self._e2e(tx), remittance=self._remittance(tx), source_row=where)]
        rows = []
        for k, tx in enumerate(txs, 1):
            part = f"{where}/TxDtls[{k}]"
            node = self._find(tx, "Amt")
            if node is None:
                node = self._find(tx, "AmtDtls/TxAmt/Amt")
            if node is None:
                raise self._fail("custody.batch", part, f"batch entry of {len(txs)} transactions: "
                                                        f"TxDtls {k} has no amount of its own")
            tx_amount, tx_ccy = self._amount(node, part, "TxDtls")
            if tx_ccy != ccy:
                raise self._fail("custody.batch", part, f"TxDtls amount in {tx_ccy}, entry in {ccy}: cannot split")
            tx_cd = self._cd(tx, part, "TxDtls") if self._t(tx, "CdtDbtInd") else cd
            rows.append(CustodyEntry(**common, tx_seq=k, amount=tx_amount, credit_debit=tx_cd,
                                     end_to_end_id=self._e2e(tx), remittance=self._remittance(tx), source_row=part))
        total = sum((r.signed_amount for r in rows), Decimal(0))
        signed = amount if cd == "CRDT" else -amount
        if total != signed:
            raise self._fail("custody.batch", where, f"batch entry {signed:+} {ccy} != sum of its "
                                                     f"{len(rows)} transactions {total:+}")
        return rows

    def _e2e(self, tx: ET._Element | None) -> str | None:
        e2e = self._t(tx, "Refs/EndToEndId")
        return None if not e2e or e2e.upper() == "NOTPROVIDED" else e2e  # ISO placeholder for "none"

    def _remittance(self, tx: ET._Element | None) -> str | None:
        if tx is None:
            return None
        parts = [(u.text or "").strip() for u in self._findall(tx, "RmtInf/Ustrd")]
        return " ".join(p for p in parts if p) or None

    def _statement(self, st: _Stmt) -> CustodyStatement:
        self._header(st)
        el = st.el
        # Statement currency: the account's, else the first kept balance's (some banks omit Acct/Ccy).
        ccy = (self._t(el, "Acct/Ccy") or next((b.currency for b in st.balances), "")
               or next((e.currency for e in st.entries), ""))
        return CustodyStatement(st.sid, st.account, ccy, self.name, "xml", st.balances, st.entries,
                                message_id=self.message_id, created_at=self._created(self._t(el, "CreDtTm")))

    @staticmethod
    def _created(s: str) -> datetime | None:
        # Metadata only: a naive or odd CreDtTm leaves it unknown rather than refusing the statement.
        dt, _ = parse_timestamp(s) if s else (None, None)
        return dt.astimezone(UTC) if dt is not None else None
