"""Positions, cash and equity folded from the gate's own fills: pure values.

Positions are the signed sum of the gate's fills per product, nothing else: an asset
the account held before the gate traded is not the gate's position. Equity is the
starting cash, plus the cash the fills moved, plus the positions at their mids; its
peak and its value at 00:00 UTC feed the drawdown and daily-loss checks.
"""

from collections.abc import Mapping
from decimal import Context, Decimal, InvalidOperation, Overflow
from typing import Final

import msgspec

from trading_contract import ProductId, Side
from trading_gate.core.context import AccountState

_EXACT: Final = Context(prec=300, traps=[InvalidOperation, Overflow])
_NS_PER_DAY: Final = 86_400 * 1_000_000_000
_ZERO: Final = Decimal(0)


class Ledger(msgspec.Struct, frozen=True, kw_only=True):
    starting_cash_usd: Decimal
    cash_flow_usd: Decimal = _ZERO  # minus buys, plus sells, minus fees
    positions_base: dict[ProductId, Decimal] = {}
    last_price: dict[ProductId, Decimal] = {}  # values a position when no mid is known
    fees_usd: Decimal = _ZERO
    equity_peak_usd: Decimal | None = None
    day: int | None = None  # UTC day number of day_start_equity_usd
    day_start_equity_usd: Decimal | None = None


def apply_fill(
    ledger: Ledger, product_id: ProductId, side: Side, size: Decimal, price: Decimal, fee: Decimal
) -> Ledger:
    """The ledger after one fill (size in base, price and fee in USD)."""
    notional = _EXACT.multiply(size, price)
    signed = size if side is Side.BUY else size.copy_negate()
    flow = notional.copy_negate() if side is Side.BUY else notional
    positions = dict(ledger.positions_base)
    positions[product_id] = _EXACT.add(positions.get(product_id, _ZERO), signed)
    return msgspec.structs.replace(
        ledger,
        cash_flow_usd=_EXACT.subtract(_EXACT.add(ledger.cash_flow_usd, flow), fee),
        positions_base=positions,
        last_price=ledger.last_price | {product_id: price},
        fees_usd=_EXACT.add(ledger.fees_usd, fee),
    )


def equity_usd(ledger: Ledger, mids: Mapping[ProductId, Decimal]) -> Decimal:
    """Starting cash + cash moved by fills + positions at their mids (or last fill price)."""
    total = _EXACT.add(ledger.starting_cash_usd, ledger.cash_flow_usd)
    for product_id, base in ledger.positions_base.items():
        if not base:
            continue
        price = mids.get(product_id, ledger.last_price.get(product_id, _ZERO))
        total = _EXACT.add(total, _EXACT.multiply(base, price))
    return total


def mark(
    ledger: Ledger, mids: Mapping[ProductId, Decimal], now_ns: int
) -> tuple[Ledger, AccountState]:
    """Mark to market at `now_ns`: update the peak and roll the UTC day; return the
    account state the checks read."""
    equity = equity_usd(ledger, mids)
    peak = equity if ledger.equity_peak_usd is None else max(ledger.equity_peak_usd, equity)
    day = now_ns // _NS_PER_DAY
    day_start = ledger.day_start_equity_usd
    if ledger.day != day or day_start is None:
        day_start = equity
    updated = msgspec.structs.replace(
        ledger, equity_peak_usd=peak, day=day, day_start_equity_usd=day_start
    )
    state = AccountState(equity_usd=equity, equity_peak_usd=peak, day_start_equity_usd=day_start)
    return updated, state
