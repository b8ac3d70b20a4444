"""The order lifecycle: one transition table and one `apply(order, event) -> Order`.

States are the contract's `OrderStatus`; triggers are what can happen to an order.
A venue report is the same trigger whichever way it arrived: the REST response, a
websocket message, or a lookup by client order id while resolving UNKNOWN
(RELIABILITY §3). Reports race (websocket before REST, a fill after a cancel request,
a stale REST status after a fill), so the table takes a late or repeated report as a
no-op self-loop rather than a bug, and only a contradiction raises.

Fills carry quantities; status reports never do. `apply` classifies a fill as
`fill_partial` or `fill_complete` from the cumulative size against the order size, so
FILLED always means the applied fills add up to the whole order. A venue "filled"
status is not a trigger: the shell applies that order's fills (backfilled by trade id),
and they move the order. Until they arrive it stays live, which is what exposure needs.
"""

from collections.abc import Mapping
from decimal import Context, Decimal, Inexact, InvalidOperation, Overflow
from enum import StrEnum
from typing import Final

import msgspec

from trading_contract import ClientOrderId, IntentId, OrderStatus, ProductId, Side, TradeId
from trading_gate.errors import GateBug

__all__ = [
    "TERMINAL",
    "TRANSITIONS",
    "Event",
    "FillEvent",
    "InvalidTransition",
    "Order",
    "Overfill",
    "StatusEvent",
    "Trigger",
    "accepts",
    "apply",
    "is_live",
    "is_terminal",
    "new_order",
]


class Trigger(StrEnum):
    """What happened to an order. Venue reports are named for what the venue said."""

    SUBMIT_OUTCOME_UNKNOWN = "submit_outcome_unknown"  # timeout, 5xx, transport error
    VENUE_ACK = "venue_ack"  # the venue reports the order accepted and open
    VENUE_REJECT = "venue_reject"  # a definitive refusal: the order is not on the book
    FILL_PARTIAL = "fill_partial"  # a fill leaving some size; set by apply, never sent
    FILL_COMPLETE = "fill_complete"  # a fill completing the size; set by apply, never sent
    CANCEL_REQUESTED = "cancel_requested"  # the gate is about to send a cancel
    CANCEL_FAILED = "cancel_failed"  # the cancel CALL failed; not a refused cancel
    VENUE_CANCELLED = "venue_cancelled"  # cancelled, at our request or the venue's own
    VENUE_EXPIRED = "venue_expired"  # GTD end time or IOC/FOK remainder expired
    LOOKUP_ABSENT_PROVEN = "lookup_absent_proven"  # not found after N checks over T


class InvalidTransition(GateBug):
    """A trigger the order's state does not allow: a broken invariant, so a gate bug.

    Raised before anything changes; the caller must not record the event.
    """

    def __init__(self, status: OrderStatus, trigger: Trigger, detail: str = "") -> None:
        self.status = status
        self.trigger = trigger
        suffix = f": {detail}" if detail else ""
        super().__init__(f"{status.name} -> {trigger.value}{suffix}")


class Overfill(InvalidTransition):
    """A fill that would take the cumulative filled size past the order size."""


_S = OrderStatus
_T = Trigger

TERMINAL: Final = frozenset({_S.FILLED, _S.CANCELLED, _S.REJECTED, _S.EXPIRED})

# Every allowed (state, trigger) pair; any pair not here raises InvalidTransition.
# Self-loops are deliberate no-ops: a report that arrives late, twice, or after the
# venue already answered another way. "Terminal" means the status never changes;
# CANCELLED and EXPIRED still count late fills (the trades happened; RELIABILITY §4 row 7).
TRANSITIONS: Final[Mapping[tuple[OrderStatus, Trigger], OrderStatus]] = {
    # PENDING: journaled before send; the submit may be in flight or never sent.
    (_S.PENDING, _T.SUBMIT_OUTCOME_UNKNOWN): _S.UNKNOWN,
    (_S.PENDING, _T.VENUE_ACK): _S.OPEN,
    (_S.PENDING, _T.VENUE_REJECT): _S.REJECTED,
    # A websocket fill may beat the REST ack (§4 row 23); the fill proves acceptance.
    (_S.PENDING, _T.FILL_PARTIAL): _S.PARTIALLY_FILLED,
    (_S.PENDING, _T.FILL_COMPLETE): _S.FILLED,
    # Likewise an IOC/FOK with nothing to match (or self-trade prevention) can be reported
    # cancelled or expired on the websocket before the REST ack arrives.
    (_S.PENDING, _T.VENUE_CANCELLED): _S.CANCELLED,
    (_S.PENDING, _T.VENUE_EXPIRED): _S.EXPIRED,
    # Journaled but never reached the venue (crash between commit and send, §4 row 1b).
    (_S.PENDING, _T.LOOKUP_ABSENT_PROVEN): _S.REJECTED,
    # No cancel from PENDING or UNKNOWN: there is no venue order id to cancel by yet.
    # The kill switch cancels each such order once it appears (§4 row 24).
    #
    # UNKNOWN: the submit may or may not have reached the book. Any report settles it.
    # A second submit_outcome_unknown would mean a second POST: a bug, so it raises.
    (_S.UNKNOWN, _T.VENUE_ACK): _S.OPEN,
    (_S.UNKNOWN, _T.VENUE_REJECT): _S.REJECTED,
    # A lost order stays fillable: a fill proves it exists.
    (_S.UNKNOWN, _T.FILL_PARTIAL): _S.PARTIALLY_FILLED,
    (_S.UNKNOWN, _T.FILL_COMPLETE): _S.FILLED,
    (_S.UNKNOWN, _T.VENUE_CANCELLED): _S.CANCELLED,
    (_S.UNKNOWN, _T.VENUE_EXPIRED): _S.EXPIRED,
    # Only proven absence turns UNKNOWN into REJECTED (never a single "not found").
    (_S.UNKNOWN, _T.LOOKUP_ABSENT_PROVEN): _S.REJECTED,
    #
    # OPEN
    # The websocket ack beat the REST call, which then timed out: nothing new.
    (_S.OPEN, _T.SUBMIT_OUTCOME_UNKNOWN): _S.OPEN,
    (_S.OPEN, _T.VENUE_ACK): _S.OPEN,  # duplicate or stale ack
    (_S.OPEN, _T.FILL_PARTIAL): _S.PARTIALLY_FILLED,
    (_S.OPEN, _T.FILL_COMPLETE): _S.FILLED,
    (_S.OPEN, _T.CANCEL_REQUESTED): _S.PENDING_CANCEL,
    # Cancelled without our request: self-trade prevention, or cancel-on-connect.
    (_S.OPEN, _T.VENUE_CANCELLED): _S.CANCELLED,
    (_S.OPEN, _T.VENUE_EXPIRED): _S.EXPIRED,
    # It was acknowledged, so it existed and was not rejected; gone without a trade, it
    # can only have been cancelled. Like PARTIALLY_FILLED below; late fills still count.
    (_S.OPEN, _T.LOOKUP_ABSENT_PROVEN): _S.CANCELLED,
    #
    # PARTIALLY_FILLED
    (_S.PARTIALLY_FILLED, _T.SUBMIT_OUTCOME_UNKNOWN): _S.PARTIALLY_FILLED,  # as OPEN
    # A stale ack or lookup "open" after fills never moves the order back to OPEN.
    (_S.PARTIALLY_FILLED, _T.VENUE_ACK): _S.PARTIALLY_FILLED,
    (_S.PARTIALLY_FILLED, _T.FILL_PARTIAL): _S.PARTIALLY_FILLED,
    (_S.PARTIALLY_FILLED, _T.FILL_COMPLETE): _S.FILLED,
    (_S.PARTIALLY_FILLED, _T.CANCEL_REQUESTED): _S.PENDING_CANCEL,
    (_S.PARTIALLY_FILLED, _T.VENUE_CANCELLED): _S.CANCELLED,  # fills kept
    (_S.PARTIALLY_FILLED, _T.VENUE_EXPIRED): _S.EXPIRED,  # fills kept
    (_S.PARTIALLY_FILLED, _T.LOOKUP_ABSENT_PROVEN): _S.CANCELLED,  # fills kept (§3)
    #
    # PENDING_CANCEL: our cancel is in flight; the shell retries and verifies it.
    (_S.PENDING_CANCEL, _T.SUBMIT_OUTCOME_UNKNOWN): _S.PENDING_CANCEL,  # as OPEN
    # Stale ack, or a lookup that still sees it open: the cancel has not landed yet.
    (_S.PENDING_CANCEL, _T.VENUE_ACK): _S.PENDING_CANCEL,
    # A fill raced the cancel (§4 row 7). Deliberately stays PENDING_CANCEL rather than
    # RELIABILITY's PARTIALLY_FILLED: the cancel is still outstanding, and "partially"
    # is already visible as 0 < filled_size.
    (_S.PENDING_CANCEL, _T.FILL_PARTIAL): _S.PENDING_CANCEL,
    (_S.PENDING_CANCEL, _T.FILL_COMPLETE): _S.FILLED,  # the fill won the race
    (_S.PENDING_CANCEL, _T.CANCEL_REQUESTED): _S.PENDING_CANCEL,  # a retry
    # A failed call says nothing about the order: keep retrying and verifying (§3).
    (_S.PENDING_CANCEL, _T.CANCEL_FAILED): _S.PENDING_CANCEL,
    (_S.PENDING_CANCEL, _T.VENUE_CANCELLED): _S.CANCELLED,
    (_S.PENDING_CANCEL, _T.VENUE_EXPIRED): _S.EXPIRED,  # expired before the cancel landed
    # Not found while cancelling stays unresolved; the shell alerts (§3 resolution).
    (_S.PENDING_CANCEL, _T.LOOKUP_ABSENT_PROVEN): _S.PENDING_CANCEL,
    #
    # FILLED: never back to OPEN; late and repeated reports are absorbed.
    (_S.FILLED, _T.SUBMIT_OUTCOME_UNKNOWN): _S.FILLED,  # the websocket fill beat REST
    (_S.FILLED, _T.VENUE_ACK): _S.FILLED,  # stale ack after the fill (§4 row 23)
    (_S.FILLED, _T.CANCEL_FAILED): _S.FILLED,  # cancelling a filled order fails: expected
    (_S.FILLED, _T.LOOKUP_ABSENT_PROVEN): _S.FILLED,  # "FILLED: no change" (§3)
    # Fills on FILLED never reach the table: any positive size overfills first.
    #
    # CANCELLED
    (_S.CANCELLED, _T.SUBMIT_OUTCOME_UNKNOWN): _S.CANCELLED,  # websocket beat REST
    (_S.CANCELLED, _T.VENUE_ACK): _S.CANCELLED,  # stale ack, e.g. an IOC cancelled at once
    # Late fills: trades that matched before the cancel landed but were reported after.
    # Even one completing the size leaves the status terminal; quantities tell the truth.
    (_S.CANCELLED, _T.FILL_PARTIAL): _S.CANCELLED,
    (_S.CANCELLED, _T.FILL_COMPLETE): _S.CANCELLED,
    (_S.CANCELLED, _T.CANCEL_FAILED): _S.CANCELLED,  # a retried cancel of a done order
    (_S.CANCELLED, _T.VENUE_CANCELLED): _S.CANCELLED,  # duplicate report
    (_S.CANCELLED, _T.LOOKUP_ABSENT_PROVEN): _S.CANCELLED,
    #
    # EXPIRED: as CANCELLED.
    (_S.EXPIRED, _T.SUBMIT_OUTCOME_UNKNOWN): _S.EXPIRED,
    (_S.EXPIRED, _T.VENUE_ACK): _S.EXPIRED,
    (_S.EXPIRED, _T.FILL_PARTIAL): _S.EXPIRED,
    (_S.EXPIRED, _T.FILL_COMPLETE): _S.EXPIRED,
    (_S.EXPIRED, _T.CANCEL_FAILED): _S.EXPIRED,  # the cancel raced the end time
    (_S.EXPIRED, _T.VENUE_EXPIRED): _S.EXPIRED,  # duplicate report
    (_S.EXPIRED, _T.LOOKUP_ABSENT_PROVEN): _S.EXPIRED,
    #
    # REJECTED: nothing but repeats. A fill here means an order we called never placed
    # traded: unaccounted exposure, so it raises loudly instead of being absorbed.
    (_S.REJECTED, _T.VENUE_REJECT): _S.REJECTED,  # duplicate report
    (_S.REJECTED, _T.LOOKUP_ABSENT_PROVEN): _S.REJECTED,
}

_FILL_TRIGGERS: Final = frozenset({_T.FILL_PARTIAL, _T.FILL_COMPLETE})

# Products of sizes and prices are exact or the gate crashes: a rounded notional would
# drift from the venue's books without anyone noticing. The contract bounds a decimal to
# 60 digits, so a product fits in 120; if anything ever would round, Inexact raises.
_EXACT: Final = Context(prec=120, traps=[Inexact, InvalidOperation, Overflow])
# An average price is derived for people and reports, never summed back into money.
_AVERAGE: Final = Context(prec=28, traps=[InvalidOperation, Overflow])


class FillEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One trade against the order, as the venue reported it; `size` in base units."""

    trade_id: TradeId
    size: Decimal
    price: Decimal
    fee: Decimal
    ts_ns: int

    def __post_init__(self) -> None:
        if not (self.size.is_finite() and self.size > 0):
            raise ValueError(f"fill {self.trade_id}: size must be finite and > 0")
        if not (self.price.is_finite() and self.price > 0):
            raise ValueError(f"fill {self.trade_id}: price must be finite and > 0")
        if not self.fee.is_finite():
            raise ValueError(f"fill {self.trade_id}: fee must be finite")


class StatusEvent(msgspec.Struct, frozen=True, kw_only=True):
    """A status report or a gate action; fills travel as `FillEvent` instead."""

    trigger: Trigger
    ts_ns: int

    def __post_init__(self) -> None:
        if self.trigger in _FILL_TRIGGERS:
            raise ValueError(f"{self.trigger.value} is derived from a FillEvent")


Event = FillEvent | StatusEvent


class Order(msgspec.Struct, frozen=True, kw_only=True):
    """An order as the gate knows it. Replace it only through `apply`."""

    client_order_id: ClientOrderId
    intent_id: IntentId
    product_id: ProductId
    side: Side
    size: Decimal  # base units
    status: OrderStatus
    filled_size: Decimal  # base units: the sum of the distinct fills applied
    filled_notional: Decimal  # quote units: the sum of size x price over those fills
    fees: Decimal  # quote units
    # A tuple in applied order, not a frozenset, so the encoded order is deterministic.
    trade_ids: tuple[TradeId, ...]
    created_ns: int
    updated_ns: int

    def __post_init__(self) -> None:
        if not (self.size.is_finite() and self.size > 0):
            raise ValueError(f"order {self.client_order_id}: size must be finite and > 0")

    @property
    def remaining_size(self) -> Decimal:
        return _EXACT.subtract(self.size, self.filled_size)

    @property
    def average_price(self) -> Decimal | None:
        if not self.filled_size:
            return None
        return _AVERAGE.divide(self.filled_notional, self.filled_size)


def new_order(
    *,
    client_order_id: ClientOrderId,
    intent_id: IntentId,
    product_id: ProductId,
    side: Side,
    size: Decimal,
    now_ns: int,
) -> Order:
    """A PENDING order with nothing filled, as journaled before the send.

    Raises:
        ValueError: `size` is not finite and positive.
    """
    return Order(
        client_order_id=client_order_id,
        intent_id=intent_id,
        product_id=product_id,
        side=side,
        size=size,
        status=OrderStatus.PENDING,
        filled_size=Decimal(0),
        filled_notional=Decimal(0),
        fees=Decimal(0),
        trade_ids=(),
        created_ns=now_ns,
        updated_ns=now_ns,
    )


def is_terminal(status: OrderStatus) -> bool:
    """True for FILLED, CANCELLED, REJECTED and EXPIRED: the status never changes again."""
    return status in TERMINAL


def is_live(status: OrderStatus) -> bool:
    """True if the order counts toward exposure: every non-terminal status, UNKNOWN too."""
    return status not in TERMINAL


def accepts(status: OrderStatus, trigger: Trigger) -> bool:
    """True if `trigger` is allowed in `status` (fills may still overfill)."""
    return (status, trigger) in TRANSITIONS


def apply(order: Order, event: Event) -> Order:
    """The order after `event`; the same object if the event changes nothing.

    A fill whose trade id was already applied is a no-op, not an error.

    Raises:
        Overfill: the fill would take `filled_size` past `size`.
        InvalidTransition: the order's status does not allow the event.
    """
    if isinstance(event, FillEvent):
        return _apply_fill(order, event)
    return _apply_status(order, event)


def _next(status: OrderStatus, trigger: Trigger) -> OrderStatus:
    try:
        return TRANSITIONS[(status, trigger)]
    except KeyError:
        raise InvalidTransition(status, trigger) from None


def _apply_status(order: Order, event: StatusEvent) -> Order:
    status = _next(order.status, event.trigger)
    if status == order.status:
        return order
    return msgspec.structs.replace(
        order, status=status, updated_ns=max(order.updated_ns, event.ts_ns)
    )


def _apply_fill(order: Order, fill: FillEvent) -> Order:
    if fill.trade_id in order.trade_ids:
        return order
    filled = _EXACT.add(order.filled_size, fill.size)
    if filled > order.size:
        raise Overfill(
            order.status,
            Trigger.FILL_COMPLETE,
            f"trade {fill.trade_id} takes {order.filled_size} + {fill.size} past {order.size}",
        )
    trigger = Trigger.FILL_COMPLETE if filled == order.size else Trigger.FILL_PARTIAL
    return msgspec.structs.replace(
        order,
        status=_next(order.status, trigger),
        filled_size=filled,
        filled_notional=_EXACT.add(order.filled_notional, _EXACT.multiply(fill.size, fill.price)),
        fees=_EXACT.add(order.fees, fill.fee),
        trade_ids=(*order.trade_ids, fill.trade_id),
        # Reports arrive out of order; the order's clock only moves forward.
        updated_ns=max(order.updated_ns, fill.ts_ns),
    )
