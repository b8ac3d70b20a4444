"""An immutable set that grows by one key cheaply: the fills a fold has already applied.

The portfolio, each strategy's book and the trade log are immutable values that
remember every fill they folded, so a fill delivered twice (a reconnect replays the
gate's recent fills) is applied once. With a `frozenset` each fold copied the whole
set, so a run of n fills cost O(n^2): 11,813 fills took seconds. `SeenKeys` keeps
frozensets of sizes 1, 2, 4, ... like the digits of a binary counter; adding a key
merges the small ones, so each key is copied O(log n) times in all and a lookup asks
at most log2(n) + 1 frozensets. (pyrsistent's `PSet` would do as well; one structure
did not seem worth a dependency.)
"""

from collections.abc import Hashable, Iterator

__all__ = ["SeenKeys"]


class SeenKeys:
    """An immutable set of hashable keys; `added` returns a new set."""

    __slots__ = ("_levels", "_size")

    def __init__(self, levels: tuple[frozenset[Hashable], ...] = (), size: int = 0) -> None:
        self._levels = levels  # smallest first; disjoint
        self._size = size

    def __contains__(self, key: object) -> bool:
        return any(key in level for level in self._levels)

    def added(self, key: Hashable) -> "SeenKeys":
        """This set with `key` (the same object if it is already in)."""
        if key in self:
            return self
        merged: frozenset[Hashable] = frozenset((key,))
        levels = self._levels
        while levels and len(levels[0]) <= len(merged):
            merged, levels = merged | levels[0], levels[1:]
        return SeenKeys((merged, *levels), self._size + 1)

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[Hashable]:
        for level in self._levels:
            yield from level

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SeenKeys):
            return NotImplemented
        return self._size == other._size and all(key in other for key in self)

    def __hash__(self) -> int:
        return hash(frozenset(self))

    def __repr__(self) -> str:
        return f"SeenKeys({self._size} keys)"
