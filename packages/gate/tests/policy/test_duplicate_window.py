"""The duplicate check's window: the same orders, in the same order, as a plain scan of
every kept order, whether or not their times are sorted."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from gate_stubs import config, context, order
from trading_contract import ProductId, Side
from trading_gate.core.checks import _within, check_duplicate
from trading_gate.core.context import RecentOrder

_TIMES = st.lists(st.integers(-5, 40), max_size=30)


def _recent(times: list[int]) -> tuple[RecentOrder, ...]:
    return tuple(
        RecentOrder(
            product_id=ProductId("BTC-USD"),
            side=Side.BUY,
            size=Decimal(i + 1),
            limit_price=None,
            accepted_ns=t,
        )
        for i, t in enumerate(times)
    )


@given(times=_TIMES, sort=st.booleans(), now=st.integers(-5, 45), window=st.integers(0, 12))
def test_within_when_any_times_then_same_as_full_scan(
    times: list[int], sort: bool, now: int, window: int
) -> None:
    """Bisection over sorted times and the fallback both equal the defining filter."""
    recent = _recent(sorted(times) if sort else times)

    expected = [r for r in recent if 0 <= now - r.accepted_ns < window]

    assert list(_within(recent, now, window)) == expected


def test_check_duplicate_when_same_order_in_window_then_denied_else_passed() -> None:
    """An equal order accepted inside the window denies; one just outside it does not."""
    placed = order()
    window_ns = config().duplicate_intent_window_s * 10**9
    now = 10 * window_ns

    def verdict(accepted_ns: int) -> object:
        same = RecentOrder(
            product_id=placed.product_id,
            side=placed.side,
            size=placed.size,
            limit_price=placed.limit_price,
            accepted_ns=accepted_ns,
        )
        ctx = context(now_ns=now, recent_orders=(*_recent([0, 1]), same))
        return check_duplicate(placed, ctx, config())

    assert verdict(now - window_ns + 1) is not None
    assert verdict(now - window_ns) is None
    assert verdict(now + 1) is None
