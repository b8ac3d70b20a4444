"""Sizing: risk over the stop distance, vol target, caps, rounding down, bounds on m.

Closed forms are worked by hand in each test; the properties check against exact
rational arithmetic (fractions.Fraction), which shares no code with Decimal contexts.
"""

from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent_stubs import T0_NS
from trading_agent.config import SizingParams
from trading_agent.domain.intents import Action, Signal
from trading_agent.domain.sizing import ConfidenceOutOfBounds, Sizing, size_entry

SAT = Decimal("0.00000001")


def params(**overrides: Any) -> SizingParams:
    fields: dict[str, Any] = {
        "risk_per_trade": Decimal("0.01"),
        "target_vol": Decimal("0.01"),
        "m_min": Decimal("0.25"),
        "max_notional_usd": Decimal("1000000"),
    }
    return SizingParams(**(fields | overrides))


def entry(price: str = "50000", stop: str | None = "49000") -> Signal:
    return Signal(
        strategy_id="mean_reversion",
        product_id="BTC-USD",
        action=Action.ENTER_LONG,
        decided_ns=T0_NS,
        reference_price=Decimal(price),
        stop_price=None if stop is None else Decimal(stop),
    )


def size(
    signal: Signal | None = None,
    *,
    equity: str = "10000",
    cash: str = "1000000",
    vol: float | None = None,
    sizing: SizingParams | None = None,
    m: str = "1",
    increment: Decimal = SAT,
    min_size: str = "0.0001",
) -> Sizing:
    return size_entry(
        signal or entry(),
        Decimal(equity),
        Decimal(cash),
        vol,
        sizing or params(),
        Decimal(m),
        increment,
        Decimal(min_size),
    )


def test_size_entry_with_stop_then_risk_over_distance_exactly() -> None:
    """10,000 USD x 1 % over a 1,000 USD stop distance is exactly 0.1 BTC."""
    result = size()

    assert result.size_base == Decimal("0.1")


def test_size_entry_with_confidence_then_scaled_by_m() -> None:
    """m = 0.5 halves the risk: 0.05 BTC."""
    assert size(m="0.5").size_base == Decimal("0.05")


def test_size_entry_when_quotient_not_on_increment_then_rounded_down() -> None:
    """100 USD over 3,000 USD is 0.0333...; at a 0.001 increment that is 0.033, never 0.034."""
    result = size(entry(stop="47000"), increment=Decimal("0.001"))

    assert result.size_base == Decimal("0.033")
    assert result.size_base * 3000 <= 100 < (result.size_base + Decimal("0.001")) * 3000


def test_size_entry_when_notional_cap_binds_then_capped() -> None:
    """A 1,000 USD cap at 50,000 USD allows 0.02 BTC, below the 0.1 risk size."""
    result = size(sizing=params(max_notional_usd=Decimal(1000)))

    assert result.size_base == Decimal("0.02")
    assert "max notional" in result.reason


def test_size_entry_when_cash_binds_then_capped_by_cash() -> None:
    """500 USD of cash buys 0.01 BTC at 50,000, below both other limits."""
    result = size(cash="500")

    assert result.size_base == Decimal("0.01")
    assert "cash" in result.reason


def test_size_entry_without_stop_then_volatility_target() -> None:
    """10,000 x 1 % target over 2 % realized vol is 5,000 USD: 0.1 BTC at 50,000."""
    result = size(entry(stop=None), vol=0.02)

    assert result.size_base == Decimal("0.1")


@pytest.mark.parametrize("vol", [None, 0.0, -0.01, float("nan"), float("inf")])
def test_size_entry_without_stop_or_usable_vol_then_no_order(vol: float | None) -> None:
    """No stop and no usable volatility: nothing to size against, so no order."""
    result = size(entry(stop=None), vol=vol)

    assert result.size_base is None
    assert "realized volatility" in result.reason


@pytest.mark.parametrize("m", ["0.25", "1"])
def test_size_entry_when_confidence_at_a_bound_then_accepted(m: str) -> None:
    """m_min and 1 themselves are inside the bounds."""
    assert size(m=m).size_base is not None


@pytest.mark.parametrize("m", ["0.2499", "1.0001", "0", "-1"])
def test_size_entry_when_confidence_outside_bounds_then_refused(m: str) -> None:
    """A confidence outside [m_min, 1] is a bug: an error, not a clamp."""
    with pytest.raises(ConfidenceOutOfBounds, match=r"outside \[0.25, 1\]"):
        size(m=m)


def test_size_entry_when_size_below_minimum_then_no_order() -> None:
    """0.02 BTC under a 0.05 minimum: no order, and the reason says so."""
    result = size(sizing=params(max_notional_usd=Decimal(1000)), min_size="0.05")

    assert result.size_base is None
    assert "below the minimum 0.05" in result.reason


def test_size_entry_when_size_equals_minimum_then_order() -> None:
    """Exactly the minimum is an order."""
    assert size(min_size="0.1").size_base == Decimal("0.1")


def test_size_entry_when_rounds_to_zero_then_no_order() -> None:
    """0.00001 BTC at a 0.001 increment rounds to 0: no order even with no minimum."""
    result = size(equity="1", increment=Decimal("0.001"), min_size="0")  # 0.00001 BTC

    assert result.size_base is None


@pytest.mark.parametrize("equity", ["0", "-5"])
def test_size_entry_when_no_equity_then_no_order(equity: str) -> None:
    """No equity, no risk budget."""
    assert size(equity=equity).size_base is None


def test_size_entry_with_fixed_size_then_exactly_that_size_whatever_m() -> None:
    """The reference strategy's fixed size is neither risk-sized nor scaled by m."""
    fixed = params(fixed_size_base=Decimal("0.001"))

    assert size(sizing=fixed, m="0.25").size_base == Decimal("0.001")
    assert size(entry(stop=None), sizing=fixed).size_base == Decimal("0.001")


@pytest.mark.parametrize(
    ("cap", "cash", "why"), [("49.99", "100000", "max notional"), ("100000", "49.99", "cash")]
)
def test_size_entry_when_fixed_size_does_not_fit_then_no_order(
    cap: str, cash: str, why: str
) -> None:
    """0.001 BTC at 50,000 is 50 USD: above a 49.99 cap or cash, no smaller order instead."""
    fixed = params(fixed_size_base=Decimal("0.001"), max_notional_usd=Decimal(cap))

    result = size(sizing=fixed, cash=cash)

    assert result.size_base is None
    assert why in result.reason


@pytest.mark.parametrize("stop", ["50000", "50001", "-1"])
def test_size_entry_when_stop_not_below_entry_then_refused(stop: str) -> None:
    """A long's stop at or above its entry (or negative) is a strategy bug."""
    with pytest.raises(ValueError, match="stop must be in"):
        size(entry(stop=stop))


def test_size_entry_when_exit_signal_then_refused() -> None:
    """Exits sell the whole position; sizing one is a wiring bug."""
    exit_ = Signal(
        strategy_id="x",
        product_id="BTC-USD",
        action=Action.EXIT_LONG,
        decided_ns=T0_NS,
        reference_price=Decimal(50000),
    )
    with pytest.raises(ValueError, match="only entries"):
        size(exit_)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"increment": Decimal(0)}, "increment"),
        ({"min_size": "-1"}, "minimum size"),
        ({"equity": "NaN"}, "equity_usd"),
        ({"cash": "Infinity"}, "cash_usd"),
    ],
)
def test_size_entry_when_bad_arguments_then_refused(kwargs: dict[str, Any], match: str) -> None:
    """Arguments no caller should pass are errors naming the argument."""
    with pytest.raises(ValueError, match=match):
        size(**kwargs)


# ---------------------------------------------------------------- properties

money = st.decimals(min_value="1", max_value="10000000", places=2, allow_nan=False)
fractions_ = st.decimals(min_value="0.0001", max_value="0.1", places=4, allow_nan=False)
increments = st.sampled_from([Decimal("1E-8"), Decimal("0.0001"), Decimal("0.01"), Decimal(1)])


@st.composite
def stop_cases(draw: st.DrawFn) -> tuple[Signal, Decimal, Decimal, SizingParams, Decimal, Decimal]:
    price = draw(st.decimals(min_value="0.01", max_value="200000", places=2))
    stop = draw(st.decimals(min_value="0", max_value=price - Decimal("0.01"), places=2))
    m_min = draw(st.decimals(min_value="0.05", max_value="1", places=2))
    m = draw(st.decimals(min_value=m_min, max_value="1", places=4))
    sizing = params(risk_per_trade=draw(fractions_), m_min=m_min, max_notional_usd=draw(money))
    return entry(str(price), str(stop)), draw(money), draw(money), sizing, m, draw(increments)


@given(stop_cases())
def test_size_entry_with_stop_then_never_over_risk_cap_or_cash_and_maximal(
    case: tuple[Signal, Decimal, Decimal, SizingParams, Decimal, Decimal],
) -> None:
    """size x distance <= equity x risk x m, size x price <= cash and the cap, and one more
    increment would break one of them: the largest whole number of increments that fits."""
    signal, equity, cash, sizing, m, increment = case
    assert signal.stop_price is not None

    result = size_entry(signal, equity, cash, None, sizing, m, increment, Decimal(0))

    q = Fraction(result.size_base or 0)
    price = Fraction(signal.reference_price)
    distance = price - Fraction(signal.stop_price)
    risk = Fraction(equity) * Fraction(sizing.risk_per_trade) * Fraction(m)
    cap, cash_f = Fraction(sizing.max_notional_usd), Fraction(cash)
    assert q * distance <= risk
    assert q * price <= cash_f
    assert q * price <= cap
    assert (q / Fraction(increment)).denominator == 1
    bigger = q + Fraction(increment)
    assert bigger * distance > risk or bigger * price > cash_f or bigger * price > cap


@given(
    price=st.decimals(min_value="0.01", max_value="200000", places=2),
    vol=st.floats(min_value=1e-6, max_value=2.0),
    equity=money,
    cash=money,
    m=st.decimals(min_value="0.25", max_value="1", places=3),
    increment=increments,
)
def test_size_entry_with_vol_target_then_never_over_target_notional_or_cash(
    price: Decimal, vol: float, equity: Decimal, cash: Decimal, m: Decimal, increment: Decimal
) -> None:
    """notional <= equity x target_vol x m / vol (vol read as its shortest repr), and <= cash."""
    signal = entry(str(price), None)

    result = size_entry(signal, equity, cash, vol, params(), m, increment, Decimal(0))

    notional = Fraction(result.size_base or 0) * Fraction(price)
    target = Fraction(equity) * Fraction(params().target_vol) * Fraction(m) / Fraction(repr(vol))
    assert notional <= target
    assert notional <= Fraction(cash)
