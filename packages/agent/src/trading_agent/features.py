"""What the engine derives from each candle besides the strategies: regime and realized vol.

`Engine` asks a `FeatureSource` for the (regime, realized vol) of every candle it
sees. Two sources give the same answers:

- `IncrementalFeatures`, the default (live, paper, per-bar backtests): one
  `RegimeClassifier` and one `RealizedVol(VOL_WINDOW_BARS)` per product, updated by
  every candle; it must see every candle of a product, in order.
- `PrecomputedFeatures`, for replays that skip bars: both series built once per
  product from the whole history (`regime_batch.regime_codes`; the vol by the online
  algorithm replayed, so sizing sees the same floats), answered by the candle's start
  time, so it may be asked about any subset of the bars, in order or not. Built from
  `Candle`s or, skipping them, from float columns (`PrecomputedFeatures.from_arrays`).
"""

from collections.abc import Mapping, Sequence
from typing import Final, NamedTuple, Protocol

import numpy as np
import numpy.typing as npt

from trading_agent.domain.market import Candle
from trading_agent.domain.regime import Regime, RegimeClassifier, RegimeParams
from trading_agent.domain.regime_batch import REGIMES, regime_codes
from trading_agent.marketdata.columns import CandleColumns
from trading_agent.signals.incremental import RealizedVol
from trading_agent.signals.replayed import realized_vol_array

__all__ = [
    "VOL_WINDOW_BARS",
    "FeatureInputs",
    "FeatureInputsError",
    "FeatureSource",
    "IncrementalFeatures",
    "PrecomputedFeatures",
    "UnknownCandleError",
]

VOL_WINDOW_BARS: Final = 96


class UnknownCandleError(ValueError):
    """A precomputed source was asked about a candle it was not built from."""


class FeatureSource(Protocol):
    """The regime and the realized vol (None until warm) as of a candle's close."""

    def at(self, candle: Candle) -> tuple[Regime, float | None]: ...


class IncrementalFeatures:
    """Today's per-candle updates: each call consumes the candle (every one, in order)."""

    def __init__(self, products: Sequence[str], params: RegimeParams | None = None) -> None:
        self._classifiers = {p: RegimeClassifier(params or RegimeParams()) for p in products}
        self._vol = {p: RealizedVol(VOL_WINDOW_BARS) for p in products}

    def at(self, candle: Candle) -> tuple[Regime, float | None]:
        product = candle.product_id
        regime = self._classifiers[product].update(candle)
        vol = self._vol[product]
        vol.update(float(candle.close))
        return regime, vol.value


class FeatureInputsError(ValueError):
    """Columns that cannot be one product's bars: unequal lengths, or starts not increasing."""


class FeatureInputs(NamedTuple):
    """One product's bars as columns, in time order.

    `start_ns` int64, strictly increasing; `high`, `low`, `close` float64, each equal
    to `float(Decimal)` of the candle's value (what `RegimeClassifier` converts to).
    """

    start_ns: npt.NDArray[np.int64]
    high: npt.NDArray[np.float64]
    low: npt.NDArray[np.float64]
    close: npt.NDArray[np.float64]

    @classmethod
    def of(cls, candles: Sequence[Candle]) -> "FeatureInputs":
        """The columns of `candles` (one product, in time order); read off `CandleColumns`
        directly, so that no `Candle` is built for them."""
        if isinstance(candles, CandleColumns):
            return cls(
                start_ns=candles.start_ns,
                high=candles.floats("high"),
                low=candles.floats("low"),
                close=candles.floats("close"),
            )
        return cls(
            start_ns=np.array([c.start_ns for c in candles], dtype=np.int64),
            high=np.array([float(c.high) for c in candles], dtype=np.float64),
            low=np.array([float(c.low) for c in candles], dtype=np.float64),
            close=np.array([float(c.close) for c in candles], dtype=np.float64),
        )


class _Product(NamedTuple):
    start_ns: npt.NDArray[np.int64]
    codes: npt.NDArray[np.int8]  # into `REGIMES`
    vols: npt.NDArray[np.float64]  # NaN where the online vol is None


class PrecomputedFeatures:
    """Both features of every candle of `series`, looked up by (product, start_ns)."""

    def __init__(
        self, series: Mapping[str, Sequence[Candle]], params: RegimeParams | None = None
    ) -> None:
        inputs = {product: FeatureInputs.of(candles) for product, candles in series.items()}
        self._products = _built(inputs, params, series)

    @classmethod
    def from_arrays(
        cls, inputs: Mapping[str, FeatureInputs], params: RegimeParams | None = None
    ) -> "PrecomputedFeatures":
        """The same features from columns, without `Candle` objects.

        Raises:
            FeatureInputsError: a product's columns differ in length, or its starts do
                not strictly increase.
            SignalArgumentError: prices that are not bars (as `regime_series`).
        """
        self = cls.__new__(cls)
        self._products = _built(inputs, params, None)
        return self

    def at(self, candle: Candle) -> tuple[Regime, float | None]:
        """The regime and the realized vol (None until warm) as of `candle`'s close.

        Raises:
            UnknownCandleError: no bar of `candle`'s product starts at its start.
        """
        product = self._products.get(candle.product_id)
        if product is not None:
            starts, codes, vols = product  # plain unpacking: this runs once a visited bar
            start = candle.start_ns
            i = int(starts.searchsorted(start))
            if i < len(starts) and starts[i] == start:
                vol = float(vols[i])
                return REGIMES[codes[i]], None if vol != vol else vol
        raise UnknownCandleError(
            f"no precomputed features for {candle.product_id} @ {candle.start_ns}"
        )


def _built(
    inputs: Mapping[str, FeatureInputs],
    params: RegimeParams | None,
    candles: Mapping[str, Sequence[Candle]] | None,
) -> dict[str, _Product]:
    params = params or RegimeParams()
    out = {}
    for product, columns in inputs.items():
        start_ns = _checked(product, columns)
        codes = regime_codes(
            columns.high,
            columns.low,
            columns.close,
            params,
            candles=None if candles is None else candles[product],
        )
        out[product] = _Product(start_ns, codes, realized_vol_array(columns.close, VOL_WINDOW_BARS))
    return out


def _checked(product: str, columns: FeatureInputs) -> npt.NDArray[np.int64]:
    start_ns = np.asarray(columns.start_ns, dtype=np.int64)
    lengths = {len(start_ns), len(columns.high), len(columns.low), len(columns.close)}
    if len(lengths) != 1:
        raise FeatureInputsError(
            f"feature inputs for {product}: start_ns, high, low, close differ in length "
            f"({len(start_ns)}, {len(columns.high)}, {len(columns.low)}, {len(columns.close)})"
        )
    steps = np.diff(start_ns)
    if np.any(steps <= 0):
        i = int(np.argmax(steps <= 0)) + 1
        raise FeatureInputsError(
            f"feature inputs for {product}: start_ns[{i}] = {int(start_ns[i])} does not "
            f"follow start_ns[{i - 1}] = {int(start_ns[i - 1])}"
        )
    return start_ns
