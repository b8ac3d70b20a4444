"""An order's lifecycle as one transition table; statuses only move forward."""

from collections.abc import Mapping
from enum import StrEnum
from typing import Final

import msgspec

from trading_sim.matching.model import OrderStatus, SimOrder


class Trigger(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"
    PARTIAL_FILL = "partial_fill"
    FILL = "fill"
    CANCEL = "cancel"
    EXPIRE = "expire"


_S = OrderStatus
TRANSITIONS: Final[Mapping[tuple[OrderStatus, Trigger], OrderStatus]] = {
    (_S.NEW, Trigger.ACCEPT): _S.OPEN,
    (_S.NEW, Trigger.REJECT): _S.REJECTED,
    # Cancelled before it reached the book: the paper adapter's latency queue.
    (_S.NEW, Trigger.CANCEL): _S.CANCELLED,
    (_S.OPEN, Trigger.PARTIAL_FILL): _S.PARTIALLY_FILLED,
    (_S.OPEN, Trigger.FILL): _S.FILLED,
    (_S.OPEN, Trigger.CANCEL): _S.CANCELLED,
    (_S.OPEN, Trigger.EXPIRE): _S.EXPIRED,
    (_S.PARTIALLY_FILLED, Trigger.PARTIAL_FILL): _S.PARTIALLY_FILLED,
    (_S.PARTIALLY_FILLED, Trigger.FILL): _S.FILLED,
    (_S.PARTIALLY_FILLED, Trigger.CANCEL): _S.CANCELLED,
    (_S.PARTIALLY_FILLED, Trigger.EXPIRE): _S.EXPIRED,
}


class InvalidTransition(Exception):
    """A bug: an event the order's status does not allow, e.g. FILLED -> CANCEL."""


def apply(order: SimOrder, trigger: Trigger, **changes: object) -> SimOrder:
    """The order after `trigger`, with `changes` applied.

    Raises:
        InvalidTransition: the table has no edge for (status, trigger).
    """
    status = TRANSITIONS.get((order.status, trigger))
    if status is None:
        raise InvalidTransition(f"{order.order_id}: {order.status.name} -> {trigger.name}")
    return msgspec.structs.replace(order, status=status, **changes)
