"""The portfolio fold: average cost, exact cash and P&L identities, idempotent replay."""

from collections.abc import Sequence
from decimal import Decimal, Inexact, localcontext
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent_stubs import T0_NS, fill
from trading_agent.domain.portfolio import (
    COST_QUANTUM_USD,
    FillError,
    MissingMarkError,
    OversellError,
    Portfolio,
    apply_fill,
    mark,
    open_portfolio,
    position,
)
from trading_agent.strategies.base import Position
from trading_contract import Fill, Side

START = Decimal("10000")
PRODUCTS = ("BTC-USD", "ETH-USD")


def fold(fills: Sequence[Fill], start: Decimal = START) -> Portfolio:
    book = open_portfolio(start)
    for f in fills:
        book = apply_fill(book, f)
    return book


def buy(trade_id: str, price: str, size: str, fee: str = "0", **kw: object) -> Fill:
    return fill(trade_id=trade_id, price=Decimal(price), size=Decimal(size), fee=Decimal(fee), **kw)


def sell(trade_id: str, price: str, size: str, fee: str = "0", **kw: object) -> Fill:
    return buy(trade_id, price, size, fee, side=Side.SELL, **kw)


# ---------------------------------------------------------------- worked examples


def test_apply_fill_when_two_buys_then_average_cost_and_first_entry_time() -> None:
    """1 @ 100 then 1 @ 200 holds 2 at an average 150, entered at the first fill."""
    book = fold([buy("a", "100", "1", event_ns=T0_NS), buy("b", "200", "1", event_ns=T0_NS + 5)])

    assert position(book, "BTC-USD") == Position(
        base_size=Decimal(2), entry_price=Decimal(150), entry_ns=T0_NS
    )
    assert book.cash_usd == START - 300


def test_apply_fill_when_partial_sell_then_average_kept_and_gain_realized_net_of_fees() -> None:
    """Selling 1 of 2 (avg 150) at 180 realizes 30 less both fees; the rest keeps avg 150."""
    book = fold(
        [buy("a", "100", "1", "0.5"), buy("b", "200", "1", "0.5"), sell("c", "180", "1", "0.25")]
    )

    assert book.realized_pnl_usd == Decimal("30") - Decimal("1.25")
    assert book.fees_usd == Decimal("1.25")
    assert position(book, "BTC-USD").entry_price == Decimal(150)
    assert book.cash_usd == START - 300 - 1 + 180 - Decimal("0.25")


def test_apply_fill_when_sold_back_to_flat_then_flat_position_and_round_trip_pnl() -> None:
    """A full exit leaves no holding; realized is proceeds - cost - all fees."""
    book = fold([buy("a", "50000", "0.01", "3"), sell("b", "51000", "0.01", "3.06")])

    assert position(book, "BTC-USD") == Position()
    assert book.holdings == {}
    assert book.realized_pnl_usd == Decimal("510") - Decimal("500") - Decimal("6.06")


def test_apply_fill_when_flat_again_then_next_buy_opens_with_new_entry_time() -> None:
    """After a round trip, the entry time is that of the new opening fill."""
    book = fold(
        [
            buy("a", "100", "1", event_ns=T0_NS),
            sell("b", "101", "1", event_ns=T0_NS + 1),
            buy("c", "102", "1", event_ns=T0_NS + 2),
        ]
    )

    assert position(book, "BTC-USD").entry_ns == T0_NS + 2


def test_apply_fill_when_selling_more_than_held_then_oversell_error() -> None:
    """Spot has no shorts: selling 2 of 1 is refused, naming the fill."""
    book = fold([buy("a", "100", "1")])

    with pytest.raises(OversellError, match="fill b sells 2 BTC-USD but only 1 is held"):
        apply_fill(book, sell("b", "100", "2"))


def test_apply_fill_when_selling_while_flat_then_oversell_error() -> None:
    """A sell with nothing held is an oversell too."""
    with pytest.raises(OversellError, match="only 0 is held"):
        apply_fill(open_portfolio(START), sell("a", "100", "1"))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"fee_currency": "BTC"}, "fee currency BTC"),
        ({"product_id": "BTC-EUR"}, "got quote EUR"),
        ({"fee": Decimal("-0.01")}, "fee must be >= 0"),
        ({"price": Decimal("NaN")}, "must be finite"),
    ],
)
def test_apply_fill_when_fill_unaccountable_then_fill_error(
    overrides: dict[str, object], message: str
) -> None:
    """Non-USD quotes or fees, negative fees and non-finite numbers are refused."""
    with pytest.raises(FillError, match=message):
        apply_fill(open_portfolio(START), fill(**overrides))


def test_apply_fill_when_same_trade_id_again_then_same_portfolio() -> None:
    """A replayed fill is ignored: the very same object comes back."""
    book = fold([buy("a", "100", "1")])

    assert apply_fill(book, buy("a", "100", "1")) is book


def test_apply_fill_when_same_trade_id_on_other_product_then_both_count() -> None:
    """Trade ids are per product on Coinbase, so the key is (product, trade id)."""
    book = fold([buy("7", "100", "1"), buy("7", "10", "1", product_id="ETH-USD")])

    assert set(book.holdings) == {"BTC-USD", "ETH-USD"}


def test_apply_fill_when_caller_context_is_coarse_then_result_unchanged() -> None:
    """The fold uses its own decimal context, not the caller's (3 digits would round)."""
    fills = [buy("a", "50000.12", "0.00012345", "0.0370"), sell("b", "50100.01", "0.0001", "0.03")]
    expected = fold(fills)

    with localcontext() as ctx:
        ctx.prec = 3
        coarse = fold(fills)

    assert coarse == expected


def test_apply_fill_when_exact_product_impossible_then_raises_instead_of_rounding() -> None:
    """Money is exact or the fold stops: a 100-digit notional is never silently rounded."""
    digits = "1." + "3" * 60
    with pytest.raises(Inexact):
        apply_fill(open_portfolio(START), fill(price=Decimal(digits), size=Decimal(digits)))


def test_open_portfolio_when_negative_cash_then_value_error() -> None:
    """A book cannot start in debt."""
    with pytest.raises(ValueError, match="starting cash"):
        open_portfolio(Decimal("-1"))


def test_mark_when_held_then_equity_exposure_and_unrealized_by_product() -> None:
    """2 BTC at avg 150 marked at 160: value 320, unrealized +20, equity cash + 320."""
    book = fold([buy("a", "100", "1", "1"), buy("b", "200", "1", "1")])

    v = mark(book, {"BTC-USD": Decimal(160), "ETH-USD": Decimal(3000)})

    assert v.gross_exposure_usd == Decimal(320)
    assert v.unrealized_by_product == {"BTC-USD": Decimal(20)}
    assert v.equity_usd == START - 302 + 320
    assert v.realized_pnl_usd == Decimal(-2)


def test_mark_when_held_product_has_no_mark_then_missing_mark_error() -> None:
    """A valuation needs a price for everything held."""
    with pytest.raises(MissingMarkError, match="BTC-USD"):
        mark(fold([buy("a", "100", "1")]), {"ETH-USD": Decimal(1)})


def test_mark_when_price_not_positive_then_value_error() -> None:
    """A zero mark is a broken feed, not a valuation."""
    with pytest.raises(ValueError, match="finite price > 0"):
        mark(fold([buy("a", "100", "1")]), {"BTC-USD": Decimal(0)})


# ---------------------------------------------------------------- properties

_STEP = st.tuples(
    st.sampled_from(PRODUCTS),
    st.sampled_from(["buy", "sell", "close"]),
    st.integers(1, 10**9),  # size in 1e-8 lots
    st.integers(1, 10**8),  # price in cents
    st.integers(0, 10**6),  # fee in 1e-4 USD
)


@st.composite
def fill_sequences(draw: st.DrawFn) -> list[Fill]:
    """Random fills on two products that never sell more than is held."""
    held = dict.fromkeys(PRODUCTS, 0)
    fills: list[Fill] = []
    for i, (product, kind, lots, cents, fee) in enumerate(draw(st.lists(_STEP, max_size=40))):
        if kind != "buy" and held[product] > 0:
            lots = held[product] if kind == "close" else 1 + lots % held[product]
            side = Side.SELL
            held[product] -= lots
        else:
            side = Side.BUY
            held[product] += lots
        fills.append(
            fill(
                trade_id=f"t{i}",
                product_id=product,
                side=side,
                size=Decimal(lots).scaleb(-8),
                price=Decimal(cents).scaleb(-2),
                fee=Decimal(fee).scaleb(-4),
                event_ns=T0_NS + i,
            )
        )
    return fills


def _signed(f: Fill) -> Decimal:
    return f.size if f.side is Side.BUY else -f.size


def _reference_realized(fills: Sequence[Fill]) -> Fraction:
    """Average-cost realized P&L in exact rationals, written independently of the fold."""
    size: dict[str, Fraction] = {}
    cost: dict[str, Fraction] = {}
    realized = Fraction(0)
    for f in fills:
        q, px = Fraction(f.size), Fraction(f.price)
        held, basis = size.get(f.product_id, Fraction(0)), cost.get(f.product_id, Fraction(0))
        if f.side is Side.BUY:
            size[f.product_id], cost[f.product_id] = held + q, basis + px * q
        else:
            released = basis * q / held
            realized += px * q - released
            size[f.product_id], cost[f.product_id] = held - q, basis - released
        realized -= Fraction(f.fee)
    return realized


marks = st.fixed_dictionaries(
    {p: st.integers(1, 10**8).map(lambda c: Decimal(c).scaleb(-2)) for p in PRODUCTS}
)


@settings(max_examples=150, deadline=None)
@given(fills=fill_sequences(), at=marks)
def test_apply_fill_when_random_fills_then_exact_identities_hold(
    fills: list[Fill], at: dict[str, Decimal]
) -> None:
    """Position, cash and start + realized + unrealized == equity hold with exact ==."""
    book = fold(fills)
    v = mark(book, at)

    for product in PRODUCTS:
        signed = sum((_signed(f) for f in fills if f.product_id == product), Decimal(0))
        assert position(book, product).base_size == signed
    buys = sum((f.price * f.size + f.fee for f in fills if f.side is Side.BUY), Decimal(0))
    sells = sum((f.price * f.size - f.fee for f in fills if f.side is Side.SELL), Decimal(0))
    assert book.cash_usd == START - buys + sells
    held_value = sum(
        (sum((_signed(f) for f in fills if f.product_id == p), Decimal(0)) * at[p])
        for p in PRODUCTS
    )
    assert v.equity_usd == book.cash_usd + held_value
    assert START + book.realized_pnl_usd + v.unrealized_pnl_usd == v.equity_usd
    assert book.fees_usd == sum((f.fee for f in fills), Decimal(0))


@settings(max_examples=150, deadline=None)
@given(fills=fill_sequences())
def test_apply_fill_when_random_fills_then_realized_matches_rational_average_cost(
    fills: list[Fill],
) -> None:
    """Realized P&L matches an exact-rational average-cost ledger to the cost quantum."""
    book = fold(fills)

    partial_sells = sum(1 for f in fills if f.side is Side.SELL)
    error = abs(Fraction(book.realized_pnl_usd) - _reference_realized(fills))
    assert error <= Fraction(COST_QUANTUM_USD) * partial_sells


@settings(max_examples=100, deadline=None)
@given(fills=fill_sequences(), data=st.data())
def test_apply_fill_when_fills_replayed_then_nothing_changes(
    fills: list[Fill], data: st.DataObject
) -> None:
    """Replaying the whole sequence, or any earlier fill at any point, changes nothing."""
    book = fold(fills)

    assert fold(fills + fills) == book
    if fills:
        replayed = data.draw(st.sampled_from(fills))
        assert apply_fill(book, replayed) is book
