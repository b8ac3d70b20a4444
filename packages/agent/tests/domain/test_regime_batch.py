"""regime_series gives the online RegimeClassifier's label at every bar."""

from decimal import Decimal
from pathlib import Path

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from trading_agent.domain.market import Candle
from trading_agent.domain.regime import UNKNOWN_REGIME, RegimeClassifier, RegimeParams
from trading_agent.domain.regime_batch import REGIMES, regime_codes, regime_series_of
from trading_agent.marketdata.replay import read_candle_csv

SHARED = Path(__file__).resolve().parents[5] / "shared" / "data"
SMALL = RegimeParams(vol_window=3, rank_window=6, adx_window=3, vr_window=8, vr_q=2, min_dwell=2)


def _online(candles: list[Candle], params: RegimeParams) -> list[str]:
    classifier = RegimeClassifier(params)
    return [classifier.update(c).label for c in candles]


def _candles(steps: list[tuple[int, int, int]]) -> list[Candle]:
    out, price = [], 1_000
    for i, (move, up, down) in enumerate(steps):
        opened, price = price, max(10, price + move)
        high, low = max(opened, price) + up, max(1, min(opened, price) - down)
        out.append(
            Candle(
                product_id="X",
                start_ns=i * 60_000_000_000,
                granularity_s=60,
                open=Decimal(opened) / 10,
                high=Decimal(high) / 10,
                low=Decimal(low) / 10,
                close=Decimal(price) / 10,
                volume=Decimal(1),
            )
        )
    return out


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(-40, 40), st.integers(0, 5), st.integers(0, 5)),
        min_size=1,
        max_size=120,
    )
)
def test_regime_series_when_random_bars_then_same_labels_as_online(
    steps: list[tuple[int, int, int]],
) -> None:
    """Random walks with repeated prices and flat runs: label for label."""
    candles = _candles(steps)
    assert [r.label for r in regime_series_of(candles, SMALL)] == _online(candles, SMALL)


def test_regime_series_when_real_hourly_btc_then_same_labels_as_online() -> None:
    """Coinbase BTC-USD 1h (8,000 bars), default parameters: label for label."""
    path = SHARED / "coinbase" / "BTC-USD_1h_20170701-20201211.csv.gz"
    candles = read_candle_csv(path, "BTC-USD")[:8_000]
    labels = [r.label for r in regime_series_of(candles, RegimeParams())]
    assert labels == _online(candles, RegimeParams())
    assert len(set(labels)) >= 4  # past the warm-up, the labels move


def test_regime_series_when_real_minute_btc_scaled_windows_then_same_labels() -> None:
    """Coinbase BTC-USD 1m (6,000 bars), windows scaled down: label for label."""
    path = SHARED / "coinbase" / "BTC-USD_1m_20201122-20201212.csv.gz"
    candles = read_candle_csv(path, "BTC-USD")[:6_000]
    params = RegimeParams(vol_window=60, rank_window=1_000, vr_window=240)
    assert [r.label for r in regime_series_of(candles, params)] == _online(candles, params)


@settings(max_examples=40, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.integers(-40, 40), st.integers(0, 5), st.integers(0, 5)),
        min_size=30,
        max_size=400,
    ),
    dwell=st.integers(1, 7),
    band=st.sampled_from([(0.5, 0.5), (0.8, 0.65), (0.95, 0.05)]),
)
def test_regime_series_when_dwell_and_hysteresis_vary_then_same_labels_as_online(
    steps: list[tuple[int, int, int]], dwell: int, band: tuple[float, float]
) -> None:
    """The change-to-change jumps of the dwell and the hysteresis band give the online
    labels for any dwell (1 shows every proposal) and narrow, default or wide bands."""
    enter, exit_ = band
    params = msgspec.structs.replace(SMALL, min_dwell=dwell, vol_enter_high=enter,
                                     vol_exit_high=exit_)  # fmt: skip
    candles = _candles(steps)
    assert [r.label for r in regime_series_of(candles, params)] == _online(candles, params)


def test_regime_codes_when_decoded_then_the_regime_series() -> None:
    """Codes index `REGIMES`; not-yet-warm bars are the very `UNKNOWN_REGIME` object."""
    candles = _candles([(k % 7 - 3, k % 3, k % 2) for k in range(200)])
    h, lo, c = ([float(getattr(x, f)) for x in candles] for f in ("high", "low", "close"))
    codes = regime_codes(h, lo, c, SMALL)
    assert [REGIMES[k] for k in codes] == regime_series_of(candles, SMALL)
    assert REGIMES[codes[0]] is UNKNOWN_REGIME
