"""`Appended` behaves as an immutable tuple: checked against tuples, branch by branch."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trading_agent.domain.appended import Appended

# Each step appends an item to one of the versions made so far (by index, modulo their
# number), so folds that branch off an older version are exercised, not only the newest.
_STEPS = st.lists(st.tuples(st.integers(0, 1_000), st.integers(-100, 100)), max_size=120)


@given(_STEPS)
def test_appended_when_grown_from_any_version_then_every_version_is_its_tuple(
    steps: list[tuple[int, int]],
) -> None:
    """Every version keeps exactly the items of the tuple built the same way, in
    order, whichever versions were appended to later."""
    versions: list[tuple[Appended[int], tuple[int, ...]]] = [(Appended(), ())]
    for pick, item in steps:
        base, reference = versions[pick % len(versions)]
        versions.append((base.appended(item), (*reference, item)))
    for version, reference in versions:
        assert len(version) == len(reference)
        assert tuple(version) == reference
        assert list(version) == list(reference)
        assert version == reference
        assert version[:] == reference
        assert version[1:-1] == reference[1:-1]
        assert version[::2] == reference[::2]
        assert version[::-1] == reference[::-1]
        assert version[-3:] == reference[-3:]
        if reference:
            assert version[0] == reference[0]
            assert version[-1] == reference[-1]


@given(st.lists(st.integers()), st.lists(st.integers()))
def test_appended_when_compared_then_by_items(a: list[int], b: list[int]) -> None:
    """Equal (and hash equal) exactly when the items are, to each other and to tuples."""
    left, right = Appended(a), Appended[int]()
    for item in b:
        right = right.appended(item)
    assert (left == right) == (a == b)
    assert (left == tuple(b)) == (a == b)
    if a == b:
        assert hash(left) == hash(right) == hash(tuple(a))


def test_appended_when_indexed_out_of_range_then_index_error() -> None:
    """The shared list may hold more items than a version: those are out of its range."""
    short = Appended([1, 2])
    short.appended(3)
    with pytest.raises(IndexError):
        short[2]
    with pytest.raises(IndexError):
        short[-3]
    assert Appended() == ()
