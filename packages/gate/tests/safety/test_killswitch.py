"""The kill switch: latch first, cancel everything, verify by listing, alert when it cannot."""

import asyncio
import itertools
import random
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import pytest

import trading_sim as sim
from exchange_port_suite import CALM, D, FakeClock, limit_bid, placed_id
from trading_contract import ClientOrderId, ProductId, VenueOrderId
from trading_gate.core.deadman import DeadManAction, Halt
from trading_gate.core.trading_state import Cause
from trading_gate.exchange import PaperConfig, PaperExchange
from trading_gate.killswitch import KillReport, backoff_delays, kill_and_verify
from trading_gate.ports import (
    CancelResult,
    ExchangeAuthError,
    ExchangePort,
    OrderRequest,
    PlaceResult,
    TemporaryExchangeError,
    VenueBalance,
    VenueFill,
    VenueOrder,
)
from trading_gate.watchdog import DeadMansWatchdog, HaltLatch

T0 = 1_764_614_400 * 10**9
MINUTE = 60 * 10**9
SEED = 20_251_201
DEADLINE_S = 30.0

# ---------------------------------------------------------------- mothers


def resting_book(n: int = 100) -> tuple[PaperExchange, FakeClock, list[VenueOrderId]]:
    """A paper venue after one CALM bar, with `n` post-only bids at 49,000 resting on it."""
    clock = FakeClock(T0)
    exchange = PaperExchange(
        clock,
        PaperConfig(
            engine=sim.EngineConfig(spread_bps=D(0)),
            starting_balances={"USD": D(1_000_000), "BTC": D(1)},
        ),
    )
    clock.advance(MINUTE)
    exchange.on_bar(sim.Bar(product_id="BTC-USD", open_ns=T0, close_ns=T0 + MINUTE, **CALM))
    ids = [asyncio.run(placed_id(exchange, limit_bid(f"kill-{i:03d}"))) for i in range(n)]
    return exchange, clock, ids


class FakeTime:
    """Sleep that advances the fake clock instead of waiting (then yields once to the loop)."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.sleeps: list[float] = []

    def monotonic_ns(self) -> int:
        return self.clock.monotonic_ns()

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.clock.advance(round(seconds * 1e9))
        await asyncio.sleep(0)


class Relay:
    """An ExchangePort in front of another that logs each call. Subclasses break it."""

    def __init__(self, inner: ExchangePort, log: list[str]) -> None:
        self.inner = inner
        self.log = log

    async def place(self, order: OrderRequest) -> PlaceResult:
        self.log.append(f"place {order.client_order_id}")
        return await self.inner.place(order)

    async def cancel(self, venue_order_ids: Sequence[VenueOrderId]) -> tuple[CancelResult, ...]:
        self.log.append(f"cancel {len(venue_order_ids)}")
        return await self.inner.cancel(venue_order_ids)

    async def cancel_all(self, product_id: ProductId | None = None) -> tuple[CancelResult, ...]:
        self.log.append("cancel_all")
        return await self.inner.cancel_all(product_id)

    async def list_open_orders(self, product_id: ProductId | None = None) -> tuple[VenueOrder, ...]:
        self.log.append("list")
        return await self.inner.list_open_orders(product_id)

    async def get_order(self, client_order_id: ClientOrderId) -> VenueOrder | None:
        return await self.inner.get_order(client_order_id)

    async def fills_since(self, since_ns: int) -> tuple[VenueFill, ...]:
        return await self.inner.fills_since(since_ns)

    async def balances(self) -> tuple[VenueBalance, ...]:
        return await self.inner.balances()


class BadGateway(Relay):
    """Every cancel fails as a whole with a 502, as in HB PR #6458."""

    async def cancel(self, venue_order_ids: Sequence[VenueOrderId]) -> tuple[CancelResult, ...]:
        self.log.append(f"cancel {len(venue_order_ids)}")
        raise TemporaryExchangeError("502 Bad Gateway")

    async def cancel_all(self, product_id: ProductId | None = None) -> tuple[CancelResult, ...]:
        self.log.append("cancel_all")
        raise TemporaryExchangeError("502 Bad Gateway")


class SilentAck(Relay):
    """Every cancel is acknowledged as a success, but the venue cancels nothing."""

    async def cancel(self, venue_order_ids: Sequence[VenueOrderId]) -> tuple[CancelResult, ...]:
        self.log.append(f"cancel {len(venue_order_ids)}")
        return tuple(CancelResult(venue_order_id=v, success=True) for v in venue_order_ids)

    async def cancel_all(self, product_id: ProductId | None = None) -> tuple[CancelResult, ...]:
        self.log.append("cancel_all")
        return await self.cancel([o.venue_order_id for o in await self.inner.list_open_orders()])


class RevokedKey(Relay):
    """The key was revoked: every cancel is a 401."""

    async def cancel(self, venue_order_ids: Sequence[VenueOrderId]) -> tuple[CancelResult, ...]:
        self.log.append(f"cancel {len(venue_order_ids)}")
        raise ExchangeAuthError("401 Unauthorized")

    async def cancel_all(self, product_id: ProductId | None = None) -> tuple[CancelResult, ...]:
        self.log.append("cancel_all")
        raise ExchangeAuthError("401 Unauthorized")


class FlakyListing(Relay):
    """The first `failures` listings fail with a 503."""

    def __init__(self, inner: ExchangePort, log: list[str], failures: int) -> None:
        super().__init__(inner, log)
        self.failures = failures

    async def list_open_orders(self, product_id: ProductId | None = None) -> tuple[VenueOrder, ...]:
        self.log.append("list")
        if self.failures > 0:
            self.failures -= 1
            raise TemporaryExchangeError("503 Service Unavailable")
        return await self.inner.list_open_orders(product_id)


class HungListing(Relay):
    """Listing never answers (an SDK call with timeout=None)."""

    async def list_open_orders(self, product_id: ProductId | None = None) -> tuple[VenueOrder, ...]:
        self.log.append("list")
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


class Buggy(Relay):
    """cancel_all hits a bug in the adapter itself (not an exchange error)."""

    async def cancel_all(self, product_id: ProductId | None = None) -> tuple[CancelResult, ...]:
        self.log.append("cancel_all")
        raise KeyError("adapter bug")


class Wire(Relay):
    """Each call takes one turn of the event loop on the wire, so concurrent tasks interleave."""

    async def place(self, order: OrderRequest) -> PlaceResult:
        await asyncio.sleep(0)
        return await super().place(order)

    async def cancel(self, venue_order_ids: Sequence[VenueOrderId]) -> tuple[CancelResult, ...]:
        await asyncio.sleep(0)
        return await super().cancel(venue_order_ids)

    async def cancel_all(self, product_id: ProductId | None = None) -> tuple[CancelResult, ...]:
        await asyncio.sleep(0)
        return await super().cancel_all(product_id)

    async def list_open_orders(self, product_id: ProductId | None = None) -> tuple[VenueOrder, ...]:
        await asyncio.sleep(0)
        return await super().list_open_orders(product_id)


def kill(
    exchange: ExchangePort,
    fake: FakeTime,
    *,
    latch: Callable[[], None],
    alerts: list[str],
    **overrides: Any,
) -> Coroutine[Any, Any, KillReport]:
    """kill_and_verify on fake time, with a fixed seed and a 30 s deadline."""
    fields: dict[str, Any] = {
        "latch": latch,
        "monotonic_ns": fake.monotonic_ns,
        "sleep": fake.sleep,
        "deadline_s": DEADLINE_S,
        "rng": random.Random(SEED),  # noqa: S311 - jitter, not a secret
        "on_alert": alerts.append,
    }
    return kill_and_verify(exchange, **(fields | overrides))


def logging_latch(log: list[str]) -> Callable[[], None]:
    def latch() -> None:
        log.append("latch")

    return latch


def open_ids(exchange: PaperExchange) -> list[VenueOrderId]:
    return [o.venue_order_id for o in asyncio.run(exchange.list_open_orders())]


# ---------------------------------------------------------------- the clean kill


def test_kill_when_100_orders_rest_then_latched_first_all_cancelled_and_verified() -> None:
    """Latch, then one cancel-all for all 100 orders, then a listing that proves the book empty."""
    paper, clock, ids = resting_book(100)
    log: list[str] = []
    alerts: list[str] = []
    fake = FakeTime(clock)

    report = asyncio.run(kill(Relay(paper, log), fake, latch=logging_latch(log), alerts=alerts))

    assert log == ["latch", "cancel_all", "list"]
    assert report.verified_empty
    assert (report.remaining, report.errors, report.attempts) == ((), (), 1)
    assert sorted(report.cancels_sent) == sorted(ids)
    assert open_ids(paper) == []
    assert (alerts, fake.sleeps) == ([], [])


def test_kill_when_latch_is_a_halt_latch_then_tripped_and_latency_reported() -> None:
    """With the real latch and clock, the latch is tripped and its latency is measured (G9)."""
    paper, _, _ = resting_book(10)
    halt = HaltLatch()

    def latch() -> None:
        halt.trip(Cause.KILL_SWITCH, "operator kill", time.monotonic_ns())

    report = asyncio.run(
        kill_and_verify(
            paper,
            latch=latch,
            monotonic_ns=time.monotonic_ns,
            sleep=asyncio.sleep,
            deadline_s=DEADLINE_S,
            rng=random.Random(SEED),  # noqa: S311 - jitter, not a secret
            on_alert=pytest.fail,
        )
    )

    assert (halt.tripped, halt.cause) == (True, Cause.KILL_SWITCH)
    assert report.verified_empty
    assert 0 <= report.latch_ns <= 10_000_000
    assert halt.at_ns is not None
    assert 0 <= report.latched_at_ns - halt.at_ns <= report.latch_ns
    assert report.elapsed_ns >= report.latch_ns


def test_kill_when_latch_raises_then_nothing_is_sent() -> None:
    """A latch that fails is a bug: it propagates before any cancel goes out."""
    paper, clock, _ = resting_book(3)
    log: list[str] = []

    def latch() -> None:
        raise RuntimeError("latch bug")

    with pytest.raises(RuntimeError, match="latch bug"):
        asyncio.run(kill(Relay(paper, log), FakeTime(clock), latch=latch, alerts=[]))

    assert log == []
    assert len(open_ids(paper)) == 3


def test_kill_when_deadline_not_positive_then_value_error_after_latching() -> None:
    """A misconfigured kill still latches HALTED before it refuses to run."""
    paper, clock, _ = resting_book(1)
    log: list[str] = []

    with pytest.raises(ValueError, match="deadline_s"):
        asyncio.run(
            kill(
                Relay(paper, log),
                FakeTime(clock),
                latch=logging_latch(log),
                alerts=[],
                deadline_s=0,
            )
        )

    assert log == ["latch"]


# ---------------------------------------------------------------- retries


def test_kill_when_three_cancels_fail_then_retried_with_backoff_and_verified() -> None:
    """fail_next_cancels(3): the cancel-all and two retries fail, the third retry cancels all."""
    paper, clock, ids = resting_book(100)
    paper.fail_next_cancels(3)
    log: list[str] = []
    alerts: list[str] = []
    fake = FakeTime(clock)

    report = asyncio.run(kill(Relay(paper, log), fake, latch=logging_latch(log), alerts=alerts))

    assert log == ["latch", "cancel_all"] + ["list", "cancel 100"] * 3 + ["list"]
    assert report.verified_empty
    assert report.attempts == 4
    assert report.errors == (
        "cancel_all: TemporaryExchangeError: paper: simulated cancel failure",
        "cancel: TemporaryExchangeError: paper: simulated cancel failure (x2)",
    )
    assert sorted(report.cancels_sent) == sorted(ids)
    assert len(fake.sleeps) == 3
    assert all(0 <= s <= min(1.0, 0.05 * 2**n) for n, s in enumerate(fake.sleeps))
    assert open_ids(paper) == []
    assert alerts == []


def test_kill_when_listing_fails_twice_then_relisted_and_verified() -> None:
    """A failed listing proves nothing: list again after a backoff until one succeeds."""
    paper, clock, _ = resting_book(5)
    log: list[str] = []
    alerts: list[str] = []

    report = asyncio.run(
        kill(FlakyListing(paper, log, 2), FakeTime(clock), latch=logging_latch(log), alerts=alerts)
    )

    assert log == ["latch", "cancel_all", "list", "list", "list"]
    assert report.verified_empty
    assert report.errors == (
        "list_open_orders: TemporaryExchangeError: 503 Service Unavailable (x2)",
    )
    assert alerts == []


def test_kill_when_seeded_then_same_report_twice() -> None:
    """Same book, faults and seed: the same report (the backtest's byte-identical rule)."""

    def once() -> KillReport:
        paper, clock, _ = resting_book(20)
        paper.fail_next_cancels(4)
        return asyncio.run(kill(paper, FakeTime(clock), latch=lambda: None, alerts=[]))

    assert once() == once()


# ---------------------------------------------------------------- failure to verify


@pytest.mark.parametrize("venue", [BadGateway, SilentAck], ids=["502-forever", "ack-but-no-op"])
def test_kill_when_cancels_never_work_then_alert_names_every_id_after_deadline(
    venue: type[Relay],
) -> None:
    """Past the deadline: one loud alert naming the open ids, and the report says not verified."""
    paper, clock, ids = resting_book(12)
    log: list[str] = []
    alerts: list[str] = []
    fake = FakeTime(clock)

    report = asyncio.run(kill(venue(paper, log), fake, latch=logging_latch(log), alerts=alerts))

    assert not report.verified_empty
    assert sorted(report.remaining) == sorted(ids)
    assert report.elapsed_ns >= DEADLINE_S * 1e9
    assert log[:2] == ["latch", "cancel_all"]
    assert log[-1] == "list"  # the last round still ends with a listing
    assert report.attempts > 2
    assert len(report.errors) <= 2  # repeats collapse: one line per distinct failure
    (alert,) = alerts
    assert alert.startswith("KILL SWITCH FAILED")
    assert "12 order(s) are still open" in alert
    assert "HALTED" in alert
    assert all(v in alert for v in ids)
    assert sorted(open_ids(paper)) == sorted(ids)


def test_kill_when_backoff_would_overrun_deadline_then_sleeps_are_clipped() -> None:
    """Backoff never sleeps past the deadline, so the alert comes at the deadline."""
    paper, clock, _ = resting_book(1)
    fake = FakeTime(clock)
    alerts: list[str] = []

    report = asyncio.run(
        kill(BadGateway(paper, []), fake, latch=lambda: None, alerts=alerts, deadline_s=2.5)
    )

    assert sum(fake.sleeps) == pytest.approx(2.5)
    assert report.elapsed_ns == pytest.approx(2_500_000_000, abs=1_000)
    assert len(alerts) == 1


def test_kill_when_key_refused_then_alert_at_once_and_no_retry() -> None:
    """ExchangeAuthError: a human must act. Alert at once, no backoff, no second call."""
    paper, clock, ids = resting_book(4)
    log: list[str] = []
    alerts: list[str] = []
    fake = FakeTime(clock)

    report = asyncio.run(
        kill(RevokedKey(paper, log), fake, latch=logging_latch(log), alerts=alerts)
    )

    assert log == ["latch", "cancel_all"]
    assert fake.sleeps == []
    assert report.auth_refused
    assert not report.verified_empty
    assert report.attempts == 1
    assert report.errors == ("cancel_all: ExchangeAuthError: 401 Unauthorized",)
    (alert,) = alerts
    assert alert.startswith("KILL SWITCH STOPPED")
    assert "refused the API key" in alert
    assert "unknown" in alert
    assert sorted(open_ids(paper)) == sorted(ids)


def test_kill_when_key_refused_on_retry_then_alert_names_listed_ids() -> None:
    """A 401 on a retry stops at once; the alert names the ids from the last listing."""
    paper, clock, ids = resting_book(3)
    log: list[str] = []
    alerts: list[str] = []

    class RevokedOnRetry(Relay):
        async def cancel_all(self, product_id: ProductId | None = None) -> tuple[CancelResult, ...]:
            self.log.append("cancel_all")
            raise TemporaryExchangeError("429 Too Many Requests")

        async def cancel(self, venue_order_ids: Sequence[VenueOrderId]) -> tuple[CancelResult, ...]:
            self.log.append(f"cancel {len(venue_order_ids)}")
            raise ExchangeAuthError("403 Forbidden")

    report = asyncio.run(
        kill(RevokedOnRetry(paper, log), FakeTime(clock), latch=logging_latch(log), alerts=alerts)
    )

    assert log == ["latch", "cancel_all", "list", "cancel 3"]
    assert report.auth_refused
    assert sorted(report.remaining) == sorted(ids)
    (alert,) = alerts
    assert all(v in alert for v in ids)


def test_kill_when_listing_hangs_then_call_times_out_and_alert() -> None:
    """A call that never answers is cut off by call_timeout_s; the alert still comes."""
    paper, _, _ = resting_book(2)
    log: list[str] = []
    alerts: list[str] = []

    report = asyncio.run(
        kill_and_verify(
            HungListing(paper, log),
            latch=logging_latch(log),
            monotonic_ns=time.monotonic_ns,
            sleep=asyncio.sleep,
            deadline_s=0.05,
            rng=random.Random(SEED),  # noqa: S311 - jitter, not a secret
            on_alert=alerts.append,
            call_timeout_s=0.02,
        )
    )

    assert not report.verified_empty
    assert report.remaining == ()
    assert report.errors[0].startswith("list_open_orders: no answer within 0.02 s")
    assert report.elapsed_ns < 1_000_000_000
    (alert,) = alerts
    assert "every listing failed" in alert


def test_kill_when_adapter_has_a_bug_then_it_propagates() -> None:
    """Only exchange errors are absorbed; anything else is a bug and crashes the kill."""
    paper, clock, _ = resting_book(1)
    alerts: list[str] = []

    with pytest.raises(KeyError, match="adapter bug"):
        asyncio.run(kill(Buggy(paper, []), FakeTime(clock), latch=lambda: None, alerts=alerts))

    assert alerts == []


# ---------------------------------------------------------------- submits in flight


def test_kill_when_submits_in_flight_then_late_orders_cancelled_and_verified() -> None:
    """Ten submits already past the gate land during the kill; each is cancelled as it appears
    (RELIABILITY §4 row 24) and the report ends verified empty only once all have landed."""
    paper, clock, resting = resting_book(20)
    log: list[str] = []
    alerts: list[str] = []
    wire = Wire(paper, log)
    in_flight: list[asyncio.Task[VenueOrderId]] = []

    async def land(n: int) -> VenueOrderId:
        for _ in range(n):  # submit n spends n more turns on the wire
            await asyncio.sleep(0)
        return await placed_id(wire, limit_bid(f"late-{n}"))

    def latch() -> None:
        log.append("latch")
        # These were approved before the latch; they are on the wire now.
        in_flight.extend(asyncio.get_running_loop().create_task(land(n)) for n in range(10))

    async def main() -> tuple[KillReport, list[VenueOrderId], bool]:
        report = await kill(wire, FakeTime(clock), latch=latch, alerts=alerts)
        all_landed = all(t.done() for t in in_flight)
        return report, await asyncio.gather(*in_flight), all_landed

    report, late, all_landed = asyncio.run(main())

    assert log[:2] == ["latch", "cancel_all"]
    first_cancel_all_done = log.index("list")
    assert any(e.startswith("place late-") for e in log[first_cancel_all_done:])
    assert all_landed
    assert report.verified_empty
    assert set(late) <= set(report.cancels_sent)
    assert set(resting) <= set(report.cancels_sent)
    assert report.attempts > 1
    assert open_ids(paper) == []
    assert alerts == []


# ---------------------------------------------------------------- backoff


def test_backoff_delays_when_seeded_then_full_jitter_under_a_capped_ceiling() -> None:
    """Delay n is in [0, min(max, base * 2**n)], reproducible from the seed, and never overflows."""
    first = list(itertools.islice(backoff_delays(random.Random(7), base_s=0.05, max_s=1.0), 2000))  # noqa: S311
    again = list(itertools.islice(backoff_delays(random.Random(7), base_s=0.05, max_s=1.0), 2000))  # noqa: S311

    assert first == again
    assert all(0 <= d <= min(1.0, 0.05 * 2 ** min(n, 10)) for n, d in enumerate(first))
    assert max(first[:3]) <= 0.2
    assert max(first[10:]) > 0.5  # the ceiling has reached the cap


@pytest.mark.parametrize(("base_s", "max_s"), [(0.0, 1.0), (-1.0, 1.0), (0.5, 0.1)])
def test_backoff_delays_when_bounds_invalid_then_value_error(base_s: float, max_s: float) -> None:
    with pytest.raises(ValueError, match="backoff"):
        backoff_delays(random.Random(1), base_s=base_s, max_s=max_s)  # noqa: S311


# ---------------------------------------------------------------- wiring


def test_wiring_when_dead_man_fires_on_a_blocked_loop_then_latched_at_once_and_book_emptied() -> (
    None
):
    """The docstring wiring of `trading_gate.watchdog`: the watchdog thread trips the latch
    while the loop is stuck, and the kill starts as soon as the loop runs again."""
    paper, _, ids = resting_book(50)
    halt = HaltLatch()
    reports: list[KillReport] = []

    async def gate() -> bool:
        loop = asyncio.get_running_loop()
        killed = asyncio.Event()
        async with asyncio.TaskGroup() as tasks:

            async def kill_task() -> None:
                def latch() -> None:
                    halt.trip(Cause.KILL_SWITCH, "dead man", time.monotonic_ns())

                reports.append(
                    await kill_and_verify(
                        paper,
                        latch=latch,
                        monotonic_ns=time.monotonic_ns,
                        sleep=asyncio.sleep,
                        deadline_s=5.0,
                        rng=random.Random(SEED),  # noqa: S311 - jitter, not a secret
                        on_alert=pytest.fail,
                    )
                )
                killed.set()

            def on_fire(actions: tuple[DeadManAction, ...]) -> None:
                for action in actions:
                    if isinstance(action, Halt):
                        halt.trip(action.cause, action.detail, time.monotonic_ns())
                loop.call_soon_threadsafe(lambda: tasks.create_task(kill_task()))

            dog = DeadMansWatchdog(timeout_s=0.1, tick_s=0.01, on_fire=on_fire)
            dog.start()
            try:
                dog.arm()
                time.sleep(0.4)  # noqa: ASYNC251 - the stalled loop under test
                tripped_while_blocked = halt.tripped
                # The loop runs again: the kill task the watchdog asked for starts now.
                await asyncio.wait_for(killed.wait(), timeout=5.0)
            finally:
                dog.stop()
        return tripped_while_blocked

    tripped_while_blocked = asyncio.run(gate())

    assert tripped_while_blocked
    assert halt.cause == Cause.DEAD_MAN  # the watchdog's trip came first and is kept
    (report,) = reports
    assert report.verified_empty
    assert sorted(report.cancels_sent) == sorted(ids)
    assert open_ids(paper) == []
