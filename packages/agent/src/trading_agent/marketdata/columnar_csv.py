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
The floats are Arrow's parse of the same text, correctly rounded as float() is.

Arrow parses; numpy checks. `pyarrow.compute` is not used: importing it costs a second.
"""

import gzip
import io
import zlib
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.csv as pa_csv

from trading_agent.domain.market import NS_PER_S
from trading_agent.marketdata.columns import FIELDS, CandleColumns, Scaled, Text, columns_of
from trading_agent.marketdata.replay import CSV_HEADER, read_candle_csv

__all__ = ["read_candle_columns"]

IntArray = npt.NDArray[np.int64]
_HEADER: Final = (",".join(CSV_HEADER) + "\n").encode()
_ALLOWED: Final = b"0123456789.,\n"
_COMMA, _NEWLINE, _DOT = ord(","), ord("\n"), ord(".")
_WIDTH: Final = len(CSV_HEADER)
_LINE: Final = np.array([_COMMA] * (_WIDTH - 1) + [_NEWLINE], dtype=np.uint8)
_MAX_TS_S: Final = (2**63 - 1) // NS_PER_S
_INT64_DIGITS: Final = 18  # at most 18 digits: below 10**18, safely inside int64
_PRICES: Final = ("open", "high", "low", "close")


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


class _Layout:
    """Where every field of the body lies: field f spans body[start[f]:end[f]]; row r's
    field k is f = 6r + k."""

    def __init__(self, body: bytes, start: IntArray, end: IntArray, dot: IntArray) -> None:
        self.body = body
        self.start = start
        self.end = end
        self.dot = dot  # the '.' of field f, or -1

    def text(self, column: int) -> Text:
        start, end, body = self.start[column::_WIDTH], self.end[column::_WIDTH], self.body
        return lambda i: body[start[i] : end[i]].decode("ascii")

    def scaled(self, column: int, digits: IntArray) -> Scaled | None:
        """Column `column` as ints * 10**-decimals, None if one might overflow int64."""
        start, end = self.start[column::_WIDTH], self.end[column::_WIDTH]
        dot = self.dot[column::_WIDTH]
        fraction = np.where(dot >= 0, end - dot - 1, 0)
        decimals = int(fraction.max())
        shift = decimals - fraction
        if int((end - start - (dot >= 0) + shift).max()) > _INT64_DIGITS:
            return None
        return Scaled(decimals, digits * (10**shift).astype(np.int64))


def _proved(data: bytes, product_id: str, granularity_s: int | None) -> CandleColumns | None:
    if not data.startswith(_HEADER):
        return None
    body = data[len(_HEADER) :]
    if body and not body.endswith(b"\n"):
        body += b"\n"
    layout = _layout(body)
    if layout is None:
        return None
    parsed = _parse(body)
    if parsed is None:
        return None
    ts, floats, digits = parsed
    step = _step(ts, granularity_s)
    scaled = {name: layout.scaled(k + 1, digits[name]) for k, name in enumerate(FIELDS)}
    if step is None or not _values_proved(scaled):
        return None
    return CandleColumns(
        product_id,
        step,
        ts * np.int64(NS_PER_S),
        floats,
        {name: layout.text(k + 1) for k, name in enumerate(FIELDS)},
        scale=scaled.get,
    )


def _layout(body: bytes) -> _Layout | None:
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
    dots = np.flatnonzero(b == _DOT).astype(np.int64)
    field = np.searchsorted(end, dots)
    # Arrow refuses an empty field (a null), two dots and a dot in an int itself, but
    # reads ".5" and "5." as numbers: those are not plain decimals.
    if len(dots) and ((dots == start[field]).any() or (dots == end[field] - 1).any()):
        return None
    dot = np.full(len(end), -1, dtype=np.int64)
    dot[field] = dots
    return _Layout(body, start, end, dot)


def _parse(
    body: bytes,
) -> tuple[IntArray, dict[str, npt.NDArray[np.float64]], dict[str, IntArray]] | None:
    """(ts, floats, digits): digits are each value's digits without its '.'."""
    floats = _read(body, pa.float64())
    digits = _read(body.replace(b".", b""), pa.int64())
    if floats is None or digits is None:
        return None  # a value Arrow refuses, an int past int64
    return (
        digits["ts"].astype(np.int64, copy=False),
        {name: floats[name].astype(np.float64, copy=False) for name in FIELDS},
        {name: digits[name].astype(np.int64, copy=False) for name in FIELDS},
    )


def _read(body: bytes, kind: pa.DataType) -> dict[str, npt.NDArray[np.generic]] | None:
    types = {name: kind for name in CSV_HEADER} | {"ts": pa.int64()}
    try:
        table = pa_csv.read_csv(
            io.BytesIO(body),
            read_options=pa_csv.ReadOptions(column_names=list(CSV_HEADER)),
            convert_options=pa_csv.ConvertOptions(column_types=types),
        )
    except pa.ArrowInvalid:
        return None
    out = {name: _values(table[name]) for name in CSV_HEADER}
    return None if any(v is None for v in out.values()) else out  # type: ignore[return-value]


def _values(column: pa.ChunkedArray) -> npt.NDArray[np.generic] | None:
    """The column's values, read from Arrow's buffers: `to_numpy` would import pandas
    (a second, where it is installed) for what is one copy."""
    dtype = np.dtype(column.type.to_pandas_dtype())
    parts = []
    for chunk in column.chunks:
        if chunk.null_count:
            return None
        data = chunk.buffers()[1]
        parts.append(
            np.frombuffer(data, dtype=dtype, count=len(chunk), offset=chunk.offset * dtype.itemsize)
        )
    return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)


def _step(ts: IntArray, granularity_s: int | None) -> int | None:
    steps = np.diff(ts)
    if (steps <= 0).any() or ts.max() > _MAX_TS_S:
        return None
    step = int(steps.min()) if granularity_s is None else granularity_s
    if step <= 0 or (ts % step).any():
        return None
    return step


def _values_proved(scaled: dict[str, Scaled | None]) -> bool:
    prices = [scaled[name] for name in _PRICES]
    if any(s is None for s in prices) or scaled["volume"] is None:
        return False
    common = max(s.decimals for s in prices if s is not None)
    at: dict[str, IntArray] = {}
    for name in _PRICES:
        s = scaled[name]
        assert s is not None  # noqa: S101 - checked above
        widen = common - s.decimals
        if int(np.abs(s.ints).max()) >= 10 ** (_INT64_DIGITS - widen):
            return False  # widening to the common scale might overflow
        at[name] = s.ints * np.int64(10**widen)
    low, high = at["low"], at["high"]
    return bool(
        (low > 0).all()
        and (low <= at["open"]).all()
        and (low <= at["close"]).all()
        and (at["open"] <= high).all()
        and (at["close"] <= high).all()
    )
