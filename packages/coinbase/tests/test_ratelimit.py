"""Token buckets: never above C + r*T in any window; cancels get through when orders can't."""

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trading_coinbase.ratelimit import (
    PRIVATE_LIMITS,
    PUBLIC_LIMITS,
    UNITS_PER_TOKEN,
    BucketLimits,
    BucketState,
    CallKind,
    RateLimiter,
    full_bucket,
    take,
)

S = 1_000_000_000

limits = st.builds(
    lambda rate, cap, reserve_frac: BucketLimits(
        rate_per_s=rate, capacity=cap, reserve=int(reserve_frac * (cap - 1))
    ),
    st.integers(min_value=1, max_value=50),
    st.integers(min_value=1, max_value=20),
    st.floats(min_value=0, max_value=1),
)
# Gaps between call attempts: often zero (bursts), sometimes long (refills).
gaps = st.lists(
    st.tuples(
        st.one_of(st.just(0), st.integers(min_value=0, max_value=2 * S)),
        st.sampled_from(list(CallKind)),
    ),
    max_size=150,
)


def _run(lim: BucketLimits, attempts: list[tuple[int, CallKind]]) -> list[int]:
    """Admission times of a stream of attempts (no waiting: refused calls are dropped)."""
    now, state, admitted = 0, full_bucket(lim, 0), []
    for gap, kind in attempts:
        now += gap
        state, wait = take(lim, state, kind, now)
        if wait == 0:
            admitted.append(now)
    return admitted


@given(limits, gaps)
def test_take_when_any_window_then_admitted_at_most_capacity_plus_rate_times_length(
    lim: BucketLimits, attempts: list[tuple[int, CallKind]]
) -> None:
    """In every closed window [t_i, t_j]: admitted <= C + r*(t_j - t_i) (closed form)."""
    admitted = _run(lim, attempts)

    for i in range(len(admitted)):
        for j in range(i, len(admitted)):
            count = j - i + 1
            span_ns = admitted[j] - admitted[i]
            assert count * S <= lim.capacity * S + lim.rate_per_s * span_ns


@pytest.mark.parametrize(("lim", "venue_per_s"), [(PRIVATE_LIMITS, 30), (PUBLIC_LIMITS, 10)])
@given(attempts=gaps)
def test_default_limits_when_any_one_second_window_then_below_the_venue(
    lim: BucketLimits, venue_per_s: int, attempts: list[tuple[int, CallKind]]
) -> None:
    """§2.6: private ~30/s per user, public ~10/s per IP; any 1 s window stays under."""
    admitted = _run(lim, attempts)

    for i, start in enumerate(admitted):
        in_window = sum(1 for t in admitted[i:] if t - start <= S)
        assert in_window < venue_per_s


@given(limits, gaps)
def test_take_when_ordinary_refused_with_tokens_left_then_cancel_admitted(
    lim: BucketLimits, attempts: list[tuple[int, CallKind]]
) -> None:
    """Whenever an ordinary call is refused but a token remains, a cancel goes through."""
    now, state = 0, full_bucket(lim, 0)
    for gap, kind in attempts:
        now += gap
        _, ordinary_wait = take(lim, state, CallKind.ORDINARY, now)
        cancel_state, cancel_wait = take(lim, state, CallKind.CANCEL, now)
        refreshed = min(
            lim.capacity * UNITS_PER_TOKEN, state.units + (now - state.at_ns) * lim.rate_per_s
        )
        if ordinary_wait > 0 and refreshed >= UNITS_PER_TOKEN:
            assert cancel_wait == 0
            assert cancel_state.units == refreshed - UNITS_PER_TOKEN
        state, _ = take(lim, state, kind, now)


@given(limits, st.sampled_from(list(CallKind)))
def test_take_when_refused_then_wait_is_exactly_the_time_to_admission(
    lim: BucketLimits, kind: CallKind
) -> None:
    """After draining, the call is refused 1 ns before `wait` and admitted at `wait`."""
    state = BucketState(0, 0)

    state, wait = take(lim, state, kind, 0)

    assert wait > 0
    assert take(lim, state, kind, wait - 1)[1] > 0
    assert take(lim, state, kind, wait)[1] == 0


def test_take_when_reserve_two_then_ordinary_stops_two_tokens_early() -> None:
    """Capacity 5, reserve 2: three ordinary calls, then only the two cancels."""
    lim = BucketLimits(rate_per_s=1, capacity=5, reserve=2)
    state = full_bucket(lim, 0)

    results = []
    for kind in [CallKind.ORDINARY] * 4 + [CallKind.CANCEL] * 3:
        state, wait = take(lim, state, kind, 0)
        results.append(wait == 0)

    assert results == [True, True, True, False, True, True, False]


def test_take_when_clock_reads_backwards_then_nothing_refills() -> None:
    """An out-of-order clock reading never creates tokens."""
    lim = BucketLimits(rate_per_s=10, capacity=1)
    state, _ = take(lim, full_bucket(lim, 5 * S), CallKind.ORDINARY, 5 * S)

    _, wait = take(lim, state, CallKind.ORDINARY, 0)

    assert wait == S // 10


@pytest.mark.parametrize(
    ("rate", "capacity", "reserve"), [(0, 1, 0), (1, 0, 0), (1, 2, 2), (1, 2, -1)]
)
def test_bucket_limits_when_nonsense_then_value_error(
    rate: int, capacity: int, reserve: int
) -> None:
    """Rate and capacity >= 1 and a reserve below capacity."""
    with pytest.raises(ValueError, match="must be"):
        BucketLimits(rate_per_s=rate, capacity=capacity, reserve=reserve)


class FakeTime:
    """A monotonic clock that moves only when someone sleeps."""

    def __init__(self) -> None:
        self.now_ns = 0
        self.sleeps: list[float] = []

    def clock(self) -> int:
        return self.now_ns

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now_ns += round(seconds * S)


def test_acquire_when_burst_exceeds_capacity_then_sleeps_for_the_refill() -> None:
    """Capacity 2 at 4/s: the third call waits 0.25 s, the fourth another 0.25 s."""
    fake = FakeTime()
    limiter = RateLimiter(
        BucketLimits(rate_per_s=4, capacity=2), clock_ns=fake.clock, sleep=fake.sleep
    )

    async def burst() -> None:
        for _ in range(4):
            await limiter.acquire()

    asyncio.run(burst())

    assert fake.sleeps == [0.25, 0.25]
    assert fake.now_ns == S // 2
