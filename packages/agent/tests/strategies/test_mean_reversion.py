"""MR2 z-score: entry below -entry_z in an allowed regime; z, stop and time-stop exits.

Expected bars come from an independent pandas z-score (rolling mean and sample SD) over
the same closes, not from the strategy's own indicators.
"""

from collections.abc import Callable, Sequence
from decimal import Decimal

import pandas as pd
import pytest

from agent_stubs import candle, candles_from_closes, context
from trading_agent.domain.intents import Action, Signal
from trading_agent.domain.regime import UNKNOWN_REGIME, Regime, Trend, Volatility
from trading_agent.signals.incremental import ATR
from trading_agent.strategies.base import Position, StrategyContext
from trading_agent.strategies.mean_reversion import MeanReversion, regime_allows_entry

Drive = Callable[..., list[tuple[int, Signal]]]  # the `drive` fixture (conftest.py)

N = 20
RANGE_LOW = Regime(trend=Trend.RANGE, volatility=Volatility.LOW)
RANGE_HIGH = Regime(trend=Trend.RANGE, volatility=Volatility.HIGH)
TREND_LOW = Regime(trend=Trend.TREND, volatility=Volatility.LOW)

# A quiet range (|z| < 1.3 throughout), then one close at 98: z about -3.7.
RANGE = ["100", "100.4", "99.7", "100.2", "99.8"] * 8
DIP_BAR = len(RANGE)
RECOVERY = ["98", "99", "99.6", "100.1", "100.3", "100.2"]
FALL = ["98", "97.6", "97", "96", "95", "94"]
DRIFT = ["98", *(str(Decimal("97.9") - Decimal("0.01") * k) for k in range(14))]


def zscores(closes: Sequence[str], n: int = N) -> list[float]:
    s = pd.Series([float(c) for c in closes])
    z = (s - s.rolling(n).mean()) / s.rolling(n).std()  # pandas' std is the sample one
    return [float(v) for v in z]


def strategy(**overrides: float) -> MeanReversion:
    params: dict[str, float] = {"window_bars": N, "entry_z": 2.0, "exit_z": 0.0}
    return MeanReversion("BTC-USD", **(params | overrides))  # type: ignore[arg-type]


def test_on_candle_when_z_below_minus_entry_in_range_then_enter_with_atr_stop(
    drive: Drive,
) -> None:
    """The entry is at the first bar with z < -2, its stop 3 ATRs (entry bar) below the close."""
    closes = RANGE + RECOVERY
    candles = candles_from_closes(closes)
    z = zscores(closes)
    atr = ATR(14)
    atrs = [atr.update(float(c.high), float(c.low), float(c.close)) for c in candles]

    (bar, entry), *_ = drive(strategy(), candles, regime=RANGE_LOW)

    assert bar == DIP_BAR == next(i for i, v in enumerate(z) if v < -2)
    assert entry.action is Action.ENTER_LONG
    assert entry.values["z"] == pytest.approx(z[bar], abs=1e-9)
    distance = Decimal(repr(3.0 * atrs[bar]))  # type: ignore[operator]
    assert entry.stop_price == candles[bar].close - distance
    assert entry.note == "z_entry"


@pytest.mark.parametrize(
    "regime", [RANGE_HIGH, TREND_LOW, Regime(trend=Trend.TREND, volatility=Volatility.HIGH)]
)
def test_on_candle_when_regime_is_trend_or_high_vol_then_no_entry(
    drive: Drive, regime: Regime
) -> None:
    """The same dip is not bought in a trend or in high volatility."""
    candles = candles_from_closes(RANGE + RECOVERY)

    assert drive(strategy(), candles, regime=regime) == []


@pytest.mark.parametrize("regime", [RANGE_LOW, UNKNOWN_REGIME])
def test_regime_allows_entry_when_range_or_neutral_with_low_vol_then_true(regime: Regime) -> None:
    """Range and neutral (the classifier's label before it is warm) pass with low vol."""
    assert regime_allows_entry(regime)


def test_on_candle_when_z_reaches_exit_z_then_exit_there(drive: Drive) -> None:
    """After the entry, the exit is at the first bar with z >= 0, the stop never touched."""
    closes = RANGE + RECOVERY
    candles = candles_from_closes(closes)
    z = zscores(closes)

    (entry_bar, entry), (exit_bar, exit_) = drive(strategy(), candles, regime=RANGE_LOW)

    expected = next(i for i in range(entry_bar + 1, len(z)) if z[i] >= 0)
    assert exit_bar == expected
    assert exit_.action is Action.EXIT_LONG
    assert exit_.note == "z_exit"
    assert entry.stop_price is not None
    assert all(c.close > entry.stop_price for c in candles[entry_bar:exit_bar])


def test_on_candle_when_regime_turns_high_vol_after_entry_then_exit_still_taken(
    drive: Drive,
) -> None:
    """Exits ignore the regime: a label change never keeps a trade open."""
    closes = RANGE + RECOVERY
    regimes = [RANGE_LOW] * (DIP_BAR + 1) + [RANGE_HIGH] * (len(closes) - DIP_BAR - 1)

    signals = drive(strategy(), candles_from_closes(closes), regimes=regimes)

    assert [s.action for _, s in signals] == [Action.ENTER_LONG, Action.EXIT_LONG]


def test_on_candle_when_close_falls_to_the_stop_then_stop_exit(drive: Drive) -> None:
    """A falling market exits at the first close at or below the stop, before z recovers."""
    closes = RANGE + FALL
    candles = candles_from_closes(closes)

    # Flat after the stop, the still-falling market is a new dip: a third signal follows.
    (entry_bar, entry), (exit_bar, exit_), *_ = drive(strategy(), candles, regime=RANGE_LOW)

    assert entry.stop_price is not None
    # The fill is the next open, which here is the entry close: the stop is unchanged.
    expected = next(
        i for i in range(entry_bar + 1, len(candles)) if candles[i].close <= entry.stop_price
    )
    assert exit_bar == expected < len(candles) - 1
    assert exit_.note == "stop"
    assert max(zscores(closes)[entry_bar : exit_bar + 1]) < 0


def test_on_candle_when_held_max_hold_bars_then_time_stop(drive: Drive) -> None:
    """A trade neither at the target nor the stop exits after exactly max_hold_bars bars."""
    closes = RANGE + DRIFT
    candles = candles_from_closes(closes)
    hold = 8

    (entry_bar, entry), (exit_bar, exit_) = drive(
        strategy(max_hold_bars=hold), candles, regime=RANGE_LOW
    )

    # Filled at the open of entry_bar + 1; held bars entry_bar + 1 .. entry_bar + hold.
    assert exit_bar == entry_bar + hold
    assert exit_.note == "time_stop"
    assert exit_.values["bars_held"] == hold
    assert max(zscores(closes)[entry_bar + 1 : exit_bar + 1]) < 0  # no z exit was due
    assert entry.stop_price is not None
    assert min(c.close for c in candles[entry_bar : exit_bar + 1]) > entry.stop_price


def test_init_when_max_hold_not_given_then_two_windows() -> None:
    """The time stop defaults to 2n (LEARNING.md MR2)."""
    assert MeanReversion("BTC-USD", window_bars=30).max_hold_bars == 60


def test_on_candle_when_only_the_low_pierces_the_stop_then_no_exit() -> None:
    """The stop is evaluated on the close: a wick below it that closes above is no exit."""
    s = strategy()
    candles = candles_from_closes([*RANGE, "98"])
    for c in candles[:-1]:
        s.on_candle(context(c, regime=RANGE_LOW))
    (entry,) = s.on_candle(context(candles[-1], regime=RANGE_LOW))
    assert entry.stop_price is not None
    long = Position(base_size=Decimal(1), entry_price=Decimal(98), entry_ns=candles[-1].end_ns)
    wick = candle(
        start_ns=candles[-1].end_ns,
        open=Decimal(98),
        high=Decimal("98.2"),
        low=entry.stop_price - 1,
        close=Decimal("97.5"),
    )

    assert s.on_candle(context(wick, position=long)) == []


def test_on_candle_when_filled_above_the_signal_then_stop_moves_with_the_fill() -> None:
    """The stop keeps the sized distance below the actual fill, not the signal's close."""
    s = strategy()
    candles = candles_from_closes([*RANGE, "98"])
    for c in candles[:-1]:
        s.on_candle(context(c, regime=RANGE_LOW))
    (entry,) = s.on_candle(context(candles[-1], regime=RANGE_LOW))
    assert entry.stop_price is not None
    fill = Decimal(99)  # one above the signal's reference close of 98
    long = Position(base_size=Decimal(1), entry_price=fill, entry_ns=candles[-1].end_ns)
    close = entry.stop_price + Decimal("0.5")  # above the signal's stop, below fill - distance
    bar = candle(start_ns=candles[-1].end_ns, open=fill, high=fill, low=close, close=close)

    (exit_,) = s.on_candle(context(bar, position=long))

    assert exit_.note == "stop"
    assert exit_.values["stop"] == float(entry.stop_price + 1)


def test_on_candle_when_pending_at_the_dip_then_no_entry(drive: Drive) -> None:
    """Nothing is emitted while an order is in flight."""
    candles = candles_from_closes(RANGE + RECOVERY)

    assert drive(strategy(), candles, regime=RANGE_LOW, pending={DIP_BAR}) == []


def test_on_candle_when_entry_refused_then_flat_and_next_dip_still_tradable() -> None:
    """An entry that never fills leaves no phantom trade: the next dip is a new entry."""
    s = strategy()
    candles = candles_from_closes([*RANGE, "98", "95"])
    flat: list[StrategyContext] = [context(c, regime=RANGE_LOW) for c in candles]

    out = [s.on_candle(ctx) for ctx in flat]

    assert [len(signals) for signals in out[-2:]] == [1, 1]
    assert all(sig.action is Action.ENTER_LONG for signals in out for sig in signals)


def test_init_when_exit_z_not_above_minus_entry_z_then_refused() -> None:
    """An exit threshold at or below the entry one would exit every trade at once."""
    with pytest.raises(ValueError, match="exit_z"):
        MeanReversion("BTC-USD", entry_z=2.0, exit_z=-2.0)
