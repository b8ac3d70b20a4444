"""Indicators as online objects, for live and backtest loops: one value in, one result out.

Every object validates its window at construction and every input at `update`
(finite; prices > 0 where a log return is taken; low <= close <= high for bars),
raising `SignalArgumentError` (a `ValueError`). `update` returns None until warm;
`value` holds the last result; `warmup` is the number of updates before the first
result. Plain Python floats, deques and running sums: O(1) amortised per update,
except `PercentileRank` (about O(sqrt n)). Fed the same series, each object gives
the array its `trading_agent.signals.vectorized` twin gives (None where NaN).

| object                  | result                  | warm-up | ddof | seed / note                 |
|-------------------------|-------------------------|---------|------|-----------------------------|
| SMA(n)                  | mean of last n          | n       | -    |                             |
| EMA(n)                  | alpha = 2/(n+1)         | n       | -    | SMA of the first n          |
| ZScore(n)               | (x - mean) / s          | n       | 1    | None if s = 0               |
| Bollinger(n, k)         | BollingerBands          | n       | 0    | Bollinger 2001              |
| RSI(n)                  | Wilder RSI in [0, 100]  | n + 1   | -    | mean of first n; flat = 50  |
| ATR(n): (h, l, c)       | Wilder ATR              | n       | -    | first TR = high - low       |
| ADX(n): (h, l, c)       | Wilder ADX in [0, 100]  | 2n      | -    | no movement: DX = 0         |
| RealizedVol(n)          | sd of n log returns     | n + 1   | 1    | per bar, not annualised     |
| EfficiencyRatio(n)      | Kaufman ER in [0, 1]    | n + 1   | -    | no movement = 0             |
| VarianceRatio(n, q)     | VarianceRatioValue      | n + 1   | -    | Lo & MacKinlay 1988         |
| Donchian(n): (h, l)     | DonchianChannel         | n       | -    | `.previous` for breakouts   |
| PercentileRank(n)       | mid-rank vs the n before| n + 1   | -    | current value excluded      |
"""

from trading_agent.signals.online_extremes import Donchian, PercentileRank
from trading_agent.signals.online_rolling import (
    SMA,
    Bollinger,
    EfficiencyRatio,
    RealizedVol,
    ZScore,
)
from trading_agent.signals.online_vr import VarianceRatio
from trading_agent.signals.online_wilder import ADX, ATR, EMA, RSI
from trading_agent.signals.values import BollingerBands, DonchianChannel, VarianceRatioValue

__all__ = [
    "ADX",
    "ATR",
    "EMA",
    "RSI",
    "SMA",
    "Bollinger",
    "BollingerBands",
    "Donchian",
    "DonchianChannel",
    "EfficiencyRatio",
    "PercentileRank",
    "RealizedVol",
    "VarianceRatio",
    "VarianceRatioValue",
    "ZScore",
]
