"""The backtest report: one self-contained `report.html`, and `equity.png` beside it.

Self-contained means it opens on an air-gapped box: no scripts, fonts or styles from a
network; the charts are inline SVG drawn by matplotlib (glyphs as paths, so no fonts are
needed either). The same inputs give byte-identical files: matplotlib's defaults are
restored around every drawing (no user matplotlibrc), each SVG gets a fixed hash salt
and no date or creator metadata, and the PNG carries no software tag.

Every string that comes from data (title, parameters, product and strategy ids) is
HTML-escaped. Each trade is one row of the trades table and one entry and one exit
marker on its product's price chart; the marker lines carry SVG ids ending
`trade-entries-<n>` / `trade-exits-<n>` so a test can count them.

Long curves are thinned for drawing to the minimum and maximum of each of at most
`MAX_POINTS / 2` buckets, so a year of minute bars stays a small file and no spike or
drawdown disappears from the picture.
"""

import html
import io
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Final

import matplotlib as mpl
import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.typing import RcKeyType

from trading_agent.analytics.metrics import Metrics, drawdown_curve
from trading_agent.domain.market import Candle
from trading_agent.domain.trades import Trade

__all__ = ["EQUITY_PNG", "MAX_POINTS", "REPORT_HTML", "format_metric", "write_report"]

REPORT_HTML: Final = "report.html"
EQUITY_PNG: Final = "equity.png"
MAX_POINTS: Final = 4000

_NS_PER_DAY: Final = 86_400 * 10**9
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_RC: Final[dict[RcKeyType, object]] = {
    "date.epoch": "1970-01-01T00:00:00",
    "timezone": "UTC",
    "svg.fonttype": "path",
    # Product ids and labels are data: a "$" in one must not start TeX-like mathtext.
    "text.parse_math": False,
    "figure.dpi": 100,
    "savefig.dpi": 100,
}
_SVG_METADATA: Final = {"Creator": None, "Date": None, "Format": None, "Type": None}
_PNG_METADATA: Final = {"Software": None}

FloatArray = npt.NDArray[np.float64]
_ID_REFERENCE: Final = re.compile(r'(\bid="|\bxlink:href="#|\burl\(#)')

# Field, label, format: the metrics table in the order it is shown.
_METRIC_ROWS: Final = (
    ("initial_equity", "Initial equity (USD)", "usd"),
    ("final_equity", "Final equity (USD)", "usd"),
    ("total_return", "Total return", "pct"),
    ("cagr", "CAGR", "pct"),
    ("sharpe", "Sharpe (daily, x sqrt 365)", "ratio"),
    ("sortino", "Sortino (daily, x sqrt 365)", "ratio"),
    ("max_drawdown", "Max drawdown", "pct"),
    ("max_drawdown_start_ns", "Drawdown start", "time"),
    ("max_drawdown_trough_ns", "Drawdown trough", "time"),
    ("max_drawdown_recovery_ns", "Drawdown recovery", "time"),
    ("turnover_per_year", "Turnover per year", "ratio"),
    ("exposure", "Exposure", "pct"),
    ("trade_count", "Trades", "count"),
    ("win_rate", "Win rate", "pct"),
    ("expectancy_r", "Expectancy (R)", "ratio"),
    ("expectancy_usd", "Expectancy (USD)", "usd"),
    ("average_win_usd", "Average win (USD)", "usd"),
    ("average_loss_usd", "Average loss (USD)", "usd"),
    ("traded_notional_usd", "Traded notional (USD)", "usd"),
    ("years", "Years", "ratio"),
    ("start_ns", "Start", "time"),
    ("end_ns", "End", "time"),
)

_STYLE: Final = """
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin-bottom: 1.5em; }
td, th { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: right; }
th { background: #f4f4f4; }
td.label, th.label { text-align: left; }
figure { margin: 0 0 1.5em 0; }
"""


def write_report(
    run_dir: Path,
    *,
    title: str,
    equity_ts_ns: Sequence[int],
    equity: Sequence[float] | Sequence[Decimal],
    drawdown: Sequence[float] | None = None,
    trades: Sequence[Trade],
    metrics: Metrics,
    candles_by_product: Mapping[str, Sequence[Candle]],
    params: Mapping[str, object],
) -> Path:
    """Write `report.html` and `equity.png` into `run_dir` (created if missing).

    `drawdown` (fractions below the running peak, one per equity sample) is computed
    from `equity` when not given.

    Returns:
        The path of `report.html`.

    Raises:
        ValueError: the equity, timestamp and drawdown series differ in length or are empty.
        OSError: the files cannot be written.
    """
    ts = np.asarray(equity_ts_ns, dtype=np.int64)
    eq = np.asarray(equity, dtype=np.float64)
    dd = drawdown_curve(eq) if drawdown is None else np.asarray(drawdown, dtype=np.float64)
    if len(ts) == 0 or not len(ts) == len(eq) == len(dd):
        raise ValueError(
            f"report needs equal, non-empty series: {len(ts)} timestamps, "
            f"{len(eq)} equity, {len(dd)} drawdown"
        )
    run_dir.mkdir(parents=True, exist_ok=True)
    equity_figure = _equity_figure(ts, eq, dd)
    (run_dir / EQUITY_PNG).write_bytes(_render(equity_figure, "png", "equity"))
    charts = [("Equity and drawdown", _svg(equity_figure, "equity"))]
    for i, product in enumerate(_products(trades, candles_by_product)):
        price = _price_figure(i, product, candles_by_product.get(product, ()), trades)
        charts.append((f"{product} price and trades", _svg(price, f"price-{i}")))
    page = _page(title, metrics, params, trades, charts)
    out = run_dir / REPORT_HTML
    out.write_bytes(page.encode("utf-8"))
    return out


def format_metric(kind: str, value: float | int | None) -> str:
    """A metric as the report shows it: percent, ratio, USD, count or UTC time."""
    if value is None:
        return "n/a"
    if kind == "pct":
        return f"{value:.2%}"
    if kind == "usd":
        return f"{value:,.2f}"
    if kind == "count":
        return f"{int(value):d}"
    if kind == "time":
        return _utc(int(value))
    return f"{value:.2f}"


def _utc(ns: int) -> str:
    return (_EPOCH + timedelta(microseconds=ns // 1000)).strftime("%Y-%m-%d %H:%M:%SZ")


def _products(trades: Sequence[Trade], candles: Mapping[str, Sequence[Candle]]) -> list[str]:
    return sorted({*candles, *(t.product_id for t in trades)})


# ---------------------------------------------------------------- charts


@contextmanager
def _defaults(salt: str) -> Iterator[None]:
    # Restore matplotlib's own defaults for the drawing: a user's matplotlibrc must not
    # change the bytes. rc_context puts the caller's settings back afterwards.
    with mpl.rc_context():
        mpl.rcdefaults()
        mpl.rcParams.update(_RC)
        mpl.rcParams["svg.hashsalt"] = salt
        yield


def _render(figure: Figure, fmt: str, salt: str) -> bytes:
    buffer = io.BytesIO()
    metadata = _SVG_METADATA if fmt == "svg" else _PNG_METADATA
    with _defaults(salt):
        figure.savefig(buffer, format=fmt, metadata=metadata)
    return buffer.getvalue()


def _svg(figure: Figure, salt: str) -> str:
    text = _render(figure, "svg", salt).decode("utf-8")
    # Inline SVG needs neither the XML declaration nor the DOCTYPE (and its URL). Every
    # chart defines the same glyph ids, and ids must be unique in one HTML page, so
    # each chart's ids, and the references to them, get the chart's salt as a prefix.
    body = text[text.index("<svg") :]
    return _ID_REFERENCE.sub(lambda m: f"{m.group(1)}{salt}-", body)


def _days(ns: npt.NDArray[np.int64]) -> FloatArray:
    # Matplotlib dates are days since the epoch set in _RC.
    out: FloatArray = ns.astype(np.float64) / _NS_PER_DAY
    return out


def _thin(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    if len(x) <= MAX_POINTS:
        return x, y
    keep: list[int] = []
    for bucket in np.array_split(np.arange(len(x)), MAX_POINTS // 2):
        lo, hi = int(bucket[np.argmin(y[bucket])]), int(bucket[np.argmax(y[bucket])])
        keep.extend(sorted({lo, hi}))
    return x[keep], y[keep]


def _new_figure(height: float, rows: int = 1) -> tuple[Figure, list[Axes]]:
    with _defaults("layout"):
        figure = Figure(figsize=(10, height), layout="constrained")
        FigureCanvasAgg(figure)  # the raster backend, set explicitly; no pyplot state
        axes = figure.subplots(rows, 1, sharex=True, squeeze=False)[:, 0]
    return figure, list(axes)


def _date_axis(ax: Axes) -> None:
    # matplotlib's stubs leave these two constructors unannotated.
    locator = AutoDateLocator()  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    ax.grid(visible=True, alpha=0.3)


def _equity_figure(ts: npt.NDArray[np.int64], eq: FloatArray, dd: FloatArray) -> Figure:
    figure, (top, bottom) = _new_figure(6.0, rows=2)
    with _defaults("equity"):
        top.plot(*_thin(_days(ts), eq), color="#1f77b4", linewidth=1.2)
        top.set_ylabel("equity (USD)")
        x, depth = _thin(_days(ts), -dd * 100.0)
        bottom.fill_between(x, depth, 0.0, color="#d62728", alpha=0.4, linewidth=0)
        bottom.set_ylabel("drawdown (%)")
        for ax in (top, bottom):
            _date_axis(ax)
    return figure


def _price_figure(
    index: int, product: str, candles: Sequence[Candle], trades: Sequence[Trade]
) -> Figure:
    figure, (ax,) = _new_figure(4.0)
    mine = [t for t in trades if t.product_id == product]
    with _defaults(f"price-{index}"):
        if candles:
            closes = np.array([float(c.close) for c in candles])
            ends = np.array([c.end_ns for c in candles], dtype=np.int64)
            ax.plot(*_thin(_days(ends), closes), color="#444444", linewidth=1.0)
        for name, marker, color, points in (
            ("entries", "^", "#2ca02c", [(t.entry_ns, t.entry_price) for t in mine]),
            ("exits", "v", "#d62728", [(t.exit_ns, t.exit_price) for t in mine]),
        ):
            ns = np.array([p[0] for p in points], dtype=np.int64)
            (line,) = ax.plot(
                _days(ns), [float(p[1]) for p in points], linestyle="none",
                marker=marker, color=color, markersize=7, label=name,
            )  # fmt: skip
            line.set_gid(f"trade-{name}-{index}")
        ax.set_ylabel(f"{product} (USD)")
        ax.legend(loc="upper left")
        _date_axis(ax)
    return figure


# ---------------------------------------------------------------- HTML


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _page(
    title: str,
    metrics: Metrics,
    params: Mapping[str, object],
    trades: Sequence[Trade],
    charts: Sequence[tuple[str, str]],
) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        '<head><meta charset="utf-8">',
        f"<title>{_e(title)}</title>",
        f"<style>{_STYLE}</style></head>",
        "<body>",
        f"<h1>{_e(title)}</h1>",
        "<h2>Metrics</h2>",
        _metrics_table(metrics),
        "<h2>Parameters</h2>",
        _params_table(params),
    ]
    for caption, svg in charts:
        parts += [f"<h2>{_e(caption)}</h2>", f"<figure>{svg}</figure>"]
    parts += [f"<h2>Trades ({len(trades)})</h2>", _trades_table(trades), "</body>", "</html>"]
    return "\n".join(parts) + "\n"


def _metrics_table(metrics: Metrics) -> str:
    values = metrics.to_dict()
    rows = (
        f'<tr data-metric="{field}"><td class="label">{_e(label)}</td>'
        f"<td>{_e(format_metric(kind, values[field]))}</td></tr>"
        for field, label, kind in _METRIC_ROWS
    )
    return '<table class="metrics">\n' + "\n".join(rows) + "\n</table>"


def _params_table(params: Mapping[str, object]) -> str:
    rows = (
        f'<tr><td class="label">{_e(key)}</td><td class="label">{_e(value)}</td></tr>'
        for key, value in params.items()
    )
    return '<table class="params">\n' + "\n".join(rows) + "\n</table>"


_TRADE_HEADER: Final = (
    "Product", "Strategy", "Entry", "Exit", "Size", "Entry price", "Exit price",
    "Fees (USD)", "Net P&L (USD)", "R",
)  # fmt: skip


def _trades_table(trades: Sequence[Trade]) -> str:
    header = "".join(f"<th>{_e(h)}</th>" for h in _TRADE_HEADER)
    rows = [f"<tr>{header}</tr>"]
    for t in trades:
        cells = (
            t.product_id, t.strategy_id, _utc(t.entry_ns), _utc(t.exit_ns), t.size,
            t.entry_price, t.exit_price, t.fees_usd, t.net_pnl_usd,
            "n/a" if t.r_multiple is None else f"{t.r_multiple:.2f}",
        )  # fmt: skip
        rows.append('<tr class="trade">' + "".join(f"<td>{_e(c)}</td>" for c in cells) + "</tr>")
    return '<table class="trades">\n' + "\n".join(rows) + "\n</table>"
