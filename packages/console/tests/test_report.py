"""The backtest report: self-contained, escaped, one marker pair per trade, reproducible."""

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import matplotlib as mpl
import pytest

from agent_stubs import candles_from_closes, fill
from trading_agent.analytics.metrics import Metrics, compute_metrics
from trading_agent.domain.market import Candle
from trading_agent.domain.portfolio import apply_fill, mark, open_portfolio
from trading_agent.domain.trades import EntryTag, Trade, TradeLog, on_fill
from trading_console.report import EQUITY_PNG, write_report
from trading_contract import Side

SVG = "{http://www.w3.org/2000/svg}"
ALLOWED_URLS = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
TITLE = "<script>alert('x')</script> & sons"
PARAMS = {"strategy": "breakout", "note": '<b>"bold"</b>', "risk_fraction": Decimal("0.01")}


@dataclass(frozen=True)
class Run:
    ts: list[int]
    equity: list[Decimal]
    trades: tuple[Trade, ...]
    metrics: Metrics
    candles: dict[str, list[Candle]]


def _run() -> Run:
    """A small backtest folded by the agent's own code: three BTC trades, one ETH trade."""
    closes = [100 + (i % 17) - (i // 40) for i in range(240)]
    candles = {
        "BTC-USD": candles_from_closes(closes),
        "ETH-USD": candles_from_closes([20 + (i % 5) for i in range(240)], product_id="ETH-USD"),
    }
    plan = {  # candle index -> (product, side)
        10: ("BTC-USD", Side.BUY),
        30: ("BTC-USD", Side.SELL),
        50: ("ETH-USD", Side.BUY),
        60: ("BTC-USD", Side.BUY),
        90: ("BTC-USD", Side.SELL),
        120: ("ETH-USD", Side.SELL),
        150: ("BTC-USD", Side.BUY),
        200: ("BTC-USD", Side.SELL),
    }
    tags = {"entry": EntryTag(strategy_id="breakout", risk_per_unit_usd=Decimal(2))}
    book, log = open_portfolio(Decimal(1000)), TradeLog()
    ts: list[int] = []
    equity: list[Decimal] = []
    for i in range(240):
        bars = {p: c[i] for p, c in candles.items()}
        if i in plan:
            product, side = plan[i]
            f = fill(
                trade_id=f"t{i}",
                intent_id="entry" if side is Side.BUY else "exit",
                product_id=product,
                side=side,
                price=bars[product].close,
                size=Decimal(2),
                fee=Decimal("0.12"),
                event_ns=bars[product].end_ns,
            )
            book, log = apply_fill(book, f), on_fill(log, f, tags)
        ts.append(bars["BTC-USD"].end_ns)
        equity.append(mark(book, {p: b.close for p, b in bars.items()}).equity_usd)
    metrics = compute_metrics(ts, equity, log.closed, book.traded_notional_usd)
    return Run(ts, equity, log.closed, metrics, candles)


RUN = _run()


def _write(run_dir: Path) -> Path:
    return write_report(
        run_dir,
        title=TITLE,
        equity_ts_ns=RUN.ts,
        equity=RUN.equity,
        trades=RUN.trades,
        metrics=RUN.metrics,
        candles_by_product=RUN.candles,
        params=PARAMS,
    )


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write(tmp_path_factory.mktemp("run") / "run")


@pytest.fixture(scope="module")
def page(rendered: Path) -> str:
    return rendered.read_text(encoding="utf-8")


def _metric_cell(page: str, field: str) -> str:
    row = rf'<tr data-metric="{field}"><td class="label">[^<]*</td><td>([^<]*)</td>'
    found = re.search(row, page)
    assert found, field
    return found.group(1)


def _svgs(page: str) -> list[ET.Element]:
    # The SVG is the report's own matplotlib output, not untrusted input.
    found = re.findall(r"<svg\b.*?</svg>", page, flags=re.DOTALL)
    return [ET.fromstring(s) for s in found]  # noqa: S314


def _markers(page: str, kind: str) -> int:
    return sum(
        len(group.findall(f".//{SVG}use"))
        for svg in _svgs(page)
        for group in svg.iter(f"{SVG}g")
        if f"-trade-{kind}-" in group.get("id", "")
    )


def test_write_report_when_rendered_then_files_exist_and_page_is_html(rendered: Path) -> None:
    """report.html is a complete HTML page and equity.png a PNG, both in the run dir."""
    text = rendered.read_text(encoding="utf-8")

    assert rendered.name == "report.html"
    assert text.startswith("<!DOCTYPE html>\n<html")
    assert text.endswith("</html>\n")
    assert (rendered.parent / EQUITY_PNG).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(_svgs(text)) == 3  # equity/drawdown, BTC-USD, ETH-USD
    ids = re.findall(r'\bid="([^"]+)"', text)
    assert len(ids) == len(set(ids))  # unique across the inline charts


def test_write_report_when_rendered_then_metric_values_formatted(page: str) -> None:
    """Fractions as percent with 2 decimals, money with thousands separators, counts plain."""
    m = RUN.metrics

    assert RUN.metrics.trade_count == 4
    assert _metric_cell(page, "total_return") == f"{m.total_return:.2%}"
    assert _metric_cell(page, "max_drawdown") == f"{m.max_drawdown:.2%}"
    assert _metric_cell(page, "final_equity") == f"{m.final_equity:,.2f}"
    assert _metric_cell(page, "trade_count") == "4"
    assert m.win_rate is not None
    assert _metric_cell(page, "win_rate") == f"{m.win_rate:.2%}"
    assert _metric_cell(page, "cagr") == "n/a"  # four hours of data: no CAGR


def test_write_report_when_rendered_then_one_entry_and_exit_marker_per_trade(page: str) -> None:
    """Each trade has one row, one entry marker and one exit marker."""
    assert page.count('<tr class="trade">') == len(RUN.trades) == 4
    assert _markers(page, "entries") == 4
    assert _markers(page, "exits") == 4


def test_write_report_when_rendered_then_no_network_references(page: str) -> None:
    """Nothing to fetch: no scripts, stylesheets or URLs but the SVG namespaces."""
    assert set(re.findall(r"https?://[^\s\"'<>]+", page)) <= ALLOWED_URLS
    assert "<script" not in page
    assert "<link" not in page
    assert " src=" not in page


def test_write_report_when_data_has_markup_then_it_is_escaped(page: str) -> None:
    """The title and parameters arrive as text, never as markup."""
    assert "<title>&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; sons</title>" in page
    assert "&lt;b&gt;&quot;bold&quot;&lt;/b&gt;" in page
    assert "<b>" not in page


def test_write_report_when_rendered_twice_then_byte_identical(
    rendered: Path, tmp_path: Path
) -> None:
    """Same inputs, same bytes, even when the caller's matplotlib settings differ."""
    with mpl.rc_context({"lines.linewidth": 7.0, "svg.hashsalt": None, "font.size": 20}):
        again = _write(tmp_path / "again")

    assert again.read_bytes() == rendered.read_bytes()
    assert (again.parent / EQUITY_PNG).read_bytes() == (rendered.parent / EQUITY_PNG).read_bytes()


def test_write_report_when_curve_is_long_then_file_stays_small(tmp_path: Path) -> None:
    """Thirty thousand samples are thinned for drawing: the page stays under 1 MB."""
    n = 30_000
    ts = [RUN.ts[0] + i * 60 * 10**9 for i in range(n)]
    equity = [1000.0 + (i % 500) - i / 100 for i in range(n)]

    out = write_report(
        tmp_path,
        title="long",
        equity_ts_ns=ts,
        equity=equity,
        trades=(),
        metrics=compute_metrics(ts, equity, [], 0.0),
        candles_by_product={},
        params={},
    )

    assert out.stat().st_size < 1_000_000


def test_write_report_when_series_lengths_differ_then_value_error(tmp_path: Path) -> None:
    """Ragged series are refused before anything is written."""
    with pytest.raises(ValueError, match="3 timestamps, 3 equity, 2 drawdown"):
        write_report(
            tmp_path / "x",
            title="t",
            equity_ts_ns=RUN.ts[:3],
            equity=RUN.equity[:3],
            drawdown=[0.0, 0.0],
            trades=(),
            metrics=RUN.metrics,
            candles_by_product={},
            params={},
        )
    assert not (tmp_path / "x").exists()
