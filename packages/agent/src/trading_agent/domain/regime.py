"""Regime labels: {trend, range, neutral} x {high, low} volatility (LEARNING.md section 3).

The classifier that produces them lives below the labels in this module.
"""

from enum import StrEnum

import msgspec

from trading_agent.domain.market import Candle
from trading_agent.signals.incremental import ADX, PercentileRank, RealizedVol, VarianceRatio

__all__ = [
    "UNKNOWN_REGIME",
    "Regime",
    "RegimeClassifier",
    "RegimeParams",
    "RegimeParamsError",
    "Trend",
    "Volatility",
    "dwell_step",
    "trend_label",
    "volatility_label",
]


class Trend(StrEnum):
    TREND = "trend"
    RANGE = "range"
    NEUTRAL = "neutral"


class Volatility(StrEnum):
    HIGH = "high"
    LOW = "low"


class Regime(msgspec.Struct, frozen=True, kw_only=True):
    """The label stored with every decision, computed from past data only."""

    trend: Trend
    volatility: Volatility

    @property
    def label(self) -> str:
        """The wire form, e.g. "range_low_vol" (the contract's `Reason.regime`)."""
        return f"{self.trend.value}_{self.volatility.value}_vol"


UNKNOWN_REGIME = Regime(trend=Trend.NEUTRAL, volatility=Volatility.LOW)
"""Before the classifier has enough history: no trend claimed, volatility not high."""


# ---------------------------------------------------------------- the classifier


class RegimeParamsError(ValueError):
    """Regime parameters that cannot work together; the message lists every problem."""


class RegimeParams(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The production classifier of LEARNING.md section 3. Windows count bars.

    The defaults assume 1-hour bars: 24 h of realized vol ranked over a trailing 90
    days (2160 bars), ADX(14), VR(12) over 240 bars (10 days; the variance ratio needs
    hundreds of bars), a 6-bar dwell. For 1-minute bars the caller scales the windows
    (e.g. vol_window = 1440, rank_window = 129600); the thresholds are unitless.
    """

    vol_window: int = 24
    rank_window: int = 2160
    vol_enter_high: float = 0.80  # percentile above which volatility becomes HIGH
    vol_exit_high: float = 0.65  # percentile below which HIGH becomes LOW again
    adx_window: int = 14
    adx_trend_above: float = 25.0
    adx_range_below: float = 20.0
    vr_window: int = 240
    vr_q: int = 12
    vr_z_trend_above: float = 1.0
    vr_z_range_below: float = -1.0
    min_dwell: int = 6  # bars a label is held before it may change

    def __post_init__(self) -> None:
        problems = _param_problems(self)
        if problems:
            raise RegimeParamsError("regime params: " + "; ".join(problems))

    @property
    def warmup_bars(self) -> int:
        """Bars before the first real label: every input must be warm.

        Realized vol needs vol_window + 1 bars, and its rank a full trailing window of
        rank_window earlier values; ADX needs 2 adx_window; VR vr_window + 1.
        """
        return max(self.vol_window + 1 + self.rank_window, 2 * self.adx_window, self.vr_window + 1)


def _param_problems(p: RegimeParams) -> list[str]:
    windows = {"vol_window": (p.vol_window, 2), "rank_window": (p.rank_window, 1)}
    windows |= {"adx_window": (p.adx_window, 1), "vr_q": (p.vr_q, 2), "min_dwell": (p.min_dwell, 1)}
    problems = [
        f"{name} must be an int >= {least}, got {value!r}"
        for name, (value, least) in windows.items()
        if isinstance(value, bool) or not isinstance(value, int) or value < least
    ]
    if not isinstance(p.vr_window, int) or p.vr_window <= p.vr_q:
        problems.append(f"vr_window must be an int > vr_q, got {p.vr_window!r}")
    if not 0.0 <= p.vol_exit_high <= p.vol_enter_high <= 1.0:
        problems.append(
            "needs 0 <= vol_exit_high <= vol_enter_high <= 1, "
            f"got {p.vol_exit_high!r} and {p.vol_enter_high!r}"
        )
    if not p.adx_range_below <= p.adx_trend_above:
        problems.append("adx_range_below must not exceed adx_trend_above")
    if not p.vr_z_range_below <= p.vr_z_trend_above:
        problems.append("vr_z_range_below must not exceed vr_z_trend_above")
    return problems


def trend_label(adx: float, vr_z: float, params: RegimeParams) -> Trend:
    """TREND if ADX > 25 confirmed by VR z > 1; RANGE if ADX < 20 or VR z < -1; else NEUTRAL.

    The two cases cannot overlap: TREND needs ADX and z above both RANGE thresholds.
    """
    if adx > params.adx_trend_above and vr_z > params.vr_z_trend_above:
        return Trend.TREND
    if adx < params.adx_range_below or vr_z < params.vr_z_range_below:
        return Trend.RANGE
    return Trend.NEUTRAL


def volatility_label(current: Volatility, percentile: float, params: RegimeParams) -> Volatility:
    """Hysteresis: LOW becomes HIGH above the p80 and HIGH returns to LOW below the p65,
    so a percentile between the two keeps whichever label holds."""
    if current is Volatility.LOW:
        return Volatility.HIGH if percentile > params.vol_enter_high else Volatility.LOW
    return Volatility.LOW if percentile < params.vol_exit_high else Volatility.HIGH


def dwell_step(shown: Regime, held: int, proposed: Regime, min_dwell: int) -> tuple[Regime, int]:
    """The label for this bar and how many bars it has been shown, this one included.

    `held` counts the bars `shown` has been shown so far; a different `proposed`
    label replaces it only once it has been shown `min_dwell` bars, so every label
    lasts at least `min_dwell` bars. A change held back is not queued: the next bar
    proposes afresh.
    """
    if proposed != shown and held >= min_dwell:
        return proposed, 1
    return shown, held + 1


class RegimeClassifier:
    """{trend, range, neutral} x {high, low vol} per complete candle, from past data only.

    Per bar: realized vol of the last `vol_window` closes is ranked (mid-rank) among
    the `rank_window` realized-vol values before it, and the rank drives
    `volatility_label`; ADX and the variance-ratio z of the closes drive
    `trend_label`; `dwell_step` holds each label `min_dwell` bars. Returns
    `UNKNOWN_REGIME` until every input is warm (`params.warmup_bars`); the first real
    label takes the volatility prior LOW of `UNKNOWN_REGIME` as its hysteresis state,
    and its dwell starts on that bar. A window of exactly equal returns has no
    variance ratio; it counts as no evidence (z = 0). One instance per product.
    """

    __slots__ = (
        "_adx",
        "_bars",
        "_held",
        "_last",
        "_params",
        "_rank",
        "_shown",
        "_vol",
        "_vr",
        "_warm",
    )

    def __init__(self, params: RegimeParams) -> None:
        self._params = params
        self._vol = RealizedVol(params.vol_window)
        self._rank = PercentileRank(params.rank_window)
        self._adx = ADX(params.adx_window)
        self._vr = VarianceRatio(params.vr_window, params.vr_q)
        self._bars = 0
        self._warm = False
        self._shown = UNKNOWN_REGIME
        self._held = 0
        self._last: Candle | None = None

    @property
    def params(self) -> RegimeParams:
        return self._params

    @property
    def is_warm(self) -> bool:
        return self._warm

    @property
    def regime(self) -> Regime:
        """The label of the last bar."""
        return self._shown

    def update(self, candle: Candle) -> Regime:
        """The regime as of the close of `candle`.

        Raises:
            ValueError: `candle` is of another product than the first one, or does not
                start after the previous candle (gaps are allowed).
        """
        last, self._last = self._last, candle
        if last is not None and (
            candle.product_id != last.product_id or candle.start_ns <= last.start_ns
        ):
            self._last = last
            raise ValueError(
                f"regime classifier: candle {candle.product_id} @ {candle.start_ns} does not "
                f"follow {last.product_id} @ {last.start_ns}"
            )
        close = float(candle.close)
        vol = self._vol.update(close)
        percentile = None if vol is None else self._rank.update(vol)
        adx = self._adx.update(float(candle.high), float(candle.low), close)
        ratio = self._vr.update(close)
        self._bars += 1
        if percentile is None or adx is None or self._bars <= self._params.vr_window:
            return UNKNOWN_REGIME
        proposed = Regime(
            trend=trend_label(adx, 0.0 if ratio is None else ratio.z, self._params),
            volatility=volatility_label(self._shown.volatility, percentile, self._params),
        )
        if self._warm:
            self._shown, self._held = dwell_step(
                self._shown, self._held, proposed, self._params.min_dwell
            )
        else:
            self._warm = True
            self._shown, self._held = proposed, 1
        return self._shown
