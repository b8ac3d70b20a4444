"""The shared CSV candle files read straight into columns, as fast as Arrow parses them.

`replay.read_candle_csv` is the strict reader: row by row, every value a `Decimal`,
every error naming its line. It takes about 10 s for a year of one-minute bars.
`read_candle_columns` gives the same candles as columns in a fraction of that, without
a second definition of the format: it accepts a file only when vectorized checks
*prove* that the strict reader would accept it and read the same values, and otherwise
hands the file to the strict reader, which returns its candles or raises its error
(naming the line). A bad file therefore gets exactly the strict reader's message.

The proof (each check is sufficient, none necessary: failing one only means the strict
reader decides):
- after the exact header, the bytes hold only digits, '.', ',' and '\\n', every line
  has six fields, no '.' starts or ends a field, and Arrow parses every field (so none
  is empty, none has two dots, no ts has one): every value is the strict reader's
  `\\d+(\\.\\d+)?` (ts `\\d+`), with no quote, space, sign, exponent, NaN or CR for
  the csv module to read otherwise;
- each value as an exact scaled integer (its digits without the '.', times a power of
  ten) fits int64: then open, high, low, close > 0 and low <= open, close <= high are
  checked exactly, in integers;
- ts are strictly ascending, on the granularity's grid, and fit int64 nanoseconds.
The floats are Arrow's parse of the same text, correctly rounded as float() is
(`decimal_text` holds what this shares with the Parquet reader).
"""

import gzip
import zlib
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from trading_agent.domain.market import NS_PER_S
from trading_agent.marketdata.columns import FIELDS, CandleColumns, columns_of
from trading_agent.marketdata.decimal_text import TextColumn, parse_csv, plain_dots, prices_ordered
from trading_agent.marketdata.replay import CSV_HEADER, read_candle_csv

__all__ = ["read_candle_columns"]

IntArray = npt.NDArray[np.int64]
_HEADER: Final = (",".join(CSV_HEADER) + "\n").encode()
_ALLOWED: Final = b"0123456789.,\n"
_COMMA, _NEWLINE = ord(","), ord("\n")
_WIDTH: Final = len(CSV_HEADER)
_LINE: Final = np.array([_COMMA] * (_WIDTH - 1) + [_NEWLINE], dtype=np.uint8)
_MAX_TS_S: Final = (2**63 - 1) // NS_PER_S


def read_candle_columns(
    path: Path, product_id: str, granularity_s: int | None = None
) -> CandleColumns:
    """The candles of `path` as `CandleColumns`: those `read_candle_csv` returns.

    Raises:
        CandleFileError, OSError: as `read_candle_csv` (which reads any file this
            module cannot prove good).
    """
    data = path.read_bytes()
    if path.suffix == ".gz":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error):
            data = b""  # the strict reader names the problem
    fast = _proved(data, product_id, granularity_s)
    if fast is not None:
        return fast
    return columns_of(read_candle_csv(path, product_id, granularity_s))


def _proved(data: bytes, product_id: str, granularity_s: int | None) -> CandleColumns | None:
    if not data.startswith(_HEADER):
        return None
    body = data[len(_HEADER) :]
    if body and not body.endswith(b"\n"):
        body += b"\n"
    columns = _columns(body)
    if columns is None:
        return None
    floats = parse_csv(body, {"ts": pa.int64()} | dict.fromkeys(FIELDS, pa.float64()))
    digits = parse_csv(body.replace(b".", b""), dict.fromkeys(CSV_HEADER, pa.int64()))
    if floats is None or digits is None:
        return None
    ts = digits["ts"].astype(np.int64, copy=False)
    step = _step(ts, granularity_s)
    scaled = {
        name: columns[name].scaled(digits[name].astype(np.int64, copy=False)) for name in FIELDS
    }
    if step is None or not prices_ordered(scaled):
        return None  # (a volume without int64 scaling is scaled exactly when asked)
    return CandleColumns(
        product_id,
        step,
        ts * np.int64(NS_PER_S),
        {name: floats[name].astype(np.float64, copy=False) for name in FIELDS},
        {name: columns[name].text() for name in FIELDS},
        scale=scaled.get,
    )


def _columns(body: bytes) -> dict[str, TextColumn] | None:
    """Each field's text column, if every line is six plain decimals."""
    if len(body) < 2 or body.translate(None, _ALLOWED):
        return None
    b = np.frombuffer(body, dtype=np.uint8)
    sep = np.flatnonzero((b == _COMMA) | (b == _NEWLINE))
    if len(sep) < 2 * _WIDTH or len(sep) % _WIDTH:
        return None  # one row (no step to infer), or not six fields a line
    if not (b[sep].reshape(-1, _WIDTH) == _LINE).all():
        return None  # an empty line, which Arrow would skip: lines must be rows
    end = sep.astype(np.int64)
    start = np.concatenate(([0], end[:-1] + 1)).astype(np.int64)
    dot = plain_dots(b, start, end)
    if dot is None:
        return None
    return {
        name: TextColumn(body, start[k::_WIDTH], end[k::_WIDTH], dot[k::_WIDTH])
        for k, name in enumerate(CSV_HEADER)
    }


def _step(ts: IntArray, granularity_s: int | None) -> int | None:
    steps = np.diff(ts)
    if (steps <= 0).any() or ts.max() > _MAX_TS_S:
        return None
    step = int(steps.min()) if granularity_s is None else granularity_s
    # A step past every ts (past int64 too, where numpy would overflow) has no two
    # rows on its grid: the strict reader says which.
    if not 0 < step <= _MAX_TS_S or (ts % step).any():
        return None
    return step
