"""The statistics the agent reports with each intent: a strategy's closed-trade record.

The gate's rules read them as `strategy.trade_count`, `strategy.win_rate` and
`strategy.expectancy_bps` (with `strategy.confidence`, Loop 1's multiplier). Kept as a
running tally, folded one closed trade at a time, so reporting them costs the same on
the ten-thousandth order as on the first.

- trade_count: closed round trips;
- win_rate: the share with net P&L above zero (fees counted), 6 places;
- expectancy_bps: the mean net return per trade, net P&L over the entry notional, in
  basis points, 2 places. Neither exists before the first closed trade: the agent then
  does not report it, and a rule that reads it fails closed.
"""

from decimal import Context, Decimal
from typing import Final

import msgspec

from trading_agent.domain.trades import Trade

__all__ = ["StrategyTally", "fold_trade", "reported_stats"]

_EXACT: Final = Context(prec=60)
_RATE: Final = Decimal("1e-6")
_BPS: Final = Decimal("0.01")
_TEN_THOUSAND: Final = Decimal(10_000)


class StrategyTally(msgspec.Struct, frozen=True, kw_only=True):
    trades: int = 0
    wins: int = 0
    return_bps_sum: Decimal = Decimal(0)


def fold_trade(tally: StrategyTally, trade: Trade) -> StrategyTally:
    """The tally with one more closed trade."""
    entry_notional = _EXACT.multiply(trade.entry_price, trade.size)
    if entry_notional > 0:
        bps = _EXACT.multiply(_EXACT.divide(trade.net_pnl_usd, entry_notional), _TEN_THOUSAND)
    else:
        bps = Decimal(0)
    return StrategyTally(
        trades=tally.trades + 1,
        wins=tally.wins + (1 if trade.net_pnl_usd > 0 else 0),
        return_bps_sum=_EXACT.add(tally.return_bps_sum, bps),
    )


def reported_stats(tally: StrategyTally, confidence: Decimal) -> dict[str, Decimal]:
    """What goes into `Reason.stats` with an intent, names sorted."""
    stats = {"confidence": confidence, "trade_count": Decimal(tally.trades)}
    if tally.trades:
        n = Decimal(tally.trades)
        stats["expectancy_bps"] = _EXACT.divide(tally.return_bps_sum, n).quantize(_BPS)
        stats["win_rate"] = _EXACT.divide(Decimal(tally.wins), n).quantize(_RATE)
    return dict(sorted(stats.items()))
