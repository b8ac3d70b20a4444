"""Order flows against the served venue, through the real `trading_coinbase.RestClient`.

Expected prices and fees are closed forms from the candle file's text (conftest): the
touch is close x (1 +- 1 bp) rounded outwards to the cent (2 bps spread), fees are
notional x the published tier rate rounded up to 1e-8 (`trading_sim.matching.fees`).
"""

import asyncio
from collections.abc import Awaitable, Callable
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

import pytest

from trading_coinbase import (
    AuthError,
    OrderKind,
    OrderOutcomeUnknown,
    OrderRejected,
    OrderSpec,
    RateLimited,
    RestClient,
    ServerError,
    Side,
    TimeInForce,
)
from trading_coinbase.translate import NS_PER_S
from trading_sim.venue import VenueSettings
from trading_sim.venue.testing import KEY_NAME, Harness, KeyPair, harness

D = Decimal
CENT = D("0.01")
FEE_QUANTUM = D("1e-8")
Scenario = Callable[[Harness, RestClient], Awaitable[None]]


def run(series: dict[str, Any], key_pair: KeyPair, scenario: Scenario, **settings: Any) -> None:
    async def go() -> None:
        chosen = VenueSettings(key_name=KEY_NAME, **settings)
        async with harness(series, settings=chosen, key_pair=key_pair) as h, h.rest() as client:
            await scenario(h, client)

    asyncio.run(go())


def ask(close: Decimal) -> Decimal:
    return (close * D("1.0001")).quantize(CENT, rounding=ROUND_CEILING)


def bid(close: Decimal) -> Decimal:
    return (close * D("0.9999")).quantize(CENT, rounding=ROUND_FLOOR)


def fee(notional: Decimal, rate: str) -> Decimal:
    return (notional * D(rate)).quantize(FEE_QUANTUM, rounding=ROUND_CEILING)


def market_buy(cid: str, base: str = "0.5") -> OrderSpec:
    return OrderSpec(
        client_order_id=cid,
        product_id="BTC-USD",
        side=Side.BUY,
        kind=OrderKind.MARKET,
        tif=TimeInForce.IMMEDIATE_OR_CANCEL,
        base_size=D(base),
    )


def limit_buy(cid: str, price: str, size: str = "1", **extra: Any) -> OrderSpec:
    fields: dict[str, Any] = {
        "client_order_id": cid,
        "product_id": "BTC-USD",
        "side": Side.BUY,
        "kind": OrderKind.LIMIT,
        "tif": TimeInForce.GOOD_UNTIL_CANCELLED,
        "base_size": D(size),
        "limit_price": D(price),
    }
    return OrderSpec(**(fields | extra))


async def balance(client: RestClient, currency: str) -> tuple[Decimal, Decimal]:
    accounts = (await client.list_accounts()).accounts
    account = next(a for a in accounts if a.currency == currency)
    assert account.hold is not None
    return D(account.available_balance.value), D(account.hold.value)


@pytest.mark.parametrize(
    ("prior_volume", "tier", "taker_rate"),
    [("0", "intro_1", "0.0120"), ("20000", "advanced_1", "0.0040")],
)
def test_market_order_when_placed_then_fills_at_the_touch_with_the_tier_fee(
    series: dict[str, Any],
    key_pair: KeyPair,
    rows: list[Any],
    prior_volume: str,
    tier: str,
    taker_rate: str,
) -> None:
    """A market buy takes the ask of the current bar and pays its tier's taker rate."""
    price = ask(rows[0].close)
    expected_fee = fee(D("0.5") * price, taker_rate)

    async def scenario(h: Harness, client: RestClient) -> None:
        placed = await client.create_order(market_buy("m-1"))
        order = await client.get_order(placed.order_id)
        fills = (await client.list_fills(order_ids=[placed.order_id])).fills
        summary = await client.get_transaction_summary()
        usd, btc = await balance(client, "USD"), await balance(client, "BTC")

        assert (order.status, order.client_order_id, order.order_type) == (
            "FILLED",
            "m-1",
            "MARKET",
        )
        assert (D(order.filled_size), D(order.average_filled_price)) == (D("0.5"), price)
        assert D(order.total_fees) == expected_fee
        assert [(D(f.price), D(f.size), D(f.commission), f.liquidity_indicator) for f in fills] == [
            (price, D("0.5"), expected_fee, "TAKER")
        ]
        assert (summary.fee_tier.pricing_tier, D(summary.fee_tier.taker_fee_rate)) == (
            tier,
            D(taker_rate),
        )
        assert usd == (D(10_000) - D("0.5") * price - expected_fee, D(0))
        assert btc == (D("0.5"), D(0))

    run(series, key_pair, scenario, prior_volume_quote=D(prior_volume))


def test_limit_order_when_rested_then_cancelled_then_each_step_reported(
    series: dict[str, Any], key_pair: KeyPair
) -> None:
    """A resting buy holds price x size plus the taker fee; cancel frees it, once."""

    async def scenario(h: Harness, client: RestClient) -> None:
        placed = await client.create_order(limit_buy("l-1", "90.00"))
        resting = await client.get_order(placed.order_id)
        listed = await client.list_orders(order_status=["OPEN"])
        held = await balance(client, "USD")
        first = await client.cancel_orders([placed.order_id])
        again = await client.cancel_orders([placed.order_id, "no-such-order"])
        cancelled = await client.get_order(placed.order_id)

        assert (resting.status, D(resting.outstanding_hold_amount)) == ("OPEN", D("91.08"))
        assert [o.order_id for o in listed.orders] == [placed.order_id]
        assert held == (D(10_000) - D("91.08"), D("91.08"))
        assert [(r.success, r.order_id) for r in first] == [(True, placed.order_id)]
        assert [(r.success, r.failure_reason) for r in again] == [
            (False, "DUPLICATE_CANCEL_REQUEST"),
            (False, "UNKNOWN_CANCEL_ORDER"),
        ]
        assert (cancelled.status, D(cancelled.outstanding_hold_amount)) == ("CANCELLED", D(0))
        assert await balance(client, "USD") == (D(10_000), D(0))
        assert (await client.list_orders(order_status=["OPEN"])).orders == ()

    run(series, key_pair, scenario)


def test_resting_limit_when_a_later_bar_trades_through_then_maker_fill_at_the_limit(
    series: dict[str, Any], key_pair: KeyPair, rows: list[Any]
) -> None:
    """Below the ask it rests; the next bar's low goes through it: a maker fill at 100."""
    assert rows[1].low < D(100) < ask(rows[0].close)

    async def scenario(h: Harness, client: RestClient) -> None:
        placed = await client.create_order(limit_buy("l-2", "100.00", "0.25"))
        assert (await client.get_order(placed.order_id)).status == "OPEN"
        h.next_bar()
        order = await client.get_order(placed.order_id)
        fills = (await client.list_fills()).fills

        assert (order.status, D(order.average_filled_price)) == ("FILLED", D(100))
        assert [(f.liquidity_indicator, D(f.commission)) for f in fills] == [
            ("MAKER", fee(D("0.25") * 100, "0.0060"))
        ]
        assert fills[0].trade_time == order.last_fill_time

    run(series, key_pair, scenario)


def test_list_orders_when_paged_then_every_order_once_newest_first(
    series: dict[str, Any], key_pair: KeyPair
) -> None:
    """Five orders in pages of two: all five, newest first, the last page ends it."""

    async def scenario(h: Harness, client: RestClient) -> None:
        ids = [(await client.create_order(limit_buy(f"p-{i}", "50.00"))).order_id for i in range(5)]
        seen: list[str] = []
        cursor: str | None = None
        pages = 0
        while True:
            page = await client.list_orders(limit=2, cursor=cursor)
            seen += [o.order_id for o in page.orders]
            pages += 1
            if not page.has_next:
                break
            cursor = page.cursor
        found = await client.find_order_by_client_id("p-2", product_id="BTC-USD")

        assert seen == ids[::-1]
        assert pages == 3
        assert found is not None
        assert found.order_id == ids[2]
        assert await client.find_order_by_client_id("p-9") is None

    run(series, key_pair, scenario)


def test_create_when_client_order_id_repeats_then_the_original_order_and_no_second(
    series: dict[str, Any], key_pair: KeyPair
) -> None:
    """The same id with another size returns the first order's reply; one order exists."""

    async def scenario(h: Harness, client: RestClient) -> None:
        first = await client.create_order(limit_buy("dup", "90.00", "1"))
        second = await client.create_order(limit_buy("dup", "80.00", "2"))
        orders = (await client.list_orders()).orders

        assert second == first
        assert [
            (o.order_id, o.order_configuration["limit_limit_gtc"].limit_price) for o in orders
        ] == [(first.order_id, "90.00")]
        assert (await balance(client, "USD"))[1] == D("91.08")

    run(series, key_pair, scenario)


def test_create_when_duplicate_mode_is_error_then_outcome_unknown_and_lookup_finds_one(
    series: dict[str, Any], key_pair: KeyPair
) -> None:
    """DUPLICATE_CLIENT_ORDER_ID is indefinite for the client; the lookup resolves it."""

    async def scenario(h: Harness, client: RestClient) -> None:
        first = await client.create_order(limit_buy("dup-e", "90.00"))
        h.set_faults(duplicate_client_order_id="error")
        with pytest.raises(OrderOutcomeUnknown) as raised:
            await client.create_order(limit_buy("dup-e", "90.00"))
        found = await client.find_order_by_client_id("dup-e")

        assert raised.value.reason == "DUPLICATE_CLIENT_ORDER_ID"
        assert found is not None
        assert found.order_id == first.order_id
        assert len((await client.list_orders()).orders) == 1

    run(series, key_pair, scenario)


@pytest.mark.parametrize("mode", ["504", "stall"])
def test_create_when_the_reply_is_lost_then_unknown_and_exactly_one_order_by_client_id(
    series: dict[str, Any], key_pair: KeyPair, mode: str
) -> None:
    """The order is placed, the client cannot know; the lookup and a resend find one."""

    async def scenario(h: Harness, client: RestClient) -> None:
        h.set_faults(drop_create_responses=1, drop_mode=mode, stall_s=1.0)
        async with h.rest(timeout_s=0.3) as impatient:
            with pytest.raises(OrderOutcomeUnknown) as raised:
                await impatient.create_order(limit_buy("lost", "90.00"))
        found = await client.find_order_by_client_id("lost", product_id="BTC-USD")
        resent = await client.create_order(limit_buy("lost", "90.00"))
        orders = (await client.list_orders()).orders

        assert raised.value.client_order_id == "lost"
        assert found is not None
        assert found.status == "OPEN"
        assert resent.order_id == found.order_id
        assert [o.client_order_id for o in orders] == ["lost"]
        assert h.exchange.faults.current.drop_create_responses == 0

    run(series, key_pair, scenario)


def test_bursts_when_5xx_on_a_get_then_retried_and_on_create_then_unknown_but_nothing_placed(
    series: dict[str, Any], key_pair: KeyPair
) -> None:
    """Two 503s: a GET retries through; a create is unknown yet the venue placed nothing."""

    async def scenario(h: Harness, client: RestClient) -> None:
        h.set_faults(http_5xx_next=2, http_5xx_status=503)
        permissions = await client.get_key_permissions()
        assert h.exchange.faults.current.http_5xx_next == 0
        h.set_faults(http_5xx_next=1, http_5xx_status=500, fault_paths=["/orders"])
        with pytest.raises(OrderOutcomeUnknown):
            await client.create_order(limit_buy("after-500", "90.00"))
        h.set_faults(http_5xx_next=5, http_5xx_status=502, fault_paths=[], html_error_bodies=True)
        with pytest.raises(ServerError) as exhausted:
            await client.get_key_permissions()

        assert (permissions.can_trade, permissions.can_transfer) == (True, False)
        assert exhausted.value.status == 502
        assert "Bad Gateway" in exhausted.value.message
        assert h.exchange.faults.current.http_5xx_next == 1  # four attempts took four
        h.set_faults(http_5xx_next=0)
        assert (await client.list_orders()).orders == ()

    run(series, key_pair, scenario)


def test_bursts_when_429_on_create_then_rate_limited_and_no_order(
    series: dict[str, Any], key_pair: KeyPair
) -> None:
    """A 429 on create is never retried by the client and the venue placed nothing."""

    async def scenario(h: Harness, client: RestClient) -> None:
        h.set_faults(http_429_next=1)
        with pytest.raises(RateLimited):
            await client.create_order(limit_buy("after-429", "90.00"))
        assert (await client.list_orders()).orders == ()

    run(series, key_pair, scenario)


def test_rate_limit_when_over_the_private_and_public_rates_then_429_until_refilled(
    series: dict[str, Any], key_pair: KeyPair
) -> None:
    """30 private and 10 public calls pass in a frozen second; one more is a 429."""

    async def scenario(h: Harness, client: RestClient) -> None:
        async with h.rest(attempts=1) as once, h.rest(keyless=True, attempts=1) as public:
            for _ in range(30):
                await once.get_key_permissions()
            with pytest.raises(RateLimited) as private_429:
                await once.get_key_permissions()
            for _ in range(10):
                await public.get_server_time()
            with pytest.raises(RateLimited):
                await public.get_server_time()
            h.clock.advance(1.0)
            await once.get_key_permissions()
            await public.get_server_time()

        assert private_429.value.status == 429

    run(series, key_pair, scenario)


def test_edit_when_gtc_limit_then_new_price_and_size_else_the_reason(
    series: dict[str, Any], key_pair: KeyPair
) -> None:
    """An edit re-prices a resting order in place; a filled order cannot be edited."""

    async def scenario(h: Harness, client: RestClient) -> None:
        resting = await client.create_order(limit_buy("e-1", "90.00", "1"))
        edited = await client.edit_order(resting.order_id, price=D("95.00"), size=D("2"))
        order = await client.get_order(resting.order_id)
        filled = await client.create_order(market_buy("e-2", "0.1"))
        refused = await client.edit_order(filled.order_id, price=D("95.00"), size=D("2"))
        same = await client.edit_order(resting.order_id, price=D("95.00"), size=D("2"))

        assert (edited.success, edited.errors) == (True, ())
        terms = order.order_configuration["limit_limit_gtc"]
        assert (terms.limit_price, terms.base_size, order.status) == ("95.00", "2", "OPEN")
        assert D(order.outstanding_hold_amount) == D("190") + D("190") * D("0.012")
        assert [e.edit_failure_reason for e in refused.errors] == ["ONLY_OPEN_ORDERS_CAN_BE_EDITED"]
        assert [e.edit_failure_reason for e in same.errors] == [
            "EDIT_REQUEST_EQUAL_TO_ORIGINAL_REQUEST"
        ]
        assert not refused.success

    run(series, key_pair, scenario)


def test_preview_when_asked_then_the_would_be_cost_and_nothing_placed(
    series: dict[str, Any], key_pair: KeyPair, rows: list[Any]
) -> None:
    """A preview prices the order like the fill would and leaves no order behind."""
    price = ask(rows[0].close)

    async def scenario(h: Harness, client: RestClient) -> None:
        ok = await client.preview_order(market_buy("pv-1"))
        too_big = await client.preview_order(limit_buy("pv-2", "90.00", "1000"))

        assert (D(ok.base_size), D(ok.commission_total)) == (
            D("0.5"),
            fee(D("0.5") * price, "0.012"),
        )
        assert D(ok.order_total) == D("0.5") * price + D(ok.commission_total)
        assert (D(ok.best_bid), D(ok.best_ask), ok.errs) == (bid(rows[0].close), price, ())
        assert too_big.errs == ("PREVIEW_INSUFFICIENT_FUND",)
        assert (await client.list_orders()).orders == ()

    run(series, key_pair, scenario)


def test_create_when_post_only_crosses_then_rejected_definitively_and_no_order(
    series: dict[str, Any], key_pair: KeyPair
) -> None:
    """A crossing post-only buy is INVALID_LIMIT_PRICE_POST_ONLY, success=false (§2.3)."""

    async def scenario(h: Harness, client: RestClient) -> None:
        with pytest.raises(OrderRejected) as rejected:
            await client.create_order(limit_buy("po", "101.00", post_only=True))
        assert rejected.value.reason == "INVALID_LIMIT_PRICE_POST_ONLY"
        assert (await client.list_orders()).orders == ()
        # Nothing was placed, so the id is free to use again.
        assert (await client.create_order(limit_buy("po", "90.00"))).client_order_id == "po"

    run(series, key_pair, scenario)


def test_gtd_order_when_its_end_passes_then_expired(
    series: dict[str, Any], key_pair: KeyPair
) -> None:
    """A GTD limit ending 1.5 s after the start is EXPIRED once the clock passes that."""

    async def scenario(h: Harness, client: RestClient) -> None:
        end_ns = h.clock.now_ns() + 3 * NS_PER_S // 2
        spec = limit_buy("gtd", "90.00", tif=TimeInForce.GOOD_UNTIL_DATE_TIME, end_time_ns=end_ns)
        placed = await client.create_order(spec)
        h.clock.advance(1.0)
        assert (await client.get_order(placed.order_id)).status == "OPEN"
        h.clock.advance(1.0)
        assert (await client.get_order(placed.order_id)).status == "EXPIRED"

    run(series, key_pair, scenario)


def test_create_when_the_key_may_not_trade_then_403(
    series: dict[str, Any], key_pair: KeyPair
) -> None:
    """With can_trade off, create is PERMISSION_DENIED and key_permissions says so."""

    async def scenario(h: Harness, client: RestClient) -> None:
        h.set_faults(can_trade=False, can_transfer=True)
        with pytest.raises(AuthError) as refused:
            await client.create_order(limit_buy("nt", "90.00"))
        permissions = await client.get_key_permissions()

        assert (refused.value.status, refused.value.error) == (403, "PERMISSION_DENIED")
        assert (permissions.can_trade, permissions.can_transfer) == (False, True)

    run(series, key_pair, scenario)
