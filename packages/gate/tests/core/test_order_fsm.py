"""The order lifecycle: every (state, trigger) cell, the races, and random sequences."""

import decimal
import itertools
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trading_contract import ClientOrderId, IntentId, OrderStatus, ProductId, Side, TradeId
from trading_gate.core.order_fsm import (
    TRANSITIONS,
    Event,
    FillEvent,
    InvalidTransition,
    Order,
    Overfill,
    StatusEvent,
    Trigger,
    accepts,
    apply,
    is_live,
    is_terminal,
    new_order,
)

T0 = 1_764_614_400_000_000_000
S = OrderStatus
T = Trigger


def order(**overrides: Any) -> Order:
    fields: dict[str, Any] = {
        "client_order_id": ClientOrderId("5f0c6f5e-8a52-5b1e-9d0a-2b7f3c1e4d6a"),
        "intent_id": IntentId("mr.BTC-USD.1764614400.1"),
        "product_id": ProductId("BTC-USD"),
        "side": Side.BUY,
        "size": Decimal("1.0"),
        "status": S.PENDING,
        "filled_size": Decimal(0),
        "filled_notional": Decimal(0),
        "fees": Decimal(0),
        "trade_ids": (),
        "created_ns": T0,
        "updated_ns": T0,
    }
    return Order(**(fields | overrides))


def fill(trade_id: str = "t1", size: str = "0.1", price: str = "90000", **kw: Any) -> FillEvent:
    fields: dict[str, Any] = {"fee": Decimal("0.5"), "ts_ns": T0 + 1}
    return FillEvent(
        trade_id=TradeId(trade_id), size=Decimal(size), price=Decimal(price), **(fields | kw)
    )


def status(trigger: Trigger, ts_ns: int = T0 + 1) -> StatusEvent:
    return StatusEvent(trigger=trigger, ts_ns=ts_ns)


# The specification, written out independently of TRANSITIONS. X: InvalidTransition.
X = None
PE, UN, OP, PF, PC = S.PENDING, S.UNKNOWN, S.OPEN, S.PARTIALLY_FILLED, S.PENDING_CANCEL
FI, CA, RE, EX = S.FILLED, S.CANCELLED, S.REJECTED, S.EXPIRED
COLUMNS = (
    T.SUBMIT_OUTCOME_UNKNOWN,
    T.VENUE_ACK,
    T.VENUE_REJECT,
    T.FILL_PARTIAL,
    T.FILL_COMPLETE,
    T.CANCEL_REQUESTED,
    T.CANCEL_FAILED,
    T.VENUE_CANCELLED,
    T.VENUE_EXPIRED,
    T.LOOKUP_ABSENT_PROVEN,
)
SPEC: dict[OrderStatus, tuple[OrderStatus | None, ...]] = {
    #     unknown ack reject partial complete c_req c_fail cancelled expired absent
    PE: (UN, OP, RE, PF, FI, X, X, CA, EX, RE),
    UN: (X, OP, RE, PF, FI, X, X, CA, EX, RE),
    OP: (OP, OP, X, PF, FI, PC, X, CA, EX, CA),
    PF: (PF, PF, X, PF, FI, PC, X, CA, EX, CA),
    PC: (PC, PC, X, PC, FI, PC, PC, CA, EX, PC),
    FI: (FI, FI, X, X, X, X, FI, X, X, FI),
    CA: (CA, CA, X, CA, CA, X, CA, CA, X, CA),
    EX: (EX, EX, X, EX, EX, X, EX, X, EX, EX),
    RE: (X, X, RE, X, X, X, X, X, X, RE),
}
# Filled before the event, so that each state is one the lifecycle can reach.
FILLED_BEFORE = {PF: "0.3", PC: "0.3", CA: "0.3", EX: "0.3", FI: "1.0"}
CELLS = [
    (state, trigger, nxt)
    for state, row in SPEC.items()
    for trigger, nxt in zip(COLUMNS, row, strict=True)
]


def order_in(state: OrderStatus) -> Order:
    return order(status=state, filled_size=Decimal(FILLED_BEFORE.get(state, "0")))


def event_for(before: Order, trigger: Trigger) -> Event:
    if trigger is T.FILL_PARTIAL:
        return fill(size="0.1")
    if trigger is T.FILL_COMPLETE:
        # On FILLED nothing remains, so any positive fill overfills.
        return fill(size=str(before.remaining_size or Decimal("0.1")))
    return status(trigger)


def test_spec_when_compared_then_covers_every_state_and_trigger() -> None:
    """The spec grid names every status and every trigger exactly once."""
    assert set(SPEC) == set(OrderStatus)
    assert sorted(COLUMNS) == sorted(Trigger)


@pytest.mark.parametrize(("state", "trigger", "expected"), CELLS)
def test_apply_when_each_state_and_trigger_then_spec_next_state_or_invalid(
    state: OrderStatus, trigger: Trigger, expected: OrderStatus | None
) -> None:
    """Each (state, trigger) either moves to the specified state or raises."""
    before = order_in(state)
    event = event_for(before, trigger)

    if expected is None:
        with pytest.raises(InvalidTransition):
            apply(before, event)
    else:
        assert apply(before, event).status is expected


@pytest.mark.parametrize(("state", "trigger", "expected"), CELLS)
def test_accepts_when_each_state_and_trigger_then_matches_spec(
    state: OrderStatus, trigger: Trigger, expected: OrderStatus | None
) -> None:
    """`accepts` agrees with the spec in every cell."""
    allowed = accepts(state, trigger)

    assert allowed is (expected is not None)


def test_invalid_transition_when_raised_then_names_state_and_trigger() -> None:
    """The message reads STATE -> trigger, and the exception carries both."""
    filled = order_in(FI)

    with pytest.raises(InvalidTransition) as caught:
        apply(filled, status(T.CANCEL_REQUESTED))

    assert str(caught.value) == "FILLED -> cancel_requested"
    assert (caught.value.status, caught.value.trigger) == (FI, T.CANCEL_REQUESTED)


def test_new_order_when_created_then_pending_with_nothing_filled() -> None:
    """A new order is PENDING, empty, and stamped with its creation time."""
    created = new_order(
        client_order_id=ClientOrderId("c-1"),
        intent_id=IntentId("i-1"),
        product_id=ProductId("ETH-USD"),
        side=Side.SELL,
        size=Decimal("2.5"),
        now_ns=T0,
    )

    assert created.status is S.PENDING
    assert (created.filled_size, created.trade_ids, created.average_price) == (0, (), None)
    assert (created.created_ns, created.updated_ns, created.remaining_size) == (T0, T0, 2.5)


@pytest.mark.parametrize("size", ["0", "-1", "NaN", "Infinity"])
def test_order_when_size_not_finite_positive_then_value_error(size: str) -> None:
    """An order of zero, negative or non-finite size cannot exist."""
    with pytest.raises(ValueError, match="size must be finite"):
        order(size=Decimal(size))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("size", "0", "size"),
        ("size", "-0.1", "size"),
        ("size", "NaN", "size"),
        ("price", "0", "price"),
        ("price", "Infinity", "price"),
        ("fee", "NaN", "fee"),
    ],
)
def test_fill_event_when_field_invalid_then_value_error(
    field: str, value: str, message: str
) -> None:
    """A fill needs a positive finite size and price and a finite fee."""
    fields = {"size": Decimal("0.1"), "price": Decimal("1"), "fee": Decimal(0)} | {
        field: Decimal(value)
    }

    with pytest.raises(ValueError, match=message):
        FillEvent(trade_id=TradeId("t1"), ts_ns=T0, **fields)


@pytest.mark.parametrize("trigger", [T.FILL_PARTIAL, T.FILL_COMPLETE])
def test_status_event_when_fill_trigger_then_value_error(trigger: Trigger) -> None:
    """Fill triggers are derived by apply; a StatusEvent cannot carry one."""
    with pytest.raises(ValueError, match="derived from a FillEvent"):
        status(trigger)


def test_apply_when_fills_then_exact_notional_fees_and_average() -> None:
    """Fills add up exactly: size, notional, fees, average price and trade ids."""
    opened = order(status=OP)

    once = apply(opened, fill("t1", size="0.25", price="90000.10", fee=Decimal("0.45")))
    twice = apply(once, fill("t2", size="0.75", price="90001.30", fee=Decimal("1.35")))

    assert once.status is PF
    assert twice.status is FI
    assert twice.filled_size == Decimal("1.00")
    assert twice.filled_notional == Decimal("90001.000")  # 22500.025 + 67500.975
    assert twice.fees == Decimal("1.80")
    assert twice.average_price == Decimal("90001")
    assert twice.trade_ids == ("t1", "t2")
    assert twice.remaining_size == 0


def test_apply_when_duplicate_trade_id_then_same_order() -> None:
    """A fill whose trade id was applied already is a no-op, even with other numbers."""
    once = apply(order(status=OP), fill("t1", size="0.4"))

    again = apply(once, fill("t1", size="0.6", ts_ns=T0 + 99))

    assert again is once


def test_apply_when_fill_overfills_then_raises_and_order_unchanged() -> None:
    """Cumulative size past the order size raises Overfill; nothing is clamped."""
    before = apply(order(status=OP), fill("t1", size="0.7"))
    snapshot = msgspec.structs.asdict(before)

    with pytest.raises(Overfill, match=r"t2 takes 0.7 \+ 0.4 past 1.0"):
        apply(before, fill("t2", size="0.4"))

    assert msgspec.structs.asdict(before) == snapshot


def test_apply_when_product_would_round_then_inexact_raises() -> None:
    """A notional that cannot be held exactly crashes instead of rounding."""
    opened = order(status=OP)
    huge = fill(size="0." + "1" * 70, price="7" * 70)

    with pytest.raises(decimal.Inexact):
        apply(opened, huge)


def test_apply_when_fill_before_ack_then_filled_state_and_ack_is_noop() -> None:
    """A websocket fill may beat the REST ack; the late ack changes nothing (row 23)."""
    pending = order()

    filled_first = apply(pending, fill("t1", size="0.4"))
    acked = apply(filled_first, status(T.VENUE_ACK, ts_ns=T0 + 5))

    assert filled_first.status is PF
    assert acked is filled_first


def test_apply_when_stale_ack_after_filled_then_never_back_to_open() -> None:
    """A stale REST status never turns FILLED back into OPEN."""
    filled = apply(order(status=OP), fill("t1", size="1.0"))

    stale = apply(filled, status(T.VENUE_ACK))

    assert stale.status is FI


def test_apply_when_partial_fill_then_cancel_races_fill_then_cancelled_with_fills() -> None:
    """Fill 30%, cancel, a fill during the cancel and one after: all fills kept (row 7)."""
    events: list[Event] = [
        status(T.VENUE_ACK),
        fill("t1", size="0.3"),
        status(T.CANCEL_REQUESTED),
        fill("t2", size="0.2"),
        status(T.CANCEL_FAILED),
        status(T.CANCEL_REQUESTED),
        status(T.VENUE_CANCELLED),
        fill("t3", size="0.1"),
    ]
    states = []
    current = order()

    for event in events:
        current = apply(current, event)
        states.append(current.status)

    assert states == [OP, PF, PC, PC, PC, PC, CA, CA]
    assert current.filled_size == Decimal("0.6")
    assert current.remaining_size == Decimal("0.4")


def test_apply_when_unknown_then_fill_resolves_it_as_live() -> None:
    """A submit that timed out stays fillable: a fill proves the order exists."""
    unknown = apply(order(), status(T.SUBMIT_OUTCOME_UNKNOWN))

    resolved = apply(unknown, fill("t1", size="0.5"))

    assert unknown.status is UN
    assert is_live(unknown.status)
    assert resolved.status is PF


def test_apply_when_events_out_of_order_then_updated_ns_never_decreases() -> None:
    """An event stamped earlier than the last one keeps the later updated_ns."""
    acked = apply(order(), status(T.VENUE_ACK, ts_ns=T0 + 50))

    filled = apply(acked, fill("t1", size="0.5", ts_ns=T0 + 10))
    cancelled = apply(filled, status(T.VENUE_CANCELLED, ts_ns=T0 + 20))

    assert (acked.updated_ns, filled.updated_ns, cancelled.updated_ns) == (T0 + 50,) * 3


def test_is_live_and_is_terminal_when_each_status_then_partition() -> None:
    """Live and terminal split the statuses; UNKNOWN counts as live for exposure."""
    live = {s for s in OrderStatus if is_live(s)}
    terminal = {s for s in OrderStatus if is_terminal(s)}

    assert live == {PE, OP, PF, PC, UN}
    assert terminal == {FI, CA, RE, EX}


def test_transitions_when_from_terminal_then_only_self_loops() -> None:
    """Nothing in the table leaves a terminal status."""
    leaving = [(s, t, n) for (s, t), n in TRANSITIONS.items() if is_terminal(s) and n != s]

    assert leaving == []


# ---- random event sequences -------------------------------------------------------------

STATUS_TRIGGERS = [t for t in Trigger if t not in {T.FILL_PARTIAL, T.FILL_COMPLETE}]
status_events = st.builds(
    StatusEvent,
    trigger=st.sampled_from(STATUS_TRIGGERS),
    ts_ns=st.integers(T0, T0 + 10**9),
)
fill_events = st.builds(
    FillEvent,
    trade_id=st.sampled_from([TradeId(f"t{n}") for n in range(6)]),
    # Coarse sizes often add up to exactly the order size; fine ones rarely do.
    size=st.one_of(
        st.sampled_from(["0.1", "0.25", "0.5", "0.75", "1.0"]).map(Decimal),
        st.integers(1, 600).map(lambda n: Decimal(n).scaleb(-3)),
    ),
    price=st.integers(1, 10**6).map(Decimal),
    fee=st.just(Decimal(0)),
    ts_ns=st.integers(T0, T0 + 10**9),
)
event_lists = st.lists(st.one_of(status_events, fill_events), max_size=40)


def _consistent(o: Order) -> bool:
    if o.status in {PE, OP, UN, RE}:
        return o.filled_size == 0
    if o.status is PF:
        return 0 < o.filled_size < o.size
    if o.status is FI:
        return o.filled_size == o.size
    return o.filled_size <= o.size


def _check_refusal(before: Order, event: Event, error: InvalidTransition) -> None:
    if isinstance(error, Overfill):
        assert isinstance(event, FillEvent)
        assert event.trade_id not in before.trade_ids
        assert before.filled_size + event.size > before.size
    else:
        assert not accepts(before.status, error.trigger)


@settings(max_examples=300)
@given(event_lists)
def test_apply_when_random_sequences_then_invariants_hold(events: list[Event]) -> None:
    """Random acks, fills, cancels, unknowns and lookups keep every order invariant."""
    current = order()
    applied: dict[TradeId, Decimal] = {}

    for event in events:
        before = current
        try:
            current = apply(before, event)
        except InvalidTransition as error:
            _check_refusal(before, event, error)
            continue
        if isinstance(event, FillEvent):
            applied.setdefault(event.trade_id, event.size)

        assert current.status in set(OrderStatus)
        assert current.filled_size >= before.filled_size
        assert current.filled_size == sum(applied.values(), Decimal(0))
        assert current.updated_ns >= before.updated_ns
        assert not is_terminal(before.status) or current.status is before.status
        assert _consistent(current)


@given(st.lists(fill_events, max_size=20))
def test_apply_when_fills_in_any_order_then_same_total(fills: list[FillEvent]) -> None:
    """The filled size is the same whatever order the same fills arrive in."""

    def total(sequence: list[FillEvent]) -> Decimal:
        current = order(status=OP)
        for f in sequence:
            try:
                current = apply(current, f)
            except Overfill:
                return Decimal(-1)
        return current.filled_size

    distinct = {f.trade_id: f for f in reversed(fills)}.values()
    orders = list(itertools.islice(itertools.permutations(distinct), 5))

    totals = {total(list(p)) for p in orders}

    assert len(totals) <= 1
