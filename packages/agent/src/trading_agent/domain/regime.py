"""Regime labels: {trend, range, neutral} x {high, low} volatility (LEARNING.md section 3).

The classifier that produces them lives below the labels in this module.
"""

from enum import StrEnum

import msgspec

__all__ = ["UNKNOWN_REGIME", "Regime", "Trend", "Volatility"]


class Trend(StrEnum):
    TREND = "trend"
    RANGE = "range"
    NEUTRAL = "neutral"


class Volatility(StrEnum):
    HIGH = "high"
    LOW = "low"


class Regime(msgspec.Struct, frozen=True, kw_only=True):
    """The label stored with every decision, computed from past data only."""

    trend: Trend
    volatility: Volatility

    @property
    def label(self) -> str:
        """The wire form, e.g. "range_low_vol" (the contract's `Reason.regime`)."""
        return f"{self.trend.value}_{self.volatility.value}_vol"


UNKNOWN_REGIME = Regime(trend=Trend.NEUTRAL, volatility=Volatility.LOW)
"""Before the classifier has enough history: no trend claimed, volatility not high."""
