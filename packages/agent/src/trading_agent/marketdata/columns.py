"""One product's candles as columns, with `Candle` objects built only when asked for.

A year of one-minute bars is 525,600 candles. A backtest that skips the bars on which
nothing can happen reads a few per cent of them as `Candle`s; everything else
(indicators, regimes, the strategies' plans, the equity curve) wants whole columns.
Building 525,600 validated `Candle`s of five `Decimal`s each only to turn them back
into floats took most of a fast backtest's time, so `CandleColumns` keeps:

- `start_ns`, and the float64 column of each field (`floats`), for vectorized work;
- each field's exact decimal text, from which a `Candle` is built on first access
  (`columns[i]`, cached), and `scaled`: the field as exact integers times 10^-d, for
  exact sums and comparisons without Decimals.

It is a `Sequence[Candle]`, so code that walks candles one by one still works and
sees exactly the candles the strict reader would have returned. `columns_of` gives
the columns of any candle sequence (a list is converted once).
"""

from collections.abc import Callable, Iterator, Sequence
from decimal import Context, Decimal
from typing import Any, Final, TypeVar, overload

import numpy as np
import numpy.typing as npt

from trading_agent.domain.market import NS_PER_S, Candle

__all__ = ["FIELDS", "CandleColumns", "Scaled", "columns_of"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
ObjectArray = npt.NDArray[np.object_]
FIELDS: Final = ("open", "high", "low", "close", "volume")
_EXACT: Final = Context(prec=100_000, Emax=10**9, Emin=-(10**9))
_INT64_SAFE: Final = 10**18  # every int below it, times 9, still fits int64

Text = Callable[[int], str]  # the decimal text of one field at a bar index


class Scaled:
    """A field as exact integers: value[i] == ints[i] * 10**-decimals.

    `ints` is int64 where every value fits comfortably, else an object array of Python
    ints (exact, slower).
    """

    __slots__ = ("decimals", "ints")

    def __init__(self, decimals: int, ints: IntArray | ObjectArray) -> None:
        self.decimals = decimals
        self.ints = ints


class CandleColumns(Sequence[Candle]):
    """The candles of one product at one granularity, oldest first, as columns.

    Built by `read_candle_columns` (text from the file) or `columns_of` (from
    candles). Both give the same floats (float(Decimal) is correctly rounded, as is
    the file reader's parse) and the same candles.
    """

    def __init__(
        self,
        product_id: str,
        granularity_s: int,
        start_ns: IntArray,
        floats: dict[str, FloatArray],
        text: dict[str, Text],
        candles: Sequence[Candle] | None = None,
        scale: Callable[[str], Scaled | None] | None = None,
    ) -> None:
        self.product_id: Final = product_id
        self.granularity_s: Final = granularity_s
        self.start_ns: Final[IntArray] = _read_only(start_ns)
        self._floats = {name: _read_only(floats[name]) for name in FIELDS}
        self._text = text
        self._candles = candles
        self._scale = scale
        self._built: dict[int, Candle] = {}
        self._scaled: dict[str, Scaled] = {}

    @classmethod
    def empty(cls, product_id: str, granularity_s: int) -> "CandleColumns":
        """No bars of `product_id`."""
        nothing = np.zeros(0, dtype=np.float64)
        return cls(
            product_id,
            granularity_s,
            np.zeros(0, dtype=np.int64),
            dict.fromkeys(FIELDS, nothing),
            dict.fromkeys(FIELDS, _no_text),
            candles=[],
        )

    @property
    def end_ns(self) -> IntArray:
        ends: IntArray = self.start_ns + np.int64(self.granularity_s * NS_PER_S)
        return ends

    def floats(self, name: str) -> FloatArray:
        """The float64 column of `name` (read-only)."""
        return self._floats[name]

    def text(self, name: str, i: int) -> str:
        return self._text[name](i)

    def scaled(self, name: str) -> Scaled:
        """`name` as exact scaled integers (computed once per field)."""
        found = self._scaled.get(name)
        if found is None:
            found = self._scale(name) if self._scale is not None else None
            if found is None:
                found = _scale([self._text[name](i) for i in range(len(self))])
            self._scaled[name] = found
        return found

    def lowest(self, name: str, start: int, stop: int) -> Decimal:
        """The smallest value of `name` over bars [start, stop), exactly; the first
        of equal values, as `min` over the Decimals gives."""
        return self._extreme(name, start, stop, lowest=True)

    def highest(self, name: str, start: int, stop: int) -> Decimal:
        """The largest value of `name` over bars [start, stop), the first of equals."""
        return self._extreme(name, start, stop, lowest=False)

    def _extreme(self, name: str, start: int, stop: int, *, lowest: bool) -> Decimal:
        if not 0 <= start < stop <= len(self):
            raise IndexError(f"{self.product_id}: bars [{start}, {stop}) of {len(self)}")
        window = self.scaled(name).ints[start:stop]
        at = int(np.argmin(window) if lowest else np.argmax(window))
        return Decimal(self._text[name](start + at))

    def __len__(self) -> int:
        return len(self.start_ns)

    @overload
    def __getitem__(self, index: int) -> Candle: ...
    @overload
    def __getitem__(self, index: slice) -> list[Candle]: ...
    def __getitem__(self, index: int | slice) -> Candle | list[Candle]:
        if isinstance(index, slice):
            return [self._candle(i) for i in range(*index.indices(len(self)))]
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"{self.product_id}: candle {index} of {n}")
        return self._candle(index % n)

    def __iter__(self) -> Iterator[Candle]:
        if self._candles is not None:
            return iter(self._candles)
        return (self._built.get(i) or self._make(i) for i in range(len(self)))

    def _candle(self, i: int) -> Candle:
        if self._candles is not None:
            return self._candles[i]
        found = self._built.get(i)
        if found is None:
            found = self._built[i] = self._make(i)
        return found

    def _make(self, i: int) -> Candle:
        text = self._text
        return Candle(
            product_id=self.product_id,
            start_ns=int(self.start_ns[i]),
            granularity_s=self.granularity_s,
            open=Decimal(text["open"](i)),
            high=Decimal(text["high"](i)),
            low=Decimal(text["low"](i)),
            close=Decimal(text["close"](i)),
            volume=Decimal(text["volume"](i)),
        )

    def __repr__(self) -> str:
        return f"CandleColumns({self.product_id!r}, {self.granularity_s}s, {len(self)} bars)"


def columns_of(candles: Sequence[Candle]) -> CandleColumns:
    """The columns of one product's candles (in time order); `candles` itself if it
    already is columns.

    Raises:
        ValueError: no candles, or candles of more than one product or granularity.
    """
    if isinstance(candles, CandleColumns):
        return candles
    if not candles:
        raise ValueError("columns_of: no candles")
    first = candles[0]
    if any(
        c.product_id != first.product_id or c.granularity_s != first.granularity_s for c in candles
    ):
        raise ValueError(f"columns_of: candles of more than one series (first: {first})")
    listed = list(candles)
    floats = {
        name: np.array([float(getattr(c, name)) for c in listed], dtype=np.float64)
        for name in FIELDS
    }
    text = {name: _text_of(listed, name) for name in FIELDS}
    starts = np.array([c.start_ns for c in listed], dtype=np.int64)
    return CandleColumns(first.product_id, first.granularity_s, starts, floats, text, listed)


def _no_text(i: int) -> str:
    raise IndexError(f"candle {i} of an empty series")


def _text_of(candles: Sequence[Candle], name: str) -> Text:
    # str(Decimal) round-trips exactly: Decimal(str(d)) has d's sign, digits and exponent.
    return lambda i: str(getattr(candles[i], name))


def _scale(texts: Sequence[str]) -> Scaled:
    values = [Decimal(t) for t in texts]
    decimals = max(0, max((-_exponent(v) for v in values), default=0))
    ints = [int(v.scaleb(decimals, context=_EXACT)) for v in values]
    if all(-_INT64_SAFE < x < _INT64_SAFE for x in ints):
        return Scaled(decimals, np.array(ints, dtype=np.int64))
    out = np.empty(len(ints), dtype=object)
    out[:] = ints
    return Scaled(decimals, out)


def _exponent(x: Decimal) -> int:
    exponent = x.as_tuple().exponent
    if not isinstance(exponent, int):
        raise ValueError(f"{x} is not a finite number")
    return exponent


_Array = TypeVar("_Array", bound=npt.NDArray[Any])


def _read_only(a: _Array) -> _Array:
    """`a`, or a copy, that nobody can write: history does not change."""
    if a.flags.writeable:
        a = a.copy()
        a.flags.writeable = False
    return a
