"""The simulated venue's matching engine over bar data: pure and deterministic.

Every function takes a frozen `EngineState` and returns a new one with the events
it caused. Time arrives as integer nanoseconds and randomness as a seeded
`random.Random`, so the same inputs and seed always give the same events.

    new_state(config, balances)            submit(state, order, now_ns, rng, quote=None)
    on_bar(state, bar, rng)                cancel(state, order_id, now_ns)
    expire(state, now_ns)                  account_balances(state)

Fill model
----------
Market. The touch is the last bar's close plus or minus half of `spread_bps` (bid
rounded down, ask up, to the price increment), or a `Quote`'s bid and ask if the
caller passes one. Liquidity comes from bars only: a bar offers
`participation * volume` base units (rounded down to the base increment), shared by
all of our fills on that product: its maker fills, its stop fills, and the taker
fills of orders arriving after it, until the next bar.

Arrival (`submit`). An order is first checked for shape, time in force and
increments, and refused with a Coinbase-style `Reason`. A market order (IOC, or
FOK) takes at the touch moved against it by `slippage_bps`, plus up to
`random_slippage_bps` drawn from the rng (only when configured), rounded to the
price increment against the taker. A quote size converts to base at that price,
rounded down to the base increment; it counts notional before fees, and the fee is
charged on top. A limit that crosses (buy >= ask, sell <= bid) takes the same way
but never beyond its limit, unless it is post-only: then it is rejected
(INVALID_LIMIT_PRICE_POST_ONLY), as Coinbase does, never repriced. What is taken is
capped by the budget: an IOC remainder is cancelled, a FOK that cannot fill in full
is cancelled with nothing filled, a GTC or GTD remainder rests. A limit that does
not cross rests (IOC and FOK ones are cancelled). Before any bar, a market order is
rejected (INVALID_NO_LIQUIDITY) and a limit cannot cross. Stops never fire on arrival.

Resting (`on_bar`). A resting limit that was working by the bar's open fills as
maker, at its limit, when the bar trades strictly through it: buy if low < limit,
sell if high > limit. Touching is no fill (LEARNING.md: maker only if the price
trades through). Our resting orders share the budget in arrival order; what a bar
cannot fill waits for the next. A bar first expires GTD orders, then fills resting
orders, then fires stops; then it becomes the market. Its fills are stamped at its
end (`close_ns`, or `open_ns` if the bar has no close).

Stops. A stop-limit accepted by a bar's open fires on that bar when high >= stop
(UP) or low <= stop (DOWN), at the stop, or at the open if the bar gapped past it.
If its limit crosses a touch around that price it takes from this bar's budget as
on arrival; the rest rests as a limit from the next bar on.

Fees. Maker and taker rates come from a 30-day volume tier table (`fees.py`, default
the Coinbase Advanced Trade spot schedule), chosen when the order is accepted, as
Coinbase does, from our trailing fills plus `prior_volume_quote`. Fees are in the
quote currency; an order's total fee is its exact accrual rounded up to
`fee_increment` (default 1e-8), each fill paying the difference, so rounding never
accumulates and never undercharges. The average price is rounded half-even to 1e-12.

Time in force. GTD orders expire at `end_ns` (by `expire` or a bar whose end
reaches it) and are stamped then; the end must be after arrival. Latency is the
caller's: `submit`'s `now_ns` is when the order reaches the book.

Funds. Working orders hold funds (`accounts.py`); an order whose fills or hold
would exceed what is available is rejected (INSUFFICIENT_FUND).

Invariants: filled <= size, fills sum to the filled size, value and fees, fees >= 0,
statuses move only forward (`lifecycle.TRANSITIONS`), and total >= hold in every
currency.
"""

from trading_sim.matching.book import EngineState, ProductBook
from trading_sim.matching.config import DEFAULT_PRODUCTS, EngineConfig, ProductSpec
from trading_sim.matching.engine import (
    Events,
    account_balances,
    cancel,
    expire,
    new_state,
    on_bar,
    submit,
)
from trading_sim.matching.fees import COINBASE_ADVANCED_SPOT, FeeSchedule, FeeTier, tier_for
from trading_sim.matching.lifecycle import TRANSITIONS, InvalidTransition, Trigger, apply
from trading_sim.matching.model import (
    TERMINAL,
    Balance,
    Bar,
    CancelRejected,
    Liquidity,
    OrderAccepted,
    OrderCancelled,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderKind,
    OrderRejected,
    OrderStatus,
    OrderTriggered,
    Quote,
    Reason,
    Side,
    SimEvent,
    SimFill,
    SimOrder,
    SizeUnit,
    StopDirection,
    TimeInForce,
)
from trading_sim.matching.prices import touch

__all__ = [
    "COINBASE_ADVANCED_SPOT",
    "DEFAULT_PRODUCTS",
    "TERMINAL",
    "TRANSITIONS",
    "Balance",
    "Bar",
    "CancelRejected",
    "EngineConfig",
    "EngineState",
    "Events",
    "FeeSchedule",
    "FeeTier",
    "InvalidTransition",
    "Liquidity",
    "OrderAccepted",
    "OrderCancelled",
    "OrderEvent",
    "OrderExpired",
    "OrderFilled",
    "OrderKind",
    "OrderRejected",
    "OrderStatus",
    "OrderTriggered",
    "ProductBook",
    "ProductSpec",
    "Quote",
    "Reason",
    "Side",
    "SimEvent",
    "SimFill",
    "SimOrder",
    "SizeUnit",
    "StopDirection",
    "TimeInForce",
    "Trigger",
    "account_balances",
    "apply",
    "cancel",
    "expire",
    "new_state",
    "on_bar",
    "submit",
    "tier_for",
    "touch",
]
