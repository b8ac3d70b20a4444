"""Reference prices, spread, slippage and how much of an order is left at a price."""

import random
from decimal import Decimal
from typing import Final

from trading_sim.matching.config import EngineConfig, ProductSpec
from trading_sim.matching.model import ZERO, Side, SimOrder, SizeUnit
from trading_sim.matching.rounding import ceil_to, floor_to

BPS: Final = Decimal(10_000)
# Random slippage is drawn in hundredths of its maximum, so it stays exact Decimal.
_RANDOM_STEPS: Final = 100


def touch(reference: Decimal, spread_bps: Decimal, spec: ProductSpec) -> tuple[Decimal, Decimal]:
    """(bid, ask) half a spread either side of `reference`, on the price increment."""
    half = reference * spread_bps / BPS / 2
    bid = floor_to(reference - half, spec.price_increment)
    return max(bid, spec.price_increment), ceil_to(reference + half, spec.price_increment)


def draw_slippage_bps(config: EngineConfig, rng: random.Random) -> Decimal:
    """Fixed slippage plus the random part; the rng is consulted only if one is configured."""
    if config.random_slippage_bps == 0:
        return config.slippage_bps
    step = Decimal(rng.randint(0, _RANDOM_STEPS)) / _RANDOM_STEPS
    return config.slippage_bps + config.random_slippage_bps * step


def marketable(side: Side, limit: Decimal, bid: Decimal, ask: Decimal) -> bool:
    """A buy at or above the ask, or a sell at or below the bid, would cross."""
    return limit >= ask if side is Side.BUY else limit <= bid


def taker_price(
    side: Side,
    touch_prices: tuple[Decimal, Decimal],
    slippage_bps: Decimal,
    limit: Decimal | None,
    spec: ProductSpec,
) -> Decimal:
    """The touch moved against the taker by the slippage, never past its limit."""
    bid, ask = touch_prices
    if side is Side.BUY:
        price = ceil_to(ask * (1 + slippage_bps / BPS), spec.price_increment)
        return price if limit is None else min(price, limit)
    price = max(
        floor_to(bid * (1 - slippage_bps / BPS), spec.price_increment), spec.price_increment
    )
    return price if limit is None else max(price, limit)


def remaining_base(order: SimOrder, price: Decimal, spec: ProductSpec) -> Decimal:
    """What is left to fill, in base units, if the rest filled at `price`."""
    if order.size_in is SizeUnit.BASE:
        return order.size - order.filled_size
    left = order.size - order.filled_value
    return floor_to(left / price, spec.base_increment) if left > 0 else ZERO
