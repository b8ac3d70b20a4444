"""MO1 breakout: entry above the previous channel high; stop (fixed, trailing) and channel exits.

Expected bars come from the candles themselves (max/min of the bars before), not from the
strategy's channels.
"""

from collections.abc import Callable, Sequence
from decimal import Decimal

import pytest

from agent_stubs import candles_from_closes
from trading_agent.domain.intents import Action, Signal
from trading_agent.domain.market import Candle
from trading_agent.signals.incremental import ATR
from trading_agent.strategies.momentum import Momentum

Drive = Callable[..., list[tuple[int, Signal]]]  # the `drive` fixture (conftest.py)

RANGE = ["100", "100.4", "99.7", "100.2", "99.8"] * 8  # highs <= 100.51, lows >= 99.59
BREAKOUT_BAR = len(RANGE)
RALLY_THEN_FALL = ["101.5", "102", "102.5", "103", "102", "101", "100", "99", "98"]
SLIP_BACK = ["101.5", "101.2", "100.5", "100", "99.5"]
RUN_UP_THEN_DROP = ["101.5", "103", "105", "107", "109", "106", "104", "102"]


def momentum(**overrides: float | bool) -> Momentum:
    params: dict[str, float | bool] = {"entry_bars": 20, "exit_bars": 10, "atr_bars": 14}
    return Momentum("BTC-USD", **(params | overrides))  # type: ignore[arg-type]


def first_breakout(candles: Sequence[Candle], n: int, start: int = 0) -> int:
    return next(
        i
        for i in range(max(n, start), len(candles))
        if candles[i].close > max(c.high for c in candles[i - n : i])
    )


def test_on_candle_when_close_above_previous_channel_high_then_enter_with_atr_stop(
    drive: Drive,
) -> None:
    """The entry is at the first close above the prior 20 bars' high, stop 3 ATRs below."""
    candles = candles_from_closes(RANGE + RALLY_THEN_FALL)
    atr = ATR(14)
    atrs = [atr.update(float(c.high), float(c.low), float(c.close)) for c in candles]

    (bar, entry), *_ = drive(momentum(stop_atr=3.0), candles)

    assert bar == BREAKOUT_BAR == first_breakout(candles, 20)
    assert entry.action is Action.ENTER_LONG
    assert entry.note == "breakout"
    assert entry.values["channel_upper"] == float(max(c.high for c in candles[bar - 20 : bar]))
    assert entry.stop_price == candles[bar].close - Decimal(repr(3.0 * atrs[bar]))  # type: ignore[operator]


def test_on_candle_when_close_equals_previous_high_then_no_entry(drive: Drive) -> None:
    """A close at (not above) the prior high is no breakout."""
    candles = candles_from_closes(RANGE)
    high = max(c.high for c in candles[-20:])
    at_high = candles_from_closes([*RANGE, str(high)])

    assert drive(momentum(), at_high) == []


def test_on_candle_when_close_breaks_previous_exit_low_then_channel_exit(drive: Drive) -> None:
    """With the stop far away, the exit is at the first close below the prior 10 bars' low."""
    candles = candles_from_closes(RANGE + RALLY_THEN_FALL)

    (entry_bar, _), (exit_bar, exit_) = drive(momentum(stop_atr=10.0, trailing_stop=False), candles)

    expected = next(
        i
        for i in range(entry_bar + 1, len(candles))
        if candles[i].close < min(c.low for c in candles[i - 10 : i])
    )
    assert exit_bar == expected
    assert exit_.action is Action.EXIT_LONG
    assert exit_.note == "channel_exit"


def test_on_candle_when_close_falls_to_fixed_stop_then_stop_exit(drive: Drive) -> None:
    """A fixed stop exits at the first close at or below entry - stop_atr * ATR(entry)."""
    candles = candles_from_closes(RANGE + SLIP_BACK)

    (entry_bar, entry), (exit_bar, exit_) = drive(
        momentum(stop_atr=1.0, exit_bars=30, trailing_stop=False), candles
    )

    assert entry.stop_price is not None
    expected = next(
        i for i in range(entry_bar + 1, len(candles)) if candles[i].close <= entry.stop_price
    )
    assert exit_bar == expected
    assert exit_.note == "stop"
    assert exit_.values["stop"] == float(entry.stop_price)


def test_on_candle_when_trailing_then_stop_rises_with_closes_and_exits_on_the_pullback(
    drive: Drive,
) -> None:
    """The trail is the highest close - 2 ATR seen before the bar; the pullback hits it."""
    candles = candles_from_closes(RANGE + RUN_UP_THEN_DROP)
    atr = ATR(14)
    atrs = [atr.update(float(c.high), float(c.low), float(c.close)) for c in candles]

    (entry_bar, entry), (exit_bar, exit_) = drive(
        momentum(stop_atr=2.0, trailing_stop=True), candles
    )

    assert entry.stop_price is not None
    stop, expected = entry.stop_price, None
    for j in range(entry_bar + 1, len(candles)):
        if candles[j].close <= stop:
            expected = j
            break
        stop = max(stop, candles[j].close - Decimal(repr(2.0 * atrs[j])))  # type: ignore[operator]
    assert exit_bar == expected
    assert exit_.note == "stop"
    assert exit_.values["stop"] == float(stop)


def test_on_candle_when_not_trailing_then_the_same_pullback_is_held(drive: Drive) -> None:
    """The fixed stop stays at the entry's: the pullback that stops a trail holds here."""
    candles = candles_from_closes(RANGE + RUN_UP_THEN_DROP)

    signals = drive(momentum(stop_atr=2.0, trailing_stop=False), candles)

    assert [s.action for _, s in signals] == [Action.ENTER_LONG]


def test_on_candle_when_pending_at_the_breakout_then_no_entry(drive: Drive) -> None:
    """Nothing is emitted while an order is in flight; a later new high may still enter."""
    candles = candles_from_closes(RANGE + RALLY_THEN_FALL)

    signals = drive(momentum(), candles, pending={BREAKOUT_BAR})

    assert BREAKOUT_BAR not in [i for i, _ in signals]
    assert signals[0][0] == first_breakout(candles, 20, start=BREAKOUT_BAR + 1)


def test_init_when_stop_atr_not_positive_then_refused() -> None:
    """A stop at or above the entry is no stop."""
    with pytest.raises(ValueError, match="stop_atr"):
        Momentum("BTC-USD", stop_atr=0.0)
