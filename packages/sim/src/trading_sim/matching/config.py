"""What the simulated venue lists and how it fills: products, fees, liquidity, costs."""

from decimal import Decimal
from typing import Final

import msgspec

from trading_sim.matching.fees import COINBASE_ADVANCED_SPOT, FeeSchedule
from trading_sim.matching.model import ZERO

_CENT: Final = Decimal("0.01")
_SATOSHI: Final = Decimal("0.00000001")
_MAX_BPS: Final = Decimal(10_000)


class ProductSpec(msgspec.Struct, frozen=True, kw_only=True):
    """A listed product and its increments (Coinbase `GET /products`: check current).

    Raises:
        ValueError: an increment that is not positive.
    """

    product_id: str
    base_currency: str
    quote_currency: str
    price_increment: Decimal = _CENT
    base_increment: Decimal = _SATOSHI
    quote_increment: Decimal = _CENT

    def __post_init__(self) -> None:
        increments = (self.price_increment, self.base_increment, self.quote_increment)
        if not all(i.is_finite() and i > 0 for i in increments):
            raise ValueError(f"{self.product_id}: increments must be positive")

    @classmethod
    def spot(
        cls,
        product_id: str,
        *,
        price_increment: Decimal = _CENT,
        base_increment: Decimal = _SATOSHI,
        quote_increment: Decimal = _CENT,
    ) -> "ProductSpec":
        """A spec for a BASE-QUOTE product id such as BTC-USD, split here at load.

        Raises:
            ValueError: the id is not BASE-QUOTE, or an increment is not positive.
        """
        base, sep, quote = product_id.partition("-")
        if not (sep and base and quote and "-" not in quote):
            raise ValueError(f"product id {product_id!r} is not BASE-QUOTE")
        return cls(
            product_id=product_id,
            base_currency=base,
            quote_currency=quote,
            price_increment=price_increment,
            base_increment=base_increment,
            quote_increment=quote_increment,
        )


DEFAULT_PRODUCTS: Final = (
    ProductSpec.spot("BTC-USD"),
    ProductSpec.spot("ETH-USD"),
    ProductSpec.spot("SOL-USD"),
)


class EngineConfig(msgspec.Struct, frozen=True, kw_only=True):
    """How the engine fills. Rates in basis points; `participation` is a fraction.

    `spread_bps` is the full bid-ask spread around the last close (half each side);
    `slippage_bps` is added to every taker price, plus up to `random_slippage_bps`
    drawn from the seeded rng. `participation` caps what we fill per bar at that
    fraction of the bar's volume. `prior_volume_quote` counts toward the 30-day fee
    tier as volume done elsewhere; `fee_increment` is the fee rounding quantum.

    Raises:
        ValueError: a value out of range, or a product listed twice.
    """

    products: tuple[ProductSpec, ...] = DEFAULT_PRODUCTS
    fees: FeeSchedule = COINBASE_ADVANCED_SPOT
    prior_volume_quote: Decimal = ZERO
    participation: Decimal = Decimal("0.1")
    spread_bps: Decimal = Decimal(2)
    slippage_bps: Decimal = ZERO
    random_slippage_bps: Decimal = ZERO
    fee_increment: Decimal = _SATOSHI

    def __post_init__(self) -> None:
        problem = _config_problem(self)
        if problem:
            raise ValueError(f"bad engine config: {problem}")

    def product(self, product_id: str) -> ProductSpec | None:
        # A plain loop, not next(genexpr): this runs several times per order.
        for spec in self.products:
            if spec.product_id == product_id:
                return spec
        return None


def _config_problem(config: EngineConfig) -> str:
    ids = [p.product_id for p in config.products]
    if len(set(ids)) != len(ids):
        return "a product is listed twice"
    if not 0 < config.participation <= 1:
        return "participation must be in (0, 1]"
    costs = (config.spread_bps, config.slippage_bps, config.random_slippage_bps)
    if not all(c >= 0 for c in costs) or sum(costs) >= _MAX_BPS:
        return "spread and slippage must be >= 0 bps and sum below 10000"
    if config.prior_volume_quote < 0 or config.fee_increment <= 0:
        return "prior_volume_quote must be >= 0 and fee_increment > 0"
    return ""
