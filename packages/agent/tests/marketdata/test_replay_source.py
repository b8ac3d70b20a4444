"""Sources: replay delivers every candle once in completion order; sync and async agree."""

import asyncio

import pytest

from trading_agent.domain.market import NS_PER_S, Candle
from trading_agent.marketdata import synthetic as syn
from trading_agent.marketdata.candles import CandleSeries, OutOfOrderCandleError
from trading_agent.marketdata.replay import ReplaySource
from trading_agent.marketdata.source import (
    AsyncCandleSource,
    CandleOrderError,
    CandleSource,
    as_async,
    merge_by_completion,
)

T0_NS = 1_704_067_200 * NS_PER_S


def market(product_id: str, granularity_s: int) -> syn.SyntheticMarket:
    return syn.SyntheticMarket(product_id=product_id, granularity_s=granularity_s, start_ns=T0_NS)


def three_products() -> dict[str, list[Candle]]:
    """BTC 1m with a gap, ETH 5m and SOL 1m: end times collide across products."""
    btc = syn.gbm(120, 0.0, 0.001, 1, market=market("BTC-USD", 60))
    return {
        "BTC-USD": btc[:30] + btc[45:],
        "ETH-USD": syn.gbm(30, 0.0, 0.002, 2, market=market("ETH-USD", 300)),
        "SOL-USD": syn.gbm(90, 0.0, 0.003, 3, market=market("SOL-USD", 60)),
    }


def test_replay_when_several_products_then_every_candle_once_in_completion_order() -> None:
    """The merge equals a sort of all candles by (end_ns, product_id)."""
    streams = three_products()

    delivered = list(ReplaySource(streams))

    everything = [c for candles in streams.values() for c in candles]
    assert delivered == sorted(everything, key=lambda c: (c.end_ns, c.product_id))
    assert len(ReplaySource(streams)) == len(everything)


def test_replay_when_iterated_twice_then_same_candles() -> None:
    """A replay restarts from the beginning: two runs see the same data."""
    source = ReplaySource(three_products())

    assert list(source) == list(source)


def test_replay_when_a_product_has_a_gap_then_it_stays_a_gap() -> None:
    """Replay neither fills nor hides gaps: 15 BTC minutes are missing and reported."""
    source = ReplaySource(three_products())

    [gap] = source.gaps["BTC-USD"]

    assert (gap.start_ns, gap.missing) == (T0_NS + 30 * 60 * NS_PER_S, 15)
    assert source.gaps["ETH-USD"] == source.gaps["SOL-USD"] == []
    btc_starts = [c.start_ns for c in source if c.product_id == "BTC-USD"]
    assert not any(gap.start_ns <= start < gap.end_ns for start in btc_starts)
    assert len(btc_starts) == 105


def test_replay_when_candles_out_of_order_then_refused_at_construction() -> None:
    """Ordering problems fail when the replay is built, not halfway through a run."""
    streams = three_products()
    streams["SOL-USD"] = streams["SOL-USD"][::-1]

    with pytest.raises(OutOfOrderCandleError):
        ReplaySource(streams)


def test_replay_when_key_names_another_product_or_is_empty_then_value_error() -> None:
    """The mapping key must be the candles' product, and a product needs candles."""
    streams = three_products()

    with pytest.raises(ValueError, match="key 'ETH-USD' holds BTC-USD candles"):
        ReplaySource({"ETH-USD": streams["BTC-USD"]})
    with pytest.raises(ValueError, match="no candles for 'BTC-USD'"):
        ReplaySource({"BTC-USD": []})


def test_replay_when_given_series_then_uses_them_as_they_are() -> None:
    """A CandleSeries can be passed directly and comes back from series()."""
    series = CandleSeries.from_candles(three_products()["ETH-USD"])

    source = ReplaySource({"ETH-USD": series})

    assert source.series("ETH-USD") is series
    assert source.products == ("ETH-USD",)


def test_merge_when_a_stream_is_out_of_order_then_candle_order_error() -> None:
    """The merge checks what it delivers instead of trusting its inputs."""
    candles = three_products()["SOL-USD"]

    with pytest.raises(CandleOrderError, match="out of order"):
        list(merge_by_completion([candles[::-1]]))


def test_sources_when_checked_then_replay_is_sync_and_as_async_is_async() -> None:
    """Replay satisfies CandleSource; as_async gives the live face."""
    source = ReplaySource(three_products())

    assert isinstance(source, CandleSource)
    assert isinstance(as_async(source), AsyncCandleSource)


def test_as_async_when_consumed_then_same_candles_as_sync() -> None:
    """An engine loop on the async face sees exactly what the sync replay yields."""
    source = ReplaySource(three_products())

    async def collect() -> list[Candle]:
        return [c async for c in as_async(source)]

    assert asyncio.run(collect()) == list(source)
