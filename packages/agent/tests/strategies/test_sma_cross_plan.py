"""A planned SmaCross, visited only on some bars, signals exactly as the incremental one."""

from decimal import Decimal

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from trading_agent.domain.market import Candle
from trading_agent.domain.regime import UNKNOWN_REGIME
from trading_agent.strategies.base import Planned, Position, StrategyContext
from trading_agent.strategies.mean_reversion import MeanReversion
from trading_agent.strategies.sma_cross import SmaCross

LONG = Position(base_size=Decimal("0.5"))


def _candles(closes: list[Decimal]) -> list[Candle]:
    return [
        Candle(
            product_id="X",
            start_ns=i * 60_000_000_000,
            granularity_s=60,
            open=x,
            high=x,
            low=x,
            close=x,
            volume=Decimal(1),
        )
        for i, x in enumerate(closes)
    ]


def _compare(candles: list[Candle], fast: int, slow: int, flags: list[tuple[bool, bool]]) -> int:
    """Feed every bar to one, the plan's bars (and every third) to the other; return
    how many signals the incremental one gave."""
    full, planned = (
        SmaCross("X", fast_bars=fast, slow_bars=slow),
        SmaCross("X", fast_bars=fast, slow_bars=slow),
    )
    candidates = set(planned.plan(candles).tolist())
    signals = 0
    for i, (candle, (long, pending)) in enumerate(zip(candles, flags, strict=True)):
        ctx = StrategyContext(
            candle=candle, position=LONG if long else Position(), regime=UNKNOWN_REGIME,
            pending=pending,
        )  # fmt: skip
        expected = list(full.on_candle(ctx))
        got = list(planned.on_candle(ctx)) if i in candidates or i % 3 == 0 else []
        assert got == expected, i
        assert not expected or i in candidates
        signals += len(expected)
    return signals


prices = st.integers(1, 400).map(lambda n: Decimal(n) / 100) | st.sampled_from(
    [Decimal("1"), Decimal("1.5"), Decimal("1.25"), Decimal("2")]
)


@settings(max_examples=80, deadline=None)
@given(
    st.data(),
    st.lists(prices, min_size=0, max_size=80),
    st.integers(1, 4),
    st.integers(1, 6),
)
def test_plan_when_random_closes_then_same_signals_and_values(
    data: st.DataObject, closes: list[Decimal], fast: int, extra: int
) -> None:
    """Mixed decimals, ties and flat runs: same signals (values included) on every bar."""
    flags = data.draw(
        st.lists(
            st.tuples(st.booleans(), st.booleans()), min_size=len(closes), max_size=len(closes)
        )
    )
    _compare(_candles(closes), fast, fast + extra, flags)


def test_plan_when_sums_overflow_int64_then_exact_python_ints_agree() -> None:
    """Closes near 1e13 with 6 decimals overflow int64 sums: the plan still agrees."""
    rng = np.random.default_rng(3)
    closes = [Decimal(int(x)) / 10**6 + Decimal(10**13) for x in rng.integers(0, 10**7, 400)]
    flags = [(bool(i % 2), False) for i in range(400)]
    assert _compare(_candles(closes), 5, 12, flags) > 5


def test_planned_when_checked_then_only_sma_cross_offers_a_plan() -> None:
    """The protocol is structural: SmaCross has `plan`, mean reversion does not."""
    assert isinstance(SmaCross("X"), Planned)
    assert not isinstance(
        MeanReversion("X", window_bars=20, entry_z=2.0, exit_z=0.0, atr_bars=14, stop_atr=2.0,
                      max_hold_bars=10),
        Planned,
    )  # fmt: skip
