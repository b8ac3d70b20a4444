"""Properties of the engine over random order and bar sequences, and determinism by seed."""

from collections import defaultdict
from decimal import ROUND_DOWN, Context, Decimal, localcontext
from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as hs

import sim_stubs as st
import trading_sim as s
from sim_stubs import MINUTE, D, Venue, at, bar, market, order, stop_limit
from trading_sim.matching.book import Traded, _in_time_order

_FORWARD = {(a, b) for (a, _), b in s.TRANSITIONS.items()}


def _cents(low: int, high: int) -> hs.SearchStrategy[Decimal]:
    return hs.integers(low, high).map(lambda n: Decimal(n) / 100)


@hs.composite
def _bar_step(draw: hs.DrawFn) -> tuple[str, dict[str, Decimal]]:
    o, c = draw(_cents(9_500, 10_500)), draw(_cents(9_500, 10_500))
    return "bar", {
        "open": o,
        "close": c,
        "high": max(o, c) + draw(_cents(0, 300)),
        "low": min(o, c) - draw(_cents(0, 300)),
        "volume": draw(_cents(0, 2_000)),
    }


_TIFS = {
    s.OrderKind.MARKET: (s.TimeInForce.IOC, s.TimeInForce.FOK),
    s.OrderKind.LIMIT: tuple(s.TimeInForce),
    s.OrderKind.STOP_LIMIT: (s.TimeInForce.GTC, s.TimeInForce.GTD),
}


@hs.composite
def _order_step(draw: hs.DrawFn, *, wild: bool = False) -> tuple[str, dict[str, Any]]:
    """A valid order, or with `wild` any combination of fields (mostly refused)."""
    kind = draw(hs.sampled_from(s.OrderKind))
    tif = draw(hs.sampled_from(tuple(s.TimeInForce) if wild else _TIFS[kind]))
    can_post = kind is s.OrderKind.LIMIT and tif in (s.TimeInForce.GTC, s.TimeInForce.GTD)
    size_in = draw(hs.sampled_from(s.SizeUnit))
    fields: dict[str, Any] = {
        "kind": kind,
        "side": draw(hs.sampled_from(s.Side)),
        "tif": tif,
        "size_in": size_in,
        "size": draw(_cents(1, 300) if size_in is s.SizeUnit.BASE else _cents(1, 30_000)),
        "limit_price": None if kind is s.OrderKind.MARKET else draw(_cents(9_300, 10_700)),
        "post_only": (wild or can_post) and draw(hs.booleans()),
        "delay_s": draw(hs.integers(0, 20)),
        "end_minutes": draw(hs.integers(0 if wild else 1, 4)) if wild or tif == "gtd" else 0,
    }
    if kind is s.OrderKind.STOP_LIMIT:
        fields["stop_price"] = draw(_cents(9_300, 10_700))
        fields["stop_direction"] = draw(hs.sampled_from(s.StopDirection))
    return "order", fields


_STEPS = hs.lists(
    hs.one_of(
        _bar_step(),
        _bar_step(),
        _order_step(),
        _order_step(),
        _order_step(wild=True),
        hs.tuples(hs.just("cancel"), hs.integers(0, 30)),
        hs.tuples(hs.just("expire"), hs.integers(0, 120)),
    ),
    max_size=40,
)


class _Run:
    """Replays steps on a fresh engine with a running clock."""

    def __init__(self, seed: int) -> None:
        config = s.EngineConfig(spread_bps=D(4), random_slippage_bps=D(5))
        self.venue = Venue(s.new_state(config, {"USD": D(600), "BTC": D(3)}), st.seeded(seed))
        self.now = at(0)
        self.next_open = at(0)
        self.placed = 0

    def step(self, kind: str, args: Any) -> None:
        if kind == "bar":
            opens = max(self.next_open, self.now - self.now % MINUTE)
            self.venue.bar(
                s.Bar(product_id="BTC-USD", open_ns=opens, close_ns=opens + MINUTE, **args)
            )
            self.next_open, self.now = opens + MINUTE, max(self.now, opens + MINUTE)
        elif kind == "order":
            self.now += args.pop("delay_s") * 10**9
            ends = args.pop("end_minutes")
            args["end_ns"] = self.now + ends * MINUTE if ends else None
            self.venue.submit(order(order_id=f"o{self.placed}", created_ns=self.now, **args))
            self.placed += 1
        elif kind == "cancel":
            self.venue.cancel(f"o{args % max(self.placed, 1)}", self.now)
        else:
            self.now += args * 10**9
            self.venue.expire(self.now)
        for balance in s.account_balances(self.venue.state):
            assert balance.total >= balance.hold >= 0, balance


def _run(steps: list[tuple[str, Any]], seed: int) -> _Run:
    run = _Run(seed)
    for kind, args in steps:
        run.step(kind, dict(args) if isinstance(args, dict) else args)
    return run


def _filled_within_size(o: s.SimOrder) -> bool:
    used = o.filled_size if o.size_in is s.SizeUnit.BASE else o.filled_value
    return D(0) <= used <= o.size and o.fees >= 0


def _check_events(events: list[s.SimEvent]) -> None:
    status: dict[str, s.OrderStatus] = {}
    fills: dict[str, list[s.SimFill]] = defaultdict(list)
    for event in events:
        if isinstance(event, s.CancelRejected):
            continue
        o = event.order
        before = status.get(o.order_id)
        assert before not in s.TERMINAL, f"{o.order_id}: event after {before}"
        assert before is None or before == o.status or (before, o.status) in _FORWARD
        assert _filled_within_size(o), o
        if isinstance(event, s.OrderFilled):
            f = event.fill
            assert f.size > 0, f
            assert f.price > 0, f
            assert f.fee >= 0, f
            fills[o.order_id].append(f)
            mine = fills[o.order_id]
            assert sum(x.size for x in mine) == o.filled_size
            assert sum(x.size * x.price for x in mine) == o.filled_value
            assert sum(x.fee for x in mine) == o.fees
            assert f.trade_id == f"{o.order_id}-{len(mine)}"
        status[o.order_id] = o.status


@settings(max_examples=150, deadline=None)
@given(steps=_STEPS, seed=hs.integers(0, 2**32))
def test_engine_when_random_sequences_then_invariants_hold_and_replay_is_identical(
    steps: list[tuple[str, Any]], seed: int
) -> None:
    """filled <= size, fills sum up, fees >= 0, statuses only forward, nothing after the
    end, total >= hold; and the same steps with the same seed give the same bytes."""
    first = _run(steps, seed)

    _check_events(first.venue.events)
    again = _run(steps, seed)
    assert msgspec.json.encode(again.venue.events) == msgspec.json.encode(first.venue.events)


def _script(seed: int, config: s.EngineConfig) -> bytes:
    venue = Venue.open(config, seed=seed)
    venue.submit(market(size=D("0.3")))
    venue.submit(order(order_id="o2", size=D(2), limit_price=D(99)))
    venue.submit(stop_limit(order_id="o3", limit_price=D(90)))
    for minute, low in ((1, "98.50"), (2, "94"), (3, "97")):
        venue.bar(bar(minute, low=D(low)))
    venue.submit(market(order_id="o4", side=s.Side.SELL, size=D("0.5"), created_ns=at(4)))
    return msgspec.json.encode(venue.events)


def test_engine_when_same_seed_then_byte_identical_events() -> None:
    """Same inputs and seed: the same event log, byte for byte."""
    config = s.EngineConfig(spread_bps=D(2), random_slippage_bps=D(10))

    assert _script(11, config) == _script(11, config)


def test_engine_when_no_randomness_configured_then_seed_does_not_matter() -> None:
    """Without random slippage the rng is never consulted."""
    config = s.EngineConfig(spread_bps=D(2), slippage_bps=D(3))

    assert len({_script(seed, config) for seed in range(5)}) == 1


def test_engine_when_random_slippage_then_seeds_change_only_taker_prices() -> None:
    """With random slippage, seeds move taker prices; maker fills stay at their limits."""
    config = s.EngineConfig(spread_bps=D(2), random_slippage_bps=D(10))
    logs = [msgspec.json.decode(_script(seed, config)) for seed in range(5)]

    def prices(log: list[dict[str, Any]], liquidity: str) -> list[str]:
        return [
            e["fill"]["price"]
            for e in log
            if e["type"] == "filled" and e["fill"]["liquidity"] == liquidity
        ]

    assert len({tuple(prices(log, "taker")) for log in logs}) > 1
    assert len({tuple(prices(log, "maker")) for log in logs}) == 1


def test_engine_when_caller_changes_decimal_context_then_same_events() -> None:
    """The engine computes in its own Decimal context, not the caller's thread-wide one."""
    config = s.EngineConfig(spread_bps=D(2), slippage_bps=D(3))
    expected = _script(1, config)

    with localcontext(Context(prec=6, rounding=ROUND_DOWN)):
        assert _script(1, config) == expected


@given(
    times=hs.lists(hs.integers(min_value=0, max_value=50), max_size=30).map(sorted),
    new_ts=hs.integers(min_value=0, max_value=60),
)
def test_in_time_order_is_a_stable_sorted_insert(times: list[int], new_ts: int) -> None:
    """The fee window after a fill: every earlier fill, then the new one after any of
    its time, exactly as a stable sort of all of them would place it."""
    traded = tuple(Traded(ts_ns=t, notional=Decimal(i)) for i, t in enumerate(times))
    new = Traded(ts_ns=new_ts, notional=Decimal(-1))
    expected = tuple(sorted((*traded, new), key=lambda t: t.ts_ns))
    assert _in_time_order(traded, new) == expected
