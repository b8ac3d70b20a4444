"""The reference SMA 20/50 cross: exact bars on hand-built closes, pending and warm-up."""

from collections.abc import Callable
from decimal import Decimal

import pytest

from agent_stubs import candles_from_closes, context
from trading_agent.domain.intents import Action, OrderKind, Signal
from trading_agent.domain.regime import Regime, Trend, Volatility
from trading_agent.strategies.base import Position
from trading_agent.strategies.sma_cross import SmaCross

# 60 bars at 100, 60 at 101, then 99s. By hand, with SMA 20/50:
# bars 0-59: both SMAs 100 once warm (fast == slow: no cross);
# bar 60: fast = (19*100 + 101)/20 = 100.05 > slow = (49*100 + 101)/50 = 100.02;
# bar 109: both exactly 101 (fast window 90-109 and slow window 60-109 are all 101):
#          fast is no longer above slow, so this is the cross down (the comparison is
#          exact, and a tie is not "above").
Drive = Callable[..., list[tuple[int, Signal]]]  # the `drive` fixture (conftest.py)

STEP_CLOSES = [100] * 60 + [101] * 60 + [99] * 10
CROSS_UP_BAR = 60
CROSS_DOWN_BAR = 109


def test_on_candle_when_fast_crosses_above_then_below_then_enter_and_exit_on_those_bars(
    drive: Drive,
) -> None:
    """Entry exactly at the cross-up bar, exit exactly at the cross-down bar, nothing else."""
    candles = candles_from_closes(STEP_CLOSES)

    signals = drive(SmaCross("BTC-USD"), candles)

    assert [(i, s.action) for i, s in signals] == [
        (CROSS_UP_BAR, Action.ENTER_LONG),
        (CROSS_DOWN_BAR, Action.EXIT_LONG),
    ]


def test_on_candle_when_cross_up_then_signal_is_a_market_entry_at_that_close(drive: Drive) -> None:
    """The entry is a market order decided at the bar's end, priced at its close, with the SMAs."""
    candles = candles_from_closes(STEP_CLOSES)
    regime = Regime(trend=Trend.RANGE, volatility=Volatility.LOW)

    (_, entry), _ = drive(SmaCross("BTC-USD"), candles, regime=regime)

    bar = candles[CROSS_UP_BAR]
    assert entry.order_kind is OrderKind.MARKET
    assert entry.decided_ns == bar.end_ns
    assert entry.reference_price == bar.close == Decimal(101)
    assert entry.strategy_id == "sma_cross"
    assert entry.product_id == "BTC-USD"
    assert entry.stop_price is None
    assert entry.regime == "range_low_vol"
    assert entry.values == {
        "sma_fast": pytest.approx(100.05, abs=1e-9),
        "sma_slow": pytest.approx(100.02, abs=1e-9),
    }


def test_on_candle_when_pending_at_the_cross_then_no_trade_and_it_is_not_taken_later(
    drive: Drive,
) -> None:
    """A cross while an order is in flight is missed, and flat, the cross down is no exit."""
    candles = candles_from_closes(STEP_CLOSES)

    signals = drive(SmaCross("BTC-USD"), candles, pending={CROSS_UP_BAR})

    assert signals == []


def test_on_candle_when_pending_at_the_cross_down_then_no_exit(drive: Drive) -> None:
    """No exit is emitted while an order is pending."""
    candles = candles_from_closes(STEP_CLOSES)

    signals = drive(SmaCross("BTC-USD"), candles, pending={CROSS_DOWN_BAR})

    assert [i for i, _ in signals] == [CROSS_UP_BAR]


def test_on_candle_when_cross_happens_during_warm_up_then_nothing(drive: Drive) -> None:
    """A rising series has fast > slow from the first warm bar: no cross is ever seen."""
    candles = candles_from_closes([100 + i for i in range(120)])

    assert drive(SmaCross("BTC-USD"), candles) == []


def test_on_candle_when_cross_on_first_comparable_bar_then_entry_there(drive: Drive) -> None:
    """The first bar with both SMAs warm now and before (bar 50) can already signal."""
    candles = candles_from_closes([100] * 50 + [101] * 5)

    signals = drive(SmaCross("BTC-USD"), candles)

    assert [(i, s.action) for i, s in signals] == [(50, Action.ENTER_LONG)]


def test_on_candle_when_cross_down_while_flat_then_nothing(drive: Drive) -> None:
    """Long/flat: a cross down with no position is not a short."""
    candles = candles_from_closes([100] * 60 + [99] * 10)

    assert drive(SmaCross("BTC-USD"), candles) == []


def test_on_candle_when_long_and_cross_up_again_then_no_second_entry() -> None:
    """No pyramiding: a cross up while already long emits nothing."""
    strategy = SmaCross("BTC-USD", fast_bars=2, slow_bars=3)
    long = Position(base_size=Decimal(1), entry_price=Decimal(10), entry_ns=0)
    # fast 2 / slow 3 over 10, 10, 10, 12: bar 3 fast 11 > slow 10.67, bar 2 equal.
    candles = candles_from_closes([10, 10, 10, 12])

    out = [strategy.on_candle(context(c, position=long)) for c in candles]

    assert all(signals == [] for signals in out)


def test_on_candle_with_small_windows_then_hand_computed_bars(drive: Drive) -> None:
    """SMA 2/3 by hand: 10,10,10 equal; 12 (11 > 10.67) up; 8,8 (8 < 9.33) down at bar 5."""
    candles = candles_from_closes([10, 10, 10, 12, 12, 8, 8, 8])
    # bar 4: fast 12 > slow 11.33; bar 5: fast 10 < slow 10.67 with 12 >= 11.33 before.

    signals = drive(SmaCross("BTC-USD", fast_bars=2, slow_bars=3), candles)

    assert [(i, s.action) for i, s in signals] == [(3, Action.ENTER_LONG), (5, Action.EXIT_LONG)]


def test_init_when_fast_not_below_slow_then_refused() -> None:
    """fast_bars must be below slow_bars."""
    with pytest.raises(ValueError, match="fast_bars < slow_bars"):
        SmaCross("BTC-USD", fast_bars=50, slow_bars=50)


def test_on_candle_when_other_product_then_refused() -> None:
    """An instance trades one product; another product's candle is a wiring bug."""
    strategy = SmaCross("ETH-USD")

    with pytest.raises(ValueError, match="ETH-USD"):
        strategy.on_candle(context(candles_from_closes([100])[0]))
