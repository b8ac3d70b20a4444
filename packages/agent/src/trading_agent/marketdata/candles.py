"""An append-only candle series for one product and one granularity, gaps kept visible.

Every consumer of history (strategies, regime detection, research) needs the same
guarantee: bars are in order, on the grid, and a missing bar is *known* to be missing.
So a series refuses anything out of order, duplicated, off the grid or of another
product, and a bar that starts after the expected next start records a `Gap` instead
of being padded. Nothing here fills a gap: a forward-filled bar would invent a price
nobody traded and a zero volume that looks like a real quiet minute.

Bars are aligned to the UNIX epoch: a bar of `g` seconds starts at a multiple of `g`
seconds, as Coinbase candles and the files under ../shared/data do.

    CandleSeriesError (ValueError)
        WrongSeriesError      another product or granularity
        MisalignedCandleError start not on the granularity grid
        OutOfOrderCandleError duplicate start or a start earlier than the last bar
"""

from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Final, overload

import msgspec
import numpy as np
import numpy.typing as npt

from trading_agent.domain.market import NS_PER_S, Candle

__all__ = [
    "CandleSeries",
    "CandleSeriesError",
    "Gap",
    "MisalignedCandleError",
    "OutOfOrderCandleError",
    "WrongSeriesError",
    "resample",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
_FIELDS: Final = ("open", "high", "low", "close", "volume")


class CandleSeriesError(ValueError):
    """A candle that cannot join a series without breaking its order or grid."""


class WrongSeriesError(CandleSeriesError):
    """The candle belongs to another product or granularity."""


class MisalignedCandleError(CandleSeriesError):
    """The candle's start is not a multiple of its granularity since the epoch."""


class OutOfOrderCandleError(CandleSeriesError):
    """The candle starts at or before the last candle of the series."""


class Gap(msgspec.Struct, frozen=True, kw_only=True):
    """Missing bars: from `start_ns` (first missing start) to `end_ns` (next present start).

    `missing` = (end_ns - start_ns) / granularity; it is at least 1.
    """

    product_id: str
    granularity_s: int
    start_ns: int
    end_ns: int
    missing: int


class CandleSeries:
    """Candles of one product at one granularity, oldest first, with their gaps.

    Append-only: a live feed and a replay grow it the same way, and a strategy that
    saw bar i can rely on bar i never changing.
    """

    def __init__(self, product_id: str, granularity_s: int) -> None:
        if granularity_s <= 0:
            raise ValueError(f"granularity_s must be positive, got {granularity_s}")
        self.product_id: Final = product_id
        self.granularity_s: Final = granularity_s
        self._step_ns: Final = granularity_s * NS_PER_S
        self._candles: list[Candle] = []
        self._gaps: list[Gap] = []
        # Parallel float columns so the numpy views cost one copy, not a Decimal walk.
        self._columns: dict[str, list[float]] = {name: [] for name in _FIELDS}
        self._starts: list[int] = []

    @classmethod
    def from_candles(
        cls,
        candles: Iterable[Candle],
        *,
        product_id: str | None = None,
        granularity_s: int | None = None,
    ) -> "CandleSeries":
        """A series of `candles`; product and granularity default to the first candle's.

        Raises:
            CandleSeriesError: as `append`. ValueError: empty, with nothing to name it.
        """
        items = iter(candles)
        first = next(items, None)
        if first is not None:
            product_id = first.product_id if product_id is None else product_id
            granularity_s = first.granularity_s if granularity_s is None else granularity_s
        if product_id is None or granularity_s is None:
            raise ValueError("an empty series needs product_id and granularity_s")
        series = cls(product_id, granularity_s)
        if first is not None:
            series.append(first)
        series.extend(items)
        return series

    @property
    def gaps(self) -> list[Gap]:
        """The gaps found so far, oldest first (a copy)."""
        return list(self._gaps)

    @property
    def missing_bars(self) -> int:
        return sum(g.missing for g in self._gaps)

    @property
    def last(self) -> Candle | None:
        return self._candles[-1] if self._candles else None

    @property
    def next_start_ns(self) -> int | None:
        """Where the next bar is expected to start; None while the series is empty."""
        last = self.last
        return None if last is None else last.start_ns + self._step_ns

    def append(self, candle: Candle) -> Gap | None:
        """Add `candle` at the end; return the gap it closes, if it starts late.

        Raises:
            WrongSeriesError, MisalignedCandleError, OutOfOrderCandleError.
        """
        self._check(candle)
        gap = self._gap_before(candle)
        if gap is not None:
            self._gaps.append(gap)
        self._candles.append(candle)
        self._starts.append(candle.start_ns)
        for name in _FIELDS:
            self._columns[name].append(float(getattr(candle, name)))
        return gap

    def extend(self, candles: Iterable[Candle]) -> None:
        for candle in candles:
            self.append(candle)

    def _check(self, candle: Candle) -> None:
        where = f"candle {candle.product_id} @ {candle.start_ns}"
        if candle.product_id != self.product_id:
            raise WrongSeriesError(f"{where}: series is for product {self.product_id}")
        if candle.granularity_s != self.granularity_s:
            raise WrongSeriesError(
                f"{where}: granularity {candle.granularity_s}s, series is {self.granularity_s}s"
            )
        if candle.start_ns % self._step_ns:
            raise MisalignedCandleError(
                f"{where}: start is not a multiple of {self.granularity_s}s since the epoch"
            )
        last = self.last
        if last is not None and candle.start_ns <= last.start_ns:
            kind = "duplicate start" if candle.start_ns == last.start_ns else "out of order"
            raise OutOfOrderCandleError(f"{where}: {kind}, last bar starts at {last.start_ns}")

    def _gap_before(self, candle: Candle) -> Gap | None:
        expected = self.next_start_ns
        if expected is None or candle.start_ns == expected:
            return None
        return Gap(
            product_id=self.product_id,
            granularity_s=self.granularity_s,
            start_ns=expected,
            end_ns=candle.start_ns,
            missing=(candle.start_ns - expected) // self._step_ns,
        )

    def __len__(self) -> int:
        return len(self._candles)

    def __iter__(self) -> Iterator[Candle]:
        return iter(self._candles)

    @overload
    def __getitem__(self, index: int) -> Candle: ...
    @overload
    def __getitem__(self, index: slice) -> list[Candle]: ...
    def __getitem__(self, index: int | slice) -> Candle | list[Candle]:
        return self._candles[index]

    def __repr__(self) -> str:
        return (
            f"CandleSeries({self.product_id!r}, {self.granularity_s}s, "
            f"{len(self)} bars, {len(self._gaps)} gaps)"
        )

    # Numpy views for research: float64 copies, read-only so nobody edits history.
    def opens(self) -> FloatArray:
        return self._column("open")

    def highs(self) -> FloatArray:
        return self._column("high")

    def lows(self) -> FloatArray:
        return self._column("low")

    def closes(self) -> FloatArray:
        return self._column("close")

    def volumes(self) -> FloatArray:
        return self._column("volume")

    def starts_ns(self) -> IntArray:
        out = np.array(self._starts, dtype=np.int64)
        out.flags.writeable = False
        return out

    def _column(self, name: str) -> FloatArray:
        out = np.array(self._columns[name], dtype=np.float64)
        out.flags.writeable = False
        return out


def resample(series: CandleSeries, granularity_s: int) -> CandleSeries:
    """`series` aggregated to `granularity_s`, a multiple of its granularity.

    A coarse bar is built only from a complete set of fine bars. A bucket with any
    fine bar missing is dropped, never built from the bars that are there: a 1h bar
    made of 40 minutes would carry a wrong open, high, low or volume and look whole.
    Dropped buckets inside the series become gaps of the coarse series; a partial
    bucket at either end (the series starts or stops mid-bucket) is simply left out.

    Raises:
        ValueError: `granularity_s` is not a positive multiple of the series granularity.
    """
    fine_s = series.granularity_s
    if granularity_s <= 0 or granularity_s % fine_s:
        raise ValueError(
            f"resample {series.product_id}: {granularity_s}s is not a multiple of {fine_s}s"
        )
    per_bucket = granularity_s // fine_s
    coarse_ns = granularity_s * NS_PER_S
    out = CandleSeries(series.product_id, granularity_s)
    bucket: list[Candle] = []
    for candle in series:
        if bucket and candle.start_ns // coarse_ns != bucket[0].start_ns // coarse_ns:
            _emit(out, bucket, per_bucket, coarse_ns)
            bucket = []
        bucket.append(candle)
    if bucket:
        _emit(out, bucket, per_bucket, coarse_ns)
    return out


def _emit(out: CandleSeries, bucket: list[Candle], per_bucket: int, coarse_ns: int) -> None:
    # Fine bars are unique and on the grid, so a full count means no bar is missing.
    if len(bucket) != per_bucket:
        return
    out.append(
        Candle(
            product_id=out.product_id,
            start_ns=bucket[0].start_ns // coarse_ns * coarse_ns,
            granularity_s=out.granularity_s,
            open=bucket[0].open,
            high=max(c.high for c in bucket),
            low=min(c.low for c in bucket),
            close=bucket[-1].close,
            volume=sum((c.volume for c in bucket), Decimal(0)),
        )
    )
