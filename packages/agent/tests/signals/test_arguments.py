"""Bad windows, multipliers, arrays and update values are refused with errors that name them."""

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from trading_agent.signals import SignalArgumentError
from trading_agent.signals import incremental as inc
from trading_agent.signals import vectorized as v

CONSTRUCTORS: list[tuple[Callable[..., Any], tuple[Any, ...], str]] = [
    (inc.SMA, (0,), "SMA: n must be an int >= 1, got 0"),
    (inc.EMA, (1.5,), "EMA: n must be an int >= 1, got 1.5"),
    (inc.ZScore, (1,), "ZScore: n must be an int >= 2, got 1"),
    (inc.Bollinger, (True, 2.0), "Bollinger: n must be an int >= 1, got True"),
    (inc.Bollinger, (5, 0.0), "Bollinger: k must be finite and > 0, got 0.0"),
    (inc.Bollinger, (5, math.nan), "Bollinger: k must be finite and > 0, got nan"),
    (inc.RSI, (-3,), "RSI: n must be an int >= 1, got -3"),
    (inc.ATR, (0,), "ATR: n must be an int >= 1"),
    (inc.ADX, (0,), "ADX: n must be an int >= 1"),
    (inc.RealizedVol, (1,), "RealizedVol: n must be an int >= 2, got 1"),
    (inc.EfficiencyRatio, (0,), "EfficiencyRatio: n must be an int >= 1"),
    (inc.VarianceRatio, (10, 1), "VarianceRatio: q must be an int >= 2, got 1"),
    (inc.VarianceRatio, (4, 4), "VarianceRatio: needs n > q returns, got n=4 q=4"),
    (inc.Donchian, (0,), "Donchian: n must be an int >= 1"),
    (inc.PercentileRank, (0,), "PercentileRank: n must be an int >= 1"),
]


@pytest.mark.parametrize(("cls", "args", "message"), CONSTRUCTORS)
def test_online_when_built_with_bad_arguments_then_named_value_error(
    cls: Callable[..., Any], args: tuple[Any, ...], message: str
) -> None:
    """Each constructor refuses a window or multiplier outside its domain, naming it."""
    with pytest.raises(SignalArgumentError, match="^" + message.replace("(", r"\(")):
        cls(*args)


def test_signal_argument_error_when_caught_as_value_error_then_caught() -> None:
    """Callers that handle ValueError also handle the library's errors."""
    with pytest.raises(ValueError, match="SMA"):
        inc.SMA(0)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize(
    "make",
    [
        lambda: inc.SMA(3),
        lambda: inc.EMA(3),
        lambda: inc.ZScore(3),
        lambda: inc.Bollinger(3, 2.0),
        lambda: inc.RSI(3),
        lambda: inc.EfficiencyRatio(3),
        lambda: inc.PercentileRank(3),
        lambda: inc.RealizedVol(3),
        lambda: inc.VarianceRatio(4, 2),
    ],
)
def test_online_when_updated_with_non_finite_then_refused(
    make: Callable[[], Any], bad: float
) -> None:
    """NaN and infinities never enter a window (they would poison it for good)."""
    obj = make()
    obj.update(1.0)
    with pytest.raises(SignalArgumentError, match="finite"):
        obj.update(bad)


@pytest.mark.parametrize("make", [lambda: inc.RealizedVol(3), lambda: inc.VarianceRatio(4, 2)])
@pytest.mark.parametrize("bad", [0.0, -1.0])
def test_log_return_indicators_when_price_not_positive_then_refused(
    make: Callable[[], Any], bad: float
) -> None:
    """A log return needs prices > 0."""
    with pytest.raises(SignalArgumentError, match="prices must be finite and > 0"):
        make().update(bad)


@pytest.mark.parametrize("cls", [inc.ATR, inc.ADX])
@pytest.mark.parametrize(
    ("high", "low", "close"), [(9.0, 10.0, 9.5), (10.0, 9.0, 11.0), (10.0, math.nan, 9.5)]
)
def test_bar_indicators_when_bar_inconsistent_then_refused(
    cls: Callable[[int], Any], high: float, low: float, close: float
) -> None:
    """low <= close <= high, all finite: swapped arguments are caught, not averaged."""
    with pytest.raises(SignalArgumentError, match="high"):
        cls(3).update(high, low, close)


def test_donchian_when_low_above_high_then_refused() -> None:
    """A Donchian bar needs low <= high."""
    with pytest.raises(SignalArgumentError, match="low <= high"):
        inc.Donchian(3).update(1.0, 2.0)


def test_batch_when_window_bad_then_refused_like_online() -> None:
    """The batch forms check windows and multipliers with the same rules."""
    x = np.arange(1.0, 20.0)
    with pytest.raises(SignalArgumentError, match=r"^zscore: n must be an int >= 2"):
        v.zscore(x, 1)
    with pytest.raises(SignalArgumentError, match=r"^bollinger: k must be finite and > 0"):
        v.bollinger(x, 3, -1.0)
    with pytest.raises(SignalArgumentError, match=r"^variance_ratio: needs n > q"):
        v.variance_ratio(x, 2, 2)


def test_batch_when_arrays_differ_in_length_then_refused() -> None:
    """high, low and close must line up bar for bar."""
    with pytest.raises(SignalArgumentError, match="equal lengths"):
        v.atr([2.0, 3.0], [1.0, 2.0], [1.5], 1)


def test_batch_when_input_not_finite_then_index_named() -> None:
    """The first bad element is reported with its array and index."""
    with pytest.raises(SignalArgumentError, match=r"^sma: x\[2\] must be finite, got nan"):
        v.sma([1.0, 2.0, math.nan, 4.0], 2)


def test_batch_when_price_not_positive_then_refused() -> None:
    """Log-return indicators need prices > 0 in batch form too."""
    with pytest.raises(SignalArgumentError, match=r"realized_vol: x\[1\] must be finite and > 0"):
        v.realized_vol([1.0, 0.0, 2.0], 2)


def test_batch_when_input_two_dimensional_then_refused() -> None:
    """Only 1-D series are accepted; a 2-D array is a caller's mistake."""
    with pytest.raises(SignalArgumentError, match="must be 1-D"):
        v.ema(np.ones((3, 3)), 2)


def test_batch_when_bar_inconsistent_then_index_named() -> None:
    """A batch bar outside low <= close <= high is reported by index."""
    with pytest.raises(SignalArgumentError, match="adx: bar 1 needs low <= close <= high"):
        v.adx([2.0, 3.0], [1.0, 2.0], [1.5, 3.5], 1)
    with pytest.raises(SignalArgumentError, match="donchian: bar 0 needs low <= high"):
        v.donchian([1.0], [2.0], 1)
