"""The venue's book-keeping as a state machine: random creates, cancels, edits and bars.

Invariants after every step, checked against a model the test keeps itself: one order
per client order id ever; an order's totals are the sums of its own fills; trade ids
unique; a finished order never changes again; balances never below their holds.
"""

from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from trading_coinbase import OrderKind, OrderSpec, TimeInForce
from trading_coinbase import translate as t
from trading_sim.matching.config import EngineConfig, ProductSpec
from trading_sim.matching.model import TERMINAL, Bar
from trading_sim.venue import VenueState

D = Decimal
NS = 10**9
CONFIG = EngineConfig(products=(ProductSpec.spot("BTC-USD"),), spread_bps=D(2))

operations = st.lists(
    st.one_of(
        st.tuples(
            st.just("create"),
            st.integers(0, 5),  # client order id
            st.sampled_from(["BUY", "SELL"]),
            st.integers(95, 105),  # limit price, or None for market below
            st.sampled_from(["0.1", "0.5", "2"]),
            st.booleans(),  # market
        ),
        st.tuples(st.just("cancel"), st.integers(0, 7)),
        st.tuples(
            st.just("edit"), st.integers(0, 7), st.integers(95, 105), st.sampled_from(["1", "3"])
        ),
        st.tuples(st.just("bar"), st.integers(95, 105), st.integers(0, 30)),
    ),
    max_size=40,
)


def _spec(cid: int, side: str, price: int, size: str, market: bool) -> OrderSpec:
    common: dict[str, Any] = {
        "client_order_id": f"c{cid}",
        "product_id": "BTC-USD",
        "side": t.Side(side),
    }
    if market:
        return OrderSpec(
            **common, kind=OrderKind.MARKET, tif=TimeInForce.IMMEDIATE_OR_CANCEL, base_size=D(size)
        )
    return OrderSpec(
        **common,
        kind=OrderKind.LIMIT,
        tif=TimeInForce.GOOD_UNTIL_CANCELLED,
        base_size=D(size),
        limit_price=D(price),
    )


def _bar(n: int, close: int, volume: int) -> Bar:
    return Bar(
        product_id="BTC-USD",
        open_ns=n * NS,
        close_ns=(n + 1) * NS,
        open=D(100),
        high=D(max(100, close) + 2),
        low=D(min(100, close) - 2),
        close=D(close),
        volume=D(volume),
    )


def _check(state: VenueState, finished: dict[str, Any]) -> None:
    orders = state.orders_newest_first()
    fills = state.fills_newest_first()
    cids = [o.client_order_id for o in orders]
    assert len(cids) == len(set(cids))
    assert len({f.trade_id for f in fills}) == len(fills)
    for o in orders:
        own = [f for f in fills if f.order_id == o.order_id]
        assert o.filled_size == sum((f.size for f in own), D(0))
        assert o.fees == sum((f.commission for f in own), D(0))
        assert o.fill_count == len(own)
        if o.order_id in finished:
            assert o == finished[o.order_id]
        elif o.status in TERMINAL:
            finished[o.order_id] = o
    assert all(b.total >= b.hold >= 0 for b in state.balances())


@settings(max_examples=120, deadline=None)
@given(ops=operations)
def test_state_when_any_sequence_of_requests_then_the_invariants_hold(ops: list[Any]) -> None:
    """Whatever the order of requests, the book-keeping stays consistent."""
    state = VenueState(CONFIG, {"USD": D(1000), "BTC": D(3)}, seed=3)
    finished: dict[str, Any] = {}
    bars = 0
    now = 0
    state.on_bar(_bar(bars, 100, 10))
    for op in ops:
        now += NS
        ids = [o.order_id for o in state.orders_newest_first()][::-1]
        if op[0] == "create":
            state.create(t.order_request(_spec(*op[1:])), now)
        elif op[0] == "cancel" and ids:
            state.cancel([ids[op[1] % len(ids)]], now)
        elif op[0] == "edit" and ids:
            state.edit(ids[op[1] % len(ids)], D(op[2]), D(op[3]), now)
        elif op[0] == "bar":
            bars += 1
            now = max(now, bars * NS)
            state.on_bar(_bar(bars, op[1], op[2]))
            now = (bars + 1) * NS
        _check(state, finished)


def test_create_when_the_id_repeats_then_the_first_order_and_no_engine_change() -> None:
    """A repeated client order id returns the first order and submits nothing."""
    state = VenueState(CONFIG, {"USD": D(1000)}, seed=3)
    state.on_bar(_bar(0, 100, 10))
    first = state.create(t.order_request(_spec(1, "BUY", 99, "1", False)), NS)
    engine = state.engine
    again = state.create(t.order_request(_spec(1, "BUY", 98, "2", False)), 2 * NS)
    assert again.order == first.order
    assert (again.duplicate, again.updates) == (True, ())
    assert state.engine is engine


def test_ids_when_the_same_seed_and_requests_then_the_same_ids_and_fills() -> None:
    """Two venues with one seed give the same order ids, trade ids and fills."""

    def run() -> list[Any]:
        state = VenueState(CONFIG, {"USD": D(1000)}, seed=11)
        state.on_bar(_bar(0, 100, 10))
        for cid in range(3):
            state.create(t.order_request(_spec(cid, "BUY", 99, "0.1", cid == 1)), NS * (cid + 1))
        state.on_bar(_bar(1, 97, 10))
        return [*state.orders_newest_first(), *state.fills_newest_first()]

    assert run() == run()
