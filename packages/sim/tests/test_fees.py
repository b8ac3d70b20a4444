"""Fee tiers by trailing 30-day volume, fee rounding, and the engine's config checks."""

from decimal import Decimal
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hyp

import sim_stubs as st
import trading_sim as s
from sim_stubs import MINUTE, D, Venue, bar, market
from trading_sim.matching.book import EngineState, Traded
from trading_sim.matching.book import _in_time_order as book_in_time_order
from trading_sim.matching.engine import _tier as engine_tier
from trading_sim.matching.fees import charge

DAY_MINUTES = 1_440


@pytest.mark.parametrize(
    ("volume", "tier"),
    [
        ("0", "intro_1"),
        ("999.99", "intro_1"),
        ("1000", "intro_2"),
        ("10000", "advanced_1"),
        ("99999.99", "advanced_2"),
        ("1000000000", "vip_4"),
    ],
)
def test_tier_for_when_volume_then_highest_tier_reached(volume: str, tier: str) -> None:
    """A tier applies from its minimum volume on (inclusive)."""
    assert s.tier_for(s.COINBASE_ADVANCED_SPOT, D(volume)).name == tier


def test_coinbase_schedule_when_lowest_tier_then_published_intro_rates() -> None:
    """The default lowest tier is Coinbase's published 0.60 % maker / 1.20 % taker."""
    lowest = s.COINBASE_ADVANCED_SPOT.tiers[0]

    assert (lowest.maker_rate, lowest.taker_rate) == (D("0.006"), D("0.012"))


def test_submit_when_prior_volume_configured_then_order_gets_that_tiers_rates() -> None:
    """Volume done elsewhere counts toward the tier; rates are fixed on the order."""
    venue = Venue.open(st.config(prior_volume_quote=D(50_000)))

    venue.submit(market(size=D("0.5")))

    filled = venue.last("o1")
    assert (filled.maker_rate, filled.taker_rate) == (D("0.0015"), D("0.0025"))
    assert filled.fees == D("0.125")  # 50 * 0.0025


def _busy_bar(minute: int) -> s.Bar:
    return bar(minute, volume=D(200))  # 20 BTC of budget at 100


def test_submit_when_own_fills_reach_next_tier_then_later_orders_pay_less() -> None:
    """Our own fills in the trailing window move us up the table."""
    venue = Venue.open(market=False)
    venue.bar(_busy_bar(0))
    venue.submit(market(size=D(10)))  # 1000 USD of volume

    venue.submit(market(order_id="o2", size=D("0.1")))

    assert venue.last("o2").taker_rate == D("0.0075")


def test_submit_when_fills_leave_the_window_then_tier_falls_back() -> None:
    """Fills older than 30 days stop counting."""
    venue = Venue.open(market=False)
    venue.bar(_busy_bar(0))
    venue.submit(market(size=D(10)))
    later = 31 * DAY_MINUTES
    venue.bar(_busy_bar(later))

    venue.submit(market(order_id="o2", size=D("0.1")), now_ns=st.at(later + 1))

    assert venue.last("o2").taker_rate == D("0.012")


def test_submit_when_custom_schedule_then_its_rates_apply() -> None:
    """The tier table is configuration."""
    flat = s.FeeSchedule(
        tiers=(
            s.FeeTier(
                name="flat", min_volume_quote=D(0), maker_rate=D("0.001"), taker_rate=D("0.002")
            ),
        )
    )
    venue = Venue.open(st.config(fees=flat))

    venue.submit(market(size=D("0.5")))

    assert venue.fills()[0].fee == D("0.1")


def test_charge_when_many_tiny_fills_then_order_total_is_rounded_once() -> None:
    """Each fill pays the rounded-up accrual minus what was charged: no drift, no undercharge."""
    accrued, charged, fees = D(0), D(0), []
    for _ in range(3):
        fee, accrued, charged = charge(accrued, charged, D("0.0000001"), D("0.01"), D("1e-8"))
        fees.append(fee)

    assert fees == [D("1e-8"), D(0), D(0)]
    assert (accrued, charged) == (D("3e-9"), D("1e-8"))


def test_fill_when_fee_has_many_digits_then_rounded_up_to_fee_increment() -> None:
    """Fees are rounded up to the 1e-8 quantum."""
    venue = Venue.open()

    venue.submit(market(size=D("0.00012347")))

    assert venue.fills()[0].fee == D("0.00014817")  # 0.012347 * 0.012 = 0.000148164


def _tier(minimum: str, maker: str = "0.001", taker: str = "0.002") -> s.FeeTier:
    return s.FeeTier(
        name=f"t{minimum}", min_volume_quote=D(minimum), maker_rate=D(maker), taker_rate=D(taker)
    )


@pytest.mark.parametrize(
    "tiers",
    [
        pytest.param((), id="empty"),
        pytest.param((_tier("10"),), id="first_not_zero"),
        pytest.param((_tier("0"), _tier("0")), id="not_ascending"),
        pytest.param((_tier("0", maker="0.003"),), id="maker_above_taker"),
        pytest.param((_tier("0", maker="-0.001"),), id="negative_rebate"),
    ],
)
def test_fee_schedule_when_inconsistent_then_value_error(tiers: tuple[s.FeeTier, ...]) -> None:
    """A schedule must be usable as is: ordered, starting at 0, maker <= taker."""
    with pytest.raises(ValueError, match="bad fee schedule"):
        s.FeeSchedule(tiers=tiers)


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"participation": D(0)}, id="no_participation"),
        pytest.param({"participation": D("1.5")}, id="participation_above_one"),
        pytest.param({"spread_bps": D(-1)}, id="negative_spread"),
        pytest.param({"slippage_bps": D(10_000)}, id="slippage_whole_price"),
        pytest.param({"fee_increment": D(0)}, id="zero_fee_increment"),
        pytest.param(
            {"products": (s.ProductSpec.spot("BTC-USD"), s.ProductSpec.spot("BTC-USD"))},
            id="duplicate_product",
        ),
    ],
)
def test_engine_config_when_out_of_range_then_value_error(overrides: dict[str, Any]) -> None:
    """Config values are checked when the config is built."""
    with pytest.raises(ValueError, match="bad engine config"):
        s.EngineConfig(**overrides)


@pytest.mark.parametrize("product_id", ["BTCUSD", "BTC-", "-USD", "BTC-USD-X"])
def test_product_spec_when_id_not_base_quote_then_value_error(product_id: str) -> None:
    """Product ids are split into currencies once, at config time."""
    with pytest.raises(ValueError, match="BASE-QUOTE"):
        s.ProductSpec.spot(product_id)


def test_product_spec_when_increment_not_positive_then_value_error() -> None:
    """Increments must be positive."""
    with pytest.raises(ValueError, match="increments"):
        s.ProductSpec.spot("BTC-USD", price_increment=Decimal(0))


def test_new_state_when_negative_balance_then_value_error() -> None:
    """An account cannot start below zero."""
    with pytest.raises(ValueError, match="not negative"):
        s.new_state(st.config(), {"USD": D(-1)})


def test_bar_end_when_no_close_then_open() -> None:
    """A bar without a close is stamped at its open."""
    assert bar(0, close_ns=None).end_ns == st.T0
    assert bar(0).end_ns == st.T0 + MINUTE


# ---------------------------------------------------------------- the running fee window


@settings(max_examples=200, deadline=None)
@given(
    steps=hyp.lists(
        hyp.tuples(
            hyp.integers(0, 40 * 24 * 60),  # minutes from the start: past a 30-day window
            hyp.decimals(D("0.01"), D("5000"), places=2),
            hyp.booleans(),  # price an order now, or record a fill
        ),
        max_size=60,
    )
)
def test_tier_when_window_kept_running_then_same_as_summing_it_afresh(
    steps: list[tuple[int, Decimal, bool]],
) -> None:
    """The engine keeps the window's fills and their sum as fills come and go; at every
    moment its volume and tier are those of a fresh sum over the fills still inside
    the window. The engine's clock never goes back, so the steps come in time order."""
    state = EngineState(config=s.EngineConfig(), balances={})
    fills: list[tuple[int, Decimal]] = []
    window = state.config.fees.window_ns
    for minute, notional, price_now in sorted(steps, key=lambda step: step[0]):
        now = minute * MINUTE
        if price_now:
            tier, state = engine_tier(state, now)
            inside = [n for ts, n in fills if ts > now - window]
            volume = state.config.prior_volume_quote + sum(inside, D(0))
            assert state.traded_volume == sum(inside, D(0))
            assert tier == s.tier_for(state.config.fees, volume)
            assert [t.ts_ns for t in state.traded] == sorted(t.ts_ns for t in state.traded)
        else:
            fills.append((now, notional))
            state = msgspec.structs.replace(
                state,
                traded=book_in_time_order(state.traded, Traded(ts_ns=now, notional=notional)),
                traded_volume=state.traded_volume + notional,
            )


def test_window_when_a_fill_arrives_out_of_time_order_then_it_is_kept_in_order() -> None:
    """The window stays sorted, so expiring its oldest fills is a cut at one index."""
    kept: tuple[Traded, ...] = ()
    for ts in (5, 9, 7, 9, 1):
        kept = book_in_time_order(kept, Traded(ts_ns=ts, notional=D(ts)))
    assert [t.ts_ns for t in kept] == [1, 5, 7, 9, 9]
