"""Scalar parsing, statuses and the cumulative-fill arithmetic of `translate`."""

import calendar
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trading_coinbase import schemas as w
from trading_coinbase import translate as t
from trading_coinbase.errors import SchemaError

NS = 1_000_000_000


@pytest.mark.parametrize("text", ["", " 1", "1 ", "NaN", "Infinity", "1_000", "0x10", "1,5", "--1"])
def test_parse_decimal_when_not_a_plain_number_then_schema_error_names_field(text: str) -> None:
    """Only plain decimal strings parse; the error carries the field path."""
    with pytest.raises(SchemaError) as caught:
        t.parse_decimal(text, "$.candles[0].open")

    assert caught.value.path == "$.candles[0].open"
    assert "$.candles[0].open" in str(caught.value)


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_decimal_when_formatted_then_plain_and_parses_back_equal(value: Decimal) -> None:
    """format_decimal never emits an exponent and loses nothing."""
    text = t.format_decimal(value)

    assert "E" not in text.upper()
    assert t.parse_decimal(text, "$.x") == value


def test_optional_decimal_when_venue_sends_empty_then_none() -> None:
    """The venue's "not set" is "" (or null): no value, not zero."""
    assert t.parse_optional_decimal("", "$.x") is None
    assert t.parse_optional_decimal(None, "$.x") is None
    assert t.parse_optional_decimal("0", "$.x") == Decimal(0)


BOOK_TIME_S = calendar.timegm((2026, 4, 7, 0, 28, 59))
FILL_TIME_S = calendar.timegm((2024, 1, 15, 10, 30, 0))


@pytest.mark.parametrize(
    ("text", "expected_ns"),
    [
        ("1970-01-01T00:00:00Z", 0),
        ("2026-04-07T00:28:59.662782Z", BOOK_TIME_S * NS + 662782000),
        ("2026-04-07T02:28:59+02:00", BOOK_TIME_S * NS),
        ("2024-01-15T10:30:00.123456789Z", FILL_TIME_S * NS + 123456789),
    ],
)
def test_parse_rfc3339_when_valid_then_epoch_ns(text: str, expected_ns: int) -> None:
    """Times against calendar.timegm: fractions to ns, offsets applied."""
    assert t.parse_rfc3339_ns(text, "$.time") == expected_ns


@pytest.mark.parametrize("text", ["2026-04-07", "2026-04-07T00:28:59", "2026-13-01T00:00:00Z", ""])
def test_parse_rfc3339_when_invalid_then_schema_error(text: str) -> None:
    """No zone, a bad month or no time: refused with the field named."""
    with pytest.raises(SchemaError, match=r"\$\.time"):
        t.parse_rfc3339_ns(text, "$.time")


@given(
    st.datetimes(
        min_value=datetime(1970, 1, 1),  # noqa: DTZ001 - made aware by timezones=
        max_value=datetime(2200, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
    st.integers(min_value=0, max_value=999),
)
def test_rfc3339_when_formatted_then_parses_to_the_same_ns(moment: datetime, nanos: int) -> None:
    """format_rfc3339 then parse_rfc3339_ns is the identity (reference: datetime maths)."""
    ns = (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) * 1000 + nanos

    assert t.parse_rfc3339_ns(t.format_rfc3339(ns), "$.t") == ns


def test_rfc3339_when_offset_written_then_same_instant_as_utc() -> None:
    """An offset time equals its UTC spelling (reference: datetime.astimezone)."""
    local = datetime(2026, 4, 7, 5, 58, 59, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    utc = local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    assert t.parse_rfc3339_ns("2026-04-07T05:58:59+05:30", "$.t") == t.parse_rfc3339_ns(utc, "$.t")


@pytest.mark.parametrize(
    ("text", "status", "terminal"),
    [
        ("OPEN", t.VenueOrderStatus.OPEN, False),
        ("FILLED", t.VenueOrderStatus.FILLED, True),
        ("CANCELLED", t.VenueOrderStatus.CANCELLED, True),
        ("EXPIRED", t.VenueOrderStatus.EXPIRED, True),
        ("FAILED", t.VenueOrderStatus.FAILED, True),
        ("CANCEL_QUEUED", t.VenueOrderStatus.CANCEL_QUEUED, False),
        ("UNKNOWN_ORDER_STATUS", t.VenueOrderStatus.UNKNOWN, False),
        ("SOMETHING_NEW", t.VenueOrderStatus.UNKNOWN, False),
    ],
)
def test_order_status_when_read_then_enum_and_terminality(
    text: str, status: t.VenueOrderStatus, terminal: bool
) -> None:
    """Unknown statuses are indeterminate, never terminal (§2.4)."""
    assert t.order_status(text) is status
    assert (status in t.TERMINAL_STATUSES) is terminal


def _user(cum: str, avg: str, status: str = "OPEN") -> t.UserOrderState:
    return t.user_order_state(
        w.WsUserOrder(
            order_id="o",
            status=status,
            order_side="BUY",
            order_type="Limit",
            cumulative_quantity=cum,
            avg_price=avg,
        )
    )


def test_user_order_when_limit_spelled_mixed_case_then_normalised() -> None:
    """The user channel sends "Limit"; the state says LIMIT."""
    assert _user("0", "0").order_type == "LIMIT"


def test_fill_delta_when_cumulative_grows_then_closed_form_qty_and_price() -> None:
    """1 @ 100 then 3 @ 110 cumulative: the new fill is 2 @ (330 - 100) / 2 = 115."""
    delta = t.fill_delta(_user("1", "100"), _user("3", "110"))

    assert delta == t.FillDelta(quantity=Decimal(2), price=Decimal(115))


def test_fill_delta_when_first_update_then_whole_cumulative_is_the_fill() -> None:
    """With no previous state the cumulative quantity is the fill."""
    assert t.fill_delta(None, _user("0.5", "68923.67")) == t.FillDelta(
        quantity=Decimal("0.5"), price=Decimal("68923.67")
    )


def test_fill_delta_when_snapshot_restates_state_then_no_new_fill() -> None:
    """A replayed snapshot is not a new fill (§3)."""
    assert t.fill_delta(_user("3", "110"), _user("3", "110", "FILLED")) is None


def test_server_time_when_millis_given_then_ns_from_millis() -> None:
    """GET /time: epochMillis (string or number) to ns; seconds as the fallback."""
    assert t.server_time_ns(w.ServerTime(iso="x", epoch_seconds="1", epoch_millis="1500")) == (
        1_500_000_000
    )
    assert t.server_time_ns(w.ServerTime(iso="x", epoch_seconds=7)) == 7 * NS


def test_candles_when_two_rows_share_a_start_then_schema_error() -> None:
    """Duplicate buckets are a malformed response, not two bars."""
    row = w.Candle(start="60", low="1", high="1", open="1", close="1", volume="1")

    with pytest.raises(SchemaError, match="two candles"):
        t.candles(w.CandlesResponse(candles=(row, row)))


def test_candles_when_price_malformed_then_error_names_the_row_field() -> None:
    """The path points at the offending cell."""
    good = w.Candle(start="60", low="1", high="1", open="1", close="1", volume="1")
    bad = w.Candle(start="120", low="1", high="x", open="1", close="1", volume="1")

    with pytest.raises(SchemaError) as caught:
        t.candles(w.CandlesResponse(candles=(good, bad)))

    assert caught.value.path == "$.candles[1].high"
