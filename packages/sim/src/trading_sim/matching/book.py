"""The engine's state, and the one place a fill changes it.

The state is a frozen value holding only what is still alive (working orders, the
last bar per product, balances and the fee window); finished orders leave it in
the events that finish them.
"""

import bisect
from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Context, Decimal, Inexact, InvalidOperation, Overflow
from typing import Final

import msgspec

from trading_sim.matching import accounts
from trading_sim.matching.config import EngineConfig, ProductSpec
from trading_sim.matching.fees import charge
from trading_sim.matching.lifecycle import Trigger, apply
from trading_sim.matching.model import (
    TERMINAL,
    Bar,
    Liquidity,
    OrderFilled,
    SimFill,
    SimOrder,
)
from trading_sim.matching.prices import remaining_base

_AVERAGE_QUANTUM: Final = Decimal("1e-12")
# Sums of notionals, exact: 80 digits hold any window of fills a run can make.
VOLUME: Final = Context(prec=80, traps=[Inexact, InvalidOperation, Overflow])
_replace = msgspec.structs.replace


class ProductBook(msgspec.Struct, frozen=True, kw_only=True):
    """A product's last bar and the base size still fillable against it this bar."""

    bar: Bar
    budget: Decimal


class Traded(msgspec.Struct, frozen=True, kw_only=True):
    ts_ns: int
    notional: Decimal


class EngineState(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the engine remembers. Never mutated: every function returns a new one."""

    config: EngineConfig
    balances: Mapping[str, Decimal]
    working: tuple[SimOrder, ...] = ()
    books: Mapping[str, ProductBook] = msgspec.field(default_factory=dict)
    # The fee window's fills, in time order, and the exact sum of their notionals (kept
    # as they come and go, so pricing an order never re-adds the whole window).
    traded: tuple[Traded, ...] = ()
    traded_volume: Decimal = Decimal(0)


def fill(
    state: EngineState,
    spec: ProductSpec,
    order: SimOrder,
    size: Decimal,
    price: Decimal,
    ts_ns: int,
    liquidity: Liquidity = Liquidity.TAKER,
) -> tuple[EngineState, SimOrder, OrderFilled]:
    """Fill `size` of `order` at `price`: the order, balances, fee window and working set
    move together, and the event carries the fill."""
    notional = size * price
    rate = order.maker_rate if liquidity is Liquidity.MAKER else order.taker_rate
    fee, accrued, charged = charge(
        order.fee_accrued, order.fees, notional, rate, state.config.fee_increment
    )
    filled_size, filled_value = order.filled_size + size, order.filled_value + notional
    progressed = _replace(
        order,
        filled_size=filled_size,
        filled_value=filled_value,
        average_price=(filled_value / filled_size).quantize(
            _AVERAGE_QUANTUM, rounding=ROUND_HALF_EVEN
        ),
        fees=charged,
        fee_accrued=accrued,
        fill_count=order.fill_count + 1,
    )
    done = remaining_base(progressed, price, spec) == 0
    updated = apply(progressed, Trigger.FILL if done else Trigger.PARTIAL_FILL)
    execution = SimFill(
        trade_id=f"{order.order_id}-{updated.fill_count}",
        order_id=order.order_id,
        client_order_id=order.client_order_id,
        product_id=order.product_id,
        side=order.side,
        price=price,
        size=size,
        fee=fee,
        liquidity=liquidity,
        ts_ns=ts_ns,
    )
    state = _replace(
        state,
        balances=accounts.settle(state.balances, spec, order.side, size, notional, fee),
        traded=_in_time_order(state.traded, Traded(ts_ns=ts_ns, notional=notional)),
        traded_volume=VOLUME.add(state.traded_volume, notional),
        working=put(state.working, updated),
    )
    return state, updated, OrderFilled(ts_ns=ts_ns, order=updated, fill=execution)


def _in_time_order(traded: tuple[Traded, ...], new: Traded) -> tuple[Traded, ...]:
    if not traded or traded[-1].ts_ns <= new.ts_ns:
        return (*traded, new)
    at = bisect.bisect_right(traded, new.ts_ns, key=_ts)
    return (*traded[:at], new, *traded[at:])


def _ts(traded: Traded) -> int:
    return traded.ts_ns


def spend(state: EngineState, product_id: str, size: Decimal) -> EngineState:
    """Take `size` off what the product's last bar still offers."""
    book = state.books[product_id]
    books = {**state.books, product_id: _replace(book, budget=book.budget - size)}
    return _replace(state, books=books)


def put(working: tuple[SimOrder, ...], order: SimOrder) -> tuple[SimOrder, ...]:
    """`working` with `order`'s previous version replaced, or dropped once it is done."""
    if order.status in TERMINAL:
        return tuple(w for w in working if w.order_id != order.order_id)
    return tuple(order if w.order_id == order.order_id else w for w in working)
