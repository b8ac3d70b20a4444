"""Client-side token buckets below the venue's REST limits, with a budget for cancels.

Venue limits (EXCHANGE_AND_LLM_APIS.md §2.6, [C18]): private REST ~30 requests/s per
user, public ~10 requests/s per IP, and they may tighten. A bucket of capacity C
refilled at r tokens/s admits at most C + r*T calls in any window of T seconds, so
the defaults keep every one-second window strictly under the venue's figure:
private r=24, C=5 (29 < 30); public r=7, C=2 (9 < 10).

The last `reserve` tokens are for cancels: an ordinary call may not take them, a cancel
may. So when the bucket runs low (say, a burst of orders), cancels still go out first.

`take` is pure (the time arrives as an argument, tokens are exact integers: one token
is 10^9 units and r tokens/s refills r units per ns). `RateLimiter` puts an async
`acquire` on top with an injected monotonic clock and sleep.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Final

import msgspec

__all__ = [
    "PRIVATE_LIMITS",
    "PUBLIC_LIMITS",
    "BucketLimits",
    "BucketState",
    "CallKind",
    "RateLimiter",
    "full_bucket",
    "take",
]

UNITS_PER_TOKEN: Final = 1_000_000_000


class CallKind(Enum):
    """Whether a call may dip into the cancel reserve."""

    ORDINARY = "ordinary"
    CANCEL = "cancel"


class BucketLimits(msgspec.Struct, frozen=True, kw_only=True):
    """A bucket: refill rate (tokens/s), capacity (burst), and tokens kept for cancels.

    Raises:
        ValueError: rate or capacity below 1, or reserve not in [0, capacity).
    """

    rate_per_s: int
    capacity: int
    reserve: int = 0

    def __post_init__(self) -> None:
        if self.rate_per_s < 1 or self.capacity < 1:
            raise ValueError(
                f"rate and capacity must be >= 1, got {self.rate_per_s}, {self.capacity}"
            )
        if not 0 <= self.reserve < self.capacity:
            raise ValueError(f"reserve must be in [0, {self.capacity}), got {self.reserve}")


PRIVATE_LIMITS: Final = BucketLimits(rate_per_s=24, capacity=5, reserve=2)
PUBLIC_LIMITS: Final = BucketLimits(rate_per_s=7, capacity=2, reserve=0)


class BucketState(msgspec.Struct, frozen=True):
    """Tokens held (in units) as of `at_ns` on the monotonic clock."""

    units: int
    at_ns: int


def full_bucket(limits: BucketLimits, now_ns: int) -> BucketState:
    """A bucket filled to capacity at `now_ns`."""
    return BucketState(limits.capacity * UNITS_PER_TOKEN, now_ns)


def take(
    limits: BucketLimits, state: BucketState, kind: CallKind, now_ns: int
) -> tuple[BucketState, int]:
    """Try to take one token at `now_ns`: (new state, 0) if admitted, else (state, wait).

    `wait` is the ns until the call would be admitted if nothing else takes a token. An
    ordinary call needs `reserve + 1` tokens present; a cancel needs one.
    """
    elapsed = max(0, now_ns - state.at_ns)  # a clock read out of order refills nothing
    cap = limits.capacity * UNITS_PER_TOKEN
    units = min(cap, state.units + elapsed * limits.rate_per_s)
    refreshed = BucketState(units, max(now_ns, state.at_ns))
    floor = 1 if kind is CallKind.CANCEL else limits.reserve + 1
    need = floor * UNITS_PER_TOKEN
    if units >= need:
        return BucketState(units - UNITS_PER_TOKEN, refreshed.at_ns), 0
    wait_ns = -(-(need - units) // limits.rate_per_s)  # ceiling division
    return refreshed, wait_ns


class RateLimiter:
    """An async token bucket: `await acquire(kind)` returns when the call may go."""

    def __init__(
        self,
        limits: BucketLimits,
        *,
        clock_ns: Callable[[], int] = time.monotonic_ns,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._limits = limits
        self._clock_ns = clock_ns
        self._sleep = sleep
        self._state: BucketState | None = None

    @property
    def limits(self) -> BucketLimits:
        """The bucket's limits."""
        return self._limits

    async def acquire(self, kind: CallKind = CallKind.ORDINARY) -> None:
        """Wait until a token is free for a call of `kind`, then take it."""
        while True:
            now_ns = self._clock_ns()
            state = self._state if self._state is not None else full_bucket(self._limits, now_ns)
            self._state, wait_ns = take(self._limits, state, kind, now_ns)
            if wait_ns == 0:
                return
            await self._sleep(wait_ns / UNITS_PER_TOKEN)
