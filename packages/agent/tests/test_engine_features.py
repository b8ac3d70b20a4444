"""Injectable features, the equity cadence, `busy` and `catch_up` of the engine."""

from decimal import Decimal
from pathlib import Path

import pytest

import agent_stubs as stubs
import trading_contract as c
from trading_agent.config import SizingParams
from trading_agent.domain.market import Candle
from trading_agent.domain.trades import on_candle
from trading_agent.engine import Engine, ProductSpec, StrategySlot
from trading_agent.features import IncrementalFeatures, PrecomputedFeatures, UnknownCandleError
from trading_agent.marketdata.replay import read_candle_csv
from trading_agent.strategies.sma_cross import SmaCross

SHARED = Path(__file__).resolve().parents[4] / "shared" / "data"
BTC_1H = SHARED / "coinbase" / "BTC-USD_1h_20170701-20201211.csv.gz"
SPEC = ProductSpec(
    product_id="BTC-USD", base_increment=Decimal("0.00000001"), min_size=Decimal("0.0001")
)
SIZING = SizingParams(fixed_size_base=Decimal("0.001"), risk_per_trade=Decimal("0.0025"),
                      target_vol=Decimal("0.01"), m_min=Decimal("0.25"),
                      max_notional_usd=Decimal(1_000_000))  # fmt: skip


def _candles(n: int) -> list[Candle]:
    return read_candle_csv(BTC_1H, "BTC-USD")[:n]


def _engine(**kwargs: object) -> Engine:
    slot = StrategySlot(strategy=SmaCross("BTC-USD"), product_id="BTC-USD", sizing=SIZING)
    return Engine(slots=[slot], specs={"BTC-USD": SPEC}, starting_cash_usd=Decimal(10_000),
                  **kwargs)  # type: ignore[arg-type]  # fmt: skip


def test_precomputed_features_when_asked_per_candle_then_equal_incremental() -> None:
    """Regime and realized vol (the same floats) at every bar of 3,000 real hours."""
    candles = _candles(3_000)
    incremental = IncrementalFeatures(["BTC-USD"])
    precomputed = PrecomputedFeatures({"BTC-USD": candles})
    assert [precomputed.at(x) for x in candles] == [incremental.at(x) for x in candles]
    assert precomputed.at(candles[-1])[1] is not None


def test_precomputed_features_when_unknown_candle_then_error_names_it() -> None:
    """A candle it was not built from is refused with its product and start."""
    candles = _candles(10)
    precomputed = PrecomputedFeatures({"BTC-USD": candles[:5]})
    with pytest.raises(UnknownCandleError, match=f"BTC-USD @ {candles[7].start_ns}"):
        precomputed.at(candles[7])


def test_engine_when_equity_cadence_none_then_equity_only_at_start() -> None:
    """Without fills, `equity_every_ns=None` gives one equity event; the default one a bar."""
    candles = _candles(30)
    default, sparse = _engine(), _engine(equity_every_ns=None)
    for x in candles:
        default.on_candle(x)
        sparse.on_candle(x)
    kinds = [e.kind for e in sparse.drain_events()]
    assert kinds.count("equity") == 1
    assert [e.kind for e in default.drain_events()].count("equity") == 30


def _entered(engine: Engine, candles: list[Candle]) -> tuple[c.PlaceOrder, int]:
    """Feed candles (gate ACTIVE) until the strategy sends an order: it and its bar."""
    active = c.GateState(state=c.TradingState.ACTIVE, cause="test", since_ns=0, sent_ns=0)
    engine.on_message(active, 0)
    for i, x in enumerate(candles):
        orders = engine.on_candle(x)
        if orders:
            return orders[0], i
    raise AssertionError("no entry in these candles")


def test_catch_up_when_trade_open_then_excursions_as_if_each_candle_was_fed() -> None:
    """One catch-up over 40 skipped candles widens the open trade like 40 `on_candle`s."""
    candles = _candles(1_000)
    engine = _engine(equity_every_ns=None)
    order, at = _entered(engine, candles)
    fill = stubs.fill(intent_id=order.intent_id, price=candles[at + 1].open, size=order.size,
                      fee=Decimal(0), event_ns=candles[at].end_ns)  # fmt: skip
    engine.on_message(fill, candles[at].end_ns)
    engine.request_failed(order, "test: the slot is freed", candles[at].end_ns)
    assert not engine.busy("BTC-USD")
    skipped = candles[at + 1 : at + 41]
    expected = engine.trades
    for x in skipped:
        expected = on_candle(expected, x)
    engine.catch_up(
        "BTC-USD", first_start_ns=skipped[0].start_ns, low=min(x.low for x in skipped),
        high=max(x.high for x in skipped), close=skipped[-1].close,
    )  # fmt: skip
    assert engine.trades == expected
    assert engine.marks["BTC-USD"] == skipped[-1].close
    assert engine.equity_usd() == engine.portfolio.cash_usd + Decimal("0.001") * skipped[-1].close


def test_catch_up_when_busy_then_refused() -> None:
    """While an order is in flight the engine must see every candle: catch-up is refused."""
    engine = _engine(equity_every_ns=None)
    _entered(engine, _candles(1_000))
    assert engine.busy("BTC-USD")
    with pytest.raises(ValueError, match="while an order"):
        engine.catch_up("BTC-USD", first_start_ns=0, low=Decimal(1), high=Decimal(2),
                        close=Decimal(1))  # fmt: skip
