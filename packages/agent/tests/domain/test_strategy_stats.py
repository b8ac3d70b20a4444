"""The statistics sent with each intent, folded trade by trade, against plain arithmetic."""

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from agent_stubs import trade
from trading_agent.domain.strategy_stats import StrategyTally, fold_trade, reported_stats

D = Decimal


def test_reported_when_no_trade_yet_then_only_confidence_and_a_zero_count() -> None:
    """No win rate or expectancy before a trade closes: the gate's rules fail closed."""
    assert reported_stats(StrategyTally(), D("0.8")) == {
        "confidence": D("0.8"),
        "trade_count": D(0),
    }


def test_reported_when_two_trades_then_win_rate_and_expectancy_by_hand() -> None:
    """+3.94 on 500 USD is +78.8 bps; -6.06 on 500 is -121.2 bps: mean -21.2, one win in two."""
    tally = fold_trade(StrategyTally(), trade())
    tally = fold_trade(tally, trade(net_pnl_usd=D("-6.06"), gross_pnl_usd=D("0")))
    assert reported_stats(tally, D(1)) == {
        "confidence": D(1),
        "expectancy_bps": D("-21.20"),
        "trade_count": D(2),
        "win_rate": D("0.500000"),
    }


@settings(max_examples=100)
@given(pnls=st.lists(st.decimals(D("-500"), D("500"), places=2), min_size=1, max_size=40))
def test_fold_when_many_trades_then_equals_the_batch_formula(pnls: list[Decimal]) -> None:
    """Folding one trade at a time gives the batch count, win share and mean return."""
    tally = StrategyTally()
    for pnl in pnls:
        tally = fold_trade(tally, trade(net_pnl_usd=pnl))
    stats = reported_stats(tally, D(1))
    n = len(pnls)
    wins = sum(1 for p in pnls if p > 0)
    mean_bps = sum(p / D(500) * 10_000 for p in pnls) / n  # entry notional 50,000 x 0.01
    assert stats["trade_count"] == n
    assert stats["win_rate"] == (D(wins) / n).quantize(D("1e-6"))
    assert abs(stats["expectancy_bps"] - mean_bps) <= D("0.005")
