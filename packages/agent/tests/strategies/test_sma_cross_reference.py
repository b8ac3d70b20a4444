"""SMA 20/50 cross on two years of real BTC-USD hours vs a vectorized pandas reference."""

import csv
import gzip
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from trading_agent.domain.intents import Action, Signal
from trading_agent.domain.market import NS_PER_S, Candle
from trading_agent.strategies.sma_cross import SmaCross

Drive = Callable[..., list[tuple[int, Signal]]]  # the `drive` fixture (conftest.py)

# ../shared/data beside the repository, as every other real-data test finds it.
DATA = (
    Path(__file__).resolve().parents[5]
    / "shared" / "data" / "coinbase" / "BTC-USD_1h_20240418-20260508.csv.gz"
)  # fmt: skip


def _candles(path: Path) -> list[Candle]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as text:
        rows = list(csv.DictReader(text))
    return [
        Candle(
            product_id="BTC-USD",
            start_ns=int(row["ts"]) * NS_PER_S,
            granularity_s=3600,
            open=Decimal(row["open"]),
            high=Decimal(row["high"]),
            low=Decimal(row["low"]),
            close=Decimal(row["close"]),
            volume=Decimal(row["volume"]),
        )
        for row in rows
    ]


def _reference(closes: pd.Series) -> list[tuple[int, Action]]:
    # Crosses as sign changes of fast - slow (NaN until both warm), then long/flat.
    diff = closes.rolling(20).mean() - closes.rolling(50).mean()
    sign = np.sign(diff)
    before = sign.shift(1)
    up = (sign > 0) & (before <= 0)  # NaN compares False: no cross out of warm-up
    down = (sign < 0) & (before >= 0)
    out: list[tuple[int, Action]] = []
    long = False
    for i in np.flatnonzero(up.to_numpy() | down.to_numpy()):
        if up.iloc[i] and not long:
            out.append((int(i), Action.ENTER_LONG))
            long = True
        elif down.iloc[i] and long:
            out.append((int(i), Action.EXIT_LONG))
            long = False
    return out


def test_on_candle_over_real_btc_hours_then_same_signal_bars_as_pandas(drive: Drive) -> None:
    """Every entry and exit bar over 18k real hours matches rolling means and sign changes."""
    assert DATA.exists(), f"shared market data missing: {DATA} (../shared/data beside the repo)"
    candles = _candles(DATA)
    closes = pd.Series([float(c.close) for c in candles])
    gap = (closes.rolling(20).mean() - closes.rolling(50).mean()).abs() / closes
    # No near-tie that float rounding in either implementation could flip.
    assert gap.dropna().min() > 1e-9

    signals = drive(SmaCross("BTC-USD"), candles)

    expected = _reference(closes)
    assert len(expected) > 100
    assert [(i, s.action) for i, s in signals] == expected
