"""Columns of plain decimal text ("42", "0.5"), proved and converted without a Decimal each.

The column readers (`columnar_csv`, `columnar_parquet`) take a file's values as bytes,
prove with numpy that each is a plain decimal (`\\d+(\\.\\d+)?`, the strict readers'
own pattern) and have Arrow's CSV parser turn them into floats (correctly rounded, as
`float()` is) and into their digits without the '.' (int64), from which the exact value
is those digits times a power of ten. The open, high, low and close are then checked
exactly, in integers.

Arrow parses; numpy checks. `pyarrow.compute` is not used: it imports pandas (a second,
where it is installed), and so does Arrow's `to_numpy`; values are read from Arrow's
buffers instead.
"""

import io
from collections.abc import Mapping, Sequence
from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.csv as pa_csv

from trading_agent.marketdata.columns import Scaled, Text

__all__ = ["TextColumn", "arrow_values", "parse_csv", "plain_dots", "prices_ordered"]

IntArray = npt.NDArray[np.int64]
_DOT: Final = ord(".")
_INT64_DIGITS: Final = 18  # at most 18 digits: below 10**18, safely inside int64
_PRICES: Final = ("open", "high", "low", "close")


class TextColumn:
    """One column of plain decimals: value i is body[start[i]:end[i]], with its '.' at
    dot[i] (-1 if none)."""

    def __init__(self, body: bytes, start: IntArray, end: IntArray, dot: IntArray) -> None:
        self.body = body
        self.start = start
        self.end = end
        self.dot = dot

    def text(self) -> Text:
        """Value i as its text (a `Candle` is built from it)."""
        start, end, body = self.start, self.end, self.body
        return lambda i: body[start[i] : end[i]].decode("ascii")

    def scaled(self, digits: IntArray) -> Scaled | None:
        """The column as ints * 10**-decimals, given each value's digits without its '.';
        None if one might not fit int64 (the caller then scales exactly in Python)."""
        has_dot = self.dot >= 0
        fraction = np.where(has_dot, self.end - self.dot - 1, 0)
        decimals = int(fraction.max())
        shift = decimals - fraction
        if int((self.end - self.start - has_dot + shift).max()) > _INT64_DIGITS:
            return None
        return Scaled(decimals, digits * (10**shift).astype(np.int64))


def plain_dots(b: npt.NDArray[np.uint8], start: IntArray, end: IntArray) -> IntArray | None:
    """Each field's '.' (-1 if none), given fields of digits and dots only; None if a
    field is empty or starts or ends with a dot (".5", "5.": Arrow reads them, the
    strict readers do not). Two dots in a field Arrow refuses itself, later."""
    if (end <= start).any():
        return None
    dots = np.flatnonzero(b == _DOT).astype(np.int64)
    field = np.searchsorted(end, dots, side="right")
    if len(dots) and ((dots == start[field]).any() or (dots == end[field] - 1).any()):
        return None
    dot = np.full(len(end), -1, dtype=np.int64)
    dot[field] = dots
    return dot


def parse_csv(
    body: bytes, types: Mapping[str, pa.DataType]
) -> dict[str, npt.NDArray[np.generic]] | None:
    """The columns of a headerless CSV body of these columns and types, as numpy
    arrays; None if Arrow refuses a value (or an int past int64) or finds a null."""
    try:
        table = pa_csv.read_csv(
            io.BytesIO(body),
            read_options=pa_csv.ReadOptions(column_names=list(types)),
            convert_options=pa_csv.ConvertOptions(column_types=dict(types)),
        )
    except pa.ArrowInvalid:
        return None
    out = {name: arrow_values(table[name]) for name in types}
    return None if any(v is None for v in out.values()) else out  # type: ignore[return-value]


def arrow_values(column: pa.ChunkedArray) -> npt.NDArray[np.generic] | None:
    """A numeric column's values from Arrow's buffers (None if it holds a null)."""
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


def prices_ordered(scaled: Mapping[str, Scaled | None], names: Sequence[str] = _PRICES) -> bool:
    """Exactly 0 < low <= open, close <= high on every bar, in integers at one scale;
    False also where a column has no int64 scaling or widening might overflow."""
    prices = [scaled[name] for name in names]
    if any(s is None for s in prices):
        return False
    common = max(s.decimals for s in prices if s is not None)
    at: dict[str, IntArray] = {}
    for name in names:
        s = scaled[name]
        assert s is not None  # noqa: S101 - checked above
        widen = common - s.decimals
        if int(np.abs(s.ints).max()) >= 10 ** (_INT64_DIGITS - widen):
            return False
        at[name] = s.ints * np.int64(10**widen)
    low, high = at["low"], at["high"]
    return bool(
        (low > 0).all()
        and (low <= at["open"]).all()
        and (low <= at["close"]).all()
        and (at["open"] <= high).all()
        and (at["close"] <= high).all()
    )
