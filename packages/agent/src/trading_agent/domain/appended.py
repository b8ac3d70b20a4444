"""An immutable sequence that grows by one item in O(1): the trades a fold has closed.

The trade log is an immutable value, replaced on every fill. Kept as a tuple, its
closed trades were copied whole each time one closed, so n round trips cost O(n^2).
`Appended` versions share one list: a version is its first `len` items, and those never
change, because a list is only ever extended past every version's end. `appended` on the
newest version extends the shared list; on an older one (a fold that branches off an
earlier log) it copies its own items first, so no version sees another's items.
"""

from collections.abc import Iterable, Iterator, Sequence
from typing import Generic, TypeVar, overload

__all__ = ["Appended"]

T = TypeVar("T")


class Appended(Sequence[T], Generic[T]):
    """An immutable sequence; `appended` returns a new one with one more item."""

    __slots__ = ("_items", "_len")

    def __init__(self, items: Iterable[T] = ()) -> None:
        self._items = list(items)  # shared by later versions; only ever extended
        self._len = len(self._items)

    def appended(self, item: T) -> "Appended[T]":
        """This sequence with `item` at the end."""
        items = self._items
        if len(items) != self._len:  # a later version extended the list: branch off
            items = items[: self._len]
        items.append(item)
        out: Appended[T] = Appended.__new__(Appended)
        out._items, out._len = items, self._len + 1
        return out

    def __len__(self) -> int:
        return self._len

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[T, ...]: ...
    def __getitem__(self, index: int | slice) -> T | tuple[T, ...]:
        if isinstance(index, slice):
            items = self._items  # not items[: self._len][index]: that copies them all
            return tuple(items[i] for i in range(*index.indices(self._len)))
        if not -self._len <= index < self._len:
            raise IndexError(f"item {index} of {self._len}")
        return self._items[index % self._len]

    def __iter__(self) -> Iterator[T]:
        items = self._items
        return (items[i] for i in range(self._len))

    def __eq__(self, other: object) -> bool:
        """Equal to any sequence (a tuple too) with the same items in the same order."""
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return len(other) == self._len and all(a == b for a, b in zip(self, other, strict=True))

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"Appended({list(self)!r})"
