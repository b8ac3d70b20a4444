"""The fast replay gives the per-bar replay's run: same events, audit chain, trades, curve."""

import asyncio
import dataclasses
import gzip
import io
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from console_stubs import WIDE_LIMITS, rows
from gate_process import write_config
from trading_agent.domain.market import Candle
from trading_agent.engine import Engine
from trading_console import fast_replay
from trading_console.backtest import BacktestResult, BacktestSpec, run_backtest
from trading_contract import GateMessage, PlaceOrder, ProductId
from trading_gate import InProcessGate

REPO = Path(__file__).resolve().parents[3]
SHARED = REPO.parent / "shared" / "data"
STRATEGIES = REPO / "config" / "strategies"
BTC_1M = SHARED / "coinbase" / "BTC-USD_1m_20201122-20201212.csv.gz"
BINANCE = {c: SHARED / "binance" / f"{c}USDT_1m_20260323-20260422.csv.gz" for c in ("BTC", "ETH")}
BINANCE["SOL"] = SHARED / "binance" / "SOLUSDT_1m_20260323-20260422.csv.gz"

AUDIT = "SELECT * FROM audit ORDER BY seq"
EVENTS = "SELECT * FROM events ORDER BY seq"


def _head(src: Path, dst: Path, bars: int, skip: int = 0) -> Path:
    """The first `bars` rows of a shared CSV (after `skip`), as a small file of its own."""
    lines = gzip.decompress(src.read_bytes()).decode().splitlines()
    dst.write_text("\n".join([lines[0], *lines[1 + skip : 1 + skip + bars]]) + "\n")
    return dst


def _synthetic(dst: Path, bars: int, seed: int) -> Path:
    """A seeded random walk in cents whose SMA 2/3 crosses every few bars."""
    rng = random.Random(seed)  # noqa: S311 - test data, not a secret
    out = io.StringIO()
    out.write("ts,open,high,low,close,volume\n")
    price = 2_000_000  # cents
    for i in range(bars):
        opened = price
        price = max(100_000, price + rng.randint(-3_000, 3_000))
        high = max(opened, price) + rng.randint(0, 500)
        low = min(opened, price) - rng.randint(0, 500)
        cents = [f"{x // 100}.{x % 100:02d}" for x in (opened, high, low, price)]
        out.write(f"{1_599_999_960 + 60 * i},{','.join(cents)},{rng.randint(1, 50)}.5\n")
    dst.write_text(out.getvalue())
    return dst


def _fast_strategy_dir(tmp_path: Path) -> Path:
    """sma_cross with windows 2 and 3: a cross every few bars, so many orders."""
    folder = tmp_path / "strategies"
    folder.mkdir()
    text = (STRATEGIES / "sma_cross.yaml").read_text()
    text = text.replace("{value: 20, min: 20, max: 20}", "{value: 2, min: 2, max: 2}")
    text = text.replace("{value: 50, min: 50, max: 50}", "{value: 3, min: 3, max: 3}")
    (folder / "sma_cross.yaml").write_text(text)
    return folder


def _both(base: BacktestSpec) -> tuple[BacktestResult, BacktestResult]:
    slow = asyncio.run(run_backtest(dataclasses.replace(base, run_dir=base.run_dir / "per_bar")))
    fast = asyncio.run(
        run_backtest(dataclasses.replace(base, run_dir=base.run_dir / "fast", replay="auto"))
    )
    return slow, fast


def _assert_same_run(slow: BacktestResult, fast: BacktestResult) -> None:
    assert (slow.mode, fast.mode) == ("per_bar", "fast")
    assert fast.visited < slow.visited  # bars were skipped, so the comparison means something
    assert rows(slow.run_dir / "agent.db", EVENTS) == rows(fast.run_dir / "agent.db", EVENTS)
    assert rows(slow.run_dir / "gate.db", AUDIT) == rows(fast.run_dir / "gate.db", AUDIT)
    assert slow.trades == fast.trades
    assert slow.equity_ts_ns == fast.equity_ts_ns
    assert slow.equity_usd == fast.equity_usd
    assert (slow.orders, slow.unsent, slow.rejections) == (
        fast.orders,
        fast.unsent,
        fast.rejections,
    )
    assert (slow.run_dir / "trades.csv").read_bytes() == (fast.run_dir / "trades.csv").read_bytes()
    assert (slow.run_dir / "equity.csv").read_bytes() == (fast.run_dir / "equity.csv").read_bytes()


def _spec(tmp_path: Path, data: dict[str, Path], **overrides: Any) -> BacktestSpec:
    fields: dict[str, Any] = {
        "strategies": ("sma_cross",),
        "data": data,
        "strategy_dir": STRATEGIES,
        "safety_config": write_config(tmp_path / "safety.yaml", **WIDE_LIMITS),
        "run_dir": tmp_path / "runs",
        "starting_cash_usd": Decimal(10_000),
        "replay": "per_bar",
    }
    return BacktestSpec(**(fields | overrides))


# ---------------------------------------------------------------- equivalence


def test_fast_when_one_real_product_then_same_run_as_per_bar(tmp_path: Path) -> None:
    """Coinbase BTC-USD 1m (8,000 bars): events, audit chain, trades and curve identical."""
    data = {"BTC-USD": _head(BTC_1M, tmp_path / "btc.csv", 8_000)}
    slow, fast = _both(_spec(tmp_path, data))
    _assert_same_run(slow, fast)
    assert slow.orders > 50


def test_fast_when_three_real_products_then_same_run_as_per_bar(tmp_path: Path) -> None:
    """Binance BTC/ETH/SOL 1m (3,000 bars each, one with a gap): the same run in both modes."""
    data = {
        f"{coin}-USD": _head(path, tmp_path / f"{coin}.csv", 3_000)
        for coin, path in BINANCE.items()
    }
    # A hole in one product: its candles then complete out of step with the others'.
    lines = data["ETH-USD"].read_text().splitlines()
    data["ETH-USD"].write_text("\n".join(lines[:1000] + lines[1040:]) + "\n")
    slow, fast = _both(_spec(tmp_path, data))
    _assert_same_run(slow, fast)
    assert len({t.product_id for t in slow.trades}) == 3


def _busy_spec(tmp_path: Path) -> BacktestSpec:
    """Synthetic, SMA 2/3, two products, and a throttle that refuses many orders (so
    cool-downs, skipped signals and repeated exits happen)."""
    data = {
        "BTC-USD": _synthetic(tmp_path / "btc.csv", 1_500, seed=7),
        "ETH-USD": _synthetic(tmp_path / "eth.csv", 1_500, seed=8),
    }
    config = write_config(
        tmp_path / "busy-safety.yaml",
        **WIDE_LIMITS,
        throttles={"orders": {"max_per_window": 2, "window_ms": 600_000}},
    )
    return _spec(tmp_path, data, strategy_dir=_fast_strategy_dir(tmp_path), safety_config=config)


def test_fast_when_synthetic_series_trades_a_lot_with_refusals_then_same_run(
    tmp_path: Path,
) -> None:
    """A seeded series with hundreds of orders and throttle refusals: the same run."""
    slow, fast = _both(_busy_spec(tmp_path))
    _assert_same_run(slow, fast)
    assert slow.orders > 300
    assert sum(slow.rejections.values()) > 20  # cool-downs were exercised


# ---------------------------------------------------------------- the rules matter


def test_fast_when_busy_rule_dropped_then_the_run_differs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without visiting a product's bars while the engine is busy there, agent.db changes:
    the equivalence test above can fail."""
    monkeypatch.setattr(Engine, "busy", lambda self, product: False)
    slow, fast = _both(_busy_spec(tmp_path))
    assert rows(slow.run_dir / "agent.db", EVENTS) != rows(fast.run_dir / "agent.db", EVENTS)


def _fills_reported_on_placing(monkeypatch: pytest.MonkeyPatch) -> None:
    """A gate that syncs as soon as it has placed an order: the fill then reaches the
    engine after its candle, and only the next candle records the equity it is owed."""
    place = InProcessGate.place

    async def place_and_sync(self: InProcessGate, message: PlaceOrder) -> list[GateMessage]:
        return await place(self, message) + await self.sync()

    monkeypatch.setattr(InProcessGate, "place", place_and_sync)


def test_fast_when_fills_arrive_after_the_candle_then_same_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`Engine.owes_equity` brings the replay to the candle that records the equity."""
    _fills_reported_on_placing(monkeypatch)
    slow, fast = _both(_busy_spec(tmp_path))
    _assert_same_run(slow, fast)
    assert slow.orders > 300


def test_fast_when_owed_equity_rule_dropped_then_the_run_differs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without that rule the equity events land on later candles: the test above can fail."""
    _fills_reported_on_placing(monkeypatch)
    monkeypatch.setattr(Engine, "owes_equity", property(lambda self: False))
    slow, fast = _both(_busy_spec(tmp_path))
    assert rows(slow.run_dir / "agent.db", EVENTS) != rows(fast.run_dir / "agent.db", EVENTS)


def _mids_at_visits(
    base: BacktestSpec, monkeypatch: pytest.MonkeyPatch
) -> tuple[dict[tuple[str, int], object], dict[tuple[str, int], object]]:
    """The gate's reference mids of the other products (value, time) as each candle is
    visited, per bar and fast."""
    seen: dict[tuple[str, int], object] = {}
    visit = fast_replay.Replay.visit

    async def recording(self: fast_replay.Replay, candle: Candle, position: int) -> None:
        # The visited product's own mid is replaced by its candle first thing.
        others = [p for p in self.series if p != candle.product_id]
        mids = {p: self.gate.exchange.reference_mid(ProductId(p)) for p in others}
        seen[(candle.product_id, candle.start_ns)] = mids
        await visit(self, candle, position)

    monkeypatch.setattr(fast_replay.Replay, "visit", recording)
    asyncio.run(run_backtest(dataclasses.replace(base, run_dir=base.run_dir / "per_bar")))
    per_bar, seen = seen, {}
    asyncio.run(
        run_backtest(dataclasses.replace(base, run_dir=base.run_dir / "fast", replay="auto"))
    )
    return per_bar, seen


def _three(tmp_path: Path) -> BacktestSpec:
    data = {
        f"{coin}-USD": _head(path, tmp_path / f"{coin}.csv", 1_500)
        for coin, path in BINANCE.items()
    }
    return _spec(tmp_path, data)


def test_fast_when_visiting_then_gate_mids_are_the_per_bar_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before each visit the venue catch-up gives the gate every product's per-bar mid
    and observation time."""
    per_bar, fast = _mids_at_visits(_three(tmp_path), monkeypatch)
    assert 0 < len(fast) < len(per_bar)
    assert {key: per_bar[key] for key in fast} == fast


def test_fast_when_venue_catch_up_dropped_then_gate_mids_differ(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without feeding the other products' latest bars before a visit, the gate would
    check orders against stale mids: the test above can fail."""

    async def nothing(self: fast_replay.Replay, candle: object) -> None:
        return None

    monkeypatch.setattr(fast_replay.Replay, "feed_venue", nothing)
    per_bar, fast = _mids_at_visits(_three(tmp_path), monkeypatch)
    assert {key: per_bar[key] for key in fast} != fast


# ---------------------------------------------------------------- mode and curve


def test_auto_when_a_strategy_has_no_plan_then_per_bar_and_says_why(tmp_path: Path) -> None:
    """momentum offers no plan: `auto` runs per bar, and the result and summary say so."""
    data = {"BTC-USD": _head(BTC_1M, tmp_path / "btc.csv", 600)}
    result = asyncio.run(
        run_backtest(_spec(tmp_path, data, strategies=("sma_cross", "momentum"), replay="auto"))
    )
    assert result.mode == "per_bar"
    assert "momentum" in result.mode_reason
    assert result.summary()["replay_mode"] == "per_bar"
    assert result.visited == result.candles == 600


def test_equity_curve_when_compared_with_engine_decimal_equity_then_within_1e_9(
    tmp_path: Path,
) -> None:
    """The after-the-run curve equals the engine's exact `equity_usd()` at sampled steps."""
    samples: dict[int, float] = {}

    def probe(step: int, engine: Engine) -> None:
        if step % 7 == 0:
            samples[step] = float(engine.equity_usd())

    base = _busy_spec(tmp_path)
    result = asyncio.run(run_backtest(base, probe=probe))
    assert len(samples) > 300
    assert any(abs(v - 10_000) > 1 for v in samples.values())  # holdings moved the curve
    for step, exact in samples.items():
        assert result.equity_usd[step] == pytest.approx(exact, rel=1e-9)
