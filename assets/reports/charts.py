"""Report charts: matplotlib → vector SVG strings, byte-for-byte deterministic.

No pyplot (no global figure state, safe in worker processes); fixed font (DejaVu Sans, embedded by
WeasyPrint like the body text), fixed size, ``svg.hashsalt`` so element ids do not change between
runs, and no date or creator in the SVG metadata. Every function takes plain series (as the figures
module collects them) and returns the SVG document as text.
"""
from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import matplotlib

matplotlib.use("Agg")  # before any backend is touched
from matplotlib import dates as mdates
from matplotlib import rc_context
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

WIDTH_IN = 6.6
HEIGHT_IN = 2.5
INK = "#1d2b3a"
BLUE = "#2f5d8a"
LIGHT = "#9db4cc"
RED = "#a33a2b"
GREY = "#7a7a7a"

RC = {
    "svg.hashsalt": "marginflow-reports",
    "svg.fonttype": "none",  # text stays text: drawn with the document font, small and fast to render
    "font.family": "DejaVu Sans",
    "font.size": 7.5,
    "axes.titlesize": 8.5,
    "axes.labelsize": 7.5,
    "axes.edgecolor": "#444444",
    "axes.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.5,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "legend.frameon": False,
    "legend.fontsize": 7,
    "lines.linewidth": 1.3,
    "path.simplify": False,
}
_METADATA = {"Date": None, "Creator": None}


def _f(v: Any) -> float:
    """Plotting only: money goes to float here, never in a figure that is printed."""
    if v is None:
        return math.nan
    if isinstance(v, Decimal):
        return float(v)
    return float(v)


def _new(height: float = HEIGHT_IN) -> tuple[Figure, Any]:
    fig = Figure(figsize=(WIDTH_IN, height), dpi=72)
    FigureCanvasSVG(fig)
    ax = fig.add_subplot(1, 1, 1)
    return fig, ax


def _svg(fig: Figure, margins: tuple[float, float, float, float] | None = None) -> str:
    buf = io.StringIO()
    if margins is None:
        fig.tight_layout(pad=0.4)  # measures every label: a whole extra draw
    else:
        left, right, bottom, top = margins
        fig.subplots_adjust(left=left, right=right, bottom=bottom, top=top)
    fig.savefig(buf, format="svg", metadata=_METADATA)
    text = buf.getvalue()
    # drop the XML prolog and DOCTYPE: the SVG is embedded, and the DTD would only be fetched
    start = text.find("<svg")
    return text[start:] if start >= 0 else text


def _money_axis(ax, axis: str = "y") -> None:
    def fmt(x, _pos):
        a = abs(x)
        if a >= 1e9:
            return f"{x / 1e9:,.1f}bn"
        if a >= 1e6:
            return f"{x / 1e6:,.1f}m"
        if a >= 1e3:
            return f"{x / 1e3:,.0f}k"
        return f"{x:,.0f}"

    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(FuncFormatter(fmt))


def _date_axis(ax, dates: Sequence[dt.date]) -> None:
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=4, maxticks=10))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d"))
    if dates:
        # half a day either side (so one day is a visible point, not a zero-width axis); a date minus a
        # fraction of a day is the same date, hence the datetimes
        first, last = (d if isinstance(d, dt.datetime) else dt.datetime.combine(d, dt.time())
                       for d in (dates[0], dates[-1]))
        pad = dt.timedelta(hours=14)
        ax.set_xlim(first - pad, last + pad)
        if last - first < dt.timedelta(days=3):  # else the auto locator ticks hours, all labelled with the day
            ax.xaxis.set_major_locator(mdates.DayLocator())


def _empty(ax, message: str) -> None:
    ax.text(0.5, 0.5, message, transform=ax.transAxes, ha="center", va="center", color=GREY)
    ax.set_xticks([])
    ax.set_yticks([])


def _legend_top(ax, handles=None, labels=None, ncols: int = 3) -> None:
    """Legend in a row above the plot area, so it never hides data."""
    kw = {} if handles is None else {"handles": handles, "labels": labels}
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.01), ncols=ncols, borderaxespad=0.0, handlelength=1.8,
              columnspacing=1.4, **kw)


def _render(draw, *args, height: float = HEIGHT_IN, margins: tuple[float, float, float, float] | None = None,
            **kwargs) -> str:
    """``margins`` (left, right, bottom, top as figure fractions) fix the layout instead of measuring
    it: for charts drawn once per statement, where the labels' extent is known in advance."""
    with rc_context(RC):
        fig, ax = _new(height)
        draw(fig, ax, *args, **kwargs)
        return _svg(fig, margins)


# ---------------------------------------------------------------------------------------------


def utilization_chart(series: Sequence[dict[str, Any]], mean: Any = None) -> str:
    """M1: daily utilization = ΣL / capital, with the period mean."""

    def draw(fig, ax):
        if not series:
            return _empty(ax, "no closes in the period")
        x = [r["business_date"] for r in series]
        y = [_f(r["utilization"]) for r in series]
        ax.plot(x, y, color=BLUE, marker="o", markersize=2.2, label="Daily utilization")
        if mean is not None:
            ax.axhline(_f(mean), color=GREY, linestyle="--", linewidth=0.9, label="Period mean")
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        top = max([v for v in y if not math.isnan(v)] + [0.0])
        ax.set_ylim(0, max(1.0, top * 1.1))
        ax.set_ylabel("ΣL / capital")
        _date_axis(ax, x)
        _legend_top(ax)

    return _render(draw)


def leverage_chart(buckets: Sequence[dict[str, Any]], title: str | None = None) -> str:
    """M2: accounts and loans per leverage bucket at the period-end close."""

    def draw(fig, ax):
        if not buckets:
            return _empty(ax, "no accounts with a loan")
        labels = [str(b["bucket"]).replace("negative_equity", "E ≤ 0") for b in buckets]
        accounts = [_f(b["accounts"]) for b in buckets]
        loans = [_f(b["loans"]) for b in buckets]
        xs = list(range(len(labels)))
        w = 0.38
        ax.bar([i - w / 2 for i in xs], accounts, width=w, color=BLUE, label="Accounts (left)")
        ax.set_ylabel("accounts")
        ax.set_xticks(xs, labels)
        ax.set_xlabel("leverage λ = G / E")
        ax2 = ax.twinx()
        ax2.grid(False)
        ax2.spines["right"].set_visible(True)
        ax2.bar([i + w / 2 for i in xs], loans, width=w, color=LIGHT, label="Loans (right)")
        _money_axis(ax2)
        ax2.set_ylabel("loans (CNY)")
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = ax2.get_legend_handles_labels()
        _legend_top(ax, h1 + h2, l1 + l2)
        if title:
            ax.set_title(title, loc="left")

    return _render(draw)


def latency_chart(liquidations: Sequence[dict[str, Any]], sla_seconds: Any = 300) -> str:
    """M6: distribution of trigger → last fill latency, log scale, normal vs limit-down, SLA marked."""

    def draw(fig, ax):
        vals = [(_f(r["latency_last_fill_seconds"]), bool(r["is_limit_down"])) for r in liquidations
                if r.get("latency_last_fill_seconds") is not None]
        vals = [(max(v, 1.0), ld) for v, ld in vals if not math.isnan(v)]
        if not vals:
            return _empty(ax, "no completed liquidations in the period")
        lo = math.floor(math.log10(min(v for v, _ in vals)))
        hi = math.ceil(math.log10(max(v for v, _ in vals) * 1.0001))
        hi = max(hi, lo + 1)
        nb = 4 * (hi - lo)
        bins = [10 ** (lo + i * (hi - lo) / nb) for i in range(nb + 1)]
        normal = [v for v, ld in vals if not ld]
        locked = [v for v, ld in vals if ld]
        ax.hist([normal, locked], bins=bins, stacked=True, color=[BLUE, RED],
                label=[f"Normal ({len(normal)})", f"Limit-down ({len(locked)})"])
        ax.set_xscale("log")
        if sla_seconds:
            ax.axvline(_f(sla_seconds), color=INK, linestyle="--", linewidth=0.9)
            ax.text(_f(sla_seconds) * 1.08, 0.96, f"SLA {int(_f(sla_seconds))} s", transform=ax.get_xaxis_transform(),
                    va="top", fontsize=7)
        ax.set_xlabel("seconds from LIQUIDATION_TRIGGER to the last liquidation fill (log scale)")
        ax.set_ylabel("liquidations")
        _legend_top(ax)

    return _render(draw)


def reserve_chart(series: Sequence[dict[str, Any]]) -> str:
    """M9: risk reserve against the worst scenario's Cover-2, daily."""

    def draw(fig, ax):
        if not series:
            return _empty(ax, "no closes in the period")
        x = [r["business_date"] for r in series]
        res = [_f(r["reserve_balance"]) for r in series]
        cov = [_f(r["worst_cover_2"]) for r in series]
        ax.plot(x, cov, color=RED, marker="o", markersize=2, label="Cover-2 stress shortfall (worst scenario)")
        ax.plot(x, res, color=BLUE, marker="o", markersize=2, label="Risk reserve (custody balance)")
        ax.fill_between(x, res, cov, where=[c > r for r, c in zip(res, cov)], color=RED, alpha=0.12,
                        linewidth=0, interpolate=True, label="Gap")
        ax.set_yscale("symlog", linthresh=1e5)
        _money_axis(ax)
        ax.set_ylabel("CNY (symlog)")
        ax.set_ylim(bottom=0)
        _date_axis(ax, x)
        _legend_top(ax)

    return _render(draw)


def margin_calls_chart(series: Sequence[dict[str, Any]]) -> str:
    """M4: margin calls issued per day, and accounts below W and MM at each close."""

    def draw(fig, ax):
        if not series:
            return _empty(ax, "no closes in the period")
        x = [r["business_date"] for r in series]
        ax.bar(x, [_f(r["warnings_issued"]) for r in series], width=0.7, color=LIGHT, label="Calls issued")
        ax.plot(x, [_f(r["accounts_below_warning"]) for r in series], color=BLUE, marker="o", markersize=2,
                label="Accounts below W at the close")
        ax.plot(x, [_f(r["accounts_below_maintenance"]) for r in series], color=RED, marker="o", markersize=2,
                label="Accounts below MM at the close")
        ax.set_ylabel("accounts / calls")
        ax.set_ylim(bottom=0)
        _date_axis(ax, x)
        _legend_top(ax)

    return _render(draw)


def provider_capital_chart(series: Sequence[dict[str, Any]]) -> str:
    """Statement: the provider's capital balance and its pro-rata share of the loan book, daily."""

    def draw(fig, ax):
        if not series:
            return _empty(ax, "no capital in the period")
        x = [r["business_date"] for r in series]
        ax.step(x, [_f(r["capital_balance"]) for r in series], where="post", color=BLUE, label="Capital balance",
                marker="o" if len(x) == 1 else None, markersize=2)  # a one-day step draws no line
        ax.plot(x, [_f(r["loan_book_allocated"]) for r in series], color=RED, marker="o", markersize=2,
                label="Loan book allocated (pro rata)")
        _money_axis(ax)
        ax.set_ylim(bottom=0)
        ax.set_ylabel("CNY")
        _date_axis(ax, x)
        _legend_top(ax)

    # one per provider statement (a thousand a month): fixed margins save the measuring draw
    return _render(draw, height=2.2, margins=(0.1, 0.985, 0.11, 0.86))
