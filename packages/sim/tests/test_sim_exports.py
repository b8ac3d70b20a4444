"""The package's public face: `__all__` lists what exists, sorted, and nothing private."""

import trading_sim
import trading_sim.matching


def test_all_when_listed_then_every_name_exists_and_is_public() -> None:
    """Every exported name resolves and none starts with an underscore."""
    for module in (trading_sim, trading_sim.matching):
        assert all(hasattr(module, name) and not name.startswith("_") for name in module.__all__)


def test_all_when_listed_then_sorted_and_unique() -> None:
    """`__all__` is sorted (ruff's order: constants, classes, functions) without repeats."""
    names = trading_sim.__all__
    assert len(set(names)) == len(names)
    assert sorted(names, key=lambda n: (not n.isupper(), not n[0].isupper(), n)) == names


def test_top_level_when_compared_to_matching_then_reexports_it_all() -> None:
    """The top level re-exports the whole engine face."""
    assert set(trading_sim.matching.__all__) <= set(trading_sim.__all__)
