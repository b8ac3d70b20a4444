"""Strategies by name, built from validated parameter files (`trading_agent.config`).

The names and parameter sets are the ones `config.PARAMETERS` declares, so a file that
loaded has every parameter a builder reads, of the kind it reads it as.
"""

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Final

from trading_agent.config import StrategyParams
from trading_agent.strategies import mean_reversion, momentum, return_sign, sma_cross
from trading_agent.strategies.base import Strategy

__all__ = ["STRATEGY_NAMES", "UnknownStrategy", "build_strategy"]


class UnknownStrategy(ValueError):
    """No strategy of that name, or parameters written for another one."""


def _sma_cross(product_id: str, p: StrategyParams) -> Strategy:
    return sma_cross.SmaCross(
        product_id, fast_bars=p.int_value("fast_bars"), slow_bars=p.int_value("slow_bars")
    )


def _mean_reversion(product_id: str, p: StrategyParams) -> Strategy:
    return mean_reversion.MeanReversion(
        product_id,
        window_bars=p.int_value("window_bars"),
        entry_z=p.float_value("entry_z"),
        exit_z=p.float_value("exit_z"),
        atr_bars=p.int_value("atr_bars"),
        stop_atr=p.float_value("stop_atr"),
        max_hold_bars=p.int_value("max_hold_bars"),
    )


def _momentum(product_id: str, p: StrategyParams) -> Strategy:
    return momentum.Momentum(
        product_id,
        entry_bars=p.int_value("entry_bars"),
        exit_bars=p.int_value("exit_bars"),
        atr_bars=p.int_value("atr_bars"),
        stop_atr=p.float_value("stop_atr"),
        trailing_stop=p.bool_value("trailing_stop"),
    )


def _return_sign(product_id: str, p: StrategyParams) -> Strategy:
    return return_sign.ReturnSign(product_id, threshold_bps=p.int_value("threshold_bps"))


_BUILDERS: Final[Mapping[str, Callable[[str, StrategyParams], Strategy]]] = MappingProxyType(
    {
        sma_cross.NAME: _sma_cross,
        mean_reversion.NAME: _mean_reversion,
        momentum.NAME: _momentum,
        return_sign.NAME: _return_sign,
    }
)

STRATEGY_NAMES: Final = tuple(sorted(_BUILDERS))


def build_strategy(name: str, product_id: str, params: StrategyParams) -> Strategy:
    """A fresh `name` strategy on `product_id` with `params`' values.

    Raises:
        UnknownStrategy: `name` is not in STRATEGY_NAMES, or `params` belong to another
            strategy.
    """
    builder = _BUILDERS.get(name)
    if builder is None:
        raise UnknownStrategy(f"unknown strategy {name!r}; known: {', '.join(STRATEGY_NAMES)}")
    if params.strategy != name:
        raise UnknownStrategy(f"parameters for {params.strategy!r} cannot build {name!r}")
    return builder(product_id, params)
