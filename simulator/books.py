"""One business day's books as the engine writes them: ledger rows (and the custody entries each one
causes, §1.1), capital events, risk events and fills. Bulk rows stay numpy arrays until written."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np

from .config import CAP, CMP, OPR, RSV
from .money import hdiv_np

# §1.1: custody entries a ledger row causes: (custody account, sign applied to the amount)
LEDGER_CUSTODY: dict[str, tuple[tuple[str, int], ...]] = {
    "DEPOSIT": ((CMP, 1),),
    "WITHDRAWAL": ((CMP, -1),),
    "LOAN_DRAW": ((CAP, -1), (CMP, 1)),
    "LOAN_REPAY": ((CMP, -1), (CAP, 1)),
    "TRADE_SETTLEMENT": (),  # one net entry a day, added by the engine
    "INTEREST": ((CMP, -1), (CAP, 1)),
    "FEE": (),  # one net pair a day, added by the engine
    "PERFORMANCE_FEE": ((CMP, -1), (OPR, 1)),
    "RESERVE_FUNDING": ((OPR, -1), (RSV, 1)),
    "DEFAULT_COMPENSATION": ((RSV, -1), (CAP, 1)),
    "WRITE_OFF": (),
}
# cash_i effect of a ledger row on the client's cash (TRADE_SETTLEMENT is signed already)
CASH_SIGN = {"DEPOSIT": 1, "WITHDRAWAL": -1, "LOAN_DRAW": 1, "LOAN_REPAY": -1, "TRADE_SETTLEMENT": 1,
             "INTEREST": -1, "FEE": -1, "PERFORMANCE_FEE": -1}
CAPITAL_CUSTODY = {"CONTRIBUTION": 1, "REDEMPTION_PAID": -1, "DISTRIBUTION": -1}
RESERVE_ACCOUNT = -1  # account index standing for RISK_RESERVE in ledger rows

BUY, SELL = 0, 1
CLIENT, LIQUIDATION = 0, 1


def _arr(x, dtype=np.int64) -> np.ndarray:
    return np.atleast_1d(np.asarray(x, dtype=dtype))


@dataclass
class CustodyEntries:
    """Entries caused on one custody account in one day, in booking order."""
    amount: list[np.ndarray] = field(default_factory=list)  # signed cents (+ CRDT)
    e2e: list[np.ndarray] = field(default_factory=list)
    remit: list[list[str]] = field(default_factory=list)
    code: list[list[str]] = field(default_factory=list)

    def add(self, amount: np.ndarray, e2e: np.ndarray, remit: list[str], code: str) -> None:
        self.amount.append(amount)
        self.e2e.append(e2e)
        self.remit.append(remit)
        self.code.append([code] * len(amount))

    def columns(self) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
        if not self.amount:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), [], []
        return (np.concatenate(self.amount), np.concatenate(self.e2e),
                [r for blk in self.remit for r in blk], [c for blk in self.code for c in blk])


class DayBooks:
    def __init__(self, day: date, account_ids: list[str]) -> None:
        self.day = day
        self.account_ids = account_ids
        self.e2e_next = 1
        self.ledger: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]] = []
        self.custody = {a: CustodyEntries() for a in (CMP, CAP, RSV, OPR)}
        self.capital: list[dict] = []
        self.risk: list[tuple[int, int, str, int, int, int | None, int]] = []  # (ms, seq, ...)
        self.fills: list[dict[str, np.ndarray]] = []
        self.fill_count = 0
        self.order_next = 0

    # ---------------------------------------------------------------- ids
    def new_e2e(self, n: int = 1) -> np.ndarray:
        out = np.arange(self.e2e_next, self.e2e_next + n, dtype=np.int64)
        self.e2e_next += n
        return out

    def party(self, acc: np.ndarray) -> list[str]:
        ids = self.account_ids
        return [ids[a] if a >= 0 else RSV for a in acc.tolist()]

    # ---------------------------------------------------------------- ledger
    def ledger_rows(self, typ: str, acc, amount, e2e=None) -> np.ndarray:
        """Append ledger rows (one per account) and the custody entries §1.1 says they cause.
        Rows with a zero amount are dropped (except TRADE_SETTLEMENT). Returns the e2e ids used."""
        acc, amount = _arr(acc), _arr(amount)
        if typ != "TRADE_SETTLEMENT":
            keep = amount != 0
            acc, amount = acc[keep], amount[keep]
        if len(acc) == 0:
            return np.zeros(0, np.int64)
        if typ == "WRITE_OFF":
            e2e = np.full(len(acc), -1, np.int64)
        elif e2e is None:
            e2e = self.new_e2e(len(acc))
        else:
            e2e = np.broadcast_to(_arr(e2e), acc.shape).copy()
        self.ledger.append((typ, acc, amount, e2e))
        effects = LEDGER_CUSTODY[typ]
        if effects:
            who = self.party(acc)
            remit = [f"{typ} {p}" for p in who]
            for cust, sign in effects:
                self.custody[cust].add(sign * amount, e2e, remit, typ)
        return e2e

    def custody_net(self, cust: str, amount: int, e2e: int, remit: str, code: str) -> None:
        self.custody[cust].add(_arr(amount), _arr(e2e), [remit], code)

    # ---------------------------------------------------------------- capital
    def capital_event(self, provider: str, tranche: str, typ: str, amount: int, settle: date) -> None:
        e2e = None
        if typ in CAPITAL_CUSTODY:
            e2e = int(self.new_e2e()[0])
            if settle == self.day:
                self.custody_net(CAP, CAPITAL_CUSTODY[typ] * amount, e2e, f"{typ} {provider}", typ)
            else:  # pragma: no cover - the generator settles cash-moving events on their event date
                raise ValueError("cash-moving capital events settle on their event date in this generator")
        self.capital.append({"provider_id": provider, "tranche": tranche, "type": typ, "amount": amount,
                             "event_date": self.day, "settlement_date": settle, "e2e": e2e})

    # ---------------------------------------------------------------- risk events
    def risk_event(self, ms: int, acc: int, typ: str, equity: int, gross: int, ratio: int | None,
                   liq: int = 0) -> None:
        self.risk.append((int(ms), len(self.risk), typ, int(acc), int(equity), int(gross),
                          None if ratio is None else int(ratio), int(liq)))

    # ---------------------------------------------------------------- fills
    def add_fills(self, acc, sym, side, qty, price, comm, ms, order, origin: int, liq: int | np.ndarray = 0) -> None:
        n = len(acc)
        if n == 0:
            return
        order = _arr(order)
        base = self.order_next
        self.order_next += int(order.max()) + 1
        i32 = np.int32  # compact columns: 34 bytes a fill (10M fills ~ 340 MB)
        self.fills.append({
            "acc": _arr(acc, i32), "sym": _arr(sym, i32), "side": _arr(side, np.int8),
            "qty": _arr(qty, i32), "price": _arr(price, i32), "comm": _arr(comm, i32), "ms": _arr(ms, i32),
            "order": (order + base).astype(i32), "origin": np.full(n, origin, np.int8),
            "liq": np.broadcast_to(_arr(liq, np.int32), (n,)).copy(),
        })
        self.fill_count += n

    def sorted_fills(self) -> dict[str, np.ndarray]:
        """All fills of the day in executed_at order (ties: generation order); order numbers renumbered
        by each order's first fill. Blocks are released as they are merged (bounded memory)."""
        cols = ("acc", "sym", "side", "qty", "price", "comm", "ms", "order", "origin", "liq")
        if not self.fills:
            return {c: np.zeros(0, np.int64) for c in cols}
        ms = np.concatenate([b["ms"] for b in self.fills])
        perm = np.argsort(ms, kind="stable")
        del ms
        out: dict[str, np.ndarray] = {}
        for c in cols:
            col = np.concatenate([b.pop(c) for b in self.fills])
            out[c] = col[perm]
            del col
        del perm
        self.fills = []
        order = out["order"]
        _, first, inv = np.unique(order, return_index=True, return_inverse=True)
        rank = np.empty(len(first), np.int64)
        rank[np.argsort(first, kind="stable")] = np.arange(len(first))
        out["order"] = (rank[inv] + 1).astype(np.int32)
        return out


def commission(notional: np.ndarray, rate, minimum: int) -> np.ndarray:
    """Per-fill commission: notional x rate, half-even to the cent, at least the minimum."""
    if rate == 0 and minimum == 0:
        return np.zeros(len(notional), np.int64)
    return np.maximum(hdiv_np(notional * rate.numerator, rate.denominator), minimum)
