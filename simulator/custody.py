"""Custody statements: one camt.053.001.08 statement per custody account and day, and the CSV export
(entries.csv + balances.csv) carrying the very same statements.

The custodian's noise is realistic but harmless: once or twice a month an entry is booked twice by
mistake and the duplicate is reversed the same day (RvslInd true, opposite CdtDbtInd, same EndToEndId),
so the net per EndToEndId still matches the ledger."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import polars as pl

from .books import DayBooks
from .config import CCY, CUSTODY_ACCOUNTS
from .dates import ymd
from .money import fmt_cents

NS = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"
ABBR = {"CLIENT_MARGIN_POOL": "CMP", "CAPITAL_POOL": "CAP", "RISK_RESERVE": "RSV", "PLATFORM_OPERATING": "OPR"}
ENTRY_COLUMNS = ("statement_id", "custody_account", "currency", "entry_ref", "booking_date", "value_date",
                 "amount", "credit_debit", "reversal", "end_to_end_id", "remittance")
BALANCE_COLUMNS = ("statement_id", "custody_account", "currency", "type", "date", "amount", "credit_debit")


def e2e_str(day: date, n: int) -> str:
    return f"E2E{ymd(day)}-{n:07d}"


@dataclass
class Statement:
    sid: str
    account: str
    day: date
    opening: int  # signed cents
    closing: int
    refs: list[str]
    amount: list[int]  # signed cents (+ CRDT)
    e2e: list[str]
    remit: list[str]
    code: list[str]
    reversal: list[bool]


def build_statements(books: DayBooks, opening: dict[str, int], noise: int = 0,
                     rng: np.random.Generator | None = None) -> list[Statement]:
    """The day's four statements; `noise` duplicate-and-reverse pairs are added on CLIENT_MARGIN_POOL
    (or the busiest account when it has no entries)."""
    day = books.day
    out = []
    for acct in CUSTODY_ACCOUNTS:
        amt, e2e, remit, code = books.custody[acct].columns()
        out.append(Statement(f"STMT-{acct}-{ymd(day)}", acct, day, opening[acct], 0, [],
                             amt.tolist(), [e2e_str(day, int(x)) for x in e2e], remit, code, [False] * len(amt)))
    for _ in range(noise):
        st = out[0] if out[0].amount else max(out, key=lambda s: len(s.amount))
        if not st.amount:
            break
        i = int(rng.integers(0, len(st.amount))) if rng is not None else 0
        while st.reversal[i] or st.remit[i].startswith("DUPLICATE"):
            i = (i + 1) % len(st.amount)
        a, e, r, c = st.amount[i], st.e2e[i], st.remit[i], st.code[i]
        for lst, vals in ((st.amount, (a, -a)), (st.e2e, (e, e)), (st.remit, (f"DUPLICATE {r}", f"REVERSAL DUPLICATE {r}")),
                          (st.code, (c, c)), (st.reversal, (False, True))):
            lst[i + 1:i + 1] = list(vals)
    for st in out:
        st.refs = [f"N{ymd(day)}{ABBR[st.account]}{j + 1:07d}" for j in range(len(st.amount))]
        st.closing = st.opening + sum(st.amount)
    return out


def _cd(x: int) -> str:
    return "CRDT" if x >= 0 else "DBIT"


def write_xml(path: Path, st: Statement) -> None:
    d = st.day.isoformat()
    created = f"{d}T18:00:00.000+08:00"
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        f'<Document xmlns="{NS}">\n <BkToCstmrStmt>\n  <GrpHdr>\n',
        f'   <MsgId>CAMT053-{ymd(st.day)}-{st.account}</MsgId>\n   <CreDtTm>{created}</CreDtTm>\n  </GrpHdr>\n',
        f'  <Stmt>\n   <Id>{st.sid}</Id>\n   <ElctrncSeqNb>{st.day.toordinal()}</ElctrncSeqNb>\n',
        f'   <CreDtTm>{created}</CreDtTm>\n',
        f'   <FrToDt><FrDtTm>{d}T00:00:00.000+08:00</FrDtTm><ToDtTm>{d}T23:59:59.999+08:00</ToDtTm></FrToDt>\n',
        (f'   <Acct><Id><Othr><Id>{st.account}</Id></Othr></Id><Ccy>{CCY}</Ccy>'
         f'<Nm>{st.account.replace("_", " ").title()}</Nm></Acct>\n'),
    ]
    for typ, v in (("OPBD", st.opening), ("CLBD", st.closing)):
        parts.append(f'   <Bal><Tp><CdOrPrtry><Cd>{typ}</Cd></CdOrPrtry></Tp><Amt Ccy="{CCY}">{fmt_cents(abs(v))}</Amt>'
                     f'<CdtDbtInd>{_cd(v)}</CdtDbtInd><Dt><Dt>{d}</Dt></Dt></Bal>\n')
    cr = sum(a for a in st.amount if a >= 0)
    db = -sum(a for a in st.amount if a < 0)
    net = cr - db
    parts.append(f'   <TxsSummry><TtlNtries><NbOfNtries>{len(st.amount)}</NbOfNtries><Sum>{fmt_cents(cr + db)}</Sum>'
                 f'<TtlNetNtry><Amt>{fmt_cents(abs(net))}</Amt><CdtDbtInd>{_cd(net)}</CdtDbtInd></TtlNetNtry></TtlNtries>'
                 f'<TtlCdtNtries><NbOfNtries>{sum(1 for a in st.amount if a >= 0)}</NbOfNtries><Sum>{fmt_cents(cr)}</Sum></TtlCdtNtries>'
                 f'<TtlDbtNtries><NbOfNtries>{sum(1 for a in st.amount if a < 0)}</NbOfNtries><Sum>{fmt_cents(db)}</Sum></TtlDbtNtries>'
                 '</TxsSummry>\n')
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write("".join(parts))
        parts = []
        for ref, a, e, r, c, rv in zip(st.refs, st.amount, st.e2e, st.remit, st.code, st.reversal):
            if len(parts) >= 4096:  # stream big statements instead of building one huge string
                fh.write("".join(parts))
                parts = []
            parts.append(
                f'   <Ntry>\n    <NtryRef>{ref}</NtryRef>\n    <Amt Ccy="{CCY}">{fmt_cents(abs(a))}</Amt>\n'
                f'    <CdtDbtInd>{_cd(a)}</CdtDbtInd>\n    <RvslInd>{"true" if rv else "false"}</RvslInd>\n'
                f'    <Sts><Cd>BOOK</Cd></Sts>\n    <BookgDt><Dt>{d}</Dt></BookgDt>\n    <ValDt><Dt>{d}</Dt></ValDt>\n'
                f'    <AcctSvcrRef>{ref}</AcctSvcrRef>\n'
                f'    <BkTxCd><Prtry><Cd>{c}</Cd><Issr>MARGINFLOW</Issr></Prtry></BkTxCd>\n'
                f'    <NtryDtls><TxDtls><Refs><EndToEndId>{e}</EndToEndId></Refs>'
                f'<RmtInf><Ustrd>{escape(r)}</Ustrd></RmtInf></TxDtls></NtryDtls>\n   </Ntry>\n')
        parts.append("  </Stmt>\n </BkToCstmrStmt>\n</Document>\n")
        fh.write("".join(parts))


def write_csv(folder: Path, statements: list[Statement]) -> None:
    ent: dict[str, list] = {c: [] for c in ENTRY_COLUMNS}
    bal: dict[str, list] = {c: [] for c in BALANCE_COLUMNS}
    for st in statements:
        d = st.day.isoformat()
        n = len(st.amount)
        ent["statement_id"] += [st.sid] * n
        ent["custody_account"] += [st.account] * n
        ent["currency"] += [CCY] * n
        ent["entry_ref"] += st.refs
        ent["booking_date"] += [d] * n
        ent["value_date"] += [d] * n
        ent["amount"] += [fmt_cents(abs(a)) for a in st.amount]
        ent["credit_debit"] += [_cd(a) for a in st.amount]
        ent["reversal"] += ["true" if r else "false" for r in st.reversal]
        ent["end_to_end_id"] += st.e2e
        ent["remittance"] += st.remit
        for typ, v in (("OPBD", st.opening), ("CLBD", st.closing)):
            for c, x in zip(BALANCE_COLUMNS, (st.sid, st.account, CCY, typ, d, fmt_cents(abs(v)), _cd(v))):
                bal[c].append(x)
    pl.DataFrame(ent, schema={c: pl.Utf8 for c in ENTRY_COLUMNS}).write_csv(folder / "entries.csv")
    pl.DataFrame(bal, schema={c: pl.Utf8 for c in BALANCE_COLUMNS}).write_csv(folder / "balances.csv")
