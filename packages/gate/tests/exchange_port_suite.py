"""The shared contract of `ExchangePort`: every adapter passes these tests (STYLE 5.6).

The paper adapter runs it now (`ports/test_paper_port.py`); the Coinbase adapter will
run it against the sim's loopback Coinbase server. To add an adapter, subclass
`ExchangePortContract` as `Test<Adapter>Contract` and implement `session()`: an async
context manager that opens a fresh venue with a funded account (at least 10,000 of
the quote currency), an adapter connected to it, and a `Market` that makes the venue
trade. Each test runs inside one `asyncio.run`, so a session may hold loop-bound
resources such as HTTP clients.

The class has no `Test` prefix, so pytest collects it only through subclasses.
"""

import abc
import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar, Protocol

from trading_contract import (
    ClientOrderId,
    Liquidity,
    OrderStatus,
    OrderType,
    ProductId,
    Side,
    SizeUnit,
    TimeInForce,
    VenueOrderId,
)
from trading_gate.ports import (
    ExchangePort,
    OrderRequest,
    PlaceAccepted,
    PlaceRejected,
    VenueBalance,
)

D = Decimal
WORKING = frozenset({OrderStatus.PENDING, OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED})


class FakeClock:
    """A clock that moves only when told to (trio's MockClock, without the autojump)."""

    def __init__(self, start_ns: int) -> None:
        self._now_ns = start_ns

    def now_ns(self) -> int:
        return self._now_ns

    def monotonic_ns(self) -> int:
        return self._now_ns

    def advance(self, ns: int) -> None:
        if ns < 0:
            raise ValueError("a clock does not go back")
        self._now_ns += ns


class Market(Protocol):
    async def trade(
        self, *, open: Decimal, high: Decimal, low: Decimal, close: Decimal, volume: Decimal
    ) -> None:
        """One period of trading at the venue (prices in quote, volume in base), after
        which the adapter reports whatever it filled."""
        ...


@dataclass(frozen=True)
class PortSession:
    exchange: ExchangePort
    market: Market


# A quiet market around 50,000 with plenty of volume, and one that dips through 49,000.
CALM: dict[str, Decimal] = {
    "open": D(50_000),
    "high": D(50_010),
    "low": D(49_990),
    "close": D(50_000),
    "volume": D(100),
}
DIP: dict[str, Decimal] = {
    "open": D(50_000),
    "high": D(50_000),
    "low": D(48_900),
    "close": D(49_500),
    "volume": D(100),
}


def limit_bid(client_order_id: str, **overrides: Any) -> OrderRequest:
    """A post-only GTC bid for 0.001 BTC at 49,000: rests in a CALM market."""
    fields: dict[str, Any] = {
        "client_order_id": ClientOrderId(client_order_id),
        "product_id": ProductId("BTC-USD"),
        "side": Side.BUY,
        "order_type": OrderType.LIMIT,
        "size": D("0.00100000"),
        "size_in": SizeUnit.BASE,
        "limit_price": D("49000.00"),
        "time_in_force": TimeInForce.GTC,
        "post_only": True,
    }
    return OrderRequest(**(fields | overrides))


def market_buy(client_order_id: str, quote_size: str = "100.00") -> OrderRequest:
    """A market (IOC) buy for `quote_size` USD."""
    return OrderRequest(
        client_order_id=ClientOrderId(client_order_id),
        product_id=ProductId("BTC-USD"),
        side=Side.BUY,
        order_type=OrderType.MARKET,
        size=D(quote_size),
        size_in=SizeUnit.QUOTE,
        time_in_force=TimeInForce.IOC,
    )


def total(balances: tuple[VenueBalance, ...], currency: str) -> Decimal:
    return sum((b.available + b.hold for b in balances if b.currency == currency), D(0))


def held(balances: tuple[VenueBalance, ...], currency: str) -> Decimal:
    return sum((b.hold for b in balances if b.currency == currency), D(0))


async def placed_id(exchange: ExchangePort, order: OrderRequest) -> VenueOrderId:
    result = await exchange.place(order)
    assert isinstance(result, PlaceAccepted), result
    return result.venue_order_id


class ExchangePortContract(abc.ABC):
    """What every ExchangePort adapter must do; subclasses provide `session()`."""

    product_id: ClassVar[ProductId] = ProductId("BTC-USD")
    other_product_id: ClassVar[ProductId] = ProductId("ETH-USD")

    @abc.abstractmethod
    def session(self) -> AbstractAsyncContextManager[PortSession]:
        """A fresh venue, funded account and adapter, closed when the test ends."""

    def run(self, body: Callable[[PortSession], Awaitable[None]]) -> None:
        async def main() -> None:
            async with self.session() as session:
                await body(session)

        asyncio.run(main())

    # ------------------------------------------------------------ place, look up

    def test_place_when_limit_accepted_then_found_by_client_id_and_listed_open(self) -> None:
        """A resting limit is found by client order id, as placed, and is listed open."""

        async def body(s: PortSession) -> None:
            await s.market.trade(**CALM)
            venue_id = await placed_id(s.exchange, limit_bid("port-place-1"))

            found = await s.exchange.get_order(ClientOrderId("port-place-1"))
            listed = await s.exchange.list_open_orders()

            assert found is not None
            assert (found.venue_order_id, found.product_id, found.side) == (
                venue_id,
                self.product_id,
                Side.BUY,
            )
            assert (found.order_type, found.size, found.limit_price) == (
                OrderType.LIMIT,
                D("0.001"),
                D(49_000),
            )
            assert found.status in WORKING
            assert found.filled_size == 0
            assert [o.venue_order_id for o in listed] == [venue_id]

        self.run(body)

    def test_place_when_client_order_id_reused_then_same_order_and_no_second(self) -> None:
        """Placing again with the same client order id creates nothing new (idempotency)."""

        async def body(s: PortSession) -> None:
            await s.market.trade(**CALM)
            first = await placed_id(s.exchange, limit_bid("port-idem-1"))

            again = await s.exchange.place(limit_bid("port-idem-1"))

            assert again == PlaceAccepted(venue_order_id=first)
            assert len(await s.exchange.list_open_orders()) == 1

        self.run(body)

    def test_get_order_when_client_id_unknown_then_none(self) -> None:
        """An id the venue never saw is None, not an error."""

        async def body(s: PortSession) -> None:
            assert await s.exchange.get_order(ClientOrderId("port-never-placed")) is None

        self.run(body)

    def test_place_when_post_only_would_cross_then_rejected_and_not_open(self) -> None:
        """A crossing post-only order is refused as a value and never rests."""

        async def body(s: PortSession) -> None:
            await s.market.trade(**CALM)

            result = await s.exchange.place(limit_bid("port-cross-1", limit_price=D("51000.00")))

            assert isinstance(result, PlaceRejected)
            assert result.reason
            assert await s.exchange.list_open_orders() == ()

        self.run(body)

    def test_list_open_orders_when_other_product_then_empty(self) -> None:
        """The product filter keeps other products' orders out."""

        async def body(s: PortSession) -> None:
            await s.market.trade(**CALM)
            await placed_id(s.exchange, limit_bid("port-filter-1"))

            assert await s.exchange.list_open_orders(self.other_product_id) == ()
            assert len(await s.exchange.list_open_orders(self.product_id)) == 1

        self.run(body)

    # ------------------------------------------------------------ cancel

    def test_cancel_when_open_then_success_and_no_longer_listed(self) -> None:
        """A cancelled order leaves the open list and reads back as CANCELLED."""

        async def body(s: PortSession) -> None:
            await s.market.trade(**CALM)
            venue_id = await placed_id(s.exchange, limit_bid("port-cancel-1"))

            results = await s.exchange.cancel([venue_id])

            assert [(r.venue_order_id, r.success) for r in results] == [(venue_id, True)]
            assert await s.exchange.list_open_orders() == ()
            found = await s.exchange.get_order(ClientOrderId("port-cancel-1"))
            assert found is not None
            assert found.status is OrderStatus.CANCELLED

        self.run(body)

    def test_cancel_when_batch_has_unknown_id_then_only_that_result_fails(self) -> None:
        """An unknown id fails on its own result; the rest of the batch goes through."""

        async def body(s: PortSession) -> None:
            await s.market.trade(**CALM)
            known = await placed_id(s.exchange, limit_bid("port-batch-1"))
            unknown = VenueOrderId("no-such-order")

            results = await s.exchange.cancel([unknown, known])

            assert [(r.venue_order_id, r.success) for r in results] == [
                (unknown, False),
                (known, True),
            ]
            assert results[0].failure_reason

        self.run(body)

    def test_cancel_when_already_cancelled_then_fails_per_id(self) -> None:
        """Cancelling a finished order fails with a reason, without raising."""

        async def body(s: PortSession) -> None:
            await s.market.trade(**CALM)
            venue_id = await placed_id(s.exchange, limit_bid("port-twice-1"))
            await s.exchange.cancel([venue_id])

            (second,) = await s.exchange.cancel([venue_id])

            assert (second.success, bool(second.failure_reason)) == (False, True)

        self.run(body)

    def test_cancel_all_when_orders_open_then_book_empty(self) -> None:
        """cancel_all leaves nothing working, verified by listing."""

        async def body(s: PortSession) -> None:
            await s.market.trade(**CALM)
            for n in range(3):
                await placed_id(s.exchange, limit_bid(f"port-all-{n}", limit_price=D(48_000 + n)))

            results = await s.exchange.cancel_all()

            assert len(results) == 3
            assert all(r.success for r in results)
            assert await s.exchange.list_open_orders() == ()

        self.run(body)

    # ------------------------------------------------------------ fills, balances

    def test_market_buy_when_market_trades_then_taker_fill_with_fee(self) -> None:
        """A market buy fills as taker near the market, pays a fee, and ends FILLED."""

        async def body(s: PortSession) -> None:
            await s.market.trade(**CALM)

            await placed_id(s.exchange, market_buy("port-mkt-1"))

            fills = await s.exchange.fills_since(0)
            assert [f.client_order_id for f in fills] == ["port-mkt-1"]
            (fill,) = fills
            assert (fill.liquidity, fill.side, fill.product_id) == (
                Liquidity.TAKER,
                Side.BUY,
                self.product_id,
            )
            assert fill.fee > 0
            assert 0 < fill.price * fill.size <= D(100)
            assert D(49_000) < fill.price < D(51_000)
            found = await s.exchange.get_order(ClientOrderId("port-mkt-1"))
            assert found is not None
            assert found.status is OrderStatus.FILLED

        self.run(body)

    def test_resting_limit_when_market_trades_through_then_maker_fill_at_limit(self) -> None:
        """A resting bid fills as maker at its limit once the market trades below it."""

        async def body(s: PortSession) -> None:
            await s.market.trade(**CALM)
            venue_id = await placed_id(s.exchange, limit_bid("port-maker-1"))

            await s.market.trade(**DIP)

            (fill,) = await s.exchange.fills_since(0)
            assert (fill.venue_order_id, fill.liquidity) == (venue_id, Liquidity.MAKER)
            assert (fill.price, fill.size) == (D(49_000), D("0.001"))
            found = await s.exchange.get_order(ClientOrderId("port-maker-1"))
            assert found is not None
            assert found.status is OrderStatus.FILLED
            assert await s.exchange.list_open_orders() == ()

        self.run(body)

    def test_fills_since_when_several_fills_then_oldest_first_without_duplicates(self) -> None:
        """Fills come oldest first, once each, and `since` is inclusive."""

        async def body(s: PortSession) -> None:
            await s.market.trade(**CALM)
            await placed_id(s.exchange, limit_bid("port-seq-bid"))
            await placed_id(s.exchange, market_buy("port-seq-1"))
            await s.market.trade(**DIP)
            await placed_id(s.exchange, market_buy("port-seq-2"))

            fills = await s.exchange.fills_since(0)

            times = [f.ts_ns for f in fills]
            assert times == sorted(times)
            assert len({f.trade_id for f in fills}) == len(fills) == 3
            assert {f.client_order_id for f in fills} == {
                "port-seq-bid",
                "port-seq-1",
                "port-seq-2",
            }
            assert await s.exchange.fills_since(0) == fills
            assert await s.exchange.fills_since(fills[-1].ts_ns) == tuple(
                f for f in fills if f.ts_ns == fills[-1].ts_ns
            )

        self.run(body)

    def test_balances_when_buy_fills_then_change_by_fills_and_fees(self) -> None:
        """Base rises by the filled size; quote falls by notional plus fees."""

        async def body(s: PortSession) -> None:
            await s.market.trade(**CALM)
            before = await s.exchange.balances()

            await placed_id(s.exchange, market_buy("port-bal-1"))

            after = await s.exchange.balances()
            fills = await s.exchange.fills_since(0)
            bought = sum((f.size for f in fills), D(0))
            cost = sum((f.price * f.size + f.fee for f in fills), D(0))
            assert total(after, "BTC") - total(before, "BTC") == bought > 0
            assert total(before, "USD") - total(after, "USD") == cost

        self.run(body)

    def test_balances_when_bid_rests_then_quote_held_and_total_unchanged(self) -> None:
        """A resting bid holds quote currency; nothing is spent until it fills."""

        async def body(s: PortSession) -> None:
            await s.market.trade(**CALM)
            before = await s.exchange.balances()

            venue_id = await placed_id(s.exchange, limit_bid("port-hold-1"))
            during = await s.exchange.balances()
            await s.exchange.cancel([venue_id])
            after = await s.exchange.balances()

            assert held(during, "USD") >= D(49) > held(before, "USD") == 0
            assert total(during, "USD") == total(before, "USD") == total(after, "USD")
            assert held(after, "USD") == 0

        self.run(body)
