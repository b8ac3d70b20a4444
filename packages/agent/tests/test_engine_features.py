"""Injectable features, the equity cadence, `busy`, `owes_equity` and `catch_up` of the engine."""

from decimal import Decimal
from pathlib import Path

import msgspec
import numpy as np
import pytest

import agent_stubs as stubs
import trading_contract as c
from trading_agent.config import SizingParams
from trading_agent.domain.market import Candle
from trading_agent.domain.regime import RegimeParams
from trading_agent.domain.trades import on_candle
from trading_agent.engine import Engine, ProductSpec, StrategySlot
from trading_agent.features import (
    FeatureInputs,
    FeatureInputsError,
    IncrementalFeatures,
    PrecomputedFeatures,
    UnknownCandleError,
)
from trading_agent.marketdata.columnar_csv import read_candle_columns
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


def test_from_arrays_when_same_bars_as_candles_then_same_answers() -> None:
    """Float columns (float(Decimal) of each value) give what the candles give, bar for bar,
    for two products and small windows (labels change often)."""
    params = RegimeParams(vol_window=5, rank_window=40, adx_window=5, vr_window=30, vr_q=3)
    btc = _candles(2_000)
    eth = [msgspec.structs.replace(x, product_id="ETH-USD") for x in btc[500:1_500]]
    series = {"BTC-USD": btc, "ETH-USD": eth}
    columns = {
        p: FeatureInputs(
            start_ns=np.array([x.start_ns for x in cs], dtype=np.int64),
            high=np.array([float(x.high) for x in cs]),
            low=np.array([float(x.low) for x in cs]),
            close=np.array([float(x.close) for x in cs]),
        )
        for p, cs in series.items()
    }
    from_candles = PrecomputedFeatures(series, params)
    from_arrays = PrecomputedFeatures.from_arrays(columns, params)
    for cs in series.values():
        online = IncrementalFeatures([cs[0].product_id], params)
        expected = [online.at(x) for x in cs]
        assert [from_arrays.at(x) for x in cs] == expected
        assert [from_candles.at(x) for x in cs] == expected
    assert len({from_arrays.at(x)[0] for x in btc}) >= 4


def test_precomputed_features_when_given_columns_then_same_answers_and_no_candles_built() -> None:
    """Columns (as a backtest reads them) answer as the list of the same candles does,
    and the features are computed from their float columns without building a Candle."""
    params = RegimeParams(vol_window=5, rank_window=40, adx_window=5, vr_window=30, vr_q=3)
    columns = read_candle_columns(BTC_1H, "BTC-USD")

    def no_candle(i: int) -> Candle:
        raise AssertionError(f"candle {i} was built")

    columns._make = no_candle  # type: ignore[method-assign]
    from_columns = PrecomputedFeatures({"BTC-USD": columns}, params)
    del columns._make
    listed = list(columns)
    from_list = PrecomputedFeatures({"BTC-USD": listed}, params)
    assert [from_columns.at(x) for x in listed] == [from_list.at(x) for x in listed]


def test_precomputed_features_when_start_between_bars_or_other_product_then_unknown() -> None:
    """A start between two known bars, before the first, after the last, or another
    product: each is refused, not answered with a neighbour's features."""
    candles = _candles(10)
    precomputed = PrecomputedFeatures({"BTC-USD": candles[2:8]})
    step = candles[1].start_ns - candles[0].start_ns
    asked = [
        msgspec.structs.replace(candles[4], start_ns=candles[4].start_ns + step // 2),
        candles[0],
        candles[9],
        msgspec.structs.replace(candles[4], product_id="ETH-USD"),
    ]
    for candle in asked:
        with pytest.raises(UnknownCandleError, match=f"{candle.product_id} @ {candle.start_ns}"):
            precomputed.at(candle)


def test_from_arrays_when_columns_differ_in_length_or_order_then_error_names_product() -> None:
    """Unequal columns, or starts not strictly increasing, are refused up front."""
    x = np.array([100.0, 101.0, 102.0])
    short = FeatureInputs(np.array([1, 2], dtype=np.int64), x, x, x)
    with pytest.raises(FeatureInputsError, match=r"BTC-USD: .* differ in length"):
        PrecomputedFeatures.from_arrays({"BTC-USD": short})
    repeated = FeatureInputs(np.array([1, 2, 2], dtype=np.int64), x, x, x)
    with pytest.raises(FeatureInputsError, match=r"start_ns\[2\] = 2 does not follow"):
        PrecomputedFeatures.from_arrays({"BTC-USD": repeated})


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


def test_owes_equity_when_filled_then_true_until_the_next_candle_records_it() -> None:
    """A fill owes an `equity` event, which the next candle writes; then nothing is owed."""
    candles = _candles(1_000)
    engine = _engine(equity_every_ns=None)
    order, at = _entered(engine, candles)
    assert not engine.owes_equity
    fill = stubs.fill(intent_id=order.intent_id, price=candles[at + 1].open, size=order.size,
                      fee=Decimal(0), event_ns=candles[at].end_ns)  # fmt: skip
    engine.on_message(fill, candles[at].end_ns)
    assert engine.owes_equity
    engine.drain_events()
    engine.on_candle(candles[at + 1])
    assert not engine.owes_equity
    assert [e.ts_ns for e in engine.drain_events() if e.kind == "equity"] == [
        candles[at + 1].end_ns
    ]
