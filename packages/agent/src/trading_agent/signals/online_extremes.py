"""Online order statistics: Donchian channels and a trailing percentile rank."""

from collections import deque
from math import isfinite

from trading_agent.signals.checks import check_window, not_finite
from trading_agent.signals.errors import SignalArgumentError
from trading_agent.signals.sorted_bag import SortedBag
from trading_agent.signals.values import DonchianChannel
from trading_agent.signals.windows import RollingMax

__all__ = ["Donchian", "PercentileRank"]


class Donchian:
    """Richard Donchian's price channel, as in the Turtle breakout rules (Faith 2007).

    `update` returns the highest high and lowest low of the last n bars INCLUDING the
    current one (warm-up n bars; n >= 1). A breakout compares the current close with
    `previous`: the channel of the n bars before the current one, i.e. the result of
    the previous update, None until n + 1 bars.
    """

    __slots__ = ("_highs", "_lows", "_previous", "_value", "n")

    def __init__(self, n: int) -> None:
        self.n = check_window("Donchian", "n", n, 1)
        self._highs = RollingMax(self.n)
        self._lows = RollingMax(self.n)  # of -low: the minimum without a second class
        self._previous: DonchianChannel | None = None
        self._value: DonchianChannel | None = None

    @property
    def value(self) -> DonchianChannel | None:
        return self._value

    @property
    def previous(self) -> DonchianChannel | None:
        return self._previous

    @property
    def warmup(self) -> int:
        return self.n

    def update(self, high: float, low: float) -> DonchianChannel | None:
        if not (isfinite(high) and isfinite(low) and low <= high):
            raise SignalArgumentError(
                f"Donchian: needs finite low <= high, got high={high!r} low={low!r}"
            )
        self._highs.push(high)
        self._lows.push(-low)
        self._previous = self._value
        if self._highs.full:
            self._value = DonchianChannel(upper=self._highs.value, lower=-self._lows.value)
        return self._value


class PercentileRank:
    """Where the latest value ranks among the n values before it, in [0, 1].

    Mid-rank: (count below + count equal / 2) / n, so ties sit in the middle and a
    constant history ranks a repeat of it at 0.5. The current value is not part of its
    own reference window: the rank says how unusual x_t is against the past only.
    Warm-up n + 1 values; n >= 1. About O(sqrt n) per update (`SortedBag`): a few
    microseconds even at n = 129,600.
    """

    __slots__ = ("_bag", "_history", "_value", "n")

    def __init__(self, n: int) -> None:
        self.n = check_window("PercentileRank", "n", n, 1)
        self._history: deque[float] = deque()
        self._bag = SortedBag()
        self._value: float | None = None

    @property
    def value(self) -> float | None:
        return self._value

    @property
    def warmup(self) -> int:
        return self.n + 1

    def update(self, x: float) -> float | None:
        if not isfinite(x):
            raise not_finite("PercentileRank", x)
        bag = self._bag
        if bag.size == self.n:
            below, at_most = bag.ranks(x)
            self._value = (below + at_most) / (2 * self.n)
            bag.remove(self._history.popleft())
        self._history.append(x)
        bag.add(x)
        return self._value
