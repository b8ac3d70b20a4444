"""Fault knobs: exact counting, the merge of changes, the admin endpoint, latency."""

import asyncio
import random
import time
from typing import Any

import httpx
import msgspec
import pytest

from trading_coinbase import schemas as w
from trading_sim.venue import FaultBoard, FaultError, Faults, VenueSettings, VenueStatus
from trading_sim.venue.testing import KEY_NAME, KeyPair, harness


def board(**knobs: Any) -> FaultBoard:
    return FaultBoard(Faults(**knobs), random.Random(7))  # noqa: S311 - jitter, not secrets


def test_bursts_when_both_set_then_exactly_n_429s_then_exactly_m_5xx() -> None:
    """Two 429s, then one 502, then the venue behaves: each counter spends exactly N."""
    faults = board(http_429_next=2, http_5xx_next=1, http_5xx_status=502)
    assert [faults.take_http_burst("/orders") for _ in range(5)] == [429, 429, 502, None, None]


def test_bursts_when_paths_are_named_then_other_paths_are_untouched() -> None:
    """A burst limited to /orders neither fires nor spends on /accounts."""
    faults = board(http_5xx_next=1, fault_paths=("/orders",))
    assert faults.take_http_burst("/accounts") is None
    assert faults.current.http_5xx_next == 1
    assert faults.take_http_burst("/orders") == 503


def test_one_shot_counters_when_spent_then_false_afterwards() -> None:
    """Drop-create, ws gap and ws drop each fire their count of times, no more."""
    faults = board(drop_create_responses=1, ws_gap_next=2, ws_drop_next=1)
    assert [faults.take_drop_create() for _ in range(2)] == [True, False]
    assert [faults.take_ws_gap() for _ in range(3)] == [True, True, False]
    assert [faults.take_ws_drop() for _ in range(2)] == [True, False]


def test_update_when_some_knobs_given_then_only_those_change() -> None:
    """A patch changes its knobs and keeps every other one."""
    faults = board(latency_s=0.5, http_429_next=3)
    changed = faults.update(b'{"stale": true, "fault_paths": ["/orders"]}')
    assert changed == Faults(latency_s=0.5, http_429_next=3, stale=True, fault_paths=("/orders",))


@pytest.mark.parametrize(
    "patch",
    [
        b'{"no_such_knob": 1}',
        b'{"http_429_next": -1}',
        b'{"http_5xx_status": 404}',
        b'{"latency_s": "slow"}',
        b'{"fault_paths": ["orders"]}',
        b'{"drop_mode": "maybe"}',
        b"[1, 2]",
        b"not json",
    ],
)
def test_update_when_a_knob_is_unknown_or_out_of_range_then_fault_error_and_no_change(
    patch: bytes,
) -> None:
    """Every bad patch is refused whole, leaving the knobs as they were."""
    faults = board(http_429_next=1)
    with pytest.raises(FaultError):
        faults.update(patch)
    assert faults.current == Faults(http_429_next=1)


def test_latency_when_jittered_then_in_range_and_the_same_for_the_same_seed() -> None:
    """Delays lie in [latency, latency + jitter) and repeat for a repeated seed."""
    a, b = board(latency_s=0.1, jitter_s=0.05), board(latency_s=0.1, jitter_s=0.05)
    delays = [a.latency_s() for _ in range(50)]
    assert delays == [b.latency_s() for _ in range(50)]
    assert all(0.1 <= d < 0.15 for d in delays)
    assert len(set(delays)) > 1


def test_admin_when_faults_posted_then_served_and_reported_and_bad_ones_400(
    series: dict[str, Any], key_pair: KeyPair, rows: list[Any]
) -> None:
    """POST /__sim/faults sets knobs the venue then obeys; /__sim/state tells the bar."""

    async def go() -> None:
        settings = VenueSettings(key_name=KEY_NAME, history_bars=2)
        async with (
            harness(series, settings=settings, key_pair=key_pair) as h,
            httpx.AsyncClient(base_url=h.venue.base_url) as raw,
        ):
            posted = await raw.post("/__sim/faults", content=b'{"http_429_next": 1}')
            limited = await raw.get("/api/v3/brokerage/time")
            after = await raw.get("/api/v3/brokerage/time")
            bad = await raw.post("/__sim/faults", content=b'{"http_429_next": "x"}')
            state = msgspec.json.decode((await raw.get("/__sim/state")).content, type=VenueStatus)
            current = msgspec.json.decode((await raw.get("/__sim/faults")).content, type=Faults)

        assert msgspec.json.decode(posted.content, type=Faults).http_429_next == 1
        assert (limited.status_code, after.status_code) == (429, 200)
        assert (bad.status_code, msgspec.json.decode(bad.content, type=w.ErrorBody).error) == (
            400,
            "INVALID_ARGUMENT",
        )
        assert current == Faults()
        assert state.bar_index == 2
        assert state.market_time_ns == {"BTC-USD": (rows[2].ts + 60) * 10**9}

    asyncio.run(go())


def test_latency_when_set_then_each_request_waits_at_least_that_long(
    series: dict[str, Any], key_pair: KeyPair
) -> None:
    """With 0.15 s of latency a public call takes at least 0.15 s."""

    async def go() -> None:
        settings = VenueSettings(key_name=KEY_NAME, faults=Faults(latency_s=0.15))
        async with (
            harness(series, settings=settings, key_pair=key_pair) as h,
            h.rest(keyless=True) as client,
        ):
            started = time.monotonic()
            await client.get_server_time()
            assert time.monotonic() - started >= 0.15

    asyncio.run(go())
