"""A sorted multiset of floats in blocks, for ranks over long trailing windows.

One sorted list costs an O(n) memmove per insert and delete: about 25 us at a
window of 129,600 values (90 days of minute bars). Sorted blocks of at most
2 * `block` values cut that to O(block + n / block) with small constants.
"""

from bisect import bisect_left, bisect_right, insort

__all__ = ["SortedBag"]


class SortedBag:
    """Floats kept in sorted blocks; `ranks(x)` counts the values below and up to x."""

    __slots__ = ("_block", "_blocks", "_maxes", "size")

    def __init__(self, block: int = 2048) -> None:
        self._block = block
        self._blocks: list[list[float]] = []
        self._maxes: list[float] = []  # the last (largest) value of each block
        self.size = 0

    def add(self, x: float) -> None:
        blocks, maxes = self._blocks, self._maxes
        self.size += 1
        if not blocks:
            blocks.append([x])
            maxes.append(x)
            return
        i = min(bisect_left(maxes, x), len(blocks) - 1)
        block = blocks[i]
        insort(block, x)
        maxes[i] = block[-1]
        if len(block) > 2 * self._block:
            half = len(block) // 2
            blocks[i : i + 1] = [block[:half], block[half:]]
            maxes[i : i + 1] = [block[half - 1], block[-1]]

    def remove(self, x: float) -> None:
        """Remove one copy of x. Raises ValueError if there is none."""
        blocks, maxes = self._blocks, self._maxes
        i = bisect_left(maxes, x)
        if i == len(blocks):
            raise ValueError(f"SortedBag.remove: {x!r} is not present")
        block = blocks[i]
        j = bisect_left(block, x)
        if block[j] != x:
            raise ValueError(f"SortedBag.remove: {x!r} is not present")
        del block[j]
        self.size -= 1
        if block:
            maxes[i] = block[-1]
        else:
            del blocks[i]
            del maxes[i]

    def ranks(self, x: float) -> tuple[int, int]:
        """(count of values < x, count of values <= x)."""
        blocks, maxes = self._blocks, self._maxes
        i = bisect_left(maxes, x)
        before = sum(map(len, blocks[:i]))
        below = before + (bisect_left(blocks[i], x) if i < len(blocks) else 0)
        # Values equal to x may continue into the blocks after block i.
        k = bisect_right(maxes, x, lo=i)
        at_most = before + sum(map(len, blocks[i:k]))
        if k < len(blocks):
            at_most += bisect_right(blocks[k], x)
        return below, at_most
