"""Indicators over whole numpy arrays, for research: float64 arrays in, same-length arrays out.

NaN marks the warm-up (and values that are undefined, e.g. the z-score of a constant
window). Inputs must be 1-D, finite, of equal length, and > 0 where a log return is
taken; otherwise `SignalArgumentError` (a `ValueError`). Each function gives exactly
what its `trading_agent.signals.incremental` twin gives element by element (None
there where NaN here); the definitions, warm-ups, ddof and seeds are tabled in
`incremental`.
"""

from trading_agent.signals.batch_rolling import (
    bollinger,
    donchian,
    efficiency_ratio,
    percentile_rank,
    realized_vol,
    sma,
    zscore,
)
from trading_agent.signals.batch_vr import variance_ratio
from trading_agent.signals.batch_wilder import adx, atr, ema, rsi

__all__ = [
    "adx",
    "atr",
    "bollinger",
    "donchian",
    "efficiency_ratio",
    "ema",
    "percentile_rank",
    "realized_vol",
    "rsi",
    "sma",
    "variance_ratio",
    "zscore",
]
