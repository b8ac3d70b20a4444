"""Fixtures for the loopback venue: a key pair and a small candle file with known prices.

The file is written here as text and read back by the venue with `read_bars`; tests
that need expected values parse the same text with the csv module, independently of
the code under test.
"""

import csv
import gzip
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

import pytest

from trading_sim.bars import read_bars
from trading_sim.matching.model import Bar
from trading_sim.venue.testing import KeyPair, new_key_pair

PRODUCT = "BTC-USD"
T0_S = 1_700_000_040  # a minute boundary (2023-11-14T22:14:00Z)
STEP_S = 60
ROWS = 40


class Row(NamedTuple):
    ts: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


def _csv_text() -> str:
    # Closes 100, 101, ... each bar opening at the previous close; range +-1 around.
    lines = ["ts,open,high,low,close,volume"]
    previous = 100
    for i in range(ROWS):
        close = 100 + i
        high, low = max(previous, close) + 1, min(previous, close) - 1
        lines.append(f"{T0_S + i * STEP_S},{previous}.00,{high}.00,{low}.00,{close}.00,10.5")
        previous = close
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="session")
def key_pair() -> KeyPair:
    """One EC P-256 pair for the session (generation is the slow part)."""
    return new_key_pair("ES256")


@pytest.fixture
def candle_file(tmp_path: Path) -> Path:
    path = tmp_path / f"{PRODUCT}_1m.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8", newline="") as f:
        f.write(_csv_text())
    return path


@pytest.fixture
def rows(candle_file: Path) -> list[Row]:
    """The file's rows read with the csv module (the independent reference)."""
    with gzip.open(candle_file, "rt", encoding="utf-8", newline="") as f:
        return [
            Row(
                int(r["ts"]),
                Decimal(r["open"]),
                Decimal(r["high"]),
                Decimal(r["low"]),
                Decimal(r["close"]),
                Decimal(r["volume"]),
            )
            for r in csv.DictReader(f)
        ]


@pytest.fixture
def series(candle_file: Path) -> dict[str, list[Bar]]:
    """The file as the venue reads it."""
    return {PRODUCT: read_bars(candle_file, PRODUCT)}
