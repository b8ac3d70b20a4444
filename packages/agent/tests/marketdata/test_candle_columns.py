"""Candles as columns: the fast CSV reader gives exactly what the strict one gives, or
lets the strict one decide; `CandleColumns` answers as the candles would."""

import gzip
import tempfile
from decimal import Context, Decimal
from pathlib import Path

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trading_agent.domain.market import NS_PER_S, Candle
from trading_agent.marketdata.columnar_csv import read_candle_columns
from trading_agent.marketdata.columnar_parquet import read_candle_parquet_columns
from trading_agent.marketdata.columns import FIELDS, CandleColumns, columns_of
from trading_agent.marketdata.replay import (
    PARQUET_SCHEMA,
    CandleFileError,
    read_candle_csv,
    read_candle_parquet,
    write_candle_parquet,
)

SHARED_DATA = Path(__file__).resolve().parents[4].parent / "shared" / "data"
WIDE = Context(prec=1000)
HEADER = "ts,open,high,low,close,volume\n"
ONE_MINUTE_FILES = sorted(SHARED_DATA.glob("*/*_1m_*.csv.gz"))


def _write(path: Path, text: str) -> Path:
    with gzip.open(path, "wt", encoding="utf-8", newline="") as f:
        f.write(text)
    return path


def _outcome(read: object, path: Path, granularity_s: int | None) -> tuple[str, object]:
    try:
        candles = read(path, "X-USD", granularity_s)  # type: ignore[operator]
    except CandleFileError as exc:
        return "error", str(exc)
    return "candles", list(candles)


def _assert_same_as_candles(columns: CandleColumns, candles: list[Candle]) -> None:
    assert list(columns) == candles
    assert [columns[i] for i in range(len(candles))] == candles
    assert columns.start_ns.tolist() == [c.start_ns for c in candles]
    for name in FIELDS:
        assert columns.floats(name).tolist() == [float(getattr(c, name)) for c in candles]
        scaled = columns.scaled(name)
        exact = [Decimal(int(x)).scaleb(-scaled.decimals, context=WIDE) for x in scaled.ints]
        assert exact == [getattr(c, name) for c in candles]


def test_read_candle_columns_when_real_one_minute_files_then_fast_and_equal_to_strict() -> None:
    """Every bundled one-minute file is proved good by the vectorized checks (no strict
    fallback) and gives the strict reader's candles, floats and exact values."""
    assert len(ONE_MINUTE_FILES) >= 4, f"shared data missing under {SHARED_DATA}"
    for path in ONE_MINUTE_FILES[:4]:
        columns = read_candle_columns(path, "BTC-USD")
        assert columns._candles is None, f"{path} fell back to the strict reader"
        _assert_same_as_candles(columns, read_candle_csv(path, "BTC-USD"))


_DECIMAL = st.one_of(
    st.integers(1, 10**7).map(str),
    st.tuples(st.integers(0, 10**6), st.integers(0, 10**5)).map(lambda t: f"{t[0]}.{t[1]}"),
    st.sampled_from(["1.5", "1.50", "001.2", "0.00000001", "7.0"]),
)


_MISTAKES = (
    *("swap", "quote", "crlf", "blank", "six-blank", "exponent", "sign", "spaces"),
    *("dot-last", "dot-first", "two-dots", "dot-in-ts", "short", "zero", "backwards"),
    *("off-grid", "no-newline", "open-below", "open-above", "close-below", "close-above"),
    "long",
)


@st.composite
def _rows(draw: st.DrawFn) -> str:
    """Mostly valid candle CSV bodies, with ties, equal values spelled differently,
    gaps, and a sprinkling of the mistakes the strict reader refuses."""
    lines = []
    ts = draw(st.integers(0, 10**6)) * 60
    for _ in range(draw(st.integers(2, 12) | st.just(1))):
        values = sorted(draw(st.lists(_DECIMAL, min_size=4, max_size=4)), key=Decimal)
        low, a, b, high = values
        opening, closing = (a, b) if draw(st.booleans()) else (b, a)
        row = [str(ts), opening, high, low, closing, draw(_DECIMAL)]
        lines.append(",".join(row))
        ts += 60 * draw(st.sampled_from([1, 1, 1, 2, 5]))
    mistake = draw(st.sampled_from([None, None, None, *_MISTAKES]))
    return _spoil(lines, mistake, draw)


def _spoil(lines: list[str], mistake: str | None, draw: st.DrawFn) -> str:
    i = draw(st.integers(0, len(lines) - 1))
    fields = lines[i].split(",")
    edits = {
        "swap": lambda: [fields[0], fields[1], fields[3], fields[2], *fields[4:]],
        "quote": lambda: [fields[0], f'"{fields[1]}"', *fields[2:]],
        "exponent": lambda: [fields[0], "1e3", *fields[2:]],
        "sign": lambda: [fields[0], f"+{fields[1]}", *fields[2:]],
        "dot-last": lambda: [fields[0], f"{fields[1].split('.')[0]}.", *fields[2:]],
        "dot-first": lambda: [*fields[:5], "." + fields[5].replace(".", "")],
        "short": lambda: fields[:5],
        "zero": lambda: [fields[0], "0", fields[2], "0", *fields[4:]],
        "spaces": lambda: [fields[0], f" {fields[1]}", *fields[2:]],
        "off-grid": lambda: [str(int(fields[0]) + 7), *fields[1:]],
        "open-below": lambda: [fields[0], str(Decimal(fields[3]) / 2), *fields[2:]],
        "close-above": lambda: [*fields[:4], f"{fields[2]}1", fields[5]],
        "two-dots": lambda: [*fields[:5], "1.2.3"],
        "close-below": lambda: [*fields[:4], str(Decimal(fields[3]) / 2), fields[5]],
        "open-above": lambda: [fields[0], f"{fields[2]}1", *fields[2:]],
        "long": lambda: [*fields[:2], "123456789012345.123", *fields[3:]],
        "dot-in-ts": lambda: [f"{fields[0]}.0", *fields[1:]],
    }
    if mistake in edits:
        lines[i] = ",".join(edits[mistake]())
    if mistake == "backwards":  # with one row: the same ts twice
        lines = [lines[-1], *lines[1:-1], lines[0]] if len(lines) > 1 else lines * 2
    body = "\n".join(lines) + "\n"
    if mistake == "crlf":
        body = body.replace("\n", "\r\n")
    if mistake == "blank":
        body = body.replace("\n", "\n\n", 1)
    if mistake == "six-blank":  # as many newlines as fields in a row, which Arrow skips
        body = body.replace("\n", "\n" * 7, 1)
    if mistake == "no-newline":
        body = body.rstrip("\n")
    return HEADER + body


@settings(max_examples=600, deadline=None)
@given(_rows(), st.sampled_from([None, None, 60, 120]))
def test_read_candle_columns_when_any_file_then_same_outcome_as_strict(
    text: str, granularity_s: int | None
) -> None:
    """For valid and spoiled files alike, the fast reader returns exactly the strict
    reader's candles (with equal floats and exact scaled values) or raises its error."""
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(Path(tmp) / "X-USD_1m.csv.gz", text)
        fast = _outcome(read_candle_columns, path, granularity_s)
        strict = _outcome(read_candle_csv, path, granularity_s)
        assert fast == strict
        if strict[0] == "candles":
            _assert_same_as_candles(
                read_candle_columns(path, "X-USD", granularity_s),
                read_candle_csv(path, "X-USD", granularity_s),
            )


@pytest.mark.parametrize(
    ("body", "fell_back"),
    [
        ("60,1,2,1,2,1\n120,2,3,2,3,1\n", False),
        ('60,"1",2,1,2,1\n120,2,3,2,3,1\n', True),
        ("60,1,2,1,2,1\r\n120,2,3,2,3,1\r\n", True),
        ("60,1,2,1,2,1\n120,2,3,2,3,123456789012345678901234567890\n", True),
        # Digits that fit int64 until scaled to the column's decimals, or to the
        # prices' common decimals: exact in Python ints instead.
        ("60,9234567890123456.78,9234567890123456.78,1.123,1.123,1\n120,1,2,1,2,1\n", True),
        ("60,1,123456789012345.123,0.00000001,1,1\n120,1,2,1,2,1\n", True),
        # A volume that only fits in Python ints scaled: read fast, scaled exactly.
        ("60,1,2,1,2,9234567890123456.78\n120,1,2,1,2,1.123\n", False),
    ],
)
def test_read_candle_columns_when_unusual_but_valid_then_strict_reader_reads_it(
    tmp_path: Path, body: str, fell_back: bool
) -> None:
    """Quotes, CRLF and huge numbers are legal for the strict reader; the fast one hands
    such files over and the result is still the strict reader's."""
    path = _write(tmp_path / "X-USD_1m.csv.gz", HEADER + body)
    columns = read_candle_columns(path, "X-USD")
    assert (columns._candles is not None) is fell_back
    _assert_same_as_candles(columns, read_candle_csv(path, "X-USD"))


@pytest.mark.parametrize(
    ("second_row", "message"),
    [
        ("120,2,3,2.5,3,1", "low <= open"),
        ("120,2,3,2,1.5,1", "low <= open, close"),
        ("120,3.5,3,2,3,1", "close <= high"),
        ("120,2,3,2,3.5,1", "close <= high"),
        ("120,0,3,0,3,1", "positive"),
        ("120,.5,3,.5,3,1", "not a plain decimal"),
        ("120,5.,5.,5,5,1", "not a plain decimal"),
        ("60,2,3,2,3,1", "not after"),
    ],
)
def test_read_candle_columns_when_bad_row_then_strict_error_names_the_line(
    tmp_path: Path, second_row: str, message: str
) -> None:
    """Each refusal the strict reader makes reaches the caller with its line number,
    whatever the fast checks would have said."""
    path = _write(tmp_path / "X-USD_1m.csv.gz", HEADER + "60,1,2,1,2,1\n" + second_row + "\n")
    for granularity_s in (None, 60):
        with pytest.raises(CandleFileError, match=f":3: .*{message}"):
            read_candle_columns(path, "X-USD", granularity_s)


@pytest.mark.parametrize("granularity_s", [2**63, 10**20])
def test_read_candle_columns_when_granularity_past_int64_then_strict_error(
    tmp_path: Path, granularity_s: int
) -> None:
    """A granularity no timestamp can be a multiple of is the strict reader's to
    refuse, naming the line; the fast checks must not overflow on it."""
    path = _write(tmp_path / "X-USD_1m.csv.gz", HEADER + "0,1,2,1,2,1\n60,1,2,1,2,1\n")
    with pytest.raises(CandleFileError, match=r":3: .*not a multiple"):
        read_candle_columns(path, "X-USD", granularity_s)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("X-USD_1m.csv.gz", b"not gzip at all", "not a readable gzip file"),
        # A gzip stream with two bytes flipped in the middle: zlib's own error.
        ("X-USD_1m.csv.gz", None, "not a readable gzip file"),
        ("X-USD_1m.gz", gzip.compress(HEADER.encode())[:-9], "not a readable gzip file"),
        ("X-USD_1m.csv", (HEADER + "60,1,2,1,2,\xff\n").encode("latin-1"), "not UTF-8 text"),
    ],
)
def test_read_candles_when_bytes_unreadable_then_both_readers_name_the_file(
    tmp_path: Path, name: str, content: bytes | None, message: str
) -> None:
    """Bytes that are not gzip, a damaged or cut-short gzip stream, or text that is not
    UTF-8: both readers raise CandleFileError naming the file, never a codec's error."""
    if content is None:
        rows = "".join(f"{60 * i},1,2,1,2,1\n" for i in range(1, 2000))
        damaged = bytearray(gzip.compress((HEADER + rows).encode()))
        damaged[len(damaged) // 2] ^= 0xFF
        damaged[len(damaged) // 2 + 1] ^= 0xFF
        content = bytes(damaged)
    path = tmp_path / name
    path.write_bytes(content)
    for read in (read_candle_csv, read_candle_columns):
        with pytest.raises(CandleFileError, match=f"{path}: {message}"):
            read(path, "X-USD")


def _candle(start_s: int, low: str, high: str, close: str) -> Candle:
    return Candle(
        product_id="X-USD", start_ns=start_s * NS_PER_S, granularity_s=60,
        open=Decimal(close), high=Decimal(high), low=Decimal(low), close=Decimal(close),
        volume=Decimal(1),
    )  # fmt: skip


@given(
    st.lists(
        st.tuples(st.sampled_from(["1", "1.0", "1.5", "2.25", "0.5", "3"]), st.integers(0, 2)),
        min_size=1,
        max_size=30,
    ),
    st.data(),
)
def test_lowest_and_highest_when_any_range_then_python_min_max(
    values: list[tuple[str, int]], data: st.DataObject
) -> None:
    """Exact extremes over any bar range equal min/max over the Decimals, including
    which of equal values (spelled differently, "1" and "1.0") comes back."""
    candles = [
        _candle(60 * i, low, str(Decimal(low) + up), low) for i, (low, up) in enumerate(values)
    ]
    columns = columns_of(candles)
    start = data.draw(st.integers(0, len(candles) - 1))
    stop = data.draw(st.integers(start + 1, len(candles)))
    lowest = columns.lowest("low", start, stop)
    highest = columns.highest("high", start, stop)
    expected_low = min(c.low for c in candles[start:stop])
    expected_high = max(c.high for c in candles[start:stop])
    assert (lowest, str(lowest)) == (expected_low, str(expected_low))
    assert (highest, str(highest)) == (expected_high, str(expected_high))


def test_candle_columns_when_indexed_then_like_a_list() -> None:
    """Negative indices, slices, bounds and end_ns behave as on the list of candles."""
    candles = [_candle(60 * i, "1", "2", "1.5") for i in range(5)]
    columns = columns_of(candles)
    assert columns[-1] == candles[-1]
    assert columns[1:4] == candles[1:4]
    assert columns[::2] == candles[::2]
    assert columns.end_ns.tolist() == [c.end_ns for c in candles]
    with pytest.raises(IndexError, match="candle 5 of 5"):
        columns[5]
    with pytest.raises(IndexError, match=r"bars \[3, 3\)"):
        columns.lowest("low", 3, 3)
    with pytest.raises(ValueError, match="more than one series"):
        columns_of(
            [*candles, msgspec.structs.replace(_candle(600, "1", "2", "1"), product_id="Y-USD")]
        )
    assert len(CandleColumns.empty("X-USD", 60)) == 0


def test_scaled_when_values_beyond_int64_then_exact_python_ints() -> None:
    """Values too large for int64 scale into exact Python ints instead of overflowing."""
    big = "123456789012345678901234567890.5"
    candles = [_candle(0, big, big, big), _candle(60, "1", "2", "1")]
    scaled = columns_of(candles).scaled("low")
    assert scaled.ints.dtype == object
    assert [Decimal(int(x)).scaleb(-scaled.decimals, context=WIDE) for x in scaled.ints] == [
        Decimal(big),
        1,
    ]
    assert np.array_equal(columns_of(candles).floats("low"), [float(big), 1.0])


# ---------------------------------------------------------------- Parquet


def _parquet(path: Path, rows: list[dict[str, object]]) -> Path:
    columns = {name: [row[name] for row in rows] for name in PARQUET_SCHEMA.names}
    pq.write_table(pa.table(columns, schema=PARQUET_SCHEMA), path)
    return path


def _parquet_outcome(read: object, path: Path) -> tuple[str, object]:
    try:
        candles = read(path, "X-USD")  # type: ignore[operator]
    except CandleFileError as exc:
        return "error", str(exc)
    return "candles", list(candles)


@st.composite
def _parquet_rows(draw: st.DrawFn) -> list[dict[str, object]]:
    """Mostly valid rows of `write_candle_parquet`'s schema, and the mistakes the
    strict reader refuses or reads differently (exponents, other spellings)."""
    rows: list[dict[str, object]] = []
    start = draw(st.integers(0, 10**6)) * 60 * NS_PER_S
    for _ in range(draw(st.integers(1, 8))):
        low, a, b, high = sorted(draw(st.lists(_DECIMAL, min_size=4, max_size=4)), key=Decimal)
        opening, closing = (a, b) if draw(st.booleans()) else (b, a)
        rows.append(
            {"product_id": "X-USD", "start_ns": start, "granularity_s": 60, "open": opening,
             "high": high, "low": low, "close": closing, "volume": draw(_DECIMAL)}
        )  # fmt: skip
        start += 60 * NS_PER_S * draw(st.sampled_from([1, 1, 2]))
    row = rows[draw(st.integers(0, len(rows) - 1))]
    mistake = draw(st.sampled_from([None, None, *_PARQUET_MISTAKES]))
    if mistake is not None:
        field, value = mistake
        row[field] = value if not callable(value) else value(row)
    return rows


_PARQUET_MISTAKES: tuple[tuple[str, object], ...] = (
    ("product_id", "Y-USD"),
    ("product_id", None),
    ("start_ns", None),
    ("start_ns", lambda row: int(row["start_ns"]) + 7),
    ("start_ns", 0),
    ("granularity_s", 120),
    ("granularity_s", 0),
    ("granularity_s", 10**10),  # its nanoseconds pass int64
    ("volume", "0E-8"),
    ("volume", "1e3"),
    ("volume", "5."),
    ("volume", ".5"),
    ("volume", ""),
    ("volume", "1.2.3"),
    ("volume", None),
    ("volume", "NaN"),
    ("open", "0"),
    ("open", lambda row: str(Decimal(str(row["low"])) / 2)),
    ("close", lambda row: f"{row['high']}1"),
    ("low", lambda row: f"{row['high']}1"),
    ("high", "9234567890123456.78"),
    ("volume", "9234567890123456.78"),
)


@settings(max_examples=300, deadline=None)
@given(_parquet_rows())
def test_read_candle_parquet_columns_when_any_file_then_same_outcome_as_strict(
    rows: list[dict[str, object]],
) -> None:
    """For valid and spoiled Parquet files alike, the column reader returns exactly the
    strict reader's candles (floats and exact values included) or raises its error."""
    with tempfile.TemporaryDirectory() as tmp:
        path = _parquet(Path(tmp) / "x.parquet", rows)
        strict = _parquet_outcome(read_candle_parquet, path)
        if strict == ("candles", []):
            strict = ("error", f"{path}: no candles of X-USD")
        assert _parquet_outcome(read_candle_parquet_columns, path) == strict
        if strict[0] == "candles":
            _assert_same_as_candles(
                read_candle_parquet_columns(path, "X-USD"), read_candle_parquet(path, "X-USD")
            )


def test_read_candle_parquet_columns_when_written_by_the_writer_then_fast_and_equal(
    tmp_path: Path,
) -> None:
    """A real file written by `write_candle_parquet` takes the fast path and reads back
    the strict reader's candles."""
    source = ONE_MINUTE_FILES[0]
    path = tmp_path / "btc.parquet"
    write_candle_parquet(path, read_candle_csv(source, "X-USD")[:5_000])
    columns = read_candle_parquet_columns(path, "X-USD")
    assert columns._candles is None
    _assert_same_as_candles(columns, read_candle_parquet(path, "X-USD"))


def test_read_candle_parquet_columns_when_not_parquet_then_strict_error(tmp_path: Path) -> None:
    """A file that is not Parquet gets the strict reader's error, naming it."""
    path = tmp_path / "x.parquet"
    path.write_bytes(b"not parquet")
    with pytest.raises(CandleFileError, match="not a readable Parquet file"):
        read_candle_parquet_columns(path, "X-USD")


_ROW = {"product_id": "X-USD", "granularity_s": 60, "open": "1", "high": "2", "low": "1",
        "close": "2", "volume": "1"}  # fmt: skip


@pytest.mark.parametrize(
    ("second", "outcome"),
    [
        ({}, "fast"),
        ({"start_ns": 60 * NS_PER_S}, "duplicate start"),
        ({"start_ns": 0}, "out of order"),
        ({"start_ns": 120 * NS_PER_S + 7}, "not a multiple"),
        ({"granularity_s": 120}, "granularity"),
        ({"product_id": "Y-USD"}, "expected 'X-USD'"),
        ({"volume": "-5"}, "volume must not be negative"),
        ({"open": "0", "low": "0"}, "positive"),
        ({"open": "0.5"}, "low <= open"),
        ({"close": "2.5"}, "close <= high"),
        ({"volume": "abc"}, "decimal"),
        ({"volume": "0E-8"}, "strict"),
        ({"volume": " 5"}, "strict"),
        ({"high": "9234567890123456.78", "close": "1.123"}, "strict"),
        ({"volume": "9234567890123456.78"}, "fast"),
    ],
)
def test_read_candle_parquet_columns_when_one_row_differs_then_as_strict(
    tmp_path: Path, second: dict[str, object], outcome: str
) -> None:
    """Each refusal of the strict reader reaches the caller as its error; legal values
    the proof does not cover ("0E-8", " 5", scaled values past int64) are read by the
    strict reader; the rest fast. Either way the candles are the strict reader's."""
    path = _parquet(
        tmp_path / "x.parquet",
        [_ROW | {"start_ns": 60 * NS_PER_S}, _ROW | {"start_ns": 120 * NS_PER_S} | second],
    )
    if outcome not in ("fast", "strict"):
        with pytest.raises(CandleFileError, match=outcome):
            read_candle_parquet(path, "X-USD")
        with pytest.raises(CandleFileError, match=outcome):
            read_candle_parquet_columns(path, "X-USD")
        return
    columns = read_candle_parquet_columns(path, "X-USD")
    assert (columns._candles is None) is (outcome == "fast")
    _assert_same_as_candles(columns, read_candle_parquet(path, "X-USD"))


def test_read_candle_parquet_columns_when_ids_join_to_the_product_then_strict_error(
    tmp_path: Path,
) -> None:
    """ "X-US" then "DX-USD" spell "X-USDX-USD" end to end, as two rows of "X-USD"
    would: each row's id is compared, and the strict reader names the first wrong one."""
    rows = [_ROW | {"start_ns": 60 * NS_PER_S, "product_id": "X-US"}]
    rows.append(_ROW | {"start_ns": 120 * NS_PER_S, "product_id": "DX-USD"})
    path = _parquet(tmp_path / "x.parquet", rows)
    with pytest.raises(CandleFileError, match="row 0: product 'X-US', expected 'X-USD'"):
        read_candle_parquet_columns(path, "X-USD")


@pytest.mark.parametrize("granularity_s", [10**10, 2**62])
def test_read_candle_parquet_columns_when_step_passes_int64_ns_then_strict_error(
    tmp_path: Path, granularity_s: int
) -> None:
    """A granularity whose nanoseconds do not fit int64 is the strict reader's to
    refuse, with its row; the fast checks must not overflow on it."""
    rows = [_ROW | {"start_ns": 0, "granularity_s": granularity_s}] * 2
    rows[1] = rows[1] | {"start_ns": 5}
    path = _parquet(tmp_path / "x.parquet", rows)
    with pytest.raises(CandleFileError, match=f"{path}: row 1: .*not a multiple"):
        read_candle_parquet_columns(path, "X-USD")


def test_read_candle_parquet_columns_when_no_rows_then_error_naming_the_file(
    tmp_path: Path,
) -> None:
    """A Parquet file with the schema and no rows has no candles to replay."""
    path = _parquet(tmp_path / "x.parquet", [])
    with pytest.raises(CandleFileError, match=f"{path}: no candles of X-USD"):
        read_candle_parquet_columns(path, "X-USD")
