"""What the engine derives from each candle besides the strategies: regime and realized vol.

`Engine` asks a `FeatureSource` for the (regime, realized vol) of every candle it
sees. Two sources give the same answers:

- `IncrementalFeatures`, the default (live, paper, per-bar backtests): one
  `RegimeClassifier` and one `RealizedVol(VOL_WINDOW_BARS)` per product, updated by
  every candle; it must see every candle of a product, in order.
- `PrecomputedFeatures`, for replays that skip bars: both series built once per
  product from the whole candle list (`regime_batch.regime_series_of`; the vol by the
  online object itself, so sizing sees the same floats), answered by the candle's
  start time, so it may be asked about any subset of the bars, in order or not.
"""

from collections.abc import Mapping, Sequence
from typing import Final, Protocol

from trading_agent.domain.market import Candle
from trading_agent.domain.regime import Regime, RegimeClassifier, RegimeParams
from trading_agent.domain.regime_batch import regime_series_of
from trading_agent.signals.incremental import RealizedVol
from trading_agent.signals.replayed import realized_vol_replayed

__all__ = [
    "VOL_WINDOW_BARS",
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


class PrecomputedFeatures:
    """Both features of every candle of `series`, looked up by (product, start_ns)."""

    def __init__(
        self, series: Mapping[str, Sequence[Candle]], params: RegimeParams | None = None
    ) -> None:
        params = params or RegimeParams()
        self._by_start: dict[str, dict[int, tuple[Regime, float | None]]] = {}
        for product, candles in series.items():
            regimes = regime_series_of(candles, params)
            vols = realized_vol_replayed([float(c.close) for c in candles], VOL_WINDOW_BARS)
            self._by_start[product] = {
                c.start_ns: (r, v) for c, r, v in zip(candles, regimes, vols, strict=True)
            }

    def at(self, candle: Candle) -> tuple[Regime, float | None]:
        try:
            return self._by_start[candle.product_id][candle.start_ns]
        except KeyError:
            raise UnknownCandleError(
                f"no precomputed features for {candle.product_id} @ {candle.start_ns}"
            ) from None
