"""Maker/taker fee tiers by trailing 30-day volume, and how a fill is charged.

Default rates: the Coinbase Advanced Trade fee schedule for spot (published schedule,
check current: https://help.coinbase.com/en/coinbase/trading-and-funding/advanced-trade/advanced-trade-fees).
The five lower tiers were cross-checked against two independent copies of the page;
the upper tiers change more often and matter less for us. Coinbase applies the tier
you are in when the order is placed, recalculated hourly; the engine fixes both rates
on an order when it accepts it, from the fills of the trailing window plus a
configured volume done elsewhere.
"""

import itertools
from decimal import Decimal
from typing import Final

import msgspec

from trading_sim.matching.rounding import ceil_to

_DAY_NS: Final = 86_400 * 10**9


class FeeTier(msgspec.Struct, frozen=True, kw_only=True):
    """Rates (fractions, 0.006 = 0.60 %) for a trailing volume of at least `min_volume_quote`."""

    name: str
    min_volume_quote: Decimal
    maker_rate: Decimal
    taker_rate: Decimal


class FeeSchedule(msgspec.Struct, frozen=True, kw_only=True):
    """Tiers in ascending volume order, the first starting at 0.

    Raises:
        ValueError: no tiers, unordered tiers, a rate outside [0, 1) or maker above taker.
    """

    tiers: tuple[FeeTier, ...]
    window_ns: int = 30 * _DAY_NS

    def __post_init__(self) -> None:
        problem = _schedule_problem(self)
        if problem:
            raise ValueError(f"bad fee schedule: {problem}")


def _schedule_problem(schedule: FeeSchedule) -> str:
    tiers = schedule.tiers
    if not tiers or tiers[0].min_volume_quote != 0:
        return "the first tier must start at volume 0"
    if any(a.min_volume_quote >= b.min_volume_quote for a, b in itertools.pairwise(tiers)):
        return "tiers must ascend strictly by min_volume_quote"
    if any(not (0 <= t.maker_rate <= t.taker_rate < 1) for t in tiers):
        # maker <= taker is what lets a buy's hold (taker rate) cover any later fill.
        return "rates must satisfy 0 <= maker <= taker < 1"
    if schedule.window_ns <= 0:
        return "window_ns must be positive"
    return ""


def _tier(name: str, min_volume: str, maker: str, taker: str) -> FeeTier:
    return FeeTier(
        name=name,
        min_volume_quote=Decimal(min_volume),
        maker_rate=Decimal(maker),
        taker_rate=Decimal(taker),
    )


# Coinbase Advanced Trade fee schedule, spot (published schedule, check current).
COINBASE_ADVANCED_SPOT: Final = FeeSchedule(
    tiers=(
        _tier("intro_1", "0", "0.0060", "0.0120"),
        _tier("intro_2", "1000", "0.0035", "0.0075"),
        _tier("advanced_1", "10000", "0.0025", "0.0040"),
        _tier("advanced_2", "50000", "0.0015", "0.0025"),
        _tier("advanced_3", "100000", "0.0010", "0.0020"),
        _tier("vip_1", "1000000", "0.0008", "0.0015"),
        _tier("vip_2", "25000000", "0.0005", "0.0010"),
        _tier("vip_3", "100000000", "0.0002", "0.0008"),
        _tier("vip_4", "250000000", "0.0000", "0.0005"),
    )
)


def tier_for(schedule: FeeSchedule, volume_quote: Decimal) -> FeeTier:
    """The highest tier whose minimum the trailing volume reaches."""
    chosen = schedule.tiers[0]
    for tier in schedule.tiers:
        if volume_quote >= tier.min_volume_quote:
            chosen = tier
    return chosen


def charge(
    accrued: Decimal, charged: Decimal, notional: Decimal, rate: Decimal, quantum: Decimal
) -> tuple[Decimal, Decimal, Decimal]:
    """Charge one fill: (fee of this fill, new exact accrual, new total charged).

    An order's total fee is always its exact accrual rounded up to `quantum`, and
    each fill pays the difference, so per-fill rounding never accumulates and a
    hold computed the same way always covers the order.
    """
    new_accrued = accrued + notional * rate
    new_charged = ceil_to(new_accrued, quantum)
    return new_charged - charged, new_accrued, new_charged
