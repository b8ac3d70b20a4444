"""What only the paper exchange does: fault knobs, latency on the injected clock, determinism."""

import asyncio
from collections.abc import Coroutine
from decimal import Decimal
from typing import Any, TypeVar

import pytest

import exchange_port_suite as suite
import trading_sim as sim
from exchange_port_suite import CALM, DIP, D, FakeClock, limit_bid, market_buy, placed_id
from trading_contract import (
    ClientOrderId,
    OrderStatus,
    OrderType,
    ProductId,
    Side,
    SizeUnit,
    StopDirection,
    TimeInForce,
    VenueOrderId,
)
from trading_gate.exchange import CANCEL_BATCH, PaperConfig, PaperExchange
from trading_gate.ports import (
    CancelResult,
    OrderRequest,
    OutcomeUnknown,
    PlaceAccepted,
    PlaceRejected,
    TemporaryExchangeError,
    VenueBalance,
    VenueFill,
)

T0 = 1_764_614_400 * 10**9
MINUTE = 60 * 10**9
MS = 10**6
R = TypeVar("R")


def run(coroutine: Coroutine[Any, Any, R]) -> R:
    return asyncio.run(coroutine)


def paper(**overrides: Any) -> tuple[PaperExchange, FakeClock]:
    """A paper venue at T0 with 100,000 USD and 1 BTC, no spread, and a CALM bar fed."""
    fields: dict[str, Any] = {
        "engine": sim.EngineConfig(spread_bps=D(0)),
        "starting_balances": {"USD": D(100_000), "BTC": D(1)},
    }
    clock = FakeClock(T0)
    exchange = PaperExchange(clock, PaperConfig(**(fields | overrides)))
    trade(exchange, clock, CALM)
    return exchange, clock


def trade(exchange: PaperExchange, clock: FakeClock, prices: dict[str, Decimal]) -> None:
    start = clock.now_ns()
    clock.advance(MINUTE)
    exchange.on_bar(sim.Bar(product_id="BTC-USD", open_ns=start, close_ns=start + MINUTE, **prices))


def status(exchange: PaperExchange, client_order_id: str) -> OrderStatus | None:
    found = run(exchange.get_order(ClientOrderId(client_order_id)))
    return None if found is None else found.status


# ---------------------------------------------------------------- fault knobs


def test_place_when_unknown_outcome_armed_then_raises_after_placing() -> None:
    """Like a timed-out venue: OutcomeUnknown, yet the order is on the book."""
    exchange, _ = paper()
    exchange.fail_next_place_with_unknown()

    with pytest.raises(OutcomeUnknown):
        run(exchange.place(limit_bid("pp-unknown-1")))

    assert status(exchange, "pp-unknown-1") is OrderStatus.OPEN
    assert len(run(exchange.list_open_orders())) == 1


def test_place_when_resent_after_unknown_outcome_then_same_order() -> None:
    """Resending the same client order id after a timeout finds the first order."""
    exchange, _ = paper()
    exchange.fail_next_place_with_unknown()
    with pytest.raises(OutcomeUnknown):
        run(exchange.place(limit_bid("pp-resend-1")))
    first = run(exchange.get_order(ClientOrderId("pp-resend-1")))

    again = run(exchange.place(limit_bid("pp-resend-1")))

    assert first is not None
    assert again == PlaceAccepted(venue_order_id=first.venue_order_id)
    assert len(run(exchange.list_open_orders())) == 1


def test_place_when_reject_armed_then_rejected_once_and_no_order() -> None:
    """reject_next_place refuses the next place only, leaving no order behind."""
    exchange, _ = paper()
    exchange.reject_next_place("INSUFFICIENT_FUND")

    refused = run(exchange.place(limit_bid("pp-reject-1")))
    accepted = run(exchange.place(limit_bid("pp-reject-2")))

    assert refused == PlaceRejected(reason="INSUFFICIENT_FUND")
    assert status(exchange, "pp-reject-1") is None
    assert isinstance(accepted, PlaceAccepted)


def test_cancel_when_failures_armed_then_temporary_error_n_times_then_cancels() -> None:
    """fail_next_cancels(n): n calls raise and cancel nothing; the next one works."""
    exchange, _ = paper()
    venue_id = run(placed_id(exchange, limit_bid("pp-flaky-1")))
    exchange.fail_next_cancels(2)

    for _ in range(2):
        with pytest.raises(TemporaryExchangeError):
            run(exchange.cancel([venue_id]))
        assert status(exchange, "pp-flaky-1") is OrderStatus.OPEN
    results = run(exchange.cancel([venue_id]))

    assert results == (CancelResult(venue_order_id=venue_id, success=True),)


def test_cancel_all_when_failure_armed_then_raises_and_book_unchanged() -> None:
    """cancel_all goes through cancel, so an armed failure fails it as a whole."""
    exchange, _ = paper()
    run(placed_id(exchange, limit_bid("pp-killfail-1")))
    exchange.fail_next_cancels(1)

    with pytest.raises(TemporaryExchangeError):
        run(exchange.cancel_all())

    assert len(run(exchange.list_open_orders())) == 1
    assert run(exchange.cancel_all())[0].success


@pytest.mark.parametrize(
    ("prepare", "reason"),
    [
        pytest.param("fill", "ORDER_IS_FULLY_FILLED", id="filled"),
        pytest.param("cancel", "DUPLICATE_CANCEL_REQUEST", id="cancelled"),
        pytest.param("none", "UNKNOWN_CANCEL_ORDER", id="unknown"),
    ],
)
def test_cancel_when_order_done_or_unknown_then_coinbase_reason(prepare: str, reason: str) -> None:
    """Per-id failures carry Coinbase's batch_cancel reasons."""
    exchange, _ = paper()
    venue_id = VenueOrderId("paper-999999")
    if prepare == "fill":
        venue_id = run(placed_id(exchange, market_buy("pp-done-1")))
    elif prepare == "cancel":
        venue_id = run(placed_id(exchange, limit_bid("pp-done-1")))
        run(exchange.cancel([venue_id]))

    (result,) = run(exchange.cancel([venue_id]))

    assert result == CancelResult(venue_order_id=venue_id, success=False, failure_reason=reason)


def test_cancel_all_when_more_than_a_batch_then_all_cancelled() -> None:
    """cancel_all chunks at Coinbase's batch size and cancels everything."""
    exchange, _ = paper()
    for n in range(CANCEL_BATCH + 5):
        run(placed_id(exchange, limit_bid(f"pp-many-{n}", size=D("0.00001000"))))

    results = run(exchange.cancel_all())

    assert len(results) == CANCEL_BATCH + 5
    assert all(r.success for r in results)
    assert run(exchange.list_open_orders()) == ()


# ---------------------------------------------------------------- latency


def test_latency_when_clock_before_arrival_then_pending_then_filled_at_arrival() -> None:
    """An order waits latency_ns on the injected clock; its fill is stamped at arrival."""
    exchange, clock = paper(latency_ns=500 * MS)
    placed_at = clock.now_ns()
    run(placed_id(exchange, market_buy("pp-late-1")))

    clock.advance(499 * MS)
    pending = status(exchange, "pp-late-1"), run(exchange.fills_since(0))
    open_orders = run(exchange.list_open_orders())
    clock.advance(1 * MS)

    assert pending == (OrderStatus.PENDING, ())
    assert [o.status for o in open_orders] == [OrderStatus.PENDING]
    assert status(exchange, "pp-late-1") is OrderStatus.FILLED
    assert [f.ts_ns for f in run(exchange.fills_since(0))] == [placed_at + 500 * MS]


def test_latency_when_cancelled_while_queued_then_never_reaches_the_book() -> None:
    """Cancelling a queued order succeeds and it never fills."""
    exchange, clock = paper(latency_ns=500 * MS)
    venue_id = run(placed_id(exchange, market_buy("pp-late-2")))

    results = run(exchange.cancel([venue_id]))
    clock.advance(MINUTE)

    assert results[0].success
    assert status(exchange, "pp-late-2") is OrderStatus.CANCELLED
    assert run(exchange.fills_since(0)) == ()


def test_latency_when_refused_on_arrival_then_order_reads_rejected() -> None:
    """With latency the venue accepts first; a refusal on arrival shows as REJECTED."""
    exchange, clock = paper(latency_ns=500 * MS)

    result = run(exchange.place(limit_bid("pp-late-3", limit_price=D("51000.00"))))
    clock.advance(500 * MS)

    assert isinstance(result, PlaceAccepted)
    assert status(exchange, "pp-late-3") is OrderStatus.REJECTED


def test_latency_when_bar_arrives_first_then_order_uses_the_market_it_reaches() -> None:
    """A queued market order reaching the book after a bar closed takes at that bar's close."""
    exchange, clock = paper(latency_ns=90 * 10**9)
    run(placed_id(exchange, market_buy("pp-late-4")))

    trade(exchange, clock, DIP)  # closes 60 s later: the order is still in flight
    clock.advance(30 * 10**9)

    (fill,) = run(exchange.fills_since(0))
    assert fill.price == D(49_500)


def test_place_when_refused_without_latency_then_place_rejected_and_no_order() -> None:
    """Without latency a venue refusal is synchronous and leaves no order."""
    exchange, _ = paper()

    result = run(exchange.place(limit_bid("pp-cross-1", limit_price=D("51000.00"))))

    assert result == PlaceRejected(reason="INVALID_LIMIT_PRICE_POST_ONLY")
    assert status(exchange, "pp-cross-1") is None


def test_place_when_cash_short_then_insufficient_fund() -> None:
    """Orders beyond the account's available balance are refused."""
    exchange, _ = paper(starting_balances={"USD": D(40)})

    assert run(exchange.place(limit_bid("pp-poor-1"))) == PlaceRejected(reason="INSUFFICIENT_FUND")


def test_gtd_when_clock_passes_end_then_expired() -> None:
    """GTD orders expire by the injected clock, without a bar."""
    exchange, clock = paper()
    end = clock.now_ns() + 10 * 10**9
    run(placed_id(exchange, limit_bid("pp-gtd-1", time_in_force=TimeInForce.GTD, end_time_ns=end)))

    clock.advance(10 * 10**9)

    assert status(exchange, "pp-gtd-1") is OrderStatus.EXPIRED
    assert run(exchange.list_open_orders()) == ()


# ---------------------------------------------------------------- translation, balances


def test_get_order_when_partially_filled_then_listed_with_average_price() -> None:
    """A resting bid filled in part reads PARTIALLY_FILLED with its filled size and price."""
    exchange, clock = paper(starting_balances={"USD": D(1_000_000)})
    run(placed_id(exchange, limit_bid("pp-part-1", size=D(15))))  # a bar offers 10

    trade(exchange, clock, DIP)

    (listed,) = run(exchange.list_open_orders())
    assert (listed.status, listed.filled_size, listed.average_fill_price) == (
        OrderStatus.PARTIALLY_FILLED,
        D(10),
        D(49_000),
    )


def test_place_when_stop_limit_then_rests_and_fires_through_the_port() -> None:
    """Stop-limit fields cross the port; the stop fires when the market falls to it."""
    exchange, clock = paper()
    stop = OrderRequest(
        client_order_id=ClientOrderId("pp-stop-1"),
        product_id=limit_bid("x").product_id,
        side=Side.SELL,
        order_type=OrderType.STOP_LIMIT,
        size=D("0.5"),
        size_in=SizeUnit.BASE,
        limit_price=D("48500.00"),
        stop_price=D("49000.00"),
        stop_direction=StopDirection.DOWN,
        time_in_force=TimeInForce.GTC,
    )
    run(placed_id(exchange, stop))
    resting = status(exchange, "pp-stop-1")

    trade(exchange, clock, DIP)

    assert resting is OrderStatus.OPEN
    (fill,) = run(exchange.fills_since(0))
    assert (fill.price, fill.size, fill.side) == (D(49_000), D("0.5"), Side.SELL)


def test_balances_when_bid_rests_then_hold_is_notional_plus_taker_fee() -> None:
    """The paper venue holds a resting bid's notional and its worst-case (taker) fee."""
    exchange, _ = paper()

    run(placed_id(exchange, limit_bid("pp-hold-1")))

    usd = [b for b in run(exchange.balances()) if b.currency == "USD"]
    assert usd == [VenueBalance(currency="USD", available=D("99950.412"), hold=D("49.588"))]


def _scenario(seed: int, random_bps: str) -> tuple[VenueFill, ...]:
    engine = sim.EngineConfig(spread_bps=D(2), random_slippage_bps=D(random_bps))
    exchange, clock = paper(engine=engine, seed=seed)
    run(placed_id(exchange, limit_bid("pp-det-bid")))
    for n in range(3):
        run(placed_id(exchange, market_buy(f"pp-det-{n}")))
        trade(exchange, clock, DIP if n == 1 else CALM)
    return run(exchange.fills_since(0))


def test_paper_when_same_seed_and_inputs_then_identical_fills() -> None:
    """Same clock, bars, orders and seed: the same fills."""
    assert _scenario(5, "10") == _scenario(5, "10")


def test_paper_when_seed_changes_then_only_random_slippage_differs() -> None:
    """Seeds matter only when random slippage is configured."""
    assert len({_scenario(seed, "0") for seed in range(4)}) == 1
    assert len({_scenario(seed, "10") for seed in range(4)}) > 1


def test_feed_when_bars_then_same_as_one_by_one() -> None:
    """feed() is on_bar() in order."""
    bars = [
        sim.Bar(
            product_id="BTC-USD", open_ns=T0 + n * MINUTE, close_ns=T0 + (n + 1) * MINUTE, **DIP
        )
        for n in range(1, 3)
    ]
    rich = {"USD": D(1_000_000)}
    one, _ = paper(starting_balances=rich)
    run(placed_id(one, limit_bid("pp-feed-1", size=D(15))))
    many, _ = paper(starting_balances=rich)
    run(placed_id(many, limit_bid("pp-feed-1", size=D(15))))

    for b in bars:
        one.on_bar(b)
    many.feed(bars)

    assert run(one.fills_since(0)) == run(many.fills_since(0))
    assert len(run(many.fills_since(0))) == 2


def test_paper_config_when_negative_latency_then_value_error() -> None:
    """Latency cannot be negative."""
    with pytest.raises(ValueError, match="latency_ns"):
        PaperConfig(latency_ns=-1)


def test_suite_fake_clock_when_moved_back_then_value_error() -> None:
    """The contract suite's clock only moves forward."""
    with pytest.raises(ValueError, match="does not go back"):
        suite.FakeClock(0).advance(-1)


# ---------------------------------------------------------------- the next bar's open


def test_place_when_open_announced_then_market_order_takes_at_the_open() -> None:
    """After `on_open`, a market buy fills at the announced open, not the last close."""
    exchange, _ = paper()
    exchange.on_open(ProductId("BTC-USD"), D("50100.00"))

    run(exchange.place(market_buy("pp-open-1", "501.00")))

    (fill,) = run(exchange.fills_since(0))
    assert fill.price == D("50100.00")
    assert fill.size == D("0.01")
    mid = exchange.reference_mid(ProductId("BTC-USD"))
    assert mid is not None
    assert mid.mid == D("50100.00")


def test_on_bar_when_after_an_open_then_the_close_is_the_touch_again() -> None:
    """The announced open holds only until its bar is fed; then the close is the touch."""
    exchange, clock = paper()
    exchange.on_open(ProductId("BTC-USD"), D("50100.00"))
    trade(exchange, clock, CALM)

    run(exchange.place(market_buy("pp-open-2", "500.00")))

    (fill,) = run(exchange.fills_since(0))
    assert fill.price == D("50000")


def test_on_open_when_product_not_listed_then_value_error() -> None:
    """An open for a product the venue does not list is a caller bug, named."""
    exchange, _ = paper()

    with pytest.raises(ValueError, match="DOGE-USD"):
        exchange.on_open(ProductId("DOGE-USD"), D("1"))


def test_fills_since_when_fills_at_several_times_then_only_later_ones_in_order() -> None:
    """fills_since is a cut of the time-ordered fills, ties in execution order."""
    exchange, clock = paper()
    run(exchange.place(market_buy("pp-fs-1", "100.00")))
    first_ns = clock.now_ns()
    clock.advance(MINUTE)
    run(exchange.place(market_buy("pp-fs-2", "100.00")))
    run(exchange.place(market_buy("pp-fs-3", "100.00")))

    later = run(exchange.fills_since(first_ns + 1))

    assert [f.client_order_id for f in later] == ["pp-fs-2", "pp-fs-3"]
    assert len(run(exchange.fills_since(0))) == 3


@pytest.mark.parametrize("product", ["BTC-USD", "ETH-USD", "SOL-USD", "DOGE-USD"])
def test_product_rules_when_asked_then_the_engine_listing_or_none(product: str) -> None:
    """The rules come from the engine's listing of the product (None when not listed),
    and asking again gives equal rules."""
    ex, _ = paper()
    spec = sim.EngineConfig().product(product)
    rules = ex.product_rules(ProductId(product))
    if spec is None:
        assert rules is None
        return
    assert rules is not None
    assert (rules.base_increment, rules.quote_increment, rules.price_increment) == (
        spec.base_increment,
        spec.quote_increment,
        spec.price_increment,
    )
    assert rules.base_min_size == spec.base_increment
    assert (rules.trading_disabled, rules.cancel_only, rules.limit_only) == (False, False, False)
    assert ex.product_rules(ProductId(product)) == rules
