"""Run an engine day by day and land every feed: `<out>/<YYYY-MM-DD>/<feed>/...`."""
from __future__ import annotations

import json
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import polars as pl
from tqdm import tqdm

from .capital import make_providers
from .clients import RandomBehaviour, make_population, planned_loans
from .config import GeneratorConfig
from .custody import build_statements, write_csv, write_xml
from .dates import business_days, ymd
from .engine import Engine
from .market import LIMIT_DOWN, make_universe, random_path
from .money import fmt_cents
from .writers import write_accounts, write_capital, write_frame, write_ledger, write_market, write_risk, write_trades

SUMMARY_FILE = ".generator.json"


def _rng(seed: int, purpose: int) -> np.random.Generator:
    return np.random.default_rng([seed, purpose])


def build_engine(cfg: GeneratorConfig) -> Engine:
    """The random platform for a config: universe, market path, clients, providers, behaviour."""
    days = business_days(cfg.start, cfg.days)
    u = make_universe(cfg.instruments, _rng(cfg.seed, 1))
    market = random_path(u, len(days), _rng(cfg.seed, 2))
    pop = make_population(cfg.accounts, len(days), _rng(cfg.seed, 3))
    m = cfg.model
    planned = max(planned_loans(pop, len(days)), 100_000_000)
    total = int(planned * m.target_utilization.denominator / m.target_utilization.numerator / 0.85)
    total = -(-total // 100_000_000) * 100_000_000  # whole millions
    prov = make_providers(cfg.providers, total, _rng(cfg.seed, 4))
    beh = RandomBehaviour(cfg, pop, u, prov, days, cfg.seed)
    # default reserve: 0.4 % of the planned loan book, so a crash exhausts it (see README)
    reserve = m.reserve_opening if m.reserve_opening is not None else planned * 4 // 1000 // 1_000_000 * 1_000_000
    return Engine(model=m, days=days, universe=u, market=market, pop=pop, prov=prov, behaviour=beh,
                  reserve_opening=reserve, seed=cfg.seed)


def noise_days(n_days: int, seed: int) -> dict[int, int]:
    """Days (index -> count) on which the custodian books an entry twice and reverses it: ~1.5 a month."""
    rng = _rng(seed, 5)
    k = max(1, round(n_days * 1.5 / 22)) if n_days >= 2 else 0
    picks = rng.choice(np.arange(1, n_days), size=min(k, n_days - 1), replace=False) if k else []
    return {int(i): 1 for i in sorted(picks)}


def run(eng: Engine, out: Path, *, trades_format: str = "csv", custody_format: str = "xml",
        chunk_rows: int = 250_000, quiet: bool = False, noise: dict[int, int] | None = None,
        config: dict | None = None, seed: int = 0) -> dict:
    """Step the engine through its days and land every feed; returns (and writes) the summary."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for d in eng.days:  # re-runs replace exactly the business dates they write
        for p in (out / d.isoformat(), out / f".{d.isoformat()}.tmp"):
            if p.is_dir():
                shutil.rmtree(p)
    noise = noise or {}
    account_ids = pl.Series(eng.pop.ids)
    symbols = pl.Series(eng.u.symbols)
    counts: dict[str, Counter] = {k: Counter() for k in ("ledger", "capital", "risk_events", "fills")}
    rows = Counter()
    limit_down_days = 0
    ld_instrument_days = 0
    t0 = time.monotonic()
    bar = tqdm(eng.days, desc="business days", unit="day", disable=quiet, file=sys.stderr)
    for di, d in enumerate(bar):
        bar.set_postfix_str(d.isoformat())
        books = eng.step(di)
        mkt = eng.market[di]
        tmp = out / f".{d.isoformat()}.tmp"
        for feed in ("custody", "trades", "capital", "ledger", "risk_events", "reference", "market"):
            (tmp / feed).mkdir(parents=True)
        # custody
        opening = dict(eng.cust_prev_close)
        for cust in opening:  # cust_prev_close is already today's close: recover today's opening
            opening[cust] -= int(books.custody[cust].columns()[0].sum())
        sts = build_statements(books, opening, noise.get(di, 0), np.random.default_rng([seed, 6, di]))
        if custody_format in ("xml", "both"):
            for st in sts:
                write_xml(tmp / "custody" / f"{st.account}_{ymd(d)}.xml", st)
        if custody_format in ("csv", "both"):
            write_csv(tmp / "custody", sts)
        rows["custody_entries"] += sum(len(st.amount) for st in sts)
        # trades
        fills = books.sorted_fills()
        for o, name in ((0, "CLIENT"), (1, "LIQUIDATION")):
            counts["fills"][name] += int((fills["origin"] == o).sum())
        rows["fills"] += write_trades(tmp / "trades", d, fills, account_ids, symbols, trades_format, chunk_rows, quiet)
        del fills
        # books
        for typ, acc, *_ in books.ledger:
            counts["ledger"][typ] += len(acc)
        for ev in books.capital:
            counts["capital"][ev["type"]] += 1
        for ev in books.risk:
            counts["risk_events"][ev[2]] += 1
        rows["ledger"] += write_ledger(tmp / "ledger" / "ledger.csv", books, account_ids)
        rows["capital"] += write_capital(tmp / "capital" / "capital.csv", books)
        rows["risk_events"] += write_risk(tmp / "risk_events" / "risk_events.csv", books, eng.pop.ids)
        # reference snapshots and market
        write_frame(tmp / "reference" / "providers.csv", eng.prov.rows(),
                    ("provider_id", "name", "tranche", "commitment", "coupon_rate", "currency"))
        write_accounts(tmp / "reference" / "accounts.csv", eng)
        write_frame(tmp / "reference" / "instruments.csv", eng.u.rows(),
                    ("symbol", "name", "board", "liquidity_tier", "currency"))
        write_market(tmp / "market" / "prices.csv", eng.u, mkt, eng.sym_qty)
        ld = int((mkt.status == LIMIT_DOWN).sum())
        ld_instrument_days += ld
        limit_down_days += ld * 2 > eng.u.n
        tmp.rename(out / d.isoformat())
    bar.close()
    st = eng.stats
    summary = {
        "config": config or {},
        "business_dates": [d.isoformat() for d in eng.days],
        "counts": {k: dict(sorted(v.items())) for k, v in counts.items()},
        "rows": dict(sorted(rows.items())),
        "accounts_opened": sum(1 for x in eng.opened_on if x is not None),
        "accounts_closed": sum(1 for x in eng.closed_on if x is not None),
        "liquidations": st["liquidations"],
        "liquidations_done": st["liquidations_done"],
        "max_liquidation_business_days": st["max_liquidation_days"],
        "repaid_after_liquidation": st["repaid_after_liquidation"],
        "voluntary_closes": st["voluntary_closes"],
        "defaults": st["defaults"],
        "total_shortfall": fmt_cents(st["shortfall"]),
        "reserve_draws": fmt_cents(st["reserve_draws"]),
        "write_offs": fmt_cents(st["write_offs"]),
        "written_off_interest": fmt_cents(st["written_off_interest"]),
        "loss_allocated": fmt_cents(st["loss_allocated"]),
        "unallocated_loss": fmt_cents(st["unallocated_loss"]),
        "dropped_subcent_interest_micro": st["dropped_subcent_micro"],
        "limit_down_instrument_days": ld_instrument_days,
        "limit_down_days": limit_down_days,
        "regimes": [m.regime for m in eng.market],
        "closing_balances": {k: fmt_cents(v) for k, v in eng.cust.items()},
        "loan_book": fmt_cents(int(eng.loan.sum())),
        "provider_capital": fmt_cents(sum(eng.prov.balance)),
        "custody_noise_days": [eng.days[i].isoformat() for i in sorted(noise)],
        "waterfalls": st["waterfalls"],
    }
    (out / SUMMARY_FILE).write_text(json.dumps(summary, indent=2) + "\n")
    summary["_seconds"] = round(time.monotonic() - t0, 2)
    return summary


def generate(cfg: GeneratorConfig) -> dict:
    """Generate the synthetic platform for cfg into cfg.out; returns the summary dict."""
    eng = build_engine(cfg)
    return run(eng, cfg.out, trades_format=cfg.trades_format, custody_format=cfg.custody_format,
               chunk_rows=cfg.chunk_rows, quiet=cfg.quiet, noise=noise_days(cfg.days, cfg.seed),
               config=cfg.as_dict(), seed=cfg.seed)
