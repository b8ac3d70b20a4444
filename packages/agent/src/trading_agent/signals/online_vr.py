"""Online variance ratio of Lo & MacKinlay (1988), O(1) per update.

Over the last n one-bar log returns r (n + 1 prices) with mean mu, and the n - q + 1
overlapping q-bar returns y inside the same window:

    sigma_a^2 = sum (r - mu)^2 / (n - 1)
    sigma_c^2 = sum (y - q mu)^2 / m,   m = q (n - q + 1) (1 - q / n)
    VR(q) = sigma_c^2 / sigma_a^2
    z = (VR(q) - 1) / sqrt(phi),        phi = 2 (2q - 1)(q - 1) / (3 q n)

These are their bias-corrected estimators from overlapping q-bar returns and the
asymptotic variance of VR under homoskedastic increments, with their nq written n
(n need not be a multiple of q); z is asymptotically N(0, 1) under a random walk.
VR > 1 means positively autocorrelated returns (trending), VR < 1 mean reversion.
Their heteroskedasticity-consistent z* is not computed.
"""

import math
from math import isfinite

from trading_agent.signals.checks import check_window, not_positive
from trading_agent.signals.errors import SignalArgumentError
from trading_agent.signals.values import VarianceRatioValue
from trading_agent.signals.windows import RollingMoments, RollingSum

__all__ = ["VarianceRatio", "variance_ratio_constants"]


def variance_ratio_constants(indicator: str, n: int, q: int) -> tuple[float, float]:
    """(m, sqrt(phi)) for n returns and horizon q, after checking q >= 2 and n > q."""
    check_window(indicator, "q", q, 2)
    check_window(indicator, "n", n, 2)
    if n <= q:
        raise SignalArgumentError(f"{indicator}: needs n > q returns, got n={n} q={q}")
    m = q * (n - q + 1) * (1.0 - q / n)
    phi = 2.0 * (2 * q - 1) * (q - 1) / (3.0 * q * n)
    return m, math.sqrt(phi)


class VarianceRatio:
    """VR(q) and its z over the last n log returns of a positive price series.

    Warm-up n + 1 prices; q >= 2, n > q (Lo & MacKinlay need hundreds of returns for
    the z to be near normal). When the n returns are all equal, both variances are 0
    and the ratio is undefined: the result is None.
    """

    __slots__ = ("_m", "_previous", "_qsum", "_returns", "_root_phi", "_spans", "_value", "n", "q")

    def __init__(self, n: int, q: int) -> None:
        self._m, self._root_phi = variance_ratio_constants("VarianceRatio", n, q)
        self.n = n
        self.q = q
        self._returns = RollingMoments(n)
        self._qsum = RollingSum(q)
        self._spans = RollingMoments(n - q + 1)  # the q-bar returns ending inside the window
        self._previous: float | None = None
        self._value: VarianceRatioValue | None = None

    @property
    def value(self) -> VarianceRatioValue | None:
        return self._value

    @property
    def warmup(self) -> int:
        return self.n + 1

    def update(self, x: float) -> VarianceRatioValue | None:
        if not (isfinite(x) and x > 0):
            raise not_positive("VarianceRatio", x)
        previous, self._previous = self._previous, x
        if previous is None:
            return None
        r = math.log(x / previous)
        returns = self._returns
        returns.push(r)
        self._qsum.push(r)
        if self._qsum.full:
            self._spans.push(self._qsum.total)
        if not returns.full:
            return None
        self._value = self._compute()
        return self._value

    def _compute(self) -> VarianceRatioValue | None:
        returns, spans = self._returns, self._spans
        if returns.constant:
            return None
        mu, m2 = returns.moments()
        span_mean, span_m2 = spans.moments()
        offset = span_mean - self.q * mu
        # sum (y - q mu)^2 split as M2 about y's own mean plus the offset of that mean.
        sigma_c2 = (span_m2 + spans.n * offset * offset) / self._m
        sigma_a2 = m2 / (self.n - 1)
        ratio = sigma_c2 / sigma_a2
        return VarianceRatioValue(ratio=ratio, z=(ratio - 1.0) / self._root_phi)
