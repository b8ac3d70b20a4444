"""The kill switch: latch HALTED, cancel every order, then prove the book is empty.

Why the latch comes first (RELIABILITY §1.6): upstream Hummingbot's kill coroutine calls
`shutdown()` -> `stop_strategy()` -> `kill_switch.stop()`, which cancels the kill task
itself before `cancel_outstanding_orders()` ever runs, and nothing checks afterwards
that the book is empty; orders kept coming after a kill (HB #2534) and were placed
during shutdown (#8075). So `kill_and_verify` does these steps in this order only:

1. `latch()`, synchronously, before the first await. From then on the gate's decision
   path refuses every new order, even if this coroutine is later cancelled or crashes.
2. `cancel_all()`.
3. List the open orders. While any remain (a submit that was in flight can land after
   the cancel-all: §4 row 24) or a call failed, cancel exactly the listed ids and list
   again, backing off with full jitter: sleep U(0, min(max, base * 2^attempt)).
4. If the book is not verified empty by the deadline, alert loudly and name the order
   ids. The latch stays set whatever the outcome. Only a human resume clears HALTED.

Exchange failures never escape. `ExchangeAuthError` alerts at once and stops, because
retrying a refused key cannot help and a human must act. Any other `ExchangeError`, and
a call that gives no answer within `call_timeout_s`, is retried until the deadline.
Cancel and list are idempotent, so retrying them is safe. Any other exception is a bug
and propagates.

There are two clocks. The deadline and the report's times use the injected
`monotonic_ns`. The per-call timeout uses the event loop's clock, because only that
clock can interrupt a hung await (the SDK's default is `timeout=None`, §1.2). A round
that starts before the deadline always ends with a listing, so a call can overrun the
deadline by at most `call_timeout_s`.
"""

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Final, TypeVar

import msgspec

from trading_contract import VenueOrderId
from trading_gate.ports import CancelResult, ExchangeAuthError, ExchangeError, ExchangePort

__all__ = ["KillReport", "backoff_delays", "kill_and_verify"]

# Coinbase's batch_cancel takes at most 100 ids per call (NT chunks at 100 too, §1.1).
_CANCEL_BATCH: Final = 100
_NS_PER_S: Final = 1_000_000_000
_ERROR_CHARS: Final = 200
_REFUSALS_SHOWN: Final = 5

_T = TypeVar("_T")


class KillReport(msgspec.Struct, frozen=True, kw_only=True):
    """What one kill did, for the audit log and the operator.

    Times are ns on the injected monotonic clock. `latch_ns` is how long `latch()` took
    and `latched_at_ns` is when it returned. `elapsed_ns` runs from the kill's start to
    the report. `attempts` counts cancel rounds: the cancel-all, then each retry.
    `errors` are short lines, with consecutive repeats collapsed into one marked
    "(xN)". `remaining` holds the ids in the last successful listing, and is empty if no listing
    ever succeeded (then `verified_empty` is False). `auth_refused` means the exchange
    refused the key, so the kill stopped early.
    """

    latch_ns: int
    latched_at_ns: int
    cancels_sent: tuple[VenueOrderId, ...]
    attempts: int
    verified_empty: bool
    remaining: tuple[VenueOrderId, ...]
    elapsed_ns: int
    errors: tuple[str, ...]
    auth_refused: bool = False


def backoff_delays(rng: random.Random, *, base_s: float, max_s: float) -> Iterator[float]:
    """Endless full-jitter delays: delay n (from 0) is U(0, min(max_s, base_s * 2**n)).

    Raises:
        ValueError: base_s is not > 0, or max_s < base_s.
    """
    if not (base_s > 0 and max_s >= base_s):
        raise ValueError(f"backoff needs 0 < base_s <= max_s, got {base_s=} {max_s=}")
    return _full_jitter(rng, base_s, max_s)


def _full_jitter(rng: random.Random, base_s: float, max_s: float) -> Iterator[float]:
    ceiling_s = base_s
    while True:
        yield rng.uniform(0.0, ceiling_s)
        # Stop doubling at the cap: base * 2**n would overflow a float after ~1,000 tries.
        ceiling_s = min(max_s, ceiling_s * 2)


async def kill_and_verify(
    exchange: ExchangePort,
    *,
    latch: Callable[[], None],
    monotonic_ns: Callable[[], int],
    sleep: Callable[[float], Awaitable[None]],
    deadline_s: float,
    rng: random.Random,
    on_alert: Callable[[str], None],
    base_backoff_s: float = 0.05,
    max_backoff_s: float = 1.0,
    call_timeout_s: float = 5.0,
) -> KillReport:
    """Latch HALTED, cancel everything, and list until the book is empty or the deadline passes.

    `on_alert` is called at most once: when the deadline passes before the book is
    verified empty, or when the exchange refuses the key. The message names the open
    order ids. Exchange errors are recorded in the report and never raised.

    Raises:
        ValueError: deadline_s or call_timeout_s is not > 0, or the backoff bounds are
            invalid. This is checked after `latch()`, so even a misconfigured kill halts.
    """
    start_ns = monotonic_ns()
    latch()
    latched_at_ns = monotonic_ns()
    if not (deadline_s > 0 and call_timeout_s > 0):
        raise ValueError(
            f"need deadline_s, call_timeout_s > 0, got {deadline_s=} {call_timeout_s=}"
        )
    delays = backoff_delays(rng, base_s=base_backoff_s, max_s=max_backoff_s)
    run = _Run(exchange, call_timeout_s)
    deadline_ns = start_ns + round(deadline_s * _NS_PER_S)

    await run.cancel_all()
    while run.auth is None:
        listed = await run.listing()
        if listed == () or run.auth is not None:
            break
        time_left_ns = deadline_ns - monotonic_ns()
        if time_left_ns <= 0:
            break
        await sleep(min(next(delays), time_left_ns / _NS_PER_S))
        if listed:
            await run.cancel(listed)

    report = KillReport(
        latch_ns=latched_at_ns - start_ns,
        latched_at_ns=latched_at_ns,
        cancels_sent=tuple(run.sent),
        attempts=run.attempts,
        verified_empty=run.remaining == () and run.auth is None,
        remaining=run.remaining or (),
        elapsed_ns=monotonic_ns() - start_ns,
        errors=run.errors,
        auth_refused=run.auth is not None,
    )
    if run.auth is not None:
        on_alert(_auth_alert(report, run.auth, run.remaining))
    elif not report.verified_empty:
        on_alert(_deadline_alert(report, run.remaining))
    return report


class _Run:
    """One kill's exchange calls, with what they sent, listed and failed on."""

    def __init__(self, exchange: ExchangePort, call_timeout_s: float) -> None:
        self._exchange = exchange
        self._call_timeout_s = call_timeout_s
        # A dict keeps the first-sent order and drops the repeats of later rounds.
        self.sent: dict[VenueOrderId, None] = {}
        self.attempts = 0
        self._errors: list[tuple[str, int]] = []
        self.auth: ExchangeAuthError | None = None
        # None until a listing succeeds: "unknown", which differs from "empty".
        self.remaining: tuple[VenueOrderId, ...] | None = None

    async def cancel_all(self) -> None:
        self.attempts += 1
        results = await self._call("cancel_all", self._exchange.cancel_all())
        if results is not None:
            self.sent.update(dict.fromkeys(r.venue_order_id for r in results))
            self._note_refusals("cancel_all", results)

    async def cancel(self, venue_order_ids: Sequence[VenueOrderId]) -> None:
        self.attempts += 1
        for start in range(0, len(venue_order_ids), _CANCEL_BATCH):
            if self.auth is not None:
                return
            batch = venue_order_ids[start : start + _CANCEL_BATCH]
            self.sent.update(dict.fromkeys(batch))
            results = await self._call("cancel", self._exchange.cancel(batch))
            if results is not None:
                self._note_refusals("cancel", results)

    async def listing(self) -> tuple[VenueOrderId, ...] | None:
        orders = await self._call("list_open_orders", self._exchange.list_open_orders())
        if orders is None:
            return None
        self.remaining = tuple(o.venue_order_id for o in orders)
        return self.remaining

    async def _call(self, what: str, call: Awaitable[_T]) -> _T | None:
        try:
            async with asyncio.timeout(self._call_timeout_s):
                return await call
        except ExchangeAuthError as exc:
            self.auth = exc
            self._note(f"{what}: {type(exc).__name__}: {exc}")
        except ExchangeError as exc:
            self._note(f"{what}: {type(exc).__name__}: {exc}")
        except TimeoutError:
            self._note(f"{what}: no answer within {self._call_timeout_s} s")
        return None

    def _note_refusals(self, what: str, results: tuple[CancelResult, ...]) -> None:
        refused = [r for r in results if not r.success]
        if refused:
            shown = ", ".join(
                f"{r.venue_order_id} {r.failure_reason}" for r in refused[:_REFUSALS_SHOWN]
            )
            more = " ..." if len(refused) > _REFUSALS_SHOWN else ""
            self._note(f"{what}: {len(refused)} refused: {shown}{more}")

    def _note(self, error: str) -> None:
        error = error[:_ERROR_CHARS]
        # Collapse repeats, so 60 rounds of the same 502 stay one line in the report.
        if self._errors and self._errors[-1][0] == error:
            self._errors[-1] = (error, self._errors[-1][1] + 1)
        else:
            self._errors.append((error, 1))

    @property
    def errors(self) -> tuple[str, ...]:
        return tuple(e if n == 1 else f"{e} (x{n})" for e, n in self._errors)


def _ids(venue_order_ids: tuple[VenueOrderId, ...] | None) -> str:
    if venue_order_ids is None:
        return "unknown (no listing succeeded)"
    return ", ".join(venue_order_ids) or "none"


def _deadline_alert(report: KillReport, remaining: tuple[VenueOrderId, ...] | None) -> str:
    last_error = report.errors[-1] if report.errors else "none"
    if remaining is None:
        what = "could not verify that the book is empty: every listing failed"
    else:
        what = f"{len(remaining)} order(s) are still open at the venue: {_ids(remaining)}"
    return (
        f"KILL SWITCH FAILED after {report.elapsed_ns / _NS_PER_S:.1f} s and "
        f"{report.attempts} cancel round(s): {what}. The gate stays HALTED. "
        f"Cancel these orders by hand at the venue NOW. Last error: {last_error}"
    )


def _auth_alert(
    report: KillReport, exc: ExchangeAuthError, remaining: tuple[VenueOrderId, ...] | None
) -> str:
    return (
        f"KILL SWITCH STOPPED: the exchange refused the API key ({exc}) after "
        f"{report.attempts} cancel round(s). The gate stays HALTED. A human must cancel "
        f"the open orders at the venue NOW. Open orders at the last listing: {_ids(remaining)}"
    )
