"""The registry builds every declared strategy from its shipped file, and nothing else."""

from pathlib import Path

import pytest

from agent_stubs import candles_from_closes, context
from trading_agent.config import PARAMETERS, StrategyParams, with_values
from trading_agent.config_files import load_strategy_dir
from trading_agent.strategies.mean_reversion import MeanReversion
from trading_agent.strategies.momentum import Momentum
from trading_agent.strategies.registry import STRATEGY_NAMES, UnknownStrategy, build_strategy
from trading_agent.strategies.sma_cross import SmaCross

SHIPPED = Path(__file__).resolve().parents[4] / "config" / "strategies"


@pytest.fixture(scope="module")
def shipped() -> dict[str, StrategyParams]:
    return load_strategy_dir(SHIPPED)


def test_strategy_names_when_listed_then_exactly_the_declared_parameter_sets() -> None:
    """Every strategy with declared parameters has a builder, and no builder lacks them."""
    assert set(STRATEGY_NAMES) == set(PARAMETERS)


@pytest.mark.parametrize(
    ("name", "kind"),
    [("sma_cross", SmaCross), ("mean_reversion", MeanReversion), ("momentum", Momentum)],
)
def test_build_strategy_when_shipped_params_then_that_strategy_runs(
    shipped: dict[str, StrategyParams], name: str, kind: type
) -> None:
    """Each shipped file builds its strategy, which takes candles without error."""
    strategy = build_strategy(name, "BTC-USD", shipped[name])

    out = [strategy.on_candle(context(c)) for c in candles_from_closes(range(100, 160))]

    assert isinstance(strategy, kind)
    assert strategy.strategy_id == name
    assert all(s.strategy_id == name for signals in out for s in signals)


def test_build_strategy_when_values_changed_then_the_strategy_uses_them(
    shipped: dict[str, StrategyParams],
) -> None:
    """A Loop 2 change inside the bounds reaches the built strategy."""
    changed = with_values(shipped["mean_reversion"], {"max_hold_bars": 33, "entry_z": 2.5})

    built = build_strategy("mean_reversion", "BTC-USD", changed)

    assert isinstance(built, MeanReversion)
    assert (built.max_hold_bars, built.entry_z) == (33, 2.5)


def test_build_strategy_when_unknown_name_then_refused(shipped: dict[str, StrategyParams]) -> None:
    """An unknown name is refused with the known ones listed."""
    known = "known: mean_reversion, momentum, return_sign, sma_cross"
    with pytest.raises(UnknownStrategy, match=known):
        build_strategy("martingale", "BTC-USD", shipped["sma_cross"])


def test_build_strategy_when_params_of_another_strategy_then_refused(
    shipped: dict[str, StrategyParams],
) -> None:
    """Parameters written for one strategy never build another."""
    with pytest.raises(UnknownStrategy, match="'momentum' cannot build 'sma_cross'"):
        build_strategy("sma_cross", "BTC-USD", shipped["momentum"])
