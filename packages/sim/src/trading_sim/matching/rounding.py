"""Exact Decimal rounding to an increment (tick, lot or fee quantum), in one fixed context."""

import functools
from collections.abc import Callable
from decimal import (
    ROUND_CEILING,
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from typing import Final, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

# 28 digits hold price x size x rate of any product we list; a caller's thread-wide
# decimal context must not change our fills.
ENGINE_CONTEXT: Final = Context(
    prec=28, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow]
)


def in_engine_context(fn: Callable[P, R]) -> Callable[P, R]:
    """Run `fn` under ENGINE_CONTEXT, whatever decimal context the caller has set."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with localcontext(ENGINE_CONTEXT):
            return fn(*args, **kwargs)

    return wrapper


def floor_to(value: Decimal, step: Decimal) -> Decimal:
    """The largest multiple of `step` not above `value`, written with `step`'s exponent."""
    return ((value / step).to_integral_value(rounding=ROUND_FLOOR) * step).quantize(step)


def ceil_to(value: Decimal, step: Decimal) -> Decimal:
    """The smallest multiple of `step` not below `value`, written with `step`'s exponent."""
    return ((value / step).to_integral_value(rounding=ROUND_CEILING) * step).quantize(step)


def is_multiple(value: Decimal, step: Decimal) -> bool:
    return value % step == 0
