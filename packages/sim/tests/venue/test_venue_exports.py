"""The venue package's public face: `__all__` names exist, are public and sorted."""

import trading_sim.venue as venue


def test_all_when_listed_then_every_name_exists_public_sorted_and_unique() -> None:
    """Every exported name resolves, none is private, none repeats, in ruff's order."""
    names = venue.__all__
    assert all(hasattr(venue, n) and not n.startswith("_") for n in names)
    assert len(set(names)) == len(names)
    assert sorted(names, key=lambda n: (not n.isupper(), not n[0].isupper(), n)) == names
