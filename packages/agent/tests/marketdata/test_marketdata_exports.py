"""The market-data face: `__all__` lists what exists, sorted, and re-exports the pure parts."""

import types

import pytest

import trading_agent.marketdata as md
from trading_agent.marketdata import book, candles, replay, source, synthetic, trade_bars

MODULES = (md, book, candles, replay, source, synthetic, trade_bars)


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_all_when_listed_then_every_name_exists_public_sorted_unique(
    module: types.ModuleType,
) -> None:
    """Each exported name resolves, none is private, and the list is in ruff's order."""
    names = module.__all__

    assert all(hasattr(module, n) and not n.startswith("_") for n in names)
    assert len(set(names)) == len(names)
    assert sorted(names, key=lambda n: (not n.isupper(), not n[0].isupper(), n)) == names


def test_package_when_imported_then_reexports_pure_modules_but_not_the_file_shell() -> None:
    """The package face is book, candles, source and trade_bars; replay stays separate."""
    pure = set(book.__all__) | set(candles.__all__) | set(source.__all__) | set(trade_bars.__all__)

    assert set(md.__all__) == pure
    assert not set(replay.__all__) & set(md.__all__)
