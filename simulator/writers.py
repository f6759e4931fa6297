"""Feed writers: the day's books as CSV (and Parquet for trades) in the SPEC §2 layout.

Big files are formatted in chunks with polars string expressions from integer columns (cents, ms), so
money is never formatted from a float and memory stays bounded."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
from tqdm import tqdm

from .books import DayBooks
from .config import CCY, RSV
from .custody import e2e_str
from .dates import ts, ymd
from .market import LIMIT_STATUS, MarketDay, Universe
from .money import fmt_cents, fmt_scaled

TRADE_COLUMNS = ("fill_id", "order_id", "account_id", "symbol", "side", "quantity", "price", "commission",
                 "executed_at", "origin", "liquidation_id")
LEDGER_COLUMNS = ("entry_id", "business_date", "account_id", "type", "amount", "currency", "end_to_end_id")
CAPITAL_COLUMNS = ("event_id", "provider_id", "tranche", "type", "amount", "currency", "event_date",
                   "settlement_date", "end_to_end_id")
RISK_COLUMNS = ("event_id", "account_id", "type", "event_time", "equity", "gross_exposure", "margin_ratio",
                "liquidation_id")
MARKET_COLUMNS = ("symbol", "close", "high", "low", "volume", "limit_status")
ACCOUNT_COLUMNS = ("account_id", "client_id", "group_id", "kyc_tier", "credit_score", "leverage_tier", "im_rate",
                   "warning_rate", "mm_rate", "interest_rate", "opened_on", "closed_on")


def liq_id(n: int) -> str:
    return f"LQ{n:06d}"


def _money(e: pl.Expr) -> pl.Expr:
    """Signed integer cents -> plain decimal text with 2 dp."""
    a = e.abs()
    return pl.concat_str([pl.when(e < 0).then(pl.lit("-")).otherwise(pl.lit("")),
                          (a // 100).cast(pl.Utf8), pl.lit("."), (a % 100).cast(pl.Utf8).str.zfill(2)])


def _seq(prefix: str, e: pl.Expr, width: int) -> pl.Expr:
    return pl.concat_str([pl.lit(prefix), e.cast(pl.Utf8).str.zfill(width)])


def _clock(day: date, e: pl.Expr) -> pl.Expr:
    z = lambda x, w=2: x.cast(pl.Utf8).str.zfill(w)
    return pl.concat_str([pl.lit(day.isoformat() + "T"), z(e // 3_600_000), pl.lit(":"), z(e // 60_000 % 60),
                          pl.lit(":"), z(e // 1000 % 60), pl.lit("."), z(e % 1000, 3), pl.lit("+08:00")])


def write_frame(path: Path, cols: dict[str, list], names: tuple[str, ...]) -> None:
    pl.DataFrame({c: cols[c] for c in names}, schema={c: pl.Utf8 for c in names}).write_csv(path)


# -------------------------------------------------------------------- trades
def _decimal2(cents: np.ndarray, precision: int):
    import pyarrow as pa
    v = np.ascontiguousarray(cents, dtype=np.int64)
    words = np.empty((len(v), 2), np.int64)
    words[:, 0], words[:, 1] = v, v >> 63
    return pa.Array.from_buffers(pa.decimal128(precision, 2), len(v), [None, pa.py_buffer(words.tobytes())])


def write_trades(folder: Path, day: date, fills: dict[str, np.ndarray], account_ids: pl.Series,
                 symbols: pl.Series, fmt: str, chunk_rows: int, quiet: bool) -> int:
    n = len(fills["acc"])
    path = folder / ("trades.parquet" if fmt == "parquet" else "trades.csv")
    tag = ymd(day)
    side_s, origin_s = pl.Series(["BUY", "SELL"]), pl.Series(["CLIENT", "LIQUIDATION"])
    bar = tqdm(total=n, unit="row", desc=f"trades {day}", leave=False, position=1,
               disable=quiet or n < 500_000, mininterval=1.0)
    writer = None
    fh = open(path, "wb") if fmt == "csv" else None  # noqa: SIM115 - closed in the finally below
    try:
        starts = range(0, n, chunk_rows) if n else [0]
        for s in starts:
            e = min(n, s + chunk_rows)
            c = {k: v[s:e] for k, v in fills.items()}
            df = pl.DataFrame({
                "seq": np.arange(s + 1, e + 1, dtype=np.int64), "order": c["order"].astype(np.int64),
                "acc": c["acc"].astype(np.int64), "sym": c["sym"].astype(np.int64),
                "side": c["side"].astype(np.int64), "quantity": c["qty"].astype(np.int64),
                "price": c["price"].astype(np.int64), "comm": c["comm"].astype(np.int64),
                "ms": c["ms"].astype(np.int64), "origin": c["origin"].astype(np.int64),
                "liq": c["liq"].astype(np.int64)})
            out = df.select(
                _seq(f"F{tag}-", pl.col("seq"), 9).alias("fill_id"),
                _seq(f"O{tag}-", pl.col("order"), 9).alias("order_id"),
                pl.col("acc").map_batches(lambda x: account_ids.gather(x), return_dtype=pl.Utf8).alias("account_id"),
                pl.col("sym").map_batches(lambda x: symbols.gather(x), return_dtype=pl.Utf8).alias("symbol"),
                pl.col("side").map_batches(lambda x: side_s.gather(x), return_dtype=pl.Utf8).alias("side"),
                pl.col("quantity"),
                (_money(pl.col("price")) if fmt == "csv" else pl.col("price")).alias("price"),
                (_money(pl.col("comm")) if fmt == "csv" else pl.col("comm")).alias("commission"),
                (_clock(day, pl.col("ms")) if fmt == "csv" else pl.col("ms")).alias("executed_at"),
                pl.col("origin").map_batches(lambda x: origin_s.gather(x), return_dtype=pl.Utf8).alias("origin"),
                pl.when(pl.col("liq") > 0).then(_seq("LQ", pl.col("liq"), 6)).otherwise(pl.lit(""))
                .alias("liquidation_id"),
            )
            if fmt == "csv":
                out.write_csv(fh, include_header=(s == 0))
            else:
                writer = _parquet_chunk(path, writer, out, day)
            bar.update(e - s)
    finally:
        bar.close()
        if fh is not None:
            fh.close()
        if writer is not None:
            writer.close()
    return n


def _parquet_chunk(path: Path, writer, out: pl.DataFrame, day: date):
    import pyarrow as pa
    import pyarrow.parquet as pq
    epoch = (day - date(1970, 1, 1)).days * 86_400_000 - 8 * 3_600_000  # local midnight in UTC ms
    ms = out["executed_at"].to_numpy().astype(np.int64) + epoch
    schema = pa.schema([("fill_id", pa.string()), ("order_id", pa.string()), ("account_id", pa.string()),
                        ("symbol", pa.string()), ("side", pa.string()), ("quantity", pa.int64()),
                        ("price", pa.decimal128(18, 2)), ("commission", pa.decimal128(18, 2)),
                        ("executed_at", pa.timestamp("ms", tz="UTC")), ("origin", pa.string()),
                        ("liquidation_id", pa.string())])
    liq = out["liquidation_id"].to_arrow().cast(pa.string())
    table = pa.Table.from_arrays([
        out["fill_id"].to_arrow().cast(pa.string()), out["order_id"].to_arrow().cast(pa.string()),
        out["account_id"].to_arrow().cast(pa.string()), out["symbol"].to_arrow().cast(pa.string()),
        out["side"].to_arrow().cast(pa.string()), pa.array(out["quantity"].to_numpy(), pa.int64()),
        _decimal2(out["price"].to_numpy(), 18), _decimal2(out["commission"].to_numpy(), 18),
        pa.array(ms, pa.timestamp("ms", tz="UTC")), out["origin"].to_arrow().cast(pa.string()), liq,
    ], schema=schema)
    if writer is None:
        writer = pq.ParquetWriter(path, schema, compression="zstd")
    writer.write_table(table)
    return writer


# -------------------------------------------------------------------- ledger, capital, risk
def write_ledger(path: Path, books: DayBooks, account_ids: pl.Series) -> int:
    tag = ymd(books.day)
    if books.ledger:
        typ = np.concatenate([np.full(len(a), i) for i, (_, a, _, _) in enumerate(books.ledger)])
        names = pl.Series([t for t, *_ in books.ledger])
        acc = np.concatenate([a for _, a, _, _ in books.ledger])
        amt = np.concatenate([x for _, _, x, _ in books.ledger])
        e2e = np.concatenate([e for *_, e in books.ledger])
    else:
        typ = acc = amt = e2e = np.zeros(0, np.int64)
        names = pl.Series([], dtype=pl.Utf8)
    df = pl.DataFrame({"seq": np.arange(1, len(acc) + 1, dtype=np.int64), "typ": typ.astype(np.int64),
                       "acc": acc.astype(np.int64), "amt": amt.astype(np.int64), "e2e": e2e.astype(np.int64)})
    out = df.select(
        _seq(f"LE{tag}-", pl.col("seq"), 8).alias("entry_id"),
        pl.lit(books.day.isoformat()).alias("business_date"),
        pl.when(pl.col("acc") >= 0)
        .then(pl.col("acc").clip(0).map_batches(lambda x: account_ids.gather(x), return_dtype=pl.Utf8))
        .otherwise(pl.lit(RSV)).alias("account_id"),
        pl.col("typ").map_batches(lambda x: names.gather(x), return_dtype=pl.Utf8).alias("type"),
        _money(pl.col("amt")).alias("amount"),
        pl.lit(CCY).alias("currency"),
        pl.when(pl.col("e2e") > 0).then(_seq(f"E2E{tag}-", pl.col("e2e"), 7)).otherwise(pl.lit(""))
        .alias("end_to_end_id"),
    )
    out.write_csv(path)
    return len(out)


def write_capital(path: Path, books: DayBooks) -> int:
    tag = ymd(books.day)
    cols: dict[str, list] = {c: [] for c in CAPITAL_COLUMNS}
    for i, ev in enumerate(books.capital, 1):
        vals = (f"CE{tag}-{i:05d}", ev["provider_id"], ev["tranche"], ev["type"], fmt_cents(ev["amount"]), CCY,
                ev["event_date"].isoformat(), ev["settlement_date"].isoformat(),
                "" if ev["e2e"] is None else e2e_str(books.day, ev["e2e"]))
        for c, v in zip(CAPITAL_COLUMNS, vals):
            cols[c].append(v)
    write_frame(path, cols, CAPITAL_COLUMNS)
    return len(books.capital)


def write_risk(path: Path, books: DayBooks, account_ids: list[str]) -> int:
    tag = ymd(books.day)
    cols: dict[str, list] = {c: [] for c in RISK_COLUMNS}
    for i, (ms, _, typ, acc, eq, gross, ratio, liq) in enumerate(sorted(books.risk), 1):
        vals = (f"RE{tag}-{i:07d}", account_ids[acc], typ, ts(books.day, ms), fmt_cents(eq), fmt_cents(gross),
                "" if ratio is None else fmt_scaled(ratio, 6), liq_id(liq) if liq else "")
        for c, v in zip(RISK_COLUMNS, vals):
            cols[c].append(v)
    write_frame(path, cols, RISK_COLUMNS)
    return len(books.risk)


# -------------------------------------------------------------------- market, reference
def write_market(path: Path, u: Universe, mkt: MarketDay, platform_qty: np.ndarray) -> None:
    volume = np.where(mkt.high == mkt.low, u.base_volume // 20, u.base_volume) + platform_qty
    df = pl.DataFrame({"symbol": u.symbols, "close": mkt.close, "high": mkt.high, "low": mkt.low,
                       "volume": volume.astype(np.int64), "status": mkt.status.astype(np.int64)})
    lim = pl.Series(LIMIT_STATUS)
    df.select(pl.col("symbol"), _money(pl.col("close")).alias("close"), _money(pl.col("high")).alias("high"),
              _money(pl.col("low")).alias("low"), pl.col("volume"),
              pl.col("status").map_batches(lambda x: lim.gather(x), return_dtype=pl.Utf8).alias("limit_status"),
              ).write_csv(path)


def write_accounts(path: Path, eng) -> int:
    pop = eng.pop
    idx = [i for i in range(pop.n) if eng.opened_on[i] is not None]
    from .money import fmt_rate4
    cols = {
        "account_id": [pop.ids[i] for i in idx], "client_id": [pop.client_id[i] for i in idx],
        "group_id": [pop.group_id[i] for i in idx], "kyc_tier": [pop.kyc[i] for i in idx],
        "credit_score": [str(int(pop.score[i])) for i in idx], "leverage_tier": [f"{int(pop.k[i])}.0" for i in idx],
        "im_rate": [fmt_rate4(int(pop.im4[i])) for i in idx], "warning_rate": [fmt_rate4(int(pop.w4[i])) for i in idx],
        "mm_rate": [fmt_rate4(int(pop.mm4[i])) for i in idx], "interest_rate": [fmt_rate4(int(pop.r4[i])) for i in idx],
        "opened_on": [eng.opened_on[i].isoformat() for i in idx],
        "closed_on": ["" if eng.closed_on[i] is None else eng.closed_on[i].isoformat() for i in idx],
    }
    write_frame(path, cols, ACCOUNT_COLUMNS)
    return len(idx)
