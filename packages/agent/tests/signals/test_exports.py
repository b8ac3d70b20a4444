"""The public names other modules code against exist, and each face exports only what it defines."""

import inspect

from trading_agent.signals import incremental, vectorized

ONLINE = {"SMA", "EMA", "ZScore", "RSI", "RealizedVol", "EfficiencyRatio", "Bollinger", "ATR"}
ONLINE |= {"ADX", "Donchian", "VarianceRatio", "PercentileRank"}
VALUES = {"BollingerBands", "DonchianChannel", "VarianceRatioValue"}
BATCH = {"sma", "ema", "zscore", "bollinger", "rsi", "atr", "adx", "realized_vol"}
BATCH |= {"efficiency_ratio", "variance_ratio", "donchian", "percentile_rank"}


def test_incremental_when_imported_then_exports_exactly_the_indicator_objects() -> None:
    """`incremental.__all__` is the agreed set of classes and their result values."""
    assert set(incremental.__all__) == ONLINE | VALUES
    for name in ONLINE:
        obj = getattr(incremental, name)
        assert callable(obj.update)
        assert isinstance(inspect.getattr_static(obj, "value"), property)


def test_vectorized_when_imported_then_exports_exactly_the_functions() -> None:
    """`vectorized.__all__` is the agreed set of functions."""
    assert set(vectorized.__all__) == BATCH
    assert all(inspect.isfunction(getattr(vectorized, name)) for name in BATCH)
