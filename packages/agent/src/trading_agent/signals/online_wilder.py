"""Online recursive smoothers: EMA, and Wilder's RSI, ATR and ADX (Wilder 1978).

Every smoother is seeded with the plain mean (`math.fsum`, so the seed is exact to
one rounding) of its first n inputs, then runs its recursion. The batch twins in
`trading_agent.signals.batch_wilder` perform the same float operations in the same
order. Wilder's smoothing is an EMA with alpha = 1/n:
avg_t = (avg_{t-1} * (n - 1) + v_t) / n.
"""

import math
from math import isfinite

from trading_agent.signals.checks import bar_error, check_window, not_finite

__all__ = ["ADX", "ATR", "EMA", "RSI", "WilderAverage"]


class WilderAverage:
    """Wilder's running average: the mean of the first n inputs, then (avg (n-1) + v) / n."""

    __slots__ = ("_seed", "n", "value")

    def __init__(self, n: int) -> None:
        self.n = n
        self._seed: list[float] = []
        self.value: float | None = None

    def push(self, v: float) -> float | None:
        if self.value is not None:
            self.value = (self.value * (self.n - 1) + v) / self.n
            return self.value
        self._seed.append(v)
        if len(self._seed) == self.n:
            self.value = math.fsum(self._seed) / self.n
            self._seed = []
        return self.value


class EMA:
    """Exponential moving average with alpha = 2 / (n + 1).

    Seeded with the SMA of the first n values (the n-th update gives the first result),
    then e_t = e_{t-1} + alpha (x_t - e_{t-1}). Warm-up n; n >= 1 (EMA(1) is the input).
    """

    __slots__ = ("_alpha", "_seed", "_value", "n")

    def __init__(self, n: int) -> None:
        self.n = check_window("EMA", "n", n, 1)
        self._alpha = 2.0 / (self.n + 1)
        self._seed: list[float] = []
        self._value: float | None = None

    @property
    def value(self) -> float | None:
        return self._value

    @property
    def warmup(self) -> int:
        return self.n

    def update(self, x: float) -> float | None:
        if not isfinite(x):
            raise not_finite("EMA", x)
        e = self._value
        if e is not None:
            self._value = e + self._alpha * (x - e)
            return self._value
        self._seed.append(x)
        if len(self._seed) == self.n:
            self._value = math.fsum(self._seed) / self.n
            self._seed = []
        return self._value


class RSI:
    """Wilder's relative strength index (Wilder 1978), in [0, 100].

    Gains and losses of each change are Wilder-averaged over n (seeded with the mean of
    the first n changes); RSI = 100 AG / (AG + AL), the same as 100 - 100 / (1 + AG/AL)
    without dividing by a zero AL. Strictly rising gives 100, strictly falling 0; no
    movement at all (AG = AL = 0) is defined as 50, neutral. Warm-up n + 1; n >= 1.
    """

    __slots__ = ("_gain", "_loss", "_previous", "_value", "n")

    def __init__(self, n: int) -> None:
        self.n = check_window("RSI", "n", n, 1)
        self._gain = WilderAverage(self.n)
        self._loss = WilderAverage(self.n)
        self._previous: float | None = None
        self._value: float | None = None

    @property
    def value(self) -> float | None:
        return self._value

    @property
    def warmup(self) -> int:
        return self.n + 1

    def update(self, x: float) -> float | None:
        if not isfinite(x):
            raise not_finite("RSI", x)
        previous, self._previous = self._previous, x
        if previous is None:
            return None
        change = x - previous
        gain = self._gain.push(change if change > 0.0 else 0.0)
        loss = self._loss.push(-change if change < 0.0 else 0.0)
        if gain is not None and loss is not None:
            total = gain + loss
            self._value = 50.0 if total == 0.0 else 100.0 * gain / total
        return self._value


def true_range(high: float, low: float, previous_close: float | None) -> float:
    """Wilder's true range: max(h - l, |h - c_prev|, |l - c_prev|); h - l on the first bar."""
    if previous_close is None:
        return high - low
    return max(high - low, abs(high - previous_close), abs(low - previous_close))


class ATR:
    """Wilder's average true range (Wilder 1978).

    The first bar's true range is its high - low (there is no previous close); the ATR
    is the mean of the first n true ranges, then Wilder's recursion. Warm-up n; n >= 1.
    """

    __slots__ = ("_average", "_close", "_value", "n")

    def __init__(self, n: int) -> None:
        self.n = check_window("ATR", "n", n, 1)
        self._average = WilderAverage(self.n)
        self._close: float | None = None
        self._value: float | None = None

    @property
    def value(self) -> float | None:
        return self._value

    @property
    def warmup(self) -> int:
        return self.n

    def update(self, high: float, low: float, close: float) -> float | None:
        problem = bar_error("ATR", high, low, close)
        if problem:
            raise problem
        tr = true_range(high, low, self._close)
        self._close = close
        self._value = self._average.push(tr)
        return self._value


class ADX:
    """Wilder's average directional index (Wilder 1978), in [0, 100].

    From bar 2 on: up = h_t - h_{t-1}, down = l_{t-1} - l_t; +DM = up if up > down and
    up > 0 else 0; -DM likewise. Wilder defines DI± = 100 avg(DM±) / avg(TR), each
    average Wilder's over n seeded with the mean of the first n, and
    DX = 100 |DI+ - DI-| / (DI+ + DI-). Both DIs divide by the same averaged true range,
    so it cancels and is not computed: DX = 100 |avg(+DM) - avg(-DM)| / (avg(+DM) +
    avg(-DM)), and a market with no directional movement at all has DX = 0 (no trend),
    not 0/0. ADX is the mean of the first n DX values, then Wilder's recursion. The
    close is only validated (low <= close <= high). Warm-up 2n bars; n >= 1.
    """

    __slots__ = ("_adx", "_high", "_low", "_minus", "_plus", "_value", "n")

    def __init__(self, n: int) -> None:
        self.n = check_window("ADX", "n", n, 1)
        self._plus = WilderAverage(self.n)
        self._minus = WilderAverage(self.n)
        self._adx = WilderAverage(self.n)
        self._high: float | None = None
        self._low = 0.0
        self._value: float | None = None

    @property
    def value(self) -> float | None:
        return self._value

    @property
    def warmup(self) -> int:
        return 2 * self.n

    def update(self, high: float, low: float, close: float) -> float | None:
        problem = bar_error("ADX", high, low, close)
        if problem:
            raise problem
        previous_high, previous_low = self._high, self._low
        self._high, self._low = high, low
        if previous_high is None:
            return None
        up = high - previous_high
        down = previous_low - low
        plus = self._plus.push(up if up > down and up > 0.0 else 0.0)
        minus = self._minus.push(down if down > up and down > 0.0 else 0.0)
        if plus is None or minus is None:
            return None
        total = plus + minus
        self._value = self._adx.push(0.0 if total == 0.0 else 100.0 * abs(plus - minus) / total)
        return self._value
