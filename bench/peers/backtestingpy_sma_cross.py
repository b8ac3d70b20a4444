"""Peer benchmark: the `sma_cross` rules on backtesting.py (kernc/backtesting.py 0.6.6).

    .bench-venv/bin/python bench/peers/backtestingpy_sma_cross.py --data FILE [--data F2] --runs 3

Timed region (per run): `Backtest(...)` construction, `Backtest.run()` (which wraps the
DataFrame, computes both SMAs in `Strategy.init`, steps `next()` over every bar and
then computes its statistics), and reading the trades and final equity back out of the
result. Untimed: reading the CSV and building the pandas DataFrame it takes as input.

How the rules map onto backtesting.py:

- Fill at the next bar's open: with `trade_on_close=False` (the default) a market
  order placed in `next()` at bar t is filled when the broker processes bar t+1, at its
  Open (`_Broker._process_orders`); the trade's entry/exit bar is t+1.
- Exact 0.001 base units: `size` below 1 is a fraction of equity, and whole sizes are
  units, so the engine trades in milli-units: Open/High/Low/Close are divided by
  SCALE = 1000 (the price of 0.001 BTC) and each entry buys `size=1`. Notional, fee and
  equity are then already in quote currency; fill prices are multiplied back by SCALE.
- Signals use the close in whole price ticks (an extra `CloseTicks` column: close *
  10**decimals, e.g. cents), not the scaled close: sums of ticks are exact in float64,
  so a bar where SMA(20) == SMA(50) exactly is "not above" here as in exact arithmetic
  (float SMAs of prices land a hair either side of such ties and flip the signal; the
  Binance ETH/SOL files have some). The same trick is used on the Nautilus side.
- Fee: `commission=0.001` is charged on entry and on exit, on that fill's notional.
- `margin=1`, `hedging=False`, `exclusive_orders=False`: a long-only, one-trade strategy
  never hits margin limits (18 USD of 10,000) and never needs the auto-close, so these
  leave fills untouched. `finalize_trades=False` leaves the last trade open; the final
  equity is `cash + unrealized P&L` at the last close, i.e. cash + position * close.
- Warm-up: backtesting.py first calls `next()` once every indicator has a value and
  one more bar exists, i.e. at bar index SLOW (0-based), where SMA(SLOW) is warm at the
  previous close too, as the rules require.

The tqdm progress bar backtesting.py shows when tqdm is installed is disabled
(TQDM_DISABLE) so that nothing is drawn during the timed region.
"""

import os
import sys
import warnings
from pathlib import Path
from typing import Any, Final

os.environ.setdefault("TQDM_DISABLE", "1")

import numpy as np
import pandas as pd
from backtesting import Backtest, Strategy
from backtesting import __version__ as BT_VERSION

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _peers_common import (
    FAST,
    FEE_RATE,
    NS_PER_S,
    SIZE_BASE,
    SLOW,
    START_CASH,
    BarSeries,
    Fill,
    RunResult,
    close_ticks,
    run_cli,
)

SCALE: Final = round(1 / SIZE_BASE)  # units of the scaled instrument per base unit


def rolling_mean(values: Any, n: int) -> Any:
    """SMA(n) of `values`, NaN while warming up, as a difference of cumulative sums.

    The values are whole price ticks, so every sum is an exact integer in float64
    (well below 2**53) and each mean is one correctly rounded division: two SMAs that
    are equal in exact arithmetic compare equal here too.
    """
    v = np.asarray(values, dtype=np.float64)
    csum = np.concatenate([[0.0], np.cumsum(v)])
    out = np.full(len(v), np.nan)
    out[n - 1 :] = (csum[n:] - csum[:-n]) / n
    return out


class SmaCross(Strategy):  # type: ignore[misc]
    """Long/flat on SMA(FAST) vs SMA(SLOW) of the close; one milli-unit trade at a time."""

    def init(self) -> None:
        self.fast = self.I(rolling_mean, self.data.CloseTicks, FAST, name="fast")
        self.slow = self.I(rolling_mean, self.data.CloseTicks, SLOW, name="slow")

    def next(self) -> None:
        above_now = self.fast[-1] > self.slow[-1]
        above_before = self.fast[-2] > self.slow[-2]
        if above_now and not above_before and not self.position:
            self.buy(size=1)
        elif above_before and not above_now and self.position:
            self.position.close()


def prepare(series: BarSeries) -> pd.DataFrame:
    """The engine's input: scaled OHLC, volume in milli-units and the close in ticks."""
    return pd.DataFrame(
        {
            "Open": series.open / SCALE,
            "High": series.high / SCALE,
            "Low": series.low / SCALE,
            "Close": series.close / SCALE,
            "Volume": series.volume * SCALE,
            "CloseTicks": close_ticks(series),
        },
        index=pd.to_datetime(series.ts_s, unit="s"),
    )


def _fills(series: BarSeries, strategy: Any) -> list[Fill]:
    open_ns = series.ts_s * NS_PER_S
    fills: list[Fill] = []
    for trade in (*strategy.closed_trades, *strategy.trades):
        if trade.size != 1:
            raise RuntimeError(f"backtesting.py: unexpected trade size {trade.size}")
        fills.append((int(open_ns[trade.entry_bar]), "buy", float(trade.entry_price) * SCALE))
        if trade.exit_bar is not None:
            fills.append((int(open_ns[trade.exit_bar]), "sell", float(trade.exit_price) * SCALE))
    fills.sort()
    return fills


def backtest(series: BarSeries, data: pd.DataFrame) -> RunResult:
    bt = Backtest(
        data,
        SmaCross,
        cash=START_CASH,
        commission=FEE_RATE,
        margin=1.0,
        trade_on_close=False,
        hedging=False,
        exclusive_orders=False,
        finalize_trades=False,
    )
    with warnings.catch_warnings():
        # "Some trades remain open at the end": intended, the rules leave it open.
        warnings.simplefilter("ignore", UserWarning)
        stats = bt.run()
    return RunResult(_fills(series, stats["_strategy"]), float(stats["Equity Final [$]"]))


if __name__ == "__main__":
    sys.exit(run_cli("backtesting.py", BT_VERSION, prepare, backtest))
