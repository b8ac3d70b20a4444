"""CandleSeries keeps order and grid, records gaps without filling them; resample is exact."""

import itertools
from collections import defaultdict
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from trading_agent.domain.market import NS_PER_S, Candle
from trading_agent.marketdata.candles import (
    CandleSeries,
    Gap,
    MisalignedCandleError,
    OutOfOrderCandleError,
    WrongSeriesError,
    resample,
)

T0_NS = 1_704_067_200 * NS_PER_S  # 2024-01-01 00:00 UTC, on every grid up to a day
MINUTE_NS = 60 * NS_PER_S


def bar(
    index: int, *, close: str | Decimal = "100.5", granularity_s: int = 60, **overrides: Any
) -> Candle:
    fields: dict[str, Any] = {
        "product_id": "BTC-USD",
        "start_ns": T0_NS + index * granularity_s * NS_PER_S,
        "granularity_s": granularity_s,
        "open": Decimal(100),
        "high": Decimal(101),
        "low": Decimal(99),
        "close": Decimal(close),
        "volume": Decimal("1.25"),
    }
    return Candle(**(fields | overrides))


@st.composite
def priced_bar(draw: st.DrawFn, index: int, granularity_s: int = 60) -> Candle:
    cents = st.integers(min_value=1, max_value=10**7)
    o, c = draw(cents), draw(cents)
    hi = max(o, c) + draw(st.integers(0, 1000))
    lo = max(1, min(o, c) - draw(st.integers(0, 1000)))
    return bar(
        index,
        granularity_s=granularity_s,
        open=Decimal(o).scaleb(-2),
        high=Decimal(hi).scaleb(-2),
        low=Decimal(lo).scaleb(-2),
        close=Decimal(c).scaleb(-2),
        volume=Decimal(draw(st.integers(0, 10**9))).scaleb(-8),
    )


indices = st.lists(st.integers(0, 600), min_size=1, max_size=120, unique=True).map(sorted)


def test_append_when_contiguous_then_no_gaps() -> None:
    """Bars one step apart leave the gap list empty."""
    series = CandleSeries.from_candles([bar(0), bar(1), bar(2)])

    assert len(series) == 3
    assert series.gaps == []
    assert series.next_start_ns == T0_NS + 3 * MINUTE_NS


def test_append_when_bar_starts_late_then_gap_recorded_and_not_filled() -> None:
    """A bar 4 steps after the last records 3 missing bars and adds nothing but itself."""
    series = CandleSeries.from_candles([bar(0)])

    gap = series.append(bar(4))

    expected = Gap(
        product_id="BTC-USD",
        granularity_s=60,
        start_ns=T0_NS + MINUTE_NS,
        end_ns=T0_NS + 4 * MINUTE_NS,
        missing=3,
    )
    assert gap == expected
    assert series.gaps == [expected]
    assert [c.start_ns for c in series] == [T0_NS, T0_NS + 4 * MINUTE_NS]


@pytest.mark.parametrize(
    ("candle", "error", "words"),
    [
        (bar(5), OutOfOrderCandleError, "duplicate start"),
        (bar(4), OutOfOrderCandleError, "out of order"),
        (bar(6, product_id="ETH-USD"), WrongSeriesError, "product BTC-USD"),
        (bar(6, granularity_s=300), WrongSeriesError, "granularity 300s"),
        (bar(6, start_ns=T0_NS + 6 * MINUTE_NS + 1), MisalignedCandleError, "multiple of 60s"),
    ],
)
def test_append_when_candle_breaks_the_series_then_refused_and_series_unchanged(
    candle: Candle, error: type[Exception], words: str
) -> None:
    """Duplicates, earlier starts, other products or grids and off-grid starts are refused."""
    series = CandleSeries.from_candles([bar(5)])

    with pytest.raises(error, match=words):
        series.append(candle)

    assert len(series) == 1
    assert series.gaps == []


def test_from_candles_when_empty_and_unnamed_then_value_error() -> None:
    """An empty series must be told its product and granularity."""
    with pytest.raises(ValueError, match="needs product_id"):
        CandleSeries.from_candles([])
    assert len(CandleSeries.from_candles([], product_id="X-USD", granularity_s=60)) == 0


@given(indices)
def test_gaps_when_random_bars_present_then_match_index_differences(present: list[int]) -> None:
    """Gaps are exactly the runs of missing grid indices between present bars."""
    series = CandleSeries.from_candles([bar(i) for i in present])

    expected = [
        (T0_NS + (a + 1) * MINUTE_NS, T0_NS + b * MINUTE_NS, b - a - 1)
        for a, b in itertools.pairwise(present)
        if b - a > 1
    ]
    assert [(g.start_ns, g.end_ns, g.missing) for g in series.gaps] == expected
    assert series.missing_bars + len(series) == present[-1] - present[0] + 1


def test_numpy_views_when_read_then_float_copies_that_cannot_be_written() -> None:
    """closes(), highs(), ... are float64 arrays of the Decimal fields, read-only."""
    series = CandleSeries.from_candles([bar(0, close="100.25"), bar(2, close="99.5")])

    closes = series.closes()

    assert closes.dtype == np.float64
    assert closes.tolist() == [100.25, 99.5]
    assert series.highs().tolist() == [101.0, 101.0]
    assert series.lows().tolist() == [99.0, 99.0]
    assert series.opens().tolist() == [100.0, 100.0]
    assert series.volumes().tolist() == [1.25, 1.25]
    assert series.starts_ns().tolist() == [T0_NS, T0_NS + 2 * MINUTE_NS]
    with pytest.raises(ValueError, match="read-only"):
        closes[0] = 1.0


def _reference_resample(candles: list[Candle], factor: int) -> list[tuple[object, ...]]:
    buckets: dict[int, list[Candle]] = defaultdict(list)
    for c in candles:
        buckets[(c.start_ns - T0_NS) // (factor * MINUTE_NS)].append(c)
    return [
        (
            T0_NS + k * factor * MINUTE_NS,
            group[0].open,
            max(c.high for c in group),
            min(c.low for c in group),
            group[-1].close,
            sum((c.volume for c in group), Decimal(0)),
        )
        for k, group in sorted(buckets.items())
        if len(group) == factor
    ]


@given(st.data(), indices, st.sampled_from([2, 5, 15]))
def test_resample_when_random_gaps_then_only_complete_buckets_equal_reference(
    data: st.DataObject, present: list[int], factor: int
) -> None:
    """Coarse bars equal a groupby over complete buckets; incomplete buckets are dropped."""
    candles = [data.draw(priced_bar(i)) for i in present]

    coarse = resample(CandleSeries.from_candles(candles), factor * 60)

    got = [(c.start_ns, c.open, c.high, c.low, c.close, c.volume) for c in coarse]
    assert got == _reference_resample(candles, factor)
    assert all(c.granularity_s == factor * 60 for c in coarse)


def test_resample_when_a_bucket_misses_one_bar_then_it_becomes_a_coarse_gap() -> None:
    """A 5-minute bucket with 4 of 5 minutes is dropped and shows as a 1-bar gap."""
    fine = CandleSeries.from_candles([bar(i) for i in range(15) if i != 7])

    coarse = resample(fine, 300)

    assert [c.start_ns for c in coarse] == [T0_NS, T0_NS + 10 * MINUTE_NS]
    assert coarse.gaps == [
        Gap(
            product_id="BTC-USD",
            granularity_s=300,
            start_ns=T0_NS + 5 * MINUTE_NS,
            end_ns=T0_NS + 10 * MINUTE_NS,
            missing=1,
        )
    ]
    assert coarse[0].volume == Decimal("6.25")  # 5 x 1.25, exact


@pytest.mark.parametrize("granularity_s", [0, -60, 90])
def test_resample_when_not_a_multiple_then_value_error(granularity_s: int) -> None:
    """Only positive multiples of the fine granularity are allowed."""
    with pytest.raises(ValueError, match="not a multiple"):
        resample(CandleSeries.from_candles([bar(0)]), granularity_s)
