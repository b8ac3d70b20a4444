"""Parquet candle files (`write_candle_parquet`'s) read straight into columns.

`replay.read_candle_parquet` is the strict reader: every row a `Candle` of five
`Decimal`s, each error naming its row; about 5 s for a year of one-minute bars.
`read_candle_parquet_columns` gives the same candles as columns, accepting a file only
when vectorized checks prove the strict reader would accept it and read the same
values, and otherwise handing it to the strict reader (whose candles it returns, or
whose error it raises):
- the schema is the writer's, every row names `product_id`, no value is null;
- one granularity, positive; starts strictly ascending and on its grid;
- every price and volume is a plain decimal (`\\d+(\\.\\d+)?`), and exactly
  0 < low <= open, close <= high (see `decimal_text`).
A value in exponent form (`str(Decimal)` writes a zero with 8 places as "0E-8") is
not plain: such a file is read by the strict reader, slower but the same.
"""

from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from trading_agent.domain.market import NS_PER_S
from trading_agent.marketdata.columns import FIELDS, CandleColumns, columns_of
from trading_agent.marketdata.decimal_text import (
    TextColumn,
    arrow_values,
    parse_csv,
    plain_dots,
    prices_ordered,
)
from trading_agent.marketdata.replay import (
    PARQUET_SCHEMA,
    CandleFileError,
    read_candle_parquet,
    read_parquet_table,
)

__all__ = ["read_candle_parquet_columns"]

IntArray = npt.NDArray[np.int64]
_DIGITS_AND_DOT: Final = b"0123456789."
_NEWLINE: Final = ord("\n")
_MAX_STEP_S: Final = (2**63 - 1) // NS_PER_S


def read_candle_parquet_columns(path: Path, product_id: str) -> CandleColumns:
    """The candles of `path` as `CandleColumns`: those `read_candle_parquet` returns.

    Raises:
        CandleFileError, OSError: as `read_candle_parquet`; CandleFileError also for a
            file with no candles (columns need at least one).
    """
    fast = _proved(path, product_id)
    if fast is not None:
        return fast
    candles = read_candle_parquet(path, product_id)
    if not candles:
        raise CandleFileError(f"{path}: no candles of {product_id}")
    return columns_of(candles)


def _proved(path: Path, product_id: str) -> CandleColumns | None:
    try:
        table = read_parquet_table(path)
    except (pa.ArrowInvalid, OSError):
        return None  # the strict reader names the problem
    if not table.schema.equals(PARQUET_SCHEMA):
        return None
    if not _all_equal(table["product_id"].combine_chunks(), product_id):
        return None  # another product, a null, or no rows at all
    starts, granularity = arrow_values(table["start_ns"]), arrow_values(table["granularity_s"])
    if starts is None or granularity is None:
        return None
    step = int(granularity[0])
    starts = starts.astype(np.int64, copy=False)
    if not 0 < step <= _MAX_STEP_S or (granularity != step).any() or (np.diff(starts) <= 0).any():
        return None  # (a step whose nanoseconds pass int64 would overflow the grid check)
    if (starts % (step * NS_PER_S)).any():
        return None
    columns = {name: _text_column(table[name].combine_chunks()) for name in FIELDS}
    if any(c is None for c in columns.values()):
        return None
    return _with_values(product_id, step, starts, columns)  # type: ignore[arg-type]


def _with_values(
    product_id: str, step: int, starts: IntArray, columns: dict[str, TextColumn]
) -> CandleColumns | None:
    floats, scaled = {}, {}
    for name, column in columns.items():
        body = _lines(column)
        parsed = parse_csv(body, {"v": pa.float64()})
        digits = parse_csv(body.replace(b".", b""), {"v": pa.int64()})
        if parsed is None or digits is None:
            return None
        floats[name] = parsed["v"].astype(np.float64, copy=False)
        scaled[name] = column.scaled(digits["v"].astype(np.int64, copy=False))
    if not prices_ordered(scaled):
        return None  # (a volume without int64 scaling is scaled exactly when asked)
    return CandleColumns(
        product_id,
        step,
        starts,
        floats,
        {name: column.text() for name, column in columns.items()},
        scale=scaled.get,
    )


def _strings(strings: pa.Array) -> tuple[bytes, IntArray, IntArray] | None:
    """A string column's values as one byte string and where each lies in it (value i
    is body[start[i]:end[i]]), from Arrow's buffers; None if one is null."""
    if strings.null_count or not isinstance(strings, pa.StringArray):
        return None
    _, offsets_buffer, data_buffer = strings.buffers()
    offsets = np.frombuffer(
        offsets_buffer, dtype=np.int32, count=len(strings) + 1, offset=strings.offset * 4
    ).astype(np.int64)
    first = int(offsets[0])
    body = b"" if data_buffer is None else data_buffer.to_pybytes()[first : int(offsets[-1])]
    return body, offsets[:-1] - first, offsets[1:] - first


def _all_equal(strings: pa.Array, value: str) -> bool:
    """Every row is `value` (and there is one): compared in bytes, where `to_pylist`
    would build a Python string per row (0.15 s for a year of minutes)."""
    found = _strings(strings)
    if found is None or not len(strings):
        return False
    body, start, end = found
    text = value.encode()
    return bool((end - start == len(text)).all()) and body == text * len(strings)


def _text_column(strings: pa.Array) -> TextColumn | None:
    """The values of a string column as a `TextColumn`, if each is digits and dots
    only (none null)."""
    found = _strings(strings)
    if found is None:
        return None
    body, start, end = found
    if body.translate(None, _DIGITS_AND_DOT):
        return None
    dot = plain_dots(np.frombuffer(body, dtype=np.uint8), start, end)
    return None if dot is None else TextColumn(body, start, end, dot)


def _lines(column: TextColumn) -> bytes:
    """The column's values one per line, for Arrow's CSV parser."""
    b = np.frombuffer(column.body, dtype=np.uint8)
    return np.insert(b, column.end, _NEWLINE).tobytes()
