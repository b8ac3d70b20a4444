"""An immutable set that grows by one key in O(1): the fills a fold has already applied.

The portfolio, each strategy's book and the trade log are immutable values that
remember every fill they folded, so a fill delivered twice (a reconnect replays the
gate's recent fills) is applied once. With a `frozenset` each fold copied the whole
set, so a run of n fills cost O(n^2): 11,813 fills took seconds.

`SeenKeys` versions share one dict from key to the order it was added in: a version is
the keys added before its `len`, and those never change, because the dict only ever
grows past every version's end (the same scheme as `domain.appended`). `added` on the
newest version extends the shared dict; on an older one (a fold that branches off an
earlier value) it copies its own keys first, so no version sees another's keys. A lookup
is one dict probe, an addition one insertion. (pyrsistent's `PSet` would do as well;
one structure did not seem worth a dependency.)
"""

from collections.abc import Hashable, Iterator
from itertools import islice

__all__ = ["SeenKeys"]


class SeenKeys:
    """An immutable set of hashable keys; `added` returns a new set."""

    __slots__ = ("_order", "_size")

    def __init__(self) -> None:
        self._order: dict[Hashable, int] = {}  # shared by later versions; only ever grows
        self._size = 0

    def __contains__(self, key: object) -> bool:
        at = self._order.get(key)  # an unhashable key raises TypeError, as in a set
        return at is not None and at < self._size

    def added(self, key: Hashable) -> "SeenKeys":
        """This set with `key` (the same object if it is already in)."""
        if key in self:
            return self
        order = self._order
        if len(order) != self._size:  # a later version added keys: branch off
            order = dict(islice(order.items(), self._size))
        order[key] = self._size
        out = SeenKeys.__new__(SeenKeys)
        out._order, out._size = order, self._size + 1
        return out

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[Hashable]:
        return islice(self._order, self._size)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SeenKeys):
            return NotImplemented
        return self._size == other._size and all(key in other for key in self)

    def __hash__(self) -> int:
        return hash(frozenset(self))

    def __repr__(self) -> str:
        return f"SeenKeys({self._size} keys)"
