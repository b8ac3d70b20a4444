"""What only the Coinbase adapter does, against the loopback venue over the real protocol:
idempotent creates, lost replies, 429/5xx bursts, the user stream's gaps, the start-up
self-checks, and a key that never shows.

Gate-level scenarios run the real `Gate` service over the adapter (a real gate.db,
instant sleeps, spawned work run to completion in order), as `trading-gate run` would.
"""

import asyncio
import contextlib
import json
import logging
import random
import traceback
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from coinbase_venue import KEYS, GateClock, adapter, caught_up, served, until
from exchange_port_suite import CALM, limit_bid, placed_id
from gate_stubs import loaded_config, order
from trading_coinbase import ApiKey, RateLimiter, RestClient, RetryPolicy, Signer, WebsocketFeed
from trading_coinbase.ratelimit import BucketLimits
from trading_contract import (
    Accepted,
    CancelOrder,
    ClientOrderId,
    OrderStatus,
    RejectCode,
    Rejected,
    TimeInForce,
)
from trading_gate import journal
from trading_gate.audit import AuditLog, open_audit_db
from trading_gate.core.identity import client_order_id
from trading_gate.exchange.coinbase import CoinbaseExchange, VenueCheckFailed, connect
from trading_gate.exchange.coinbase_stream import STARTING, Reconnect, UserStream
from trading_gate.ports import (
    ExchangeAuthError,
    OutcomeUnknown,
    PlaceAccepted,
    TemporaryExchangeError,
)
from trading_gate.secrets import ExchangeKey, Secret
from trading_gate.service import Gate
from trading_gate.watchdog import HaltLatch
from trading_sim.venue import Faults
from trading_sim.venue.testing import KEY_NAME, Harness, new_key_pair

D = Decimal
NAMESPACE = uuid.UUID("8d3c1e55-7f2a-5b9e-a1c4-2e6f0d9b7a31")
Scenario = Callable[[], Coroutine[Any, Any, None]]


def run(scenario: Scenario) -> None:
    asyncio.run(scenario())


def venue_orders(h: Harness, coid: str) -> int:
    """How many orders the venue holds with this client order id (its own book-keeping)."""
    return sum(1 for o in h.exchange.state.orders_newest_first() if o.client_order_id == coid)


async def no_sleep(_: float) -> None:
    return None


class GateRig:
    """A real Gate over the adapter; spawned work is kept and run by `drain()`."""

    def __init__(self, exchange: CoinbaseExchange, h: Harness, data: Path) -> None:
        self.exchange = exchange
        self.conn = open_audit_db(data / "gate.db")
        journal.create_tables(self.conn)
        self.audit = AuditLog(self.conn, anchor_path=data / "audit.anchor")
        self.work: list[Coroutine[Any, Any, object]] = []
        self.alerts: list[str] = []
        self.gate = Gate(
            config=loaded_config(),
            exchange=exchange,
            market=exchange,
            audit=self.audit,
            conn=self.conn,
            clock=GateClock(h.clock),
            namespace=NAMESPACE,
            latch=HaltLatch(),
            spawn=self.work.append,
            alert=self.alerts.append,
            starting_cash_usd=D(100_000),
            sleep=no_sleep,
            stream=exchange,
        )

    async def drain(self) -> None:
        while self.work:
            await self.work.pop(0)

    def events(self) -> list[str]:
        return [row[0] for row in self.conn.execute("SELECT event_type FROM audit ORDER BY seq")]

    def fill_rows(self, coid: str) -> int:
        query = "SELECT COUNT(*) FROM fills WHERE client_order_id = ?"
        count: int = self.conn.execute(query, (coid,)).fetchone()[0]
        return count

    def close(self, now_ns: int) -> None:
        self.audit.close(ts_wall_ns=now_ns)
        self.conn.close()


@contextlib.asynccontextmanager
async def rig(h: Harness, data: Path, **options: Any) -> AsyncIterator[GateRig]:
    """The adapter with streams, a Gate over it, started as `trading-gate run` starts."""
    async with adapter(h, trust=False, **options) as exchange:
        await until(lambda: exchange.reference_mid(exchange.listed_products[0]) is not None)
        gate = GateRig(exchange, h, data)
        try:
            assert await gate.gate.reconcile() == []
            yield gate
        finally:
            gate.close(h.clock.now_ns())


def intent(name: str, **overrides: Any) -> Any:
    """A shipped-limits-sized BTC bid: 0.001 at 49,900 rests in the 50,000 market."""
    fields: dict[str, Any] = {
        "request_id": f"r-{name}",
        "intent_id": name,
        "limit_price": D("49900.00"),
    }
    return order(**(fields | overrides))


def taker(name: str) -> Any:
    """A limit IOC bid through the ask: fills at once, as a taker, on arrival."""
    return intent(name, limit_price=D("50400.00"), time_in_force=TimeInForce.IOC)


def counting_rest(h: Harness) -> tuple[RestClient, list[str]]:
    """The harness's REST client, with every request it sends recorded."""
    seen: list[str] = []

    async def record(request: httpx.Request) -> None:
        seen.append(f"{request.method} {request.url.path}")

    wide = BucketLimits(rate_per_s=100_000, capacity=100_000)
    client = RestClient(
        base_url=h.venue.base_url,
        signer=h.signer(),
        transport=_Recording(record),
        retry=RetryPolicy(attempts=4, base_delay_s=0.001, max_delay_s=0.001),
        private_limiter=RateLimiter(wide),
        public_limiter=RateLimiter(wide),
        sleep=no_sleep,
    )
    return client, seen


class _Recording(httpx.AsyncBaseTransport):
    def __init__(self, record: Callable[[httpx.Request], Awaitable[None]]) -> None:
        self._record = record
        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await self._record(request)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


# ---------------------------------------------------------------- idempotency, lost replies


@pytest.mark.parametrize("mode", ["original", "error"])
def test_place_when_client_order_id_reused_then_the_original_order_and_no_second(
    mode: str,
) -> None:
    """Both duplicate behaviours Coinbase documents answer with the first order's id."""

    async def scenario() -> None:
        async with served(faults=Faults(duplicate_client_order_id=mode)) as h, adapter(h) as ex:
            await ex.place(limit_bid("dup-1"))  # the market needs no bar to rest a bid
            first = await ex.get_order(ClientOrderId("dup-1"))

            again = await ex.place(limit_bid("dup-1"))

            assert first is not None
            assert again == PlaceAccepted(venue_order_id=first.venue_order_id)
            assert venue_orders(h, "dup-1") == 1

    run(scenario)


def test_place_when_the_reply_is_lost_then_outcome_unknown_and_one_order_found() -> None:
    """drop_create_responses: the venue placed it, the reply was lost (504); a lookup by
    client order id finds exactly the one order, and nothing was sent twice."""

    async def scenario() -> None:
        async with served(faults=Faults(drop_create_responses=1)) as h, adapter(h) as ex:
            with pytest.raises(OutcomeUnknown):
                await ex.place(limit_bid("lost-1"))

            found = await ex.get_order(ClientOrderId("lost-1"))

            assert venue_orders(h, "lost-1") == 1
            [venue] = [o for o in h.exchange.state.orders_newest_first()]
            assert found is not None
            assert (found.venue_order_id, found.status) == (venue.order_id, OrderStatus.OPEN)

    run(scenario)


def test_gate_when_the_reply_is_lost_then_resolve_unknown_adopts_the_one_order(
    tmp_path: Path,
) -> None:
    """Through the Gate: UNKNOWN after the lost reply, then its lookup adopts the venue's
    order (same venue id, OPEN), with one order at the venue and one POST."""

    async def scenario() -> None:
        async with served() as h, rig(h, tmp_path) as g:
            h.set_faults(drop_create_responses=1)
            decision = await g.gate.place(intent("lost-gate"))
            await g.drain()

            coid = client_order_id(NAMESPACE, decision.intent_id)
            entry = g.gate.orders[coid]
            venue = h.exchange.state.order_by_client_id(coid)
            assert isinstance(decision.verdict, Accepted)
            assert venue is not None
            assert venue_orders(h, coid) == 1
            assert (entry.order.status, entry.venue_order_id) == (OrderStatus.OPEN, venue.order_id)
            events = g.events()
            assert events.index("order.submit_outcome_unknown") < events.index("order.venue_ack")

    run(scenario)


# ---------------------------------------------------------------- 429 and 5xx bursts


@pytest.mark.parametrize("burst", [{"http_429_next": 1}, {"http_5xx_next": 1}])
def test_place_when_a_burst_hits_the_create_then_outcome_unknown_and_never_resent(
    burst: dict[str, int],
) -> None:
    """One refused create: OutcomeUnknown, and no order exists, so it was not retried
    (a retry would have found the burst over and placed it)."""

    async def scenario() -> None:
        async with served() as h, adapter(h) as ex:
            h.set_faults(fault_paths=["/orders"], **burst)

            with pytest.raises(OutcomeUnknown):
                await ex.place(limit_bid("burst-1"))

            assert venue_orders(h, "burst-1") == 0
            assert await ex.get_order(ClientOrderId("burst-1")) is None

    run(scenario)


@pytest.mark.parametrize("burst", [{"http_429_next": 3}, {"http_5xx_next": 3}])
def test_cancel_when_a_burst_hits_then_retried_and_cancelled(burst: dict[str, int]) -> None:
    """Three refused cancels in a row: the client's retries get the fourth through."""

    async def scenario() -> None:
        async with served() as h, adapter(h) as ex:
            venue_id = await placed_id(ex, limit_bid("cancel-burst"))
            h.set_faults(fault_paths=["/orders/batch_cancel"], **burst)

            (result,) = await ex.cancel([venue_id])

            assert result.success
            assert h.exchange.faults.current.http_429_next == 0
            assert h.exchange.faults.current.http_5xx_next == 0
            assert await ex.list_open_orders() == ()

    run(scenario)


def test_cancel_when_the_burst_outlasts_the_retries_then_temporary_error() -> None:
    """Past the client's four attempts the failure surfaces as TemporaryExchangeError."""

    async def scenario() -> None:
        async with served() as h, adapter(h) as ex:
            venue_id = await placed_id(ex, limit_bid("cancel-down"))
            h.set_faults(fault_paths=["/orders/batch_cancel"], http_5xx_next=4)

            with pytest.raises(TemporaryExchangeError):
                await ex.cancel([venue_id])

            assert [o.venue_order_id for o in await ex.list_open_orders()] == [venue_id]

    run(scenario)


# ---------------------------------------------------------------- the user stream


def test_get_order_when_the_stream_reported_it_then_answered_without_rest() -> None:
    """Once the trusted stream has reported an order, lookups and fill syncs send nothing."""

    async def scenario() -> None:
        async with served() as h:
            rest, seen = counting_rest(h)
            async with adapter(h, rest=rest) as ex:
                await ex.place(limit_bid("quiet-1"))
                await caught_up(h, ex)  # its report has arrived
                await ex.get_order(ClientOrderId("quiet-1"))  # REST once, for the full view
                await ex.fills_since(0)  # the first call after subscribing sweeps
                sent = len(seen)

                found = await ex.get_order(ClientOrderId("quiet-1"))
                fills = await ex.fills_since(0)

                assert found is not None
                assert found.status is OrderStatus.OPEN
                assert fills == ()
                assert sent >= 3
                assert seen[sent:] == []

    run(scenario)


def test_stream_when_silent_then_suspect_until_resubscribed_and_reconciled() -> None:
    """No frame within the idle timeout (heartbeats stopped): suspect, and trusted again
    only once resubscribed AND reconciled, never by the resubscription alone."""

    async def scenario() -> None:
        async with served(heartbeat_s=30.0) as h, adapter(h, idle_timeout_s=0.3) as ex:
            assert ex.suspect is None

            await until(lambda: ex.suspect is not None)
            assert "no frame" in (ex.suspect or "")
            await until(lambda: ex.reconcile_token() is not None)
            assert ex.suspect is not None
            ex.reconciled(ex.reconcile_token() or 0)

            assert ex.suspect is None

    run(scenario)


def test_stream_when_it_starts_then_suspect_until_the_first_reconcile() -> None:
    """A fresh adapter is suspect (the starting reason) until reconciled after subscribing."""

    async def scenario() -> None:
        async with served() as h, adapter(h, trust=False) as ex:
            token = ex.reconcile_token()
            assert ex.suspect == STARTING
            assert token is not None
            ex.reconciled(token + 1)  # a stale token settles nothing
            assert ex.suspect == STARTING
            ex.reconciled(token)
            assert ex.suspect is None

    run(scenario)


def _frame(channel: str, seq: int, **event: Any) -> str:
    return json.dumps(
        {
            "channel": channel,
            "sequence_num": seq,
            "timestamp": "2026-01-01T00:00:00Z",
            "events": [event],
        }
    )


_ACK = _frame("subscriptions", 0, subscriptions={"heartbeats": [], "user": ["u-1"]})


def _beat(seq: int) -> str:
    return _frame("heartbeats", seq, current_time="", heartbeat_counter=seq)


class _Scripted:
    """One scripted connection: these frames, then silence."""

    def __init__(self, frames: list[str]) -> None:
        self._frames = frames

    async def send(self, message: str) -> None:
        return None

    async def recv(self) -> str:
        if self._frames:
            return self._frames.pop(0)
        await asyncio.Event().wait()
        raise AssertionError("unreachable")  # pragma: no cover


@pytest.mark.parametrize(
    ("frames", "words"),
    [
        ([_ACK, _beat(1), _beat(1)], "sequence 1 repeated"),
        ([_ACK, _beat(1), _beat(2), _beat(1)], "sequence 1 after 2"),
        ([_ACK, _beat(1), _beat(3)], "gap: expected 2, got 3"),
    ],
)
def test_user_stream_when_a_number_repeats_jumps_or_goes_back_then_suspect_and_resubscribed(
    frames: list[str], words: str
) -> None:
    """Through the library's own sequence tracking: each anomaly makes the stream suspect
    with its reason, and the stream reconnects (the second connection is acked)."""
    scripts = [_Scripted(frames), _Scripted([_ACK])]

    @contextlib.asynccontextmanager
    async def connect(url: str) -> AsyncIterator[_Scripted]:
        yield scripts.pop(0)

    async def scenario() -> None:
        signer = Signer(ApiKey(KEY_NAME, KEYS.private_pem))
        feed = WebsocketFeed(url="wss://venue.invalid", signer=signer, connect=connect)
        stream = UserStream(
            feed, on_order=lambda _: None, reconnect=Reconnect(min_s=0.001), sleep=no_sleep,
            rng=random.Random(1),  # noqa: S311
        )  # fmt: skip
        running = asyncio.create_task(stream.run())
        try:
            await until(lambda: not scripts and stream.reconcile_token() is not None)
        finally:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)

        assert words in (stream.suspect or "")
        assert stream.session == 2

    run(scenario)


@pytest.mark.parametrize("fault", ["ws_gap_next", "ws_drop_next"])
def test_gate_when_the_user_stream_breaks_then_pause_reconcile_resume_one_fill(
    tmp_path: Path, fault: str
) -> None:
    """A gap (or a dropped connection) swallows the report of an immediate fill: new
    orders are refused while suspect, cancels pass, the gate reconciles once the stream
    is back, the fill is journaled exactly once, and orders flow again."""

    async def scenario() -> None:
        # Heartbeats off, so the fault hits the one frame the fill's report makes.
        async with served(heartbeat_s=30.0) as h, rig(h, tmp_path, idle_timeout_s=60.0) as g:
            resting = await g.gate.place(intent("rest-1"))
            await g.drain()
            h.set_faults(**{fault: 1})

            await g.gate.place(taker("take-1"))
            await g.drain()
            await until(lambda: g.exchange.suspect is not None)
            paused = await g.gate.place(intent("paused-1", limit_price=D("49800.00")))
            cancel = g.gate.cancel(
                CancelOrder(
                    request_id="c-1",
                    client_order_id=resting.verdict.client_order_ids[0],
                    sent_ns=h.clock.now_ns(),
                )
            )
            await g.drain()
            await until(lambda: g.exchange.reconcile_token() is not None)
            for _ in range(3):
                await g.gate.sync()
            await g.drain()
            resumed = await g.gate.place(intent("after-1", limit_price=D("49700.00")))
            await g.drain()
            await g.gate.sync()

            taken = client_order_id(NAMESPACE, "take-1")
            assert isinstance(paused.verdict, Rejected)
            assert paused.verdict.code is RejectCode.NOT_READY
            assert isinstance(cancel.verdict, Accepted)
            assert isinstance(resumed.verdict, Accepted)
            assert g.gate.orders[taken].order.status is OrderStatus.FILLED
            assert g.fill_rows(taken) == 1
            assert g.gate.ledger.positions_base["BTC-USD"] == D("0.001")
            assert g.events().count("exchange.stream_suspect") == 1
            assert g.alerts == []

    run(scenario)


# ---------------------------------------------------------------- start-up and the key


def test_start_when_the_key_is_refused_then_exchange_auth_error_and_so_are_orders() -> None:
    """A key the venue does not know: 401 on the first private call, and on every one."""

    async def scenario() -> None:
        stranger = ApiKey(KEY_NAME, new_key_pair().private_pem)
        async with served() as h:
            with pytest.raises(ExchangeAuthError):
                async with adapter(h, rest=h.rest(signer=h.signer(stranger))):
                    pass  # pragma: no cover - start() refuses
            revoked = unstarted(h, h.rest(signer=h.signer(stranger)))
            with pytest.raises(ExchangeAuthError):
                await revoked.place(limit_bid("revoked-1"))
            with pytest.raises(ExchangeAuthError):
                await revoked.cancel_all()
            await revoked.aclose()

    run(scenario)


def test_place_when_the_key_lost_its_trade_scope_then_exchange_auth_error() -> None:
    """403 (Missing required scopes) on create is a key problem, not an unknown outcome."""

    async def scenario() -> None:
        async with served() as h, adapter(h) as ex:
            h.set_faults(can_trade=False)

            with pytest.raises(ExchangeAuthError):
                await ex.place(limit_bid("scope-1"))

            assert venue_orders(h, "scope-1") == 0

    run(scenario)


@pytest.mark.parametrize(
    ("faults", "words"),
    [
        (Faults(can_transfer=True), "transfer"),
        (Faults(can_trade=False), "may not trade"),
    ],
)
def test_start_when_the_key_scope_is_wrong_then_refused(faults: Faults, words: str) -> None:
    """A key that may transfer funds, or may not trade, stops the start."""

    async def scenario() -> None:
        async with served(faults=faults) as h:
            with pytest.raises(ExchangeAuthError, match=words):
                async with adapter(h):
                    pass  # pragma: no cover - start() refuses

    run(scenario)


@pytest.mark.parametrize(
    ("offset_s", "refused"), [(4.9, False), (-4.9, False), (5.1, True), (-5.1, True)]
)
def test_start_when_clocks_differ_then_refused_only_beyond_five_seconds(
    offset_s: float, refused: bool
) -> None:
    """The venue's GET /time against ours: 4.9 s either way starts, 5.1 s does not."""

    async def scenario() -> None:
        async with served() as h:
            starting = adapter(h, streams=False, clock_offset_ns=round(offset_s * 1e9))
            if refused:
                with pytest.raises(VenueCheckFailed, match="NTP"):
                    async with starting:
                        pass  # pragma: no cover - start() refuses
            else:
                async with starting as ex:
                    assert ex.listed_products == ("BTC-USD", "ETH-USD")

    run(scenario)


def test_connect_when_the_private_key_is_not_a_key_then_refused_without_quoting_it() -> None:
    """A malformed privateKey is an auth error whose text does not contain it."""
    canary = "canary-not-a-key-77d1"
    key = ExchangeKey(name=KEY_NAME, private_key=Secret(f"-----BEGIN EC PRIVATE KEY-----{canary}"))

    with pytest.raises(ExchangeAuthError) as refused:
        connect(key, clock=_NoClock(), products=())

    assert canary not in "".join(traceback.format_exception(refused.value))


def unstarted(h: Harness, rest: RestClient) -> CoinbaseExchange:
    """An adapter over `rest` that was never started (no self-checks, no streams)."""
    return CoinbaseExchange(
        rest=rest,
        user_feed=h.user_feed(),
        market_feed=h.market_feed(),
        clock=GateClock(h.clock),
        products=(),
    )


class _NoClock:
    def now_ns(self) -> int:  # pragma: no cover - never read
        return 0

    def monotonic_ns(self) -> int:  # pragma: no cover - never read
        return 0


def test_key_when_trading_with_a_canary_key_then_no_log_exception_or_db_holds_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Orders, fills, a lost reply, a stream gap and a refused key leave the private key
    (and any JWT) in no log line, exception text or gate.db."""
    stranger = new_key_pair()
    errors: list[BaseException] = []

    async def scenario() -> None:
        async with served() as h, rig(h, tmp_path) as g:
            await g.gate.place(intent("canary-rest"))
            await g.gate.place(taker("canary-take"))
            h.set_faults(drop_create_responses=1)
            await g.gate.place(intent("canary-lost", limit_price=D("49850.00")))
            await g.drain()
            h.set_faults(ws_gap_next=1)
            await g.gate.sync()
            ex = unstarted(h, h.rest(signer=h.signer(ApiKey(KEY_NAME, stranger.private_pem))))
            for call in (ex.place(limit_bid("canary-x")), ex.balances(), ex.fills_since(0)):
                try:
                    await call
                except Exception as exc:  # noqa: BLE001 - every failure's text is checked
                    errors.append(exc)
            await ex.aclose()

    # As the gate logs: INFO for everyone, DEBUG for its own code.
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="trading_gate")
    run(scenario)

    texts = [caplog.text] + ["".join(traceback.format_exception(e)) for e in errors]
    stored = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    secrets = [line for pem in (KEYS.private_pem, stranger.private_pem) for line in _body(pem)]
    assert len(errors) == 3
    assert caplog.records
    for secret in [*secrets, "eyJ"]:
        assert all(secret not in text for text in texts), secret
        assert secret.encode() not in stored, secret


def _body(pem: str) -> list[str]:
    return [line for line in pem.splitlines() if line and not line.startswith("-----")]


# ---------------------------------------------------------------- market data


def test_reference_mid_when_the_market_trades_then_the_touch_mid_observed_now() -> None:
    """The mid is the venue's bid/ask midpoint after each bar, stamped when received."""

    async def scenario() -> None:
        async with served() as h, adapter(h) as ex:
            h.trade("BTC-USD", **(CALM | {"high": D(51_010), "close": D(51_000)}))
            now = h.clock.now_ns()
            await until(lambda: _observed_since(ex, now))

            mid = ex.reference_mid(ex.listed_products[0])

            # 2 bps around 51,000: bid 50,994.90, ask 51,005.10 (rounded to the cent).
            assert mid is not None
            assert mid.mid == D(51_000)
            rules = ex.product_rules(ex.listed_products[0])
            assert rules is not None
            assert rules.price_increment == D("0.01")

    run(scenario)


def _observed_since(ex: CoinbaseExchange, now_ns: int) -> bool:
    mid = ex.reference_mid(ex.listed_products[0])
    return mid is not None and mid.observed_ns >= now_ns


def test_market_stream_when_a_gap_then_mids_dropped_and_restored_user_stream_untouched(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A market-data gap marks prices stale (mids dropped) and resubscribes; it is not a
    reason to distrust the order stream."""

    async def scenario() -> None:
        async with served(heartbeat_s=30.0) as h, adapter(h, idle_timeout_s=60.0) as ex:
            await until(lambda: ex.reference_mid(ex.listed_products[0]) is not None)
            h.set_faults(ws_gap_next=1)

            h.trade("BTC-USD", **(CALM | {"high": D(52_010), "close": D(52_000)}))
            await until(lambda: "market data stale" in caplog.text)
            await until(lambda: _observed_since(ex, h.clock.now_ns()))

            mid = ex.reference_mid(ex.listed_products[0])
            assert mid is not None
            assert mid.mid == D(52_000)
            assert ex.suspect is None
            assert "sequence gap" in caplog.text

    caplog.set_level(logging.WARNING, logger="trading_gate")
    run(scenario)
