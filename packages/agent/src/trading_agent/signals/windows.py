"""Online building blocks over a sliding window of the last n values, O(1) per push.

Running sums drift: every add-and-subtract rounds, and a long live run makes
hundreds of thousands of them. So each block recomputes its state from the window
itself every n replacements (O(1) amortised), and `RollingMoments` also whenever its
sum of squares collapses far below its recent peak, the case where cancellation
error would otherwise dominate a small variance.

A window of identical values is detected exactly (a run-length count), so its
variance is exactly 0 and its mean exactly its value, as in the batch form.
"""

import math
from collections import deque
from typing import Final

__all__ = ["COLLAPSE", "RollingMax", "RollingMoments", "RollingSum"]

# Recompute M2 from the window when it falls below this fraction of its peak since the
# last recompute: the rounding error left behind is about eps / this fraction relative.
COLLAPSE: Final = 2.0**-20


class RollingSum:
    """The sum of the last n pushed values.

    With `nonnegative`, every value is >= 0, so the true sum can only shrink to a small
    number by values leaving; the total is then recomputed as soon as it collapses below
    its recent peak, and it never goes negative through rounding.
    """

    __slots__ = ("_nonnegative", "_peak", "_since", "_values", "n", "total")

    def __init__(self, n: int, *, nonnegative: bool = False) -> None:
        self.n = n
        self.total = 0.0
        self._values: deque[float] = deque()
        self._since = 0
        self._nonnegative = nonnegative
        self._peak = 0.0

    @property
    def full(self) -> bool:
        return len(self._values) == self.n

    def push(self, x: float) -> None:
        values = self._values
        values.append(x)
        if len(values) <= self.n:
            self.total += x
        else:
            self.total += x - values.popleft()
            self._since += 1
            collapsed = self._nonnegative and self.total < self._peak * COLLAPSE
            if self._since >= self.n or collapsed:
                self._since = 0
                self.total = math.fsum(values)
                self._peak = self.total
        if self._nonnegative:
            self._peak = max(self._peak, self.total)


class RollingMoments:
    """Mean and sum of squared deviations (M2) of the last n values.

    Welford's update generalised to a sliding window: replacing `old` by `x` moves the
    mean by (x - old) / n and M2 by (x - old)(x - new_mean + old - old_mean), which
    avoids the cancellation of a sum-of-squares formula.
    """

    __slots__ = ("_m2", "_mean", "_peak", "_run", "_since", "_values", "n")

    def __init__(self, n: int) -> None:
        self.n = n
        self._values: deque[float] = deque()
        self._mean = 0.0
        self._m2 = 0.0
        self._peak = 0.0
        self._run = 0  # how many of the latest values equal the latest one
        self._since = 0

    @property
    def full(self) -> bool:
        return len(self._values) == self.n

    @property
    def constant(self) -> bool:
        """True if every value in the (full or filling) window is the same."""
        return self._run >= len(self._values)

    @property
    def mean(self) -> float:
        return self._values[-1] if self.constant else self._mean

    @property
    def m2(self) -> float:
        return 0.0 if self.constant else max(self._m2, 0.0)

    def moments(self) -> tuple[float, float]:
        """(mean, M2) in one call, for the hot paths."""
        if self._run >= len(self._values):
            return self._values[-1], 0.0
        m2 = self._m2
        return self._mean, m2 if m2 > 0.0 else 0.0

    def push(self, x: float) -> None:
        values = self._values
        self._run = self._run + 1 if values and values[-1] == x else 1
        values.append(x)
        count = len(values)
        if count <= self.n:
            delta = x - self._mean
            self._mean += delta / count
            self._m2 += delta * (x - self._mean)
        else:
            old = values.popleft()
            mean = self._mean + (x - old) / self.n
            self._m2 += (x - old) * (x - mean + old - self._mean)
            self._mean = mean
            self._since += 1
            if self._since >= self.n or self._m2 < self._peak * COLLAPSE:
                self._recompute()
        if self._m2 > self._peak:
            self._peak = self._m2

    def _recompute(self) -> None:
        values = self._values
        mean = math.fsum(values) / len(values)
        self._mean = mean
        self._m2 = math.fsum((v - mean) * (v - mean) for v in values)
        self._peak = self._m2
        self._since = 0


class RollingMax:
    """The largest of the last n pushed values (a monotonic deque; negate for a minimum)."""

    __slots__ = ("_count", "_queue", "n")

    def __init__(self, n: int) -> None:
        self.n = n
        self._queue: deque[tuple[int, float]] = deque()  # (index, value), values decreasing
        self._count = 0

    @property
    def full(self) -> bool:
        return self._count >= self.n

    @property
    def value(self) -> float:
        return self._queue[0][1]

    def push(self, x: float) -> None:
        queue = self._queue
        while queue and queue[-1][1] <= x:
            queue.pop()
        queue.append((self._count, x))
        self._count += 1
        if queue[0][0] <= self._count - 1 - self.n:
            queue.popleft()
