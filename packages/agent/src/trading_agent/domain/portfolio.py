"""The agent's book, folded from the gate's fills: cash, long positions, realized P&L, fees.

Accounting is average cost, long/flat spot only. Every number is an exact `Decimal`;
the one operation that cannot be exact (taking a fraction of a cost basis on a partial
sell) is rounded to `COST_QUANTUM_USD` and the rounding lands in realized P&L, so these
identities hold with plain `==` after any sequence of fills:

    cash     = start - sum(buy notional + fee) + sum(sell notional - fee)
    realized = cash - start + sum(cost basis still held)       (net of every fee)
    equity   = cash + sum(size * mark) = start + realized + unrealized

Fees are charged to realized P&L when paid (buy fees too), so the cost basis and the
average entry price are pure trade prices, the number a stop is measured from.

Duplicates: a fill is identified by `(product_id, trade_id)`, since Coinbase numbers
trades per product. The portfolio keeps every key it has applied, and a fill whose key
it has seen is ignored, content unchecked: the venue does not reuse a trade id. The set
is copied on each new fill (O(fills) per fill), fine for the thousands of fills of a
run; a store-backed engine dedups before folding if that ever matters.
"""

from collections.abc import Mapping
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    localcontext,
)
from types import MappingProxyType
from typing import Final

import msgspec

from trading_agent.domain.seen import SeenKeys
from trading_agent.strategies.base import Position
from trading_contract import Fill, Side

__all__ = [
    "COST_QUANTUM_USD",
    "EXACT",
    "ROUNDED",
    "FillError",
    "Holding",
    "MissingMarkError",
    "OversellError",
    "Portfolio",
    "Valuation",
    "apply_fill",
    "check_fill",
    "fill_key",
    "mark",
    "open_portfolio",
    "position",
]

QUOTE_CURRENCY: Final = "USD"
COST_QUANTUM_USD: Final = Decimal("1e-18")
"""Resolution of a cost basis left after a partial sell; far below any price tick."""

EXACT: Final = Context(prec=96, traps=[Inexact, InvalidOperation, DivisionByZero, Overflow])
"""Money arithmetic: a sum or product that would need rounding is a bug, so it raises."""

ROUNDED: Final = Context(prec=28, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, Overflow])
"""Ratios (average prices, R multiples): rounded, and independent of the caller's context."""

# The one rounded money step: the cost basis kept after a partial sell.
_PRORATE: Final = Context(prec=96, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, Overflow])


class FillError(ValueError):
    """A fill the portfolio cannot account for; the message names the fill."""


class OversellError(FillError):
    """A sell larger than the position: spot has no shorts, so the books are wrong."""


class MissingMarkError(ValueError):
    """A valuation asked without a price for a product that is held."""


class Holding(msgspec.Struct, frozen=True, kw_only=True):
    """A long position: its size, what it cost at average price, and when it opened."""

    base_size: Decimal
    cost_usd: Decimal
    entry_ns: int

    @property
    def average_entry_price(self) -> Decimal:
        return ROUNDED.divide(self.cost_usd, self.base_size)


class Portfolio(msgspec.Struct, frozen=True, kw_only=True):
    """The book after some fills. Build one with `open_portfolio`, then `apply_fill`."""

    start_cash_usd: Decimal
    cash_usd: Decimal
    # Only non-flat products appear; read-only, replaced on every change.
    holdings: Mapping[str, Holding] = MappingProxyType({})
    realized_pnl_usd: Decimal = Decimal(0)
    fees_usd: Decimal = Decimal(0)
    traded_notional_usd: Decimal = Decimal(0)
    seen_fills: SeenKeys = msgspec.field(default_factory=SeenKeys)


class Valuation(msgspec.Struct, frozen=True, kw_only=True):
    """The book at a set of marks. `equity_usd == start + realized + unrealized` exactly."""

    cash_usd: Decimal
    equity_usd: Decimal
    gross_exposure_usd: Decimal
    realized_pnl_usd: Decimal
    unrealized_pnl_usd: Decimal
    market_value_usd: Mapping[str, Decimal]
    unrealized_by_product: Mapping[str, Decimal]


def open_portfolio(cash_usd: Decimal) -> Portfolio:
    """A flat book holding `cash_usd`.

    Raises:
        ValueError: the cash is not a finite, non-negative amount.
    """
    if not cash_usd.is_finite() or cash_usd < 0:
        raise ValueError(f"starting cash must be finite and >= 0 USD, got {cash_usd}")
    return Portfolio(start_cash_usd=cash_usd, cash_usd=cash_usd)


def fill_key(fill: Fill) -> tuple[str, str]:
    """What makes a fill unique: the venue numbers trades per product."""
    return (fill.product_id, fill.trade_id)


def check_fill(fill: Fill) -> None:
    """Refuse a fill this USD-quoted, long/flat book cannot account for.

    Raises:
        FillError: non-finite numbers, a negative fee, or a non-USD quote or fee.
    """
    where = f"fill {fill.trade_id} ({fill.product_id})"
    if not all(v.is_finite() for v in (fill.price, fill.size, fill.fee)):
        raise FillError(f"{where}: price, size and fee must be finite")
    if fill.fee < 0:
        raise FillError(f"{where}: fee must be >= 0, got {fill.fee}")
    quote = fill.product_id.rpartition("-")[2]
    if quote != QUOTE_CURRENCY or fill.fee_currency != QUOTE_CURRENCY:
        raise FillError(
            f"{where}: only {QUOTE_CURRENCY}-quoted products with {QUOTE_CURRENCY} fees "
            f"are accounted, got quote {quote} and fee currency {fill.fee_currency}"
        )


def apply_fill(portfolio: Portfolio, fill: Fill) -> Portfolio:
    """The book after `fill`; the same object if this fill was already applied.

    Raises:
        FillError: see `check_fill`.
        OversellError: a sell larger than the position in that product.
        decimal.Inexact: a notional too long (over 96 digits) to keep exact.
    """
    key = fill_key(fill)
    if key in portfolio.seen_fills:
        return portfolio
    check_fill(fill)
    with localcontext(EXACT):
        if fill.side is Side.BUY:
            return _buy(portfolio, fill, key)
        return _sell(portfolio, fill, key)


def _buy(p: Portfolio, fill: Fill, key: tuple[str, str]) -> Portfolio:
    notional = fill.price * fill.size
    held = p.holdings.get(fill.product_id)
    after = (
        Holding(base_size=fill.size, cost_usd=notional, entry_ns=fill.event_ns)
        if held is None
        else Holding(
            base_size=held.base_size + fill.size,
            cost_usd=held.cost_usd + notional,
            entry_ns=held.entry_ns,
        )
    )
    return _booked(
        p,
        fill,
        key,
        holding=after,
        cash_change=-(notional + fill.fee),
        realized_change=-fill.fee,
    )


def _sell(p: Portfolio, fill: Fill, key: tuple[str, str]) -> Portfolio:
    held = p.holdings.get(fill.product_id)
    size_held = Decimal(0) if held is None else held.base_size
    if held is None or fill.size > size_held:
        raise OversellError(
            f"fill {fill.trade_id} sells {fill.size} {fill.product_id} "
            f"but only {size_held} is held (spot has no shorts)"
        )
    notional = fill.price * fill.size
    left = held.base_size - fill.size
    cost_left = _prorated(held.cost_usd, left, held.base_size)
    after = (
        None if left == 0 else Holding(base_size=left, cost_usd=cost_left, entry_ns=held.entry_ns)
    )
    released = held.cost_usd - cost_left
    return _booked(
        p,
        fill,
        key,
        holding=after,
        cash_change=notional - fill.fee,
        realized_change=notional - released - fill.fee,
    )


def _prorated(cost: Decimal, keep: Decimal, of: Decimal) -> Decimal:
    if keep == 0:
        return Decimal(0)
    return _PRORATE.quantize(_PRORATE.divide(cost * keep, of), COST_QUANTUM_USD)


def _booked(
    p: Portfolio,
    fill: Fill,
    key: tuple[str, str],
    *,
    holding: Holding | None,
    cash_change: Decimal,
    realized_change: Decimal,
) -> Portfolio:
    holdings = dict(p.holdings)
    if holding is None:
        holdings.pop(fill.product_id, None)
    else:
        holdings[fill.product_id] = holding
    return msgspec.structs.replace(
        p,
        cash_usd=p.cash_usd + cash_change,
        holdings=MappingProxyType(holdings),
        realized_pnl_usd=p.realized_pnl_usd + realized_change,
        fees_usd=p.fees_usd + fill.fee,
        traded_notional_usd=p.traded_notional_usd + fill.price * fill.size,
        seen_fills=p.seen_fills.added(key),
    )


def position(portfolio: Portfolio, product_id: str) -> Position:
    """What a strategy sees of the book in one product; flat if nothing is held."""
    held = portfolio.holdings.get(product_id)
    if held is None:
        return Position()
    return Position(
        base_size=held.base_size,
        entry_price=held.average_entry_price,
        entry_ns=held.entry_ns,
    )


def mark(portfolio: Portfolio, marks: Mapping[str, Decimal]) -> Valuation:
    """The book valued at `marks` (price per product); marks of unheld products are unused.

    Raises:
        MissingMarkError: a held product has no mark.
        ValueError: a mark is not a finite, positive price.
    """
    value: dict[str, Decimal] = {}
    unrealized: dict[str, Decimal] = {}
    with localcontext(EXACT):
        for product_id, held in sorted(portfolio.holdings.items()):
            price = _mark_of(marks, product_id)
            value[product_id] = held.base_size * price
            unrealized[product_id] = value[product_id] - held.cost_usd
        gross = sum(value.values(), Decimal(0))
        return Valuation(
            cash_usd=portfolio.cash_usd,
            equity_usd=portfolio.cash_usd + gross,
            gross_exposure_usd=gross,
            realized_pnl_usd=portfolio.realized_pnl_usd,
            unrealized_pnl_usd=sum(unrealized.values(), Decimal(0)),
            market_value_usd=MappingProxyType(value),
            unrealized_by_product=MappingProxyType(unrealized),
        )


def _mark_of(marks: Mapping[str, Decimal], product_id: str) -> Decimal:
    price = marks.get(product_id)
    if price is None:
        raise MissingMarkError(f"no mark for held product {product_id}")
    if not price.is_finite() or price <= 0:
        raise ValueError(f"mark for {product_id} must be a finite price > 0, got {price}")
    return price
