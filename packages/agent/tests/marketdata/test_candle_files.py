"""Candle files: the shared CSV format read strictly, and a lossless Parquet round trip."""

import gzip
import tempfile
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import msgspec
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trading_agent.domain.market import NS_PER_S, Candle
from trading_agent.marketdata.candles import CandleSeries, CandleSeriesError
from trading_agent.marketdata.replay import (
    CandleFileError,
    read_candle_csv,
    read_candle_parquet,
    write_candle_parquet,
)

# This file is <repo>/packages/agent/tests/marketdata/<file>: parents[4] is the repo,
# and the shared data sits beside it (/work/main -> /work/shared/data).
SHARED_DATA = Path(__file__).resolve().parents[4].parent / "shared" / "data"
BTC_1M = SHARED_DATA / "coinbase" / "BTC-USD_1m_20201122-20201212.csv.gz"
HEADER = "ts,open,high,low,close,volume\n"


def utc_ns(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()) * NS_PER_S


def shared_file(path: Path) -> Path:
    if not path.is_file():
        pytest.fail(f"shared market data missing: {path} (expected ../shared/data beside the repo)")
    return path


def write_gz(directory: Path, text: str, name: str = "X-USD_1m.csv.gz") -> Path:
    path = directory / name
    with gzip.open(path, "wt", encoding="utf-8", newline="") as f:
        f.write(text)
    return path


@pytest.fixture(scope="module")
def btc_minutes() -> list[Candle]:
    return read_candle_csv(shared_file(BTC_1M), "BTC-USD")


def test_read_candle_csv_when_real_btc_minutes_then_rows_and_the_one_readme_gap(
    btc_minutes: list[Candle],
) -> None:
    """The 1m BTC-USD file has 27950 bars and one gap: 21:08 -> 21:10 (21:09 missing)."""
    candles = btc_minutes

    series = CandleSeries.from_candles(candles)

    assert len(series) == 27_950
    assert series.granularity_s == 60
    assert (candles[0].start_ns, candles[-1].start_ns) == (
        utc_ns("2020-11-22T18:46"),
        utc_ns("2020-12-12T04:36"),
    )
    [gap] = series.gaps
    assert (gap.start_ns, gap.end_ns, gap.missing) == (
        utc_ns("2020-11-24T21:09"),
        utc_ns("2020-11-24T21:10"),
        1,
    )


def test_read_candle_csv_when_real_file_then_values_equal_pandas_reading(
    btc_minutes: list[Candle],
) -> None:
    """Every bar equals an independent pandas read of the same file."""
    frame = pd.read_csv(shared_file(BTC_1M), dtype=str)

    series = CandleSeries.from_candles(btc_minutes)

    assert series.starts_ns().tolist() == [int(t) * NS_PER_S for t in frame["ts"]]
    assert [str(c.close) for c in series] == frame["close"].tolist()
    assert [str(c.volume) for c in series] == frame["volume"].tolist()
    np.testing.assert_array_equal(series.highs(), frame["high"].astype(float).to_numpy())


def test_read_candle_csv_when_plain_csv_with_gap_then_exact_decimals_and_gap_kept(
    tmp_path: Path,
) -> None:
    """An uncompressed file reads too; text becomes Decimal digit for digit; gaps stay."""
    path = tmp_path / "X-USD_1m.csv"
    path.write_text(HEADER + "60,1.50,2.25,1.0,2.0,0.001\n120,2,2,2,2,0\n300,2,2,2,2,0\n")

    candles = read_candle_csv(path, "X-USD")

    assert candles[0] == Candle(
        product_id="X-USD",
        start_ns=60 * NS_PER_S,
        granularity_s=60,
        open=Decimal("1.50"),
        high=Decimal("2.25"),
        low=Decimal("1.0"),
        close=Decimal("2.0"),
        volume=Decimal("0.001"),
    )
    assert str(candles[0].open) == "1.50"
    assert [g.missing for g in CandleSeries.from_candles(candles).gaps] == [2]


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("", 1, "header must be"),
        ("ts,open,high,low,close\n60,1,1,1,1\n", 1, "header must be"),
        (HEADER + "60,1,1,1,1,1\n120,1,1,1,1\n", 3, "expected 6 fields"),
        (HEADER + "60.0,1,1,1,1,1\n", 2, "not epoch seconds"),
        (HEADER + "60,1,1,1,1,1\n-120,1,1,1,1,1\n", 3, "not epoch seconds"),
        (HEADER + "60,1,1,1,1,1\n120,1e3,1,1,1,1\n", 3, "not a plain decimal"),
        (HEADER + "60,1,1,1,1,1\n120,NaN,1,1,1,1\n", 3, "not a plain decimal"),
        (HEADER + "60,1,1,1,1,1\n120,1,1,1,1,-1\n", 3, "not a plain decimal"),
        (HEADER + "60,1,1,1,1,1\n120,1,1,1,1,1\n120,1,1,1,1,1\n", 4, "not after 120"),
        (HEADER + "120,1,1,1,1,1\n60,1,1,1,1,1\n", 3, "not after 120"),
        (HEADER + "60,1,1,1,1,1\n120,2,1,1,1,1\n", 3, "needs low <= open"),
        (HEADER + "60,1,1,1,1,1\n120,0,0,0,0,1\n", 3, "must be positive"),
        (HEADER + "60,1,1,1,1,1\n130,1,1,1,1,1\n190,1,1,1,1,1\n", 3, "multiple of 60s"),
    ],
)
def test_read_candle_csv_when_malformed_then_error_names_file_and_line(
    tmp_path: Path, text: str, line: int, words: str
) -> None:
    """Bad headers, fields, numbers, order, OHLC and grid each fail at their line."""
    path = write_gz(tmp_path, text)

    with pytest.raises(CandleFileError, match=words) as caught:
        read_candle_csv(path, "X-USD")

    assert str(caught.value).startswith(f"{path}:{line}")


def test_read_candle_csv_when_one_row_then_granularity_must_be_given(tmp_path: Path) -> None:
    """A single row has no step to infer the granularity from."""
    path = write_gz(tmp_path, HEADER + "3600,1,1,1,1,1\n")

    with pytest.raises(CandleFileError, match="pass granularity_s"):
        read_candle_csv(path, "X-USD")
    assert read_candle_csv(path, "X-USD", granularity_s=3600)[0].end_ns == 7200 * NS_PER_S


def test_read_candle_csv_when_granularity_given_and_rows_off_its_grid_then_error(
    tmp_path: Path,
) -> None:
    """A 1m file read as hourly fails at the first bar off the hour."""
    path = write_gz(tmp_path, HEADER + "3600,1,1,1,1,1\n3660,1,1,1,1,1\n")

    with pytest.raises(CandleFileError, match=r":3: .*multiple of 3600s"):
        read_candle_csv(path, "X-USD", granularity_s=3600)


@st.composite
def candle_lists(draw: st.DrawFn) -> list[Candle]:
    """One product's bars with random gaps and Decimals of random scale and exponent."""
    granularity_s = draw(st.sampled_from([60, 900, 86_400]))
    starts = sorted(draw(st.lists(st.integers(0, 10**4), min_size=1, max_size=30, unique=True)))
    out = []
    for i in starts:
        digits = st.integers(1, 10**12)
        scale = draw(st.integers(-3, 10))
        a, b = Decimal(draw(digits)).scaleb(-scale), Decimal(draw(digits)).scaleb(-scale)
        out.append(
            Candle(
                product_id="SOL-USD",
                start_ns=(1_600_000_000 // granularity_s + i) * granularity_s * NS_PER_S,
                granularity_s=granularity_s,
                open=a,
                high=max(a, b),
                low=min(a, b),
                close=b,
                volume=Decimal(draw(st.integers(0, 10**15))).scaleb(-draw(st.integers(0, 12))),
            )
        )
    return out


@settings(max_examples=40, deadline=None)
@given(candle_lists())
def test_parquet_when_written_and_read_then_every_value_and_digit_survives(
    candles: list[Candle],
) -> None:
    """Round trip: equal candles, and each Decimal keeps its exact text (scale included)."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "bars.parquet"
        write_candle_parquet(path, candles)

        back = read_candle_parquet(path, "SOL-USD")

    assert back == candles
    fields = ("open", "high", "low", "close", "volume")
    assert [[str(getattr(c, f)) for f in fields] for c in back] == [
        [str(getattr(c, f)) for f in fields] for c in candles
    ]


def test_write_candle_parquet_when_not_one_series_then_refused(tmp_path: Path) -> None:
    """Out-of-order, empty or beyond-int64 input is not written."""
    first = read_candle_csv(write_gz(tmp_path, HEADER + "60,1,1,1,1,1\n120,1,1,1,1,1\n"), "X")

    with pytest.raises(CandleSeriesError, match="out of order"):
        write_candle_parquet(tmp_path / "a.parquet", first[::-1])
    with pytest.raises(ValueError, match="empty series"):
        write_candle_parquet(tmp_path / "b.parquet", [])
    minute_ns = 60 * NS_PER_S
    beyond_2262 = msgspec.structs.replace(first[0], start_ns=(2**63 // minute_ns + 1) * minute_ns)
    with pytest.raises(ValueError, match="exceeds int64"):
        write_candle_parquet(tmp_path / "c.parquet", [beyond_2262])


def _table(**overrides: list[object]) -> pa.Table:
    columns: dict[str, list[object]] = {
        "product_id": ["X", "X"],
        "start_ns": [60 * NS_PER_S, 120 * NS_PER_S],
        "granularity_s": [60, 60],
        "open": ["1", "1"],
        "high": ["1", "1"],
        "low": ["1", "1"],
        "close": ["1", "1"],
        "volume": ["1", "1"],
    }
    return pa.table(columns | overrides)


@pytest.mark.parametrize(
    ("table", "words"),
    [
        (_table(product_id=["X", "Y"]), "row 1: product 'Y'"),
        (_table(start_ns=[120 * NS_PER_S, 60 * NS_PER_S]), "row 1: .*out of order"),
        (_table(open=["1", "abc"]), "row 1: "),
        (_table(high=["1", "0.5"]), "row 1: .*needs low <= open"),
        (_table(volume=[1.0, 1.0]), "schema must be"),
    ],
)
def test_read_candle_parquet_when_content_bad_then_error_names_file_and_row(
    tmp_path: Path, table: pa.Table, words: str
) -> None:
    """Another product, rows out of order, bad numbers or a foreign schema fail by row."""
    path = tmp_path / "bad.parquet"
    pq.write_table(table, path)

    with pytest.raises(CandleFileError, match=words) as caught:
        read_candle_parquet(path, "X")

    assert str(caught.value).startswith(str(path))


def test_read_candle_parquet_when_not_parquet_then_candle_file_error(tmp_path: Path) -> None:
    """A file that is not Parquet at all is reported as such."""
    path = tmp_path / "x.parquet"
    path.write_bytes(b"not parquet")

    with pytest.raises(CandleFileError, match="not a readable Parquet file"):
        read_candle_parquet(path, "X")
