"""Position sizing: an entry signal and the account into an exact size, or a reason for none.

The base risk is volatility-targeted (LEARNING.md section 2.6, "size = base_risk x m"):

- with a stop: size = equity * risk_per_trade * m / (entry - stop), so a stop-out loses
  at most that fraction of equity (before slippage through the stop);
- without a stop: notional = equity * target_vol * m / realized_vol, so the position's
  volatility is `target_vol` of equity;
- with `fixed_size_base` (the reference `sma_cross`): exactly that size, not scaled by m,
  so a comparison with other engines trades the same quantity; if it does not fit the
  notional cap or the cash, there is no order rather than a smaller one.

m is Loop 1's confidence in [m_min, 1]. A value outside is refused with an error, not
clamped: Loop 1 never produces one, so it is a bug to surface, not a value to repair.

The risk-based size is then capped by `max_notional_usd` and by the cash available (at the
signal's reference price; the caller passes cash net of any fee reserve), and rounded
DOWN to the product's base increment. Below the product's minimum size there is no order.

All arithmetic is Decimal, in a context that rounds every step towards zero (floor, for
positive values), so no rounding can ever lift the size above a bound it was derived
from. The one float input, realized volatility, is converted with Decimal(repr(x)):
repr is the shortest text that reads back as the same float, so 0.02 becomes
Decimal("0.02") rather than its 55-digit binary expansion; both are exact readings of
the float, and this one is what the operator sees in the reason.
"""

import decimal
import math
from decimal import ROUND_FLOOR, Decimal
from typing import Final

import msgspec

from trading_agent.config import SizingParams
from trading_agent.domain.intents import Action, Signal

__all__ = ["ConfidenceOutOfBounds", "Sizing", "size_entry"]

# Enough digits that equity * fraction / distance is rarely cut by the precision at all;
# where it is, flooring keeps every result at or below the exact one.
_CONTEXT: Final = decimal.Context(prec=40, rounding=ROUND_FLOOR)
# Products of finite decimals are exact given the digits: used where a bound is tested.
_EXACT: Final = decimal.Context(prec=decimal.MAX_PREC)


class ConfidenceOutOfBounds(ValueError):
    """A confidence multiplier outside [m_min, 1]: a bug in whoever computed it."""


class Sizing(msgspec.Struct, frozen=True, kw_only=True):
    """The size to enter in base units, or None (no order), and why."""

    size_base: Decimal | None
    reason: str


def size_entry(
    signal: Signal,
    equity_usd: Decimal,
    cash_usd: Decimal,
    realized_vol: float | None,
    params: SizingParams,
    confidence: Decimal,
    base_increment: Decimal,
    min_size: Decimal,
) -> Sizing:
    """The size for an entry `signal`, or no order with the reason.

    Raises:
        ConfidenceOutOfBounds: `confidence` is outside [params.m_min, 1].
        ValueError: not an entry, a non-positive price or increment, a negative minimum,
            or a stop at or above the entry price (a long's stop is below it).
    """
    _check_finite(equity_usd=equity_usd, cash_usd=cash_usd, confidence=confidence)
    _check_inputs(signal, confidence, params, base_increment, min_size)
    if equity_usd <= 0:
        return Sizing(size_base=None, reason=f"no equity ({equity_usd} USD)")
    with decimal.localcontext(_CONTEXT):
        fixed = params.fixed_size_base
        if fixed is not None:
            return _fixed(fixed, signal.reference_price, params, cash_usd, base_increment, min_size)
        raw = _raw_size(signal, equity_usd, realized_vol, params, confidence)
        if isinstance(raw, str):
            return Sizing(size_base=None, reason=raw)
        size, why = _capped(raw, signal.reference_price, params, cash_usd)
        return _rounded(size, why, base_increment, min_size)


def _check_finite(**values: Decimal) -> None:
    for name, value in values.items():
        if not value.is_finite():
            raise ValueError(f"{name} must be a finite number, got {value}")


def _check_inputs(
    signal: Signal,
    confidence: Decimal,
    params: SizingParams,
    base_increment: Decimal,
    min_size: Decimal,
) -> None:
    if signal.action is not Action.ENTER_LONG:
        raise ValueError(f"only entries are sized; got {signal.action} from {signal.strategy_id}")
    if not params.m_min <= confidence <= 1:
        raise ConfidenceOutOfBounds(
            f"confidence {confidence} is outside [{params.m_min}, 1] for {signal.strategy_id}"
        )
    if not signal.reference_price > 0:
        raise ValueError(f"reference price must be positive, got {signal.reference_price}")
    if not base_increment > 0:
        raise ValueError(f"base increment must be positive, got {base_increment}")
    if not min_size >= 0:
        raise ValueError(f"minimum size must not be negative, got {min_size}")
    stop = signal.stop_price
    if stop is not None and not 0 <= stop < signal.reference_price:
        raise ValueError(
            f"a long's stop must be in [0, entry): stop {stop}, entry {signal.reference_price}"
        )


def _raw_size(
    signal: Signal,
    equity_usd: Decimal,
    realized_vol: float | None,
    params: SizingParams,
    confidence: Decimal,
) -> Decimal | str:
    price = signal.reference_price
    if signal.stop_price is not None:
        risk_usd = equity_usd * params.risk_per_trade * confidence
        return risk_usd / (price - signal.stop_price)
    if realized_vol is None or not math.isfinite(realized_vol) or realized_vol <= 0:
        return f"no stop and no usable realized volatility ({realized_vol})"
    vol = Decimal(repr(realized_vol))
    notional_usd = equity_usd * params.target_vol * confidence / vol
    return notional_usd / price


def _capped(
    size: Decimal, price: Decimal, params: SizingParams, cash_usd: Decimal
) -> tuple[Decimal, str]:
    by_notional = params.max_notional_usd / price
    by_cash = max(cash_usd, Decimal(0)) / price
    if by_cash < size and by_cash <= by_notional:
        return by_cash, f"capped by cash {cash_usd} USD"
    if by_notional < size:
        return by_notional, f"capped by max notional {params.max_notional_usd} USD"
    return size, "risk-sized"


def _rounded(size: Decimal, why: str, increment: Decimal, min_size: Decimal) -> Sizing:
    steps = (size / increment).to_integral_value(rounding=ROUND_FLOOR)
    rounded = steps * increment
    if rounded <= 0 or rounded < min_size:
        return Sizing(size_base=None, reason=f"{why}: {rounded} is below the minimum {min_size}")
    return Sizing(size_base=rounded, reason=f"{why}: {rounded}")


def _fixed(
    size: Decimal,
    price: Decimal,
    params: SizingParams,
    cash_usd: Decimal,
    increment: Decimal,
    min_size: Decimal,
) -> Sizing:
    notional = _EXACT.multiply(size, price)
    if notional > params.max_notional_usd:
        why = f"fixed size {size} is {notional} USD, above max notional {params.max_notional_usd}"
        return Sizing(size_base=None, reason=why)
    if notional > cash_usd:
        why = f"fixed size {size} needs {notional} USD, cash is {cash_usd}"
        return Sizing(size_base=None, reason=why)
    return _rounded(size, "fixed size", increment, min_size)
