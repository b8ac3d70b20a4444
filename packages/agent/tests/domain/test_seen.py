"""`SeenKeys` behaves as an immutable set: checked against Python's set, step by step
and branch by branch."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trading_agent.domain.seen import SeenKeys


@given(st.lists(st.tuples(st.sampled_from("ab"), st.integers(0, 40)), max_size=200))
def test_seen_keys_when_keys_added_then_same_members_as_a_set(keys: list[tuple[str, int]]) -> None:
    """After every addition the set has exactly the keys added so far, its size counts
    each once, re-adding returns the same object, and older versions do not change."""
    seen, reference = SeenKeys(), set()
    versions: list[tuple[SeenKeys, frozenset[tuple[str, int]]]] = []
    for key in keys:
        before = seen
        seen = seen.added(key)
        assert (seen is before) == (key in reference)
        reference.add(key)
        versions.append((seen, frozenset(reference)))
        assert len(seen) == len(reference)
        assert set(seen) == reference
    for version, members in versions:
        assert set(version) == members
        assert all((k in version) == (k in members) for k, _ in zip(keys, range(50), strict=False))
        assert ("c", 0) not in version


@given(st.sets(st.integers(0, 100)), st.sets(st.integers(0, 100)))
def test_seen_keys_when_compared_then_by_members(a: set[int], b: set[int]) -> None:
    """Two sets are equal (and hash equal) exactly when they hold the same keys,
    whatever order they were built in."""
    left, right = SeenKeys(), SeenKeys()
    for key in sorted(a):
        left = left.added(key)
    for key in sorted(b, reverse=True):
        right = right.added(key)
    assert (left == right) == (a == b)
    if a == b:
        assert hash(left) == hash(right)


# Each step adds a key to one of the versions made so far (by index, modulo their
# number), so folds that branch off an older version are exercised, not only the newest.
_STEPS = st.lists(st.tuples(st.integers(0, 1_000), st.integers(0, 30)), max_size=120)


@given(_STEPS)
def test_seen_keys_when_grown_from_any_version_then_every_version_is_its_set(
    steps: list[tuple[int, int]],
) -> None:
    """Every version keeps exactly the keys of the set built the same way, whichever
    versions were added to later: a key another branch added is not in this one."""
    versions: list[tuple[SeenKeys, frozenset[int]]] = [(SeenKeys(), frozenset())]
    for pick, key in steps:
        base, reference = versions[pick % len(versions)]
        grown = base.added(key)
        assert (grown is base) == (key in reference)
        versions.append((grown, reference | {key}))
    for version, reference in versions:
        assert len(version) == len(reference)
        assert set(version) == reference
        assert all((key in version) == (key in reference) for key in range(31))


def test_seen_keys_when_unhashable_then_type_error_as_a_set() -> None:
    """An unhashable key is refused the way a set refuses it."""
    with pytest.raises(TypeError):
        _ = [] in SeenKeys()
