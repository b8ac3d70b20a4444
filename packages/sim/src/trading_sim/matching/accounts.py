"""Balances and holds: what working orders reserve, and how a fill moves money.

A buy holds its remaining notional at its limit (or its remaining quote size) plus
the fee it would pay if all of that filled as taker; a sell holds its remaining
base. Because fills are charged as in `fees.charge` and maker <= taker, each fill
costs no more than the hold it releases, so total >= hold in every currency.
"""

from collections.abc import Iterable, Mapping
from decimal import Decimal

from trading_sim.matching.config import EngineConfig, ProductSpec
from trading_sim.matching.model import ZERO, Side, SimOrder, SizeUnit
from trading_sim.matching.rounding import ceil_to


def hold_of(order: SimOrder, spec: ProductSpec, fee_increment: Decimal) -> tuple[str, Decimal]:
    """(currency, amount) a working order reserves.

    Raises:
        ValueError: a working order without a limit price (market orders never rest).
    """
    limit = order.limit_price
    if limit is None:
        raise ValueError(f"{order.order_id}: a working order needs a limit price")
    if order.side is Side.SELL:
        if order.size_in is SizeUnit.BASE:
            return spec.base_currency, order.size - order.filled_size
        left = order.size - order.filled_value
        return spec.base_currency, ceil_to(left / limit, spec.base_increment)
    if order.size_in is SizeUnit.BASE:
        notional = (order.size - order.filled_size) * limit
    else:
        notional = order.size - order.filled_value
    worst_fees = ceil_to(order.fee_accrued + notional * order.taker_rate, fee_increment)
    return spec.quote_currency, notional + worst_fees - order.fees


def holds(working: Iterable[SimOrder], config: EngineConfig) -> dict[str, Decimal]:
    """Held amount per currency over all working orders."""
    held: dict[str, Decimal] = {}
    for order in working:
        spec = config.product(order.product_id)
        if spec is None:
            raise ValueError(f"{order.order_id}: unlisted product {order.product_id}")
        currency, amount = hold_of(order, spec, config.fee_increment)
        held[currency] = held.get(currency, ZERO) + amount
    return held


def settle(
    balances: Mapping[str, Decimal],
    spec: ProductSpec,
    side: Side,
    size: Decimal,
    notional: Decimal,
    fee: Decimal,
) -> dict[str, Decimal]:
    """Balances after a fill; fees are paid in the quote currency."""
    base, quote = spec.base_currency, spec.quote_currency
    signed = size if side is Side.BUY else -size
    cash = -(notional + fee) if side is Side.BUY else notional - fee
    return {
        **balances,
        base: balances.get(base, ZERO) + signed,
        quote: balances.get(quote, ZERO) + cash,
    }


def covered(
    balances: Mapping[str, Decimal], held: Mapping[str, Decimal], currencies: Iterable[str]
) -> bool:
    """Every one of `currencies` holds no more than its total."""
    return all(balances.get(c, ZERO) >= held.get(c, ZERO) for c in currencies)
