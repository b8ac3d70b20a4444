"""The ledger: positions are the sum of fills; equity, peak and day start follow."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from trading_contract import ProductId, Side
from trading_gate.core.ledger import Ledger, apply_fill, equity_usd, mark

BTC = ProductId("BTC-USD")
DAY_NS = 86_400 * 1_000_000_000

fills = st.lists(
    st.tuples(
        st.sampled_from([BTC, ProductId("ETH-USD")]),
        st.sampled_from(list(Side)),
        st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal(10), places=8),
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal(100_000), places=2),
        st.decimals(min_value=Decimal(0), max_value=Decimal(50), places=8),
    ),
    max_size=40,
)


@given(fills=fills)
def test_ledger_when_fills_applied_then_positions_and_cash_are_their_exact_sums(
    fills: list,
) -> None:  # type: ignore[type-arg]
    """Each position is the signed sum of its fills; cash moves by notional and fees."""
    ledger = Ledger(starting_cash_usd=Decimal(1000))
    for product, side, size, price, fee in fills:
        ledger = apply_fill(ledger, product, side, size, price, fee)
    for product in {f[0] for f in fills}:
        expected = sum(
            (f[2] if f[1] is Side.BUY else -f[2] for f in fills if f[0] == product), Decimal(0)
        )
        assert ledger.positions_base[product] == expected
    flow = sum(
        ((-f[2] * f[3] if f[1] is Side.BUY else f[2] * f[3]) - f[4] for f in fills), Decimal(0)
    )
    assert ledger.cash_flow_usd == flow
    assert ledger.fees_usd == sum((f[4] for f in fills), Decimal(0))


def test_equity_when_marked_then_positions_at_mid_or_last_fill_price() -> None:
    """Equity values positions at the mid, or at the last fill price when no mid is known."""
    ledger = apply_fill(
        Ledger(starting_cash_usd=Decimal(1000)),
        BTC,
        Side.BUY,
        Decimal("0.01"),
        Decimal(50000),
        Decimal(1),
    )
    assert equity_usd(ledger, {}) == Decimal(1000) - Decimal(500) - Decimal(1) + Decimal(500)
    assert equity_usd(ledger, {BTC: Decimal(40000)}) == Decimal(1000) - Decimal(501) + Decimal(400)


def test_mark_when_equity_falls_and_day_rolls_then_peak_kept_and_day_start_reset() -> None:
    """The peak only rises; the day's starting equity resets at 00:00 UTC."""
    ledger = apply_fill(
        Ledger(starting_cash_usd=Decimal(1000)),
        BTC,
        Side.BUY,
        Decimal("0.01"),
        Decimal(50000),
        Decimal(0),
    )
    ledger, first = mark(ledger, {BTC: Decimal(50000)}, 10 * DAY_NS + 5)
    ledger, lower = mark(ledger, {BTC: Decimal(45000)}, 10 * DAY_NS + 6)
    ledger, next_day = mark(ledger, {BTC: Decimal(45000)}, 11 * DAY_NS)
    assert first.equity_peak_usd == Decimal(1000)
    assert lower.equity_peak_usd == Decimal(1000)
    assert lower.day_start_equity_usd == Decimal(1000)
    assert lower.equity_usd == Decimal(950)
    assert next_day.day_start_equity_usd == Decimal(950)
