"""Recorded candles from disk: the gzip CSV files under ../shared/data (see its README).

Format: header `ts,open,high,low,close,volume`; `ts` is the bar's open in integer
epoch seconds, rows strictly ascending, gaps left missing. Reading is strict: any
deviation is a `BarFileError` naming the file and line.
"""

import csv
import gzip
import itertools
import re
from collections.abc import Iterator, Sequence
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Final

from trading_sim.matching.model import Bar

HEADER: Final = ("ts", "open", "high", "low", "close", "volume")
_NS_PER_S: Final = 10**9
_INTEGER: Final = re.compile(r"\d+")
_DECIMAL: Final = re.compile(r"\d+(\.\d+)?")


class BarFileError(ValueError):
    """A candle file that does not match the format, with the line that breaks it."""


def read_bars(path: Path, product_id: str, *, granularity_s: int | None = None) -> list[Bar]:
    """Every bar in `path`, oldest first, with `close_ns` = open + granularity.

    The granularity is the smallest step between rows unless given (gaps only make
    steps longer); a file of one row without it has no close.

    Raises:
        BarFileError: wrong header, a malformed or inconsistent row, or ts not ascending.
        OSError: the file cannot be read.
    """
    rows = list(_rows(path))
    step_s = granularity_s if granularity_s is not None else _smallest_step(rows)
    bars: list[Bar] = []
    for line, ts_s, fields in rows:
        close_ns = None if step_s is None else (ts_s + step_s) * _NS_PER_S
        try:
            bar = Bar(
                product_id=product_id,
                open_ns=ts_s * _NS_PER_S,
                close_ns=close_ns,
                open=_decimal(fields[1]),
                high=_decimal(fields[2]),
                low=_decimal(fields[3]),
                close=_decimal(fields[4]),
                volume=_decimal(fields[5]),
            )
        except ValueError as exc:
            raise BarFileError(f"{path}:{line}: {exc}") from exc
        bars.append(bar)
    return bars


def _rows(path: Path) -> Iterator[tuple[int, int, Sequence[str]]]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as text:
        reader = csv.reader(text)
        header = next(reader, None)
        if header is None or tuple(header) != HEADER:
            raise BarFileError(f"{path}:1: header must be {','.join(HEADER)}, got {header}")
        previous: int | None = None
        for fields in reader:
            line = reader.line_num
            ts_s = _timestamp(path, line, fields)
            if previous is not None and ts_s <= previous:
                raise BarFileError(f"{path}:{line}: ts {ts_s} not after {previous}")
            previous = ts_s
            yield line, ts_s, fields


def _timestamp(path: Path, line: int, fields: Sequence[str]) -> int:
    if len(fields) != len(HEADER):
        raise BarFileError(f"{path}:{line}: expected {len(HEADER)} fields, got {len(fields)}")
    if not _INTEGER.fullmatch(fields[0]):
        raise BarFileError(f"{path}:{line}: ts {fields[0]!r} is not integer epoch seconds")
    return int(fields[0])


def _decimal(text: str) -> Decimal:
    # Plain digits only: no sign, exponent, NaN or Infinity, which Decimal() would accept.
    if not _DECIMAL.fullmatch(text):
        raise ValueError(f"{text!r} is not a plain decimal number")
    return Decimal(text)


def _smallest_step(rows: Sequence[tuple[int, int, Sequence[str]]]) -> int | None:
    steps = [b[1] - a[1] for a, b in itertools.pairwise(rows)]
    return min(steps) if steps else None


def bundled_bars_path(product_id: str) -> Path:
    """The bundled two-week 15-minute sample of `product_id` (BTC-USD, ETH-USD, SOL-USD).

    Raises:
        FileNotFoundError: no sample is bundled for that product.
    """
    path = Path(str(resources.files("trading_sim") / "data" / f"{product_id}_15m_sample.csv.gz"))
    if not path.is_file():
        raise FileNotFoundError(f"no bundled bars for {product_id}")
    return path


BUNDLED_PRODUCTS: Final = ("BTC-USD", "ETH-USD", "SOL-USD")
