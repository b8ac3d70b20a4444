"""Stored candle history in and out: the shared CSV files, Parquet, and a replay source.

The CSV format is that of ../shared/data (see its README): gzip (or plain) CSV with
header `ts,open,high,low,close,volume`, `ts` the bar's open in integer epoch seconds,
rows strictly ascending, gaps left missing. Parquet files hold one product at one
granularity with prices and volume as *strings*, so every Decimal digit and its scale
survive a round trip (decimal128 would force one scale on every row).

Reading is strict and every error names the file and the line (CSV) or row (Parquet):
history with a silent hole or a swapped row would make a backtest lie. Gaps in a file
stay gaps; the returned lists always form a valid `CandleSeries`.
"""

import csv
import gzip
import itertools
import re
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import IO, Final

import pyarrow as pa
import pyarrow.parquet as pq

from trading_agent.domain.market import NS_PER_S, Candle
from trading_agent.marketdata.candles import CandleSeries, Gap
from trading_agent.marketdata.source import merge_by_completion

__all__ = [
    "CSV_HEADER",
    "PARQUET_SCHEMA",
    "CandleFileError",
    "ReplaySource",
    "read_candle_csv",
    "read_candle_parquet",
    "read_parquet_table",
    "write_candle_parquet",
]

CSV_HEADER: Final = ("ts", "open", "high", "low", "close", "volume")
_PRICES: Final = ("open", "high", "low", "close", "volume")
_INTEGER: Final = re.compile(r"\d+")
_PLAIN_DECIMAL: Final = re.compile(r"\d+(\.\d+)?")
_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1
PARQUET_SCHEMA: Final = pa.schema(
    [("product_id", pa.string()), ("start_ns", pa.int64()), ("granularity_s", pa.int64())]
    + [(name, pa.string()) for name in _PRICES]
)


class CandleFileError(ValueError):
    """A candle file that breaks its format, naming the file and the line or row."""


Row = tuple[int, int, list[str]]  # (line, ts_s, fields)


def read_candle_csv(path: Path, product_id: str, granularity_s: int | None = None) -> list[Candle]:
    """Every candle in `path`, oldest first.

    The granularity defaults to the smallest step between rows (a gap only lengthens
    a step); a one-row file needs it given.

    Raises:
        CandleFileError: a bad header or row, rows not ascending, a ts off the grid, or
            bytes that are not gzip (for .gz) or not UTF-8 text.
        OSError: the file cannot be read.
    """
    try:
        rows = list(_csv_rows(path))
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise CandleFileError(f"{path}: not a readable gzip file: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise CandleFileError(f"{path}: not UTF-8 text at byte {exc.start}: {exc.reason}") from exc
    step_s = granularity_s if granularity_s is not None else _smallest_step(path, rows)
    series = CandleSeries(product_id, step_s)
    for line, ts_s, fields in rows:
        try:
            series.append(
                Candle(
                    product_id=product_id,
                    start_ns=ts_s * NS_PER_S,
                    granularity_s=step_s,
                    **{
                        name: _plain_decimal(text)
                        for name, text in zip(_PRICES, fields[1:], strict=True)
                    },
                )
            )
        except ValueError as exc:  # CandleSeriesError included
            raise CandleFileError(f"{path}:{line}: {exc}") from exc
    return list(series)


def _csv_rows(path: Path) -> Iterator[Row]:
    with _open_text(path) as text:
        reader = csv.reader(text)
        header = next(reader, None)
        if header is None or tuple(header) != CSV_HEADER:
            raise CandleFileError(f"{path}:1: header must be {','.join(CSV_HEADER)}, got {header}")
        previous: int | None = None
        for fields in reader:
            line = reader.line_num
            if len(fields) != len(CSV_HEADER):
                raise CandleFileError(
                    f"{path}:{line}: expected {len(CSV_HEADER)} fields, got {len(fields)}"
                )
            if not _INTEGER.fullmatch(fields[0]):
                raise CandleFileError(f"{path}:{line}: ts {fields[0]!r} is not epoch seconds")
            ts_s = int(fields[0])
            if previous is not None and ts_s <= previous:
                raise CandleFileError(f"{path}:{line}: ts {ts_s} is not after {previous}")
            previous = ts_s
            yield line, ts_s, fields


def _open_text(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", newline="")
    return path.open(encoding="utf-8", newline="")


def _plain_decimal(text: str) -> Decimal:
    # Decimal() would also take signs, exponents, NaN and Infinity; the format has none.
    if not _PLAIN_DECIMAL.fullmatch(text):
        raise ValueError(f"{text!r} is not a plain decimal number")
    return Decimal(text)


def _smallest_step(path: Path, rows: Sequence[Row]) -> int:
    if len(rows) < 2:
        raise CandleFileError(f"{path}: {len(rows)} row(s); pass granularity_s to read it")
    return min(b[1] - a[1] for a, b in itertools.pairwise(rows))


def write_candle_parquet(path: Path, candles: Iterable[Candle]) -> None:
    """Write `candles` (one product, one granularity, in order) to a Parquet file.

    Raises:
        CandleSeriesError: the candles do not form one series.
        ValueError: there are no candles, or a start does not fit int64 nanoseconds.
    """
    series = CandleSeries.from_candles(candles)
    columns: dict[str, list[object]] = {name: [] for name in PARQUET_SCHEMA.names}
    for c in series:
        if not _INT64_MIN <= c.start_ns <= _INT64_MAX:
            raise ValueError(f"candle {c.product_id} @ {c.start_ns}: start_ns exceeds int64")
        columns["product_id"].append(c.product_id)
        columns["start_ns"].append(c.start_ns)
        columns["granularity_s"].append(c.granularity_s)
        for name in _PRICES:
            columns[name].append(str(getattr(c, name)))
    pq.write_table(pa.table(columns, schema=PARQUET_SCHEMA), path)


def read_candle_parquet(path: Path, product_id: str) -> list[Candle]:
    """The candles of `product_id` in a file `write_candle_parquet` wrote.

    Raises:
        CandleFileError: another schema or product, a bad value, or rows out of order.
        OSError: the file cannot be read.
    """
    try:
        table = read_parquet_table(path)
    except pa.ArrowInvalid as exc:
        raise CandleFileError(f"{path}: not a readable Parquet file: {exc}") from exc
    if not table.schema.equals(PARQUET_SCHEMA):
        raise CandleFileError(f"{path}: schema must be {PARQUET_SCHEMA}, got {table.schema}")
    series: CandleSeries | None = None
    for index, row in enumerate(table.to_pylist()):
        try:
            candle = _parquet_candle(row, product_id)
            if series is None:
                series = CandleSeries(product_id, candle.granularity_s)
            series.append(candle)
        except (ValueError, ArithmeticError) as exc:  # CandleSeriesError included
            raise CandleFileError(f"{path}: row {index}: {exc}") from exc
    return [] if series is None else list(series)


def read_parquet_table(path: Path) -> pa.Table:
    """The whole table of one Parquet file.

    `pq.ParquetFile`, not `pq.read_table`: the dataset machinery behind the latter
    imports pandas where it is installed, about a second and a half per process.

    Raises:
        pa.ArrowInvalid: not a Parquet file. OSError: it cannot be read.
    """
    with pq.ParquetFile(path) as parquet:
        return parquet.read()


def _parquet_candle(row: Mapping[str, object], product_id: str) -> Candle:
    if row["product_id"] != product_id:
        raise ValueError(f"product {row['product_id']!r}, expected {product_id!r}")
    start_ns, granularity_s = row["start_ns"], row["granularity_s"]
    if not isinstance(start_ns, int) or not isinstance(granularity_s, int):
        raise ValueError("start_ns and granularity_s must not be null")
    return Candle(
        product_id=product_id,
        start_ns=start_ns,
        granularity_s=granularity_s,
        **{name: _stored_decimal(row[name], name) for name in _PRICES},
    )


def _stored_decimal(value: object, name: str) -> Decimal:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a decimal string, got {value!r}")
    return Decimal(value)  # InvalidOperation (an ArithmeticError) on a bad string


class ReplaySource:
    """Stored candles of several products, delivered in completion order.

    Each product's candles are checked into a `CandleSeries` up front, so an ordering
    problem fails at construction, not halfway through a backtest. Iterating again
    replays from the start.

    Raises:
        CandleSeriesError: a product's candles do not form one series.
        ValueError: a key differs from its candles' product.
    """

    def __init__(self, series_by_product: Mapping[str, CandleSeries | Sequence[Candle]]):
        self._series: dict[str, CandleSeries] = {}
        for product_id, candles in series_by_product.items():
            if isinstance(candles, CandleSeries):
                series = candles
            elif candles:
                series = CandleSeries.from_candles(candles)
            else:
                raise ValueError(f"replay: no candles for {product_id!r}")
            if series.product_id != product_id:
                raise ValueError(f"replay: key {product_id!r} holds {series.product_id} candles")
            self._series[product_id] = series

    @property
    def products(self) -> tuple[str, ...]:
        return tuple(sorted(self._series))

    def series(self, product_id: str) -> CandleSeries:
        return self._series[product_id]

    @property
    def gaps(self) -> dict[str, list[Gap]]:
        return {p: s.gaps for p, s in sorted(self._series.items())}

    def __iter__(self) -> Iterator[Candle]:
        return merge_by_completion(self._series[p] for p in self.products)

    def __len__(self) -> int:
        return sum(len(s) for s in self._series.values())
