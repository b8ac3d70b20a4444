"""Technical and statistical indicators, in two forms that agree value for value.

- `trading_agent.signals.vectorized`: numpy arrays in and out, NaN while warming up,
  for research and Loop 2.
- `trading_agent.signals.incremental`: one object per indicator, one value per
  `update`, None while warming up, for live and backtest loops.

A pure layer: no I/O, no clock, no randomness. Bad windows or inputs raise
`SignalArgumentError`, a `ValueError`.
"""

from trading_agent.signals.errors import SignalArgumentError
from trading_agent.signals.values import BollingerBands, DonchianChannel, VarianceRatioValue

__all__ = ["BollingerBands", "DonchianChannel", "SignalArgumentError", "VarianceRatioValue"]
