"""Argument checks shared by the batch and online forms, so both refuse the same inputs.

Each check returns the checked value or raises `SignalArgumentError` with a message
naming the indicator and the argument, e.g. "RSI: n must be an int >= 1, got 0".
"""

import math

import numpy as np
import numpy.typing as npt

from trading_agent.signals.errors import SignalArgumentError

__all__ = [
    "FloatArray",
    "bar_error",
    "check_arrays",
    "check_bars",
    "check_positive",
    "check_window",
    "not_finite",
    "not_positive",
]

FloatArray = npt.NDArray[np.float64]


def check_window(indicator: str, name: str, value: int, minimum: int) -> int:
    """`value` if it is an int (not a bool) of at least `minimum`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SignalArgumentError(f"{indicator}: {name} must be an int >= {minimum}, got {value!r}")
    return value


def check_positive(indicator: str, name: str, value: float) -> float:
    """`value` as a float if it is finite and > 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SignalArgumentError(f"{indicator}: {name} must be a number, got {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise SignalArgumentError(f"{indicator}: {name} must be finite and > 0, got {value!r}")
    return float(value)


def not_finite(indicator: str, value: float) -> SignalArgumentError:
    """The error for a NaN or infinite update (returned, so hot paths stay one `raise`)."""
    return SignalArgumentError(f"{indicator}: update values must be finite, got {value!r}")


def not_positive(indicator: str, value: float) -> SignalArgumentError:
    """The error for a price that is not finite and > 0 where a log return is taken."""
    return SignalArgumentError(f"{indicator}: prices must be finite and > 0, got {value!r}")


def bar_error(indicator: str, high: float, low: float, close: float) -> SignalArgumentError | None:
    """Why (high, low, close) is not a bar, or None: finite and low <= close <= high."""
    if not (math.isfinite(high) and math.isfinite(low) and math.isfinite(close)):
        return SignalArgumentError(
            f"{indicator}: high, low and close must be finite, got {high!r}, {low!r}, {close!r}"
        )
    if not low <= close <= high:
        return SignalArgumentError(
            f"{indicator}: needs low <= close <= high, got high={high!r} low={low!r} "
            f"close={close!r} (arguments in the order high, low, close?)"
        )
    return None


def check_arrays(
    indicator: str, positive: bool = False, **arrays: npt.ArrayLike
) -> list[FloatArray]:
    """The arrays as 1-D float64, in keyword order, if all are finite and of one length.

    `positive` also requires every value > 0 (a log is taken of it). The error names
    the first offending array and index.
    """
    out: list[FloatArray] = []
    for name, raw in arrays.items():
        a = np.asarray(raw, dtype=np.float64)
        if a.ndim != 1:
            raise SignalArgumentError(f"{indicator}: {name} must be 1-D, got shape {a.shape}")
        bad = ~np.isfinite(a) | (a <= 0) if positive else ~np.isfinite(a)
        if bad.any():
            i = int(np.argmax(bad))
            need = "finite and > 0" if positive else "finite"
            raise SignalArgumentError(
                f"{indicator}: {name}[{i}] must be {need}, got {float(a[i])!r}"
            )
        out.append(a)
    lengths = {name: len(a) for name, a in zip(arrays, out, strict=True)}
    if len(set(lengths.values())) > 1:
        raise SignalArgumentError(f"{indicator}: arrays must have equal lengths, got {lengths}")
    return out


def check_bars(
    indicator: str, high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(high, low, close) as float64 arrays if finite, equal in length, low <= close <= high."""
    h, lo, c = check_arrays(indicator, high=high, low=low, close=close)
    bad = (lo > c) | (c > h)
    if bad.any():
        i = int(np.argmax(bad))
        raise SignalArgumentError(
            f"{indicator}: bar {i} needs low <= close <= high, got high={float(h[i])!r} "
            f"low={float(lo[i])!r} close={float(c[i])!r}"
        )
    return h, lo, c
