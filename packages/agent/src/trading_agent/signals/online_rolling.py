"""Online window indicators: SMA, z-score, Bollinger, realized vol, efficiency ratio.

Each object takes one value per `update` and returns the indicator for the window
ending at that value, or None while warming up. `value` holds the last result. The
definitions, warm-up lengths and degenerate cases match `trading_agent.signals.batch_rolling`
exactly (a property test feeds both the same series).
"""

import math
from collections import deque
from math import isfinite

from trading_agent.signals.checks import check_positive, check_window, not_finite, not_positive
from trading_agent.signals.values import BollingerBands
from trading_agent.signals.windows import RollingMoments, RollingSum

__all__ = ["SMA", "Bollinger", "EfficiencyRatio", "RealizedVol", "ZScore"]


class SMA:
    """Simple moving average: the arithmetic mean of the last n values.

    Warm-up: the n-th update gives the first result; n >= 1 (SMA(1) is the input).
    """

    __slots__ = ("_sum", "_value", "n")

    def __init__(self, n: int) -> None:
        self.n = check_window("SMA", "n", n, 1)
        self._sum = RollingSum(self.n)
        self._value: float | None = None

    @property
    def value(self) -> float | None:
        return self._value

    @property
    def warmup(self) -> int:
        """Updates before the first result."""
        return self.n

    def update(self, x: float) -> float | None:
        if not isfinite(x):
            raise not_finite("SMA", x)
        s = self._sum
        s.push(x)
        if s.full:
            self._value = s.total / self.n
        return self._value


class ZScore:
    """How many sample standard deviations the latest value is from the window's mean.

    z = (x_t - mean) / s over the last n values including x_t, with s the sample
    standard deviation (ddof = 1, as pandas' `rolling().std()`). Warm-up n; n >= 2.
    A constant window has s = 0 and no z-score: the result is None, not a division error.
    """

    __slots__ = ("_moments", "_value", "n")

    def __init__(self, n: int) -> None:
        self.n = check_window("ZScore", "n", n, 2)
        self._moments = RollingMoments(self.n)
        self._value: float | None = None

    @property
    def value(self) -> float | None:
        return self._value

    @property
    def warmup(self) -> int:
        return self.n

    def update(self, x: float) -> float | None:
        if not isfinite(x):
            raise not_finite("ZScore", x)
        m = self._moments
        m.push(x)
        if not m.full:
            return None
        mean, m2 = m.moments()
        self._value = None if m2 == 0.0 else (x - mean) / math.sqrt(m2 / (self.n - 1))
        return self._value


class Bollinger:
    """Bollinger bands (Bollinger 2001): SMA(n) plus and minus k standard deviations.

    The deviation is the population one (ddof = 0), as Bollinger specifies. Warm-up n;
    n >= 1, k > 0. A constant window gives three equal bands at its value.
    """

    __slots__ = ("_moments", "_value", "k", "n")

    def __init__(self, n: int, k: float) -> None:
        self.n = check_window("Bollinger", "n", n, 1)
        self.k = check_positive("Bollinger", "k", k)
        self._moments = RollingMoments(self.n)
        self._value: BollingerBands | None = None

    @property
    def value(self) -> BollingerBands | None:
        return self._value

    @property
    def warmup(self) -> int:
        return self.n

    def update(self, x: float) -> BollingerBands | None:
        if not isfinite(x):
            raise not_finite("Bollinger", x)
        m = self._moments
        m.push(x)
        if m.full:
            mid, m2 = m.moments()
            width = self.k * math.sqrt(m2 / self.n)
            self._value = BollingerBands(mid=mid, upper=mid + width, lower=mid - width)
        return self._value


class RealizedVol:
    """Realized volatility: the sample standard deviation (ddof = 1) of the last n log returns.

    r_t = ln(x_t / x_{t-1}) for prices x > 0. Per bar, not annualised: multiply by
    sqrt(bars per year) for an annual figure. Warm-up n + 1 prices; n >= 2. A constant
    price (or exactly constant return) gives 0.0.
    """

    __slots__ = ("_moments", "_previous", "_value", "n")

    def __init__(self, n: int) -> None:
        self.n = check_window("RealizedVol", "n", n, 2)
        self._moments = RollingMoments(self.n)
        self._previous: float | None = None
        self._value: float | None = None

    @property
    def value(self) -> float | None:
        return self._value

    @property
    def warmup(self) -> int:
        return self.n + 1

    def update(self, x: float) -> float | None:
        if not (isfinite(x) and x > 0):
            raise not_positive("RealizedVol", x)
        previous, self._previous = self._previous, x
        if previous is None:
            return None
        m = self._moments
        m.push(math.log(x / previous))
        if m.full:
            self._value = math.sqrt(m.moments()[1] / (self.n - 1))
        return self._value


class EfficiencyRatio:
    """Kaufman's efficiency ratio (Kaufman 1995): net move over path length, in [0, 1].

    ER_t = |x_t - x_{t-n}| / sum_{i=t-n+1..t} |x_i - x_{i-1}|. 1 for a monotone window,
    near 0 for noise. A window with no movement at all has 0/0; it is defined as 0.0
    (no directional efficiency). Warm-up n + 1 values; n >= 1.
    """

    __slots__ = ("_moving", "_path", "_prices", "_steps", "_value", "n")

    def __init__(self, n: int) -> None:
        self.n = check_window("EfficiencyRatio", "n", n, 1)
        self._prices: deque[float] = deque(maxlen=self.n + 1)
        self._steps: deque[float] = deque()
        self._path = RollingSum(self.n, nonnegative=True)
        self._moving = 0  # non-zero steps in the window: an exact "no movement" test
        self._value: float | None = None

    @property
    def value(self) -> float | None:
        return self._value

    @property
    def warmup(self) -> int:
        return self.n + 1

    def update(self, x: float) -> float | None:
        if not isfinite(x):
            raise not_finite("EfficiencyRatio", x)
        prices = self._prices
        if prices:
            self._step(abs(x - prices[-1]))
        prices.append(x)
        if len(prices) <= self.n:
            return None
        if self._moving == 0:
            self._value = 0.0
        else:
            # The triangle inequality caps ER at 1; rounding in the path sum must not exceed it.
            self._value = min(1.0, abs(x - prices[0]) / self._path.total)
        return self._value

    def _step(self, step: float) -> None:
        steps = self._steps
        steps.append(step)
        self._moving += step != 0.0
        if len(steps) > self.n:
            self._moving -= steps.popleft() != 0.0
        self._path.push(step)
