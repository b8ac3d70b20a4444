"""The compound results of indicators: frozen values, so a caller cannot edit a signal."""

import msgspec

__all__ = ["BollingerBands", "DonchianChannel", "VarianceRatioValue"]


class BollingerBands(msgspec.Struct, frozen=True, kw_only=True):
    """Moving average `mid` and `mid` plus and minus k population standard deviations."""

    mid: float
    upper: float
    lower: float


class DonchianChannel(msgspec.Struct, frozen=True, kw_only=True):
    """Highest high (`upper`) and lowest low (`lower`) over a window of bars."""

    upper: float
    lower: float


class VarianceRatioValue(msgspec.Struct, frozen=True, kw_only=True):
    """Lo & MacKinlay's VR(q) and its homoskedastic z statistic (N(0, 1) under a random walk)."""

    ratio: float
    z: float
