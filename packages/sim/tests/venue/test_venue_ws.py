"""Websocket channels against the served venue, read by the real `WebsocketFeed`.

A session runs in a task collecting what the client yields; the test acts over REST,
moves the manual clock, and waits (bounded) for the frames it expects.
"""

import asyncio
import json
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

import msgspec
import pytest
import websockets
from websockets.asyncio.client import connect

from trading_coinbase import (
    OrderKind,
    OrderSpec,
    RestClient,
    SequenceGap,
    Side,
    Subscription,
    TimeInForce,
    TransportError,
    WebsocketFeed,
)
from trading_coinbase import schemas as w
from trading_coinbase import translate as t
from trading_sim.venue import VenueSettings
from trading_sim.venue.testing import KEY_NAME, Harness, KeyPair, harness

D = Decimal
CENT = D("0.01")


class Collector:
    """A feed session in the background: its events and how it ended."""

    def __init__(self, feed: WebsocketFeed, subscriptions: list[Subscription]) -> None:
        self.events: list[Any] = []
        self.ended: BaseException | None = None
        self._changed = asyncio.Event()
        self._task = asyncio.create_task(self._run(feed, subscriptions))

    async def _run(self, feed: WebsocketFeed, subscriptions: list[Subscription]) -> None:
        try:
            async with aclosing(feed.session(subscriptions)) as session:
                async for event in session:
                    self.events.append(event)
                    self._changed.set()
        except TransportError as exc:
            self.ended = exc
        finally:
            self._changed.set()

    async def until(self, done: Callable[[list[Any]], bool], timeout_s: float = 3.0) -> None:
        async with asyncio.timeout(timeout_s):
            while not done(self.events) and not self._task.done():
                self._changed.clear()
                await self._changed.wait()
        assert done(self.events), f"not seen in {self.events}"

    async def finished(self, timeout_s: float = 3.0) -> BaseException | None:
        """Wait for the session to end on its own; how it ended."""
        async with asyncio.timeout(timeout_s):
            await asyncio.shield(self._task)
        return self.ended

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


Scenario = Callable[[Harness, RestClient], Awaitable[None]]


def served(series: dict[str, Any], key_pair: KeyPair, scenario: Scenario, **overrides: Any) -> None:
    async def go() -> None:
        chosen = VenueSettings(key_name=KEY_NAME, **overrides)
        async with harness(series, settings=chosen, key_pair=key_pair) as h, h.rest() as client:
            await scenario(h, client)

    asyncio.run(go())


def user_orders(events: list[Any]) -> list[w.WsUserOrder]:
    return [
        o
        for e in events
        if isinstance(e, w.UserMessage)
        for ev in e.events
        if ev.type == "update"
        for o in ev.orders
    ]


def sequence_numbers(events: list[Any]) -> list[int]:
    return [int(e.sequence_num) for e in events if hasattr(e, "sequence_num")]


def resting_buy(cid: str, price: str = "100.00", size: str = "0.25") -> OrderSpec:
    return OrderSpec(
        client_order_id=cid,
        product_id="BTC-USD",
        side=Side.BUY,
        kind=OrderKind.LIMIT,
        tif=TimeInForce.GOOD_UNTIL_CANCELLED,
        base_size=D(size),
        limit_price=D(price),
    )


def test_user_channel_when_an_order_rests_then_fills_then_an_update_for_each_in_sequence(
    series: dict[str, Any], key_pair: KeyPair
) -> None:
    """Snapshot, then OPEN with nothing filled, then FILLED with the size and price."""

    async def scenario(h: Harness, client: RestClient) -> None:
        feed = Collector(h.user_feed(), [Subscription(channel="user")])
        await feed.until(lambda ev: any(isinstance(e, w.UserMessage) for e in ev))
        placed = await client.create_order(resting_buy("u-1"))
        await feed.until(lambda ev: len(user_orders(ev)) == 1)
        h.next_bar()
        await feed.until(lambda ev: len(user_orders(ev)) == 2)
        await feed.close()

        states = [t.user_order_state(o) for o in user_orders(feed.events)]
        assert [(s.order_id, s.status.value, s.cumulative_quantity) for s in states] == [
            (placed.order_id, "OPEN", D(0)),
            (placed.order_id, "FILLED", D("0.25")),
        ]
        assert t.fill_delta(states[0], states[1]) == t.FillDelta(quantity=D("0.25"), price=D(100))
        assert (states[1].leaves_quantity, states[1].order_type) == (D(0), "LIMIT")
        numbers = sequence_numbers(feed.events)
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
        assert feed.of(SequenceGap) == []

    served(series, key_pair, scenario)


def test_user_channel_when_subscribed_late_then_the_snapshot_lists_open_orders(
    series: dict[str, Any], key_pair: KeyPair
) -> None:
    """Orders working at subscribe time come in the snapshot; finished ones do not."""

    async def scenario(h: Harness, client: RestClient) -> None:
        working = await client.create_order(resting_buy("s-1", "90.00"))
        cancelled = await client.create_order(resting_buy("s-2", "91.00"))
        await client.cancel_orders([cancelled.order_id])
        feed = Collector(h.user_feed(), [Subscription(channel="user")])
        await feed.until(lambda ev: any(isinstance(e, w.UserMessage) for e in ev))
        await feed.close()

        snapshot = feed.of(w.UserMessage)[0].events[0]
        assert snapshot.type == "snapshot"
        assert [o.order_id for o in snapshot.orders] == [working.order_id]

    served(series, key_pair, scenario)


def test_gap_fault_when_a_number_is_skipped_then_the_client_tracker_reports_it(
    series: dict[str, Any], key_pair: KeyPair
) -> None:
    """With ws_gap_next=1 the next frame jumps a number; the client yields SequenceGap."""

    async def scenario(h: Harness, client: RestClient) -> None:
        feed = Collector(h.user_feed(), [Subscription(channel="user")])
        await feed.until(lambda ev: any(isinstance(e, w.UserMessage) for e in ev))
        last = sequence_numbers(feed.events)[-1]
        h.set_faults(ws_gap_next=1)
        await client.create_order(resting_buy("g-1", "90.00"))
        await feed.until(lambda ev: len(user_orders(ev)) == 1)
        await feed.close()

        assert feed.of(SequenceGap) == [
            SequenceGap(expected=last + 1, received=last + 2, channel="user")
        ]
        assert user_orders(feed.events)[0].client_order_id == "g-1"

    served(series, key_pair, scenario)


def test_drop_fault_when_set_then_the_session_ends_with_a_transport_error(
    series: dict[str, Any], key_pair: KeyPair
) -> None:
    """ws_drop_next=1 closes the connection in place of the next frame."""

    async def scenario(h: Harness, client: RestClient) -> None:
        feed = Collector(h.user_feed(), [Subscription(channel="user")])
        await feed.until(lambda ev: any(isinstance(e, w.UserMessage) for e in ev))
        h.set_faults(ws_drop_next=1)
        await client.create_order(resting_buy("d-1", "90.00"))
        ended = await feed.finished()

        assert isinstance(ended, TransportError)
        assert user_orders(feed.events) == []

    served(series, key_pair, scenario)


def test_subscribe_deadline_when_nothing_is_sent_then_the_venue_closes_with_1008(
    series: dict[str, Any], key_pair: KeyPair
) -> None:
    """A connection that does not subscribe within the deadline is closed (policy)."""

    async def scenario(h: Harness, client: RestClient) -> None:
        async with connect(h.venue.market_ws_url) as raw:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                async with asyncio.timeout(2):
                    await raw.recv()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1008

    served(series, key_pair, scenario, subscribe_deadline_s=0.2)


def test_market_channels_when_subscribed_then_snapshots_and_per_bar_updates(
    series: dict[str, Any], key_pair: KeyPair, rows: list[Any]
) -> None:
    """level2 moves its levels with the touch ("0" deletes), ticker and candles follow."""

    def touch(close: Decimal) -> tuple[str, str]:
        bid = (close * D("0.9999")).quantize(CENT, rounding=ROUND_FLOOR)
        ask = (close * D("1.0001")).quantize(CENT, rounding=ROUND_CEILING)
        return str(bid.normalize()), str(ask.normalize())

    async def scenario(h: Harness, client: RestClient) -> None:
        products = ("BTC-USD",)
        subscriptions = [
            Subscription(channel=c, product_ids=products)
            for c in ("level2", "ticker", "candles", "market_trades")
        ] + [Subscription(channel="status")]
        feed = Collector(h.market_feed(), subscriptions)
        await feed.until(lambda ev: len(ev) >= 10)
        h.next_bar()
        await feed.until(lambda ev: len([e for e in ev if isinstance(e, w.L2DataMessage)]) == 2)
        await feed.until(lambda ev: len([e for e in ev if isinstance(e, w.TickerMessage)]) == 2)
        await feed.until(lambda ev: len([e for e in ev if isinstance(e, w.CandlesMessage)]) == 2)
        await feed.close()

        snapshot, update = (m.events[0] for m in feed.of(w.L2DataMessage))
        bid0, ask0 = touch(rows[0].close)
        bid1, ask1 = touch(rows[1].close)
        size0, size1 = str(rows[0].volume / 10), str(rows[1].volume / 10)
        assert (snapshot.type, update.type) == ("snapshot", "update")
        assert {(u.side, u.price_level, u.new_quantity) for u in snapshot.updates} == {
            ("bid", bid0, size0),
            ("offer", ask0, size0),
        }
        assert {(u.side, u.price_level, u.new_quantity) for u in update.updates} == {
            ("bid", bid0, "0"),
            ("offer", ask0, "0"),
            ("bid", bid1, size1),
            ("offer", ask1, size1),
        }
        tickers = [m.events[0].tickers[0] for m in feed.of(w.TickerMessage)]
        assert [D(x.price) for x in tickers] == [rows[0].close, rows[1].close]
        candles = [m.events[0].candles[0] for m in feed.of(w.CandlesMessage)]
        assert [D(c.close) for c in candles] == [rows[0].close, rows[1].close]
        assert [p.id for p in feed.of(w.StatusMessage)[0].events[0].products] == ["BTC-USD"]
        assert feed.of(SequenceGap) == []

    served(series, key_pair, scenario)


def test_heartbeats_when_subscribed_then_the_counter_rises_by_one(
    series: dict[str, Any], key_pair: KeyPair
) -> None:
    """Every session subscribes heartbeats first; the counter rises 1, 2, 3."""

    async def scenario(h: Harness, client: RestClient) -> None:
        feed = Collector(h.market_feed(), [])
        await feed.until(lambda ev: len([e for e in ev if isinstance(e, w.HeartbeatsMessage)]) >= 3)
        await feed.close()

        beats = [int(m.events[0].heartbeat_counter) for m in feed.of(w.HeartbeatsMessage)]
        assert beats[:3] == [1, 2, 3]
        assert " +0000 UTC m=+" in feed.of(w.HeartbeatsMessage)[0].events[0].current_time

    served(series, key_pair, scenario, heartbeat_s=0.02)


@pytest.mark.parametrize(
    ("subscription", "endpoint"),
    [
        (Subscription(channel="level2"), "market"),
        (Subscription(channel="level2", product_ids=("DOGE-USD",)), "market"),
        (Subscription(channel="no_such_channel"), "market"),
        (Subscription(channel="ticker", product_ids=("BTC-USD",)), "user"),
    ],
)
def test_subscribe_when_refused_then_an_error_frame_ends_the_session(
    series: dict[str, Any], key_pair: KeyPair, subscription: Subscription, endpoint: str
) -> None:
    """No products, unknown products or channels, market data on /ws/user: error, close."""

    async def scenario(h: Harness, client: RestClient) -> None:
        feed = h.market_feed() if endpoint == "market" else h.user_feed()
        collector = Collector(feed, [subscription])
        assert "Failure to subscribe" in str(await collector.finished())

    served(series, key_pair, scenario)


def test_unsubscribe_when_sent_then_the_ack_drops_the_channel_and_updates_stop(
    series: dict[str, Any], key_pair: KeyPair
) -> None:
    """Raw frames: subscribe ticker_batch, unsubscribe it; the ack and the stream agree."""

    async def scenario(h: Harness, client: RestClient) -> None:
        async with connect(h.venue.market_ws_url) as raw:

            async def frame() -> Any:
                return msgspec.json.decode(await raw.recv(), type=w.WsMessage)

            batch = {"type": "subscribe", "channel": "ticker_batch", "product_ids": ["BTC-USD"]}
            await raw.send(json.dumps(batch))
            ack, snapshot = await frame(), await frame()
            await raw.send(json.dumps(batch | {"type": "unsubscribe"}))
            after = await frame()
            h.next_bar()
            await raw.send(json.dumps({"type": "subscribe", "channel": "status"}))
            status_ack = await frame()

        assert ack.events[0].subscriptions == {"ticker_batch": ("BTC-USD",)}
        assert isinstance(snapshot, w.TickerBatchMessage)
        assert after.events[0].subscriptions == {}
        # No ticker_batch update came for the new bar: the next frame is the status ack.
        assert isinstance(status_ack, w.SubscriptionsMessage)
        assert [int(m.sequence_num) for m in (ack, snapshot, after, status_ack)] == [0, 1, 2, 3]

    served(series, key_pair, scenario)
