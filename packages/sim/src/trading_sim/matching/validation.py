"""Whether the venue takes an order at all: shape, time in force, increments."""

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Final

from trading_sim.matching.config import ProductSpec
from trading_sim.matching.model import (
    OrderKind,
    Reason,
    SimOrder,
    SizeUnit,
    TimeInForce,
)
from trading_sim.matching.rounding import is_multiple

_IMMEDIATE: Final = frozenset({TimeInForce.IOC, TimeInForce.FOK})


def _positive(value: Decimal | None) -> bool:
    return value is not None and value.is_finite() and value > 0


def _market_problem(order: SimOrder) -> Reason | None:
    # Coinbase market orders carry only a size and are immediate (IOC; FOK here too).
    priced = order.limit_price is not None or order.stop_price is not None
    if priced or order.stop_direction is not None or order.post_only:
        return Reason.UNSUPPORTED_ORDER_CONFIGURATION
    return None if order.tif in _IMMEDIATE else Reason.UNSUPPORTED_ORDER_CONFIGURATION


def _limit_problem(order: SimOrder) -> Reason | None:
    if not _positive(order.limit_price):
        return Reason.INVALID_LIMIT_PRICE
    if order.stop_price is not None or order.stop_direction is not None:
        return Reason.UNSUPPORTED_ORDER_CONFIGURATION
    if order.post_only and order.tif is TimeInForce.FOK:
        return Reason.POST_ONLY_NOT_ALLOWED_WITH_FOK
    if order.post_only and order.tif is TimeInForce.IOC:
        return Reason.UNSUPPORTED_ORDER_CONFIGURATION
    return None


def _stop_limit_problem(order: SimOrder) -> Reason | None:
    if not _positive(order.limit_price):
        return Reason.INVALID_LIMIT_PRICE
    if not _positive(order.stop_price) or order.stop_direction is None:
        return Reason.INVALID_STOP_PRICE
    # Coinbase offers stop-limit as GTC or GTD only, and without post-only.
    if order.tif in _IMMEDIATE or order.post_only:
        return Reason.UNSUPPORTED_ORDER_CONFIGURATION
    return None


_KIND_CHECKS: Final[Mapping[OrderKind, Callable[[SimOrder], Reason | None]]] = {
    OrderKind.MARKET: _market_problem,
    OrderKind.LIMIT: _limit_problem,
    OrderKind.STOP_LIMIT: _stop_limit_problem,
}


def _end_time_problem(order: SimOrder, now_ns: int) -> Reason | None:
    if order.tif is TimeInForce.GTD:
        return (
            None if order.end_ns is not None and order.end_ns > now_ns else Reason.INVALID_END_TIME
        )
    return None if order.end_ns is None else Reason.INVALID_END_TIME


def _increment_problem(order: SimOrder, spec: ProductSpec) -> Reason | None:
    lot = spec.base_increment if order.size_in is SizeUnit.BASE else spec.quote_increment
    if not is_multiple(order.size, lot):
        return Reason.INVALID_SIZE_PRECISION
    prices = (p for p in (order.limit_price, order.stop_price) if p is not None)
    if not all(is_multiple(p, spec.price_increment) for p in prices):
        return Reason.INVALID_PRICE_PRECISION
    return None


def order_problem(order: SimOrder, spec: ProductSpec, now_ns: int) -> Reason | None:
    """Why the venue would refuse `order` outright, or None if it takes it."""
    if not _positive(order.size):
        return Reason.INVALID_SIZE
    return (
        _KIND_CHECKS[order.kind](order)
        or _end_time_problem(order, now_ns)
        or _increment_problem(order, spec)
    )
