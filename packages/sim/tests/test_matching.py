"""The matching engine: what each order type and time in force does on arrival and on bars.

Unless a test says otherwise the market is bar 0 (close 100, volume 10), so with
10 % participation one bar offers 1 BTC; no spread, no slippage; intro_1 fees
(maker 0.60 %, taker 1.20 %).
"""

from decimal import Decimal
from typing import Any

import msgspec
import pytest

import sim_stubs as st
import trading_sim as s
from sim_stubs import D, Venue, at, bar, market, order, statuses, stop_limit

MAKER, TAKER = s.Liquidity.MAKER, s.Liquidity.TAKER
BUY, SELL = s.Side.BUY, s.Side.SELL
IOC, FOK, GTC, GTD = s.TimeInForce.IOC, s.TimeInForce.FOK, s.TimeInForce.GTC, s.TimeInForce.GTD
QUOTE = s.SizeUnit.QUOTE
Fills = list[tuple[str, str, s.Liquidity]]


def _fills(venue: Venue, order_id: str = "o1") -> Fills:
    return [(str(f.size), str(f.price), f.liquidity) for f in venue.fills(order_id)]


def _same(actual: Fills, expected: Fills) -> bool:
    return [(D(a), D(b), c) for a, b, c in actual] == [(D(a), D(b), c) for a, b, c in expected]


# ---------------------------------------------------------------- arrival

ARRIVALS: list[tuple[str, dict[str, Any], list[str], Fills, str]] = [
    ("market_ioc_fills", {"size": D("0.5")}, ["open", "filled"], [("0.5", "100", TAKER)], ""),
    (
        "market_ioc_beyond_budget_cancels_rest",
        {"size": D(2)},
        ["open", "partially_filled", "cancelled"],
        [("1", "100", TAKER)],
        "IOC_REMAINDER",
    ),
    (
        "market_fok_beyond_budget_kills",
        {"size": D(2), "tif": FOK},
        ["open", "cancelled"],
        [],
        "FOK_NOT_FILLED",
    ),
    (
        "market_fok_within_budget_fills",
        {"size": D("0.5"), "tif": FOK},
        ["open", "filled"],
        [("0.5", "100", TAKER)],
        "",
    ),
    (
        "market_quote_size_converts_at_price",
        {"size": D(50), "size_in": QUOTE},
        ["open", "filled"],
        [("0.5", "100", TAKER)],
        "",
    ),
    (
        "market_sell_fills",
        {"size": D("0.5"), "side": SELL},
        ["open", "filled"],
        [("0.5", "100", TAKER)],
        "",
    ),
]

LIMIT_ARRIVALS: list[tuple[str, dict[str, Any], list[str], Fills, str]] = [
    (
        "crossing_takes_at_reference_not_limit",
        {"limit_price": D(101), "size": D("0.5")},
        ["open", "filled"],
        [("0.5", "100", TAKER)],
        "",
    ),
    (
        "at_the_ask_crosses",
        {"limit_price": D(100), "size": D("0.5")},
        ["open", "filled"],
        [("0.5", "100", TAKER)],
        "",
    ),
    (
        "crossing_beyond_budget_rests_rest",
        {"limit_price": D(101), "size": D(2)},
        ["open", "partially_filled"],
        [("1", "100", TAKER)],
        "",
    ),
    (
        "ioc_crossing_beyond_budget_cancels_rest",
        {"limit_price": D(101), "size": D(2), "tif": IOC},
        ["open", "partially_filled", "cancelled"],
        [("1", "100", TAKER)],
        "IOC_REMAINDER",
    ),
    (
        "fok_crossing_beyond_budget_kills",
        {"limit_price": D(101), "size": D(2), "tif": FOK},
        ["open", "cancelled"],
        [],
        "FOK_NOT_FILLED",
    ),
    (
        "fok_crossing_within_budget_fills",
        {"limit_price": D(101), "tif": FOK},
        ["open", "filled"],
        [("1", "100", TAKER)],
        "",
    ),
    ("passive_rests", {}, ["open"], [], ""),
    ("passive_post_only_rests", {"post_only": True}, ["open"], [], ""),
    (
        "crossing_post_only_rejected",
        {"limit_price": D(101), "post_only": True},
        ["rejected"],
        [],
        "INVALID_LIMIT_PRICE_POST_ONLY",
    ),
    ("passive_ioc_cancelled", {"tif": IOC}, ["open", "cancelled"], [], "IOC_REMAINDER"),
    ("passive_fok_cancelled", {"tif": FOK}, ["open", "cancelled"], [], "FOK_NOT_FILLED"),
    ("passive_gtd_rests", {"tif": GTD, "end_ns": at(5)}, ["open"], [], ""),
    (
        "sell_crossing_takes_at_bid",
        {"side": SELL, "size": D("0.5")},
        ["open", "filled"],
        [("0.5", "100", TAKER)],
        "",
    ),
]


@pytest.mark.parametrize(
    ("overrides", "expected", "fills", "reason"),
    [pytest.param(*case[1:], id=case[0]) for case in ARRIVALS],
)
def test_submit_when_market_order_then_table(
    overrides: dict[str, Any], expected: list[str], fills: Fills, reason: str
) -> None:
    """Market orders: IOC takes what the bar offers, FOK all or nothing, quote sizes convert."""
    venue = Venue.open()

    events = venue.submit(market(**overrides))

    assert statuses(events) == expected
    assert _same(_fills(venue), fills)
    assert venue.last("o1").reason == reason


@pytest.mark.parametrize(
    ("overrides", "expected", "fills", "reason"),
    [pytest.param(*case[1:], id=case[0]) for case in LIMIT_ARRIVALS],
)
def test_submit_when_limit_order_then_table(
    overrides: dict[str, Any], expected: list[str], fills: Fills, reason: str
) -> None:
    """Limit orders on arrival, by crossing or not, time in force and post-only."""
    venue = Venue.open()

    events = venue.submit(order(**overrides))

    assert statuses(events) == expected
    assert _same(_fills(venue), fills)
    assert venue.last("o1").reason == reason


def test_submit_when_stop_limit_then_rests_untriggered() -> None:
    """A stop-limit never fires on arrival, even with its stop already crossed."""
    venue = Venue.open()

    events = venue.submit(stop_limit(stop_price=D(105)))

    assert statuses(events) == ["open"]
    assert venue.state.working[0].triggered is False


REJECTIONS: list[tuple[str, s.SimOrder, s.Reason]] = [
    ("market_gtc", market(tif=GTC), s.Reason.UNSUPPORTED_ORDER_CONFIGURATION),
    ("market_with_limit", market(limit_price=D(100)), s.Reason.UNSUPPORTED_ORDER_CONFIGURATION),
    ("market_post_only", market(post_only=True), s.Reason.UNSUPPORTED_ORDER_CONFIGURATION),
    ("limit_without_price", order(limit_price=None), s.Reason.INVALID_LIMIT_PRICE),
    ("limit_negative_price", order(limit_price=D(-1)), s.Reason.INVALID_LIMIT_PRICE),
    (
        "limit_fok_post_only",
        order(tif=FOK, post_only=True),
        s.Reason.POST_ONLY_NOT_ALLOWED_WITH_FOK,
    ),
    (
        "limit_ioc_post_only",
        order(tif=IOC, post_only=True),
        s.Reason.UNSUPPORTED_ORDER_CONFIGURATION,
    ),
    ("limit_with_stop", order(stop_price=D(95)), s.Reason.UNSUPPORTED_ORDER_CONFIGURATION),
    ("stop_limit_ioc", stop_limit(tif=IOC), s.Reason.UNSUPPORTED_ORDER_CONFIGURATION),
    ("stop_limit_post_only", stop_limit(post_only=True), s.Reason.UNSUPPORTED_ORDER_CONFIGURATION),
    ("stop_limit_no_direction", stop_limit(stop_direction=None), s.Reason.INVALID_STOP_PRICE),
    ("stop_limit_no_stop", stop_limit(stop_price=None), s.Reason.INVALID_STOP_PRICE),
    ("zero_size", order(size=D(0)), s.Reason.INVALID_SIZE),
    ("size_off_lot", order(size=D("0.000000001")), s.Reason.INVALID_SIZE_PRECISION),
    (
        "quote_size_off_cent",
        market(size=D("10.001"), size_in=QUOTE),
        s.Reason.INVALID_SIZE_PRECISION,
    ),
    ("price_off_tick", order(limit_price=D("99.001")), s.Reason.INVALID_PRICE_PRECISION),
    ("gtd_without_end", order(tif=GTD), s.Reason.INVALID_END_TIME),
    ("gtd_end_not_after_arrival", order(tif=GTD, end_ns=at(1)), s.Reason.INVALID_END_TIME),
    ("gtc_with_end", order(end_ns=at(5)), s.Reason.INVALID_END_TIME),
    ("unlisted_product", order(product_id="DOGE-USD"), s.Reason.INVALID_PRODUCT_ID),
    ("buy_beyond_cash", order(size=D(100_000)), s.Reason.INSUFFICIENT_FUND),
    (
        "sell_beyond_base",
        order(side=SELL, limit_price=D(101), size=D(101)),
        s.Reason.INSUFFICIENT_FUND,
    ),
]


@pytest.mark.parametrize(
    ("rejected", "reason"), [pytest.param(o, r, id=name) for name, o, r in REJECTIONS]
)
def test_submit_when_venue_refuses_then_rejected_and_state_unchanged(
    rejected: s.SimOrder, reason: s.Reason
) -> None:
    """A refused order is one OrderRejected event with the reason; nothing else moves."""
    venue = Venue.open(balances={"USD": D(10_000), "BTC": D(100)})
    before = venue.state

    events = venue.submit(rejected)

    assert statuses(events) == ["rejected"]
    assert venue.last("o1").reason == reason.value
    assert venue.state.working == before.working
    assert venue.state.balances == before.balances


def test_submit_when_market_buy_costs_more_than_cash_then_insufficient_fund() -> None:
    """A taker fill plus its fee must fit in the available quote balance."""
    venue = Venue.open(balances={"USD": D("50.59")})

    venue.submit(market(size=D("0.5")))  # costs 50 + 0.60 fee

    assert venue.last("o1").reason == s.Reason.INSUFFICIENT_FUND.value
    assert venue.balance("USD").total == D("50.59")


def test_submit_when_no_market_yet_then_market_rejected_and_limit_rests() -> None:
    """Before any bar a market order has no liquidity and a limit cannot cross."""
    venue = Venue.open(market=False)

    venue.submit(market())
    venue.submit(order(order_id="o2", limit_price=D(1_000)))

    assert venue.last("o1").reason == s.Reason.INVALID_NO_LIQUIDITY.value
    assert venue.last("o2").status is s.OrderStatus.OPEN


def test_submit_when_quote_given_then_it_sets_the_price() -> None:
    """A caller's best bid/ask replaces the last close; liquidity still comes from the bar."""
    venue = Venue.open()
    quote = s.Quote(product_id="BTC-USD", bid=D("99.50"), ask=D("100.50"))

    venue.submit(market(size=D("0.5")), quote=quote)
    venue.submit(market(order_id="o2", side=SELL, size=D("0.5")), quote=quote)

    assert [f.price for f in venue.fills()] == [D("100.50"), D("99.50")]


def test_submit_when_spread_and_slippage_then_taker_pays_both_rounded_against_it() -> None:
    """Buy: close + half the spread, then slippage, rounded up; a sell mirrors it, rounded down."""
    venue = Venue.open(st.config(spread_bps=D(20), slippage_bps=D(10)))

    venue.submit(market(size=D("0.1")))
    venue.submit(market(order_id="o2", side=SELL, size=D("0.1")))

    # ask 100.10 * 1.001 = 100.2001 -> 100.21; bid 99.90 * 0.999 = 99.8001 -> 99.80
    assert [f.price for f in venue.fills()] == [D("100.21"), D("99.80")]


def test_submit_when_slippage_beyond_limit_then_fills_at_limit() -> None:
    """A crossing limit never fills worse than its limit, whatever the slippage."""
    venue = Venue.open(st.config(slippage_bps=D(100)))

    venue.submit(order(limit_price=D("100.50"), size=D("0.5")))

    assert [f.price for f in venue.fills()] == [D("100.50")]


def test_submit_when_earlier_takers_used_budget_then_later_gets_the_rest() -> None:
    """Takers arriving between two bars share the last bar's participation budget."""
    venue = Venue.open()

    venue.submit(market(size=D("0.6")))
    venue.submit(market(order_id="o2", size=D(1)))

    assert [f.size for f in venue.fills()] == [D("0.6"), D("0.4")]


def test_submit_when_quote_size_below_one_lot_then_size_too_small() -> None:
    """A quote size that buys less than one base increment is refused."""
    spec = s.ProductSpec.spot("BTC-USD", base_increment=D("0.01"))
    venue = Venue.open(st.config(products=(spec,)))

    venue.submit(market(size=D("0.50"), size_in=QUOTE))

    assert venue.last("o1").reason == s.Reason.SIZE_TOO_SMALL.value


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(order(status=s.OrderStatus.OPEN), id="not_new"),
        pytest.param(order(filled_size=D(1)), id="already_filled"),
    ],
)
def test_submit_when_order_not_new_then_value_error(bad: s.SimOrder) -> None:
    """Submitting something other than a fresh order is a caller bug."""
    venue = Venue.open()

    with pytest.raises(ValueError, match="NEW"):
        venue.submit(bad)


def test_submit_when_id_already_working_then_value_error() -> None:
    """Two working orders with one id would be a caller bug."""
    venue = Venue.open()
    venue.submit(order())

    with pytest.raises(ValueError, match="already working"):
        venue.submit(order())


# ---------------------------------------------------------------- resting orders


@pytest.mark.parametrize(
    ("side", "limit", "low", "high", "fills"),
    [
        pytest.param(BUY, "99", "99", "101", 0, id="buy_touched_no_fill"),
        pytest.param(BUY, "99", "98.99", "101", 1, id="buy_traded_through_fills"),
        pytest.param(SELL, "101", "99", "101", 0, id="sell_touched_no_fill"),
        pytest.param(SELL, "101", "99", "101.01", 1, id="sell_traded_through_fills"),
    ],
)
def test_on_bar_when_resting_limit_then_fills_only_when_traded_strictly_through(
    side: s.Side, limit: str, low: str, high: str, fills: int
) -> None:
    """A resting limit fills as maker at its limit only if the bar trades beyond it."""
    venue = Venue.open()
    venue.submit(order(side=side, limit_price=D(limit)))

    venue.bar(bar(1, low=D(low), high=D(high)))

    assert _same(_fills(venue), [("1", limit, MAKER)] * fills)


def test_on_bar_when_maker_fill_then_maker_fee() -> None:
    """Maker fills pay the maker rate on the notional, in quote currency."""
    venue = Venue.open()
    venue.submit(order())

    venue.bar(bar(1, low=D(98)))

    assert venue.fills()[0].fee == D("0.594")  # 99 * 0.006


def test_on_bar_when_volume_small_then_partial_fills_across_bars() -> None:
    """Each bar fills at most participation x volume; the order fills over several bars."""
    venue = Venue.open()
    venue.submit(order(size=D("2.5")))

    events = [venue.bar(bar(i, low=D(98))) for i in (1, 2, 3, 4)]

    assert [statuses(e) for e in events] == [
        ["partially_filled"],
        ["partially_filled"],
        ["filled"],
        [],
    ]
    assert [f.size for f in venue.fills()] == [D(1), D(1), D("0.5")]
    assert venue.last("o1").filled_size == D("2.5")


def test_on_bar_when_two_orders_rest_then_budget_shared_in_arrival_order() -> None:
    """Our resting orders share one bar's budget, earliest first."""
    venue = Venue.open()
    venue.submit(order(size=D("0.8")))
    venue.submit(order(order_id="o2", size=D("0.8"), limit_price=D("99.50")))

    venue.bar(bar(1, low=D(98)))

    assert [(f.order_id, f.size) for f in venue.fills()] == [("o1", D("0.8")), ("o2", D("0.2"))]


def test_on_bar_when_order_arrived_after_bar_open_then_waits_for_next_bar() -> None:
    """A bar that opened before the order arrived cannot fill it (no look-ahead)."""
    venue = Venue.open()
    venue.submit(order(created_ns=at(1, 30)))

    first = venue.bar(bar(1, low=D(98)))
    second = venue.bar(bar(2, low=D(98)))

    assert (statuses(first), statuses(second)) == ([], ["filled"])


def test_on_bar_when_zero_volume_then_nothing_fills() -> None:
    """A bar without volume offers no liquidity."""
    venue = Venue.open()
    venue.submit(order())

    assert venue.bar(bar(1, low=D(98), volume=D(0))) == []


def test_on_bar_when_partly_filled_on_arrival_then_rest_fills_as_maker_at_limit() -> None:
    """Taker on arrival for what the budget allowed; the remainder makes at its limit later."""
    venue = Venue.open()
    venue.submit(order(limit_price=D(101), size=D(2)))

    venue.bar(bar(1, open=D("100.80"), low=D("100.50"), close=D("100.80")))

    assert _same(_fills(venue), [("1", "100", TAKER), ("1", "101", MAKER)])
    assert [f.fee for f in venue.fills()] == [D("1.2"), D("0.606")]


@pytest.mark.parametrize(
    ("fed", "match"),
    [
        pytest.param(bar(0), "does not follow", id="same_bar_again"),
        pytest.param(bar(0, product_id="DOGE-USD"), "unlisted", id="unlisted_product"),
    ],
)
def test_on_bar_when_bar_out_of_order_or_unlisted_then_value_error(fed: s.Bar, match: str) -> None:
    """Bars of a product arrive in time order, and only for listed products."""
    venue = Venue.open()

    with pytest.raises(ValueError, match=match):
        venue.bar(fed)


# ---------------------------------------------------------------- stops


def _gap(minute: int, *prices: str, volume: str = "10") -> s.Bar:
    o, h, lo, c = (D(p) for p in prices)
    return bar(minute, open=o, high=h, low=lo, close=c, volume=D(volume))


def test_stop_when_bar_does_not_reach_stop_then_waits() -> None:
    """A stop-down does not fire while lows stay above the stop."""
    venue = Venue.open()
    venue.submit(stop_limit())

    assert venue.bar(_gap(1, "97", "98", "95.01", "96")) == []


def test_stop_down_when_low_reaches_stop_then_fires_and_takes_at_stop() -> None:
    """Reaching the stop fires it; a marketable limit takes at the stop as taker."""
    venue = Venue.open()
    venue.submit(stop_limit())

    events = venue.bar(_gap(1, "97", "97", "95", "96"))

    assert statuses(events) == ["triggered", "filled"]
    assert _same(_fills(venue), [("1", "95", TAKER)])


def test_stop_when_bar_gaps_past_stop_then_fires_at_open_and_rests_if_not_marketable() -> None:
    """Gapping below the stop fires it at the open; a limit above that rests as maker."""
    venue = Venue.open()
    venue.submit(stop_limit())

    fired = venue.bar(_gap(1, "93.50", "93.90", "93", "93.50"))
    later = venue.bar(_gap(2, "93.50", "94.50", "93", "94.20"))

    assert (statuses(fired), statuses(later)) == (["triggered"], ["filled"])
    assert _same(_fills(venue), [("1", "94", MAKER)])


def test_stop_up_when_high_reaches_stop_then_buy_fires() -> None:
    """A buy stop-up fires when the high reaches the stop and takes up to its limit."""
    venue = Venue.open()
    venue.submit(
        stop_limit(
            side=BUY, stop_direction=s.StopDirection.UP, stop_price=D(105), limit_price=D(106)
        )
    )

    venue.bar(_gap(1, "100", "105", "100", "104"))

    assert _same(_fills(venue), [("1", "105", TAKER)])


def test_stop_when_fired_with_small_budget_then_rest_makes_from_next_bar() -> None:
    """What the trigger bar cannot fill rests as a limit and makes on later bars."""
    venue = Venue.open()
    venue.submit(stop_limit())

    venue.bar(_gap(1, "97", "97", "95", "96", volume="4"))
    venue.bar(_gap(2, "96", "96", "95", "95.50"))

    assert _same(_fills(venue), [("0.4", "95", TAKER), ("0.6", "94", MAKER)])


def test_stop_when_accepted_after_bar_open_then_that_bar_does_not_fire_it() -> None:
    """Only bars that open after the stop arrived can fire it."""
    venue = Venue.open()
    venue.submit(stop_limit(created_ns=at(1, 1)))

    first = venue.bar(_gap(1, "97", "97", "95", "96"))
    second = venue.bar(_gap(2, "97", "97", "95", "96"))

    assert (statuses(first), statuses(second)) == ([], ["triggered", "filled"])


# ---------------------------------------------------------------- GTD, cancel


def test_on_bar_when_gtd_ends_inside_bar_then_expires_before_filling() -> None:
    """A GTD order cannot fill on a bar whose end is past its end time."""
    venue = Venue.open()
    venue.submit(order(tif=GTD, end_ns=at(1, 30)))

    events = venue.bar(bar(1, low=D(98)))

    assert statuses(events) == ["expired"]
    assert events[0].ts_ns == at(1, 30)
    assert venue.fills() == []


def test_expire_when_end_reached_then_expired_and_hold_released() -> None:
    """expire(now) ends due GTD orders and releases what they held."""
    venue = Venue.open()
    venue.submit(order(tif=GTD, end_ns=at(3)))

    early, due = venue.expire(at(2)), venue.expire(at(3))

    assert (statuses(early), statuses(due)) == ([], ["expired"])
    assert venue.balance("USD").hold == 0


def test_cancel_when_working_then_cancelled_and_hold_released() -> None:
    """Cancelling a working order ends it and frees its hold."""
    venue = Venue.open()
    venue.submit(order())

    events = venue.cancel("o1", at(2))

    assert statuses(events) == ["cancelled"]
    assert venue.last("o1").reason == s.Reason.USER_CANCELLED.value
    assert venue.state.working == ()
    assert venue.balance("USD").hold == 0


@pytest.mark.parametrize("order_id", ["o1", "never-placed"])
def test_cancel_when_not_working_then_cancel_rejected(order_id: str) -> None:
    """Cancelling an order that is done or unknown is refused as a value, not raised."""
    venue = Venue.open()
    venue.submit(market(size=D("0.1")))

    events = venue.cancel(order_id, at(2))

    assert events == [
        s.CancelRejected(ts_ns=at(2), order_id=order_id, reason="UNKNOWN_CANCEL_ORDER")
    ]


# ---------------------------------------------------------------- balances


def test_account_balances_when_buy_fills_then_base_up_quote_down_by_notional_and_fee() -> None:
    """A buy adds base and costs notional plus fee in quote."""
    venue = Venue.open(balances={"USD": D(1_000)})

    venue.submit(market(size=D("0.5")))

    assert (venue.balance("BTC").total, venue.balance("USD").total) == (D("0.5"), D("949.4"))


def test_account_balances_when_buy_rests_then_hold_covers_notional_and_taker_fee() -> None:
    """A resting buy holds its notional at the limit plus the taker fee on it."""
    venue = Venue.open()

    venue.submit(order())

    assert venue.balance("USD").hold == D("100.188")  # 99 + 99 * 0.012


def test_account_balances_when_sell_rests_then_base_held() -> None:
    """A resting sell holds its remaining base."""
    venue = Venue.open()

    venue.submit(order(side=SELL, limit_price=D(105), size=D(3)))

    assert venue.balance("BTC") == s.Balance(currency="BTC", total=D(100), hold=D(3))


# ---------------------------------------------------------------- lifecycle, values


def test_apply_when_table_has_no_edge_then_invalid_transition() -> None:
    """Statuses only move forward: a filled order cannot be cancelled."""
    filled = order(status=s.OrderStatus.FILLED)

    with pytest.raises(s.InvalidTransition, match="FILLED -> CANCEL"):
        s.apply(filled, s.Trigger.CANCEL)


def test_transitions_when_terminal_then_no_edge_leaves() -> None:
    """No transition starts from a terminal status."""
    assert not [key for key in s.TRANSITIONS if key[0] in s.TERMINAL]


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"low": D(100.5)}, id="low_above_open"),
        pytest.param({"high": D(99.5)}, id="high_below_open"),
        pytest.param({"volume": D(-1)}, id="negative_volume"),
        pytest.param({"low": D(0)}, id="zero_price"),
        pytest.param({"close_ns": at(0)}, id="close_not_after_open"),
    ],
)
def test_bar_when_inconsistent_then_value_error(overrides: dict[str, Decimal]) -> None:
    """A bar refuses impossible OHLCV values."""
    with pytest.raises(ValueError, match="bad bar"):
        bar(0, **overrides)


def test_quote_when_crossed_then_value_error() -> None:
    """A quote with its bid above its ask is refused."""
    with pytest.raises(ValueError, match="bid <= ask"):
        s.Quote(product_id="BTC-USD", bid=D(101), ask=D(100))


def test_events_when_encoded_then_tagged_json() -> None:
    """Events encode as tagged JSON, so a run's log can be compared byte for byte."""
    venue = Venue.open()
    venue.submit(market(size=D("0.5")))

    encoded = msgspec.json.encode(venue.events)

    assert encoded.startswith(b'[{"type":"accepted"')
    assert b'"price":"100.00"' in encoded
