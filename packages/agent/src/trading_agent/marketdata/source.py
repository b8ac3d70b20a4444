"""Where the engine gets candles: one interface, a synchronous and an asynchronous face.

History is already on disk or in memory, so replay and synthetic sources are plain
iterators (`CandleSource`): a backtest pulls candles as fast as it can in one thread,
with no event loop, and the same data gives the same run. A live feed waits on the
network, so it is an async iterator (`AsyncCandleSource`), consumed inside the agent's
TaskGroup. Both deliver *complete* candles only, in completion order, and the driving
loop sets its clock to `candle.end_ns` before handing one on: a candle is delivered at
the moment it completes, never earlier. `as_async` wraps any sync source for an engine
written against the async face, so one engine loop can run both.

Several products are merged by `(end_ns, product_id)`: the candle that completes first
comes first, and candles completing together come in a fixed order, so a replay is
deterministic.
"""

import heapq
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Protocol, runtime_checkable

from trading_agent.domain.market import Candle

__all__ = [
    "AsyncCandleSource",
    "CandleOrderError",
    "CandleSource",
    "as_async",
    "completion_key",
    "merge_by_completion",
]


class CandleOrderError(ValueError):
    """A per-product stream handed to the merge was not in completion order."""


@runtime_checkable
class CandleSource(Protocol):
    """Replay or synthetic candles, complete, in completion order; iterable again."""

    def __iter__(self) -> Iterator[Candle]: ...


@runtime_checkable
class AsyncCandleSource(Protocol):
    """Live candles, complete, in completion order, as they complete."""

    def __aiter__(self) -> AsyncIterator[Candle]: ...


def completion_key(candle: Candle) -> tuple[int, str]:
    """When a candle may be delivered, with the product breaking ties."""
    return (candle.end_ns, candle.product_id)


def merge_by_completion(streams: Iterable[Iterable[Candle]]) -> Iterator[Candle]:
    """The candles of every stream, ordered by `completion_key`.

    Raises:
        CandleOrderError: while iterating, if a stream is out of order or two candles
            of one product complete at the same time.
    """
    previous: tuple[int, str] | None = None
    for candle in heapq.merge(*streams, key=completion_key):
        key = completion_key(candle)
        if previous is not None and key <= previous:
            raise CandleOrderError(
                f"candle {candle.product_id} ending {candle.end_ns} arrives after "
                f"{previous[1]} ending {previous[0]}: an input stream is out of order"
            )
        previous = key
        yield candle


async def as_async(source: Iterable[Candle]) -> AsyncIterator[Candle]:
    """`source` as an async iterator, for an engine loop written against the live face."""
    for candle in source:
        yield candle
