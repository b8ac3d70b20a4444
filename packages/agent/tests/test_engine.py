"""The engine's own rules, with a scripted strategy: what it sends, skips and books."""

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest

import trading_contract as c
from agent_stubs import candles_from_closes
from trading_agent.config import SizingParams
from trading_agent.domain.intents import Action, Signal
from trading_agent.engine import LIMIT_MARGIN, Engine, ProductSpec, StrategySlot, _wire_values
from trading_agent.strategies.base import StrategyContext

SPEC = ProductSpec(
    product_id="BTC-USD", base_increment=Decimal("0.00000001"), min_size=Decimal("0.0001")
)
SIZING = SizingParams(
    risk_per_trade=Decimal("0.01"),
    target_vol=Decimal("0.01"),
    m_min=Decimal("0.25"),
    max_notional_usd=Decimal("100000"),
    fixed_size_base=Decimal("0.01"),
)


class Scripted:
    """Says what it is told to say at each candle index; records what it saw."""

    def __init__(
        self, script: dict[int, Action], strategy_id: str = "scripted", stop: str | None = None
    ) -> None:
        self._script = script
        self._id = strategy_id
        self._stop = None if stop is None else Decimal(stop)
        self.seen: list[StrategyContext] = []

    @property
    def strategy_id(self) -> str:
        return self._id

    def on_candle(self, ctx: StrategyContext) -> Sequence[Signal]:
        index = len(self.seen)
        self.seen.append(ctx)
        action = self._script.get(index)
        if action is None:
            return ()
        return (
            Signal(
                strategy_id=self._id,
                product_id=ctx.candle.product_id,
                action=action,
                decided_ns=ctx.candle.end_ns,
                reference_price=ctx.candle.close,
                stop_price=None if self._stop is None else ctx.candle.close - self._stop,
                values={"x": 1.5},
            ),
        )


def engine(*strategies: Scripted, sizing: SizingParams = SIZING) -> Engine:
    e = Engine(
        slots=[StrategySlot(strategy=s, product_id="BTC-USD", sizing=sizing) for s in strategies],
        specs={"BTC-USD": SPEC},
        starting_cash_usd=Decimal(10_000),
    )
    e.on_message(_state(c.TradingState.ACTIVE), 0)
    return e


def _state(state: c.TradingState) -> c.GateState:
    return c.GateState(state=state, cause="test", since_ns=0, sent_ns=0)


def _limits(**values: str) -> c.QueryReply:
    return c.QueryReply(
        request_id=c.RequestId("q"),
        result=c.LimitsResult(
            config_hash="0" * 64,
            limits=tuple(
                c.LimitInForce(key=k, product_id=c.ProductId("BTC-USD"), value=Decimal(v))
                for k, v in values.items()
            ),
        ),
        as_of_ns=0,
    )


def _fill(order: c.PlaceOrder, price: str, trade: str, **overrides: Any) -> c.Fill:
    fields: dict[str, Any] = {
        "client_order_id": c.ClientOrderId(f"coid-{order.intent_id}"),
        "intent_id": order.intent_id,
        "trade_id": c.TradeId(trade),
        "product_id": order.product_id,
        "side": order.side,
        "price": Decimal(price),
        "size": order.size,
        "fee": Decimal("0.10"),
        "fee_currency": c.Currency("USD"),
        "liquidity": c.Liquidity.TAKER,
        "event_ns": 1,
    }
    return c.Fill(**(fields | overrides))


def _done(order: c.PlaceOrder, status: c.OrderStatus = c.OrderStatus.FILLED) -> c.OrderUpdate:
    return c.OrderUpdate(
        client_order_id=c.ClientOrderId(f"coid-{order.intent_id}"),
        intent_id=order.intent_id,
        product_id=order.product_id,
        status=status,
        filled_size=order.size,
        event_ns=1,
    )


CANDLES = candles_from_closes([50_000 + i for i in range(10)])


def test_entry_when_active_and_flat_then_a_market_buy_with_its_reason() -> None:
    """An entry becomes a market IOC buy of the sized amount, the signal as its reason."""
    e = engine(Scripted({0: Action.ENTER_LONG}))

    (order,) = e.on_candle(CANDLES[0])

    assert (order.side, order.order_type, order.time_in_force) == (
        c.Side.BUY,
        c.OrderType.MARKET,
        c.TimeInForce.IOC,
    )
    assert order.size == Decimal("0.01")
    assert order.reason.signals == {"x": Decimal("1.500000000000")}
    assert order.sent_ns == CANDLES[0].end_ns
    assert c.decode_agent_message(c.encode(order)) == order  # valid on the wire


def test_entry_when_gate_not_active_then_skipped() -> None:
    """No entries while the gate is REDUCING or HALTED."""
    for state in (c.TradingState.REDUCING, c.TradingState.HALTED):
        e = engine(Scripted({0: Action.ENTER_LONG}))
        e.on_message(_state(state), 0)

        assert e.on_candle(CANDLES[0]) == []
        assert any(ev.kind == "skipped" for ev in e.drain_events())


def test_signal_when_order_in_flight_then_skipped_until_terminal_update() -> None:
    """One order in flight per strategy and product; a terminal update frees the slot."""
    e = engine(Scripted({0: Action.ENTER_LONG, 1: Action.ENTER_LONG, 2: Action.ENTER_LONG}))
    (first,) = e.on_candle(CANDLES[0])

    assert e.on_candle(CANDLES[1]) == []
    e.on_message(_done(first, c.OrderStatus.CANCELLED), 2)
    assert len(e.on_candle(CANDLES[2])) == 1


def test_fill_when_entry_filled_then_books_and_position_seen_by_strategy() -> None:
    """A fill moves the account and the strategy's own book; the strategy sees its entry."""
    strategy = Scripted({0: Action.ENTER_LONG})
    e = engine(strategy)
    (order,) = e.on_candle(CANDLES[0])
    e.on_message(_fill(order, "50001", "t1"), 1)
    e.on_message(_done(order), 1)

    e.on_candle(CANDLES[1])

    seen = strategy.seen[-1].position
    assert seen.base_size == Decimal("0.01")
    assert seen.entry_price == Decimal("50001")
    assert e.portfolio.cash_usd == Decimal(10_000) - Decimal("500.01") - Decimal("0.10")


def test_entry_when_a_trade_has_closed_then_its_record_goes_with_the_next_intent() -> None:
    """The gate's rules read strategy.trade_count, win_rate and expectancy_bps from here."""
    strategy = Scripted({0: Action.ENTER_LONG, 1: Action.EXIT_LONG, 2: Action.ENTER_LONG})
    e = engine(strategy)
    (entry,) = e.on_candle(CANDLES[0])
    assert entry.reason.stats == {"confidence": Decimal(1), "trade_count": Decimal(0)}
    e.on_message(_fill(entry, "50000", "t1"), 1)
    e.on_message(_done(entry), 1)
    (exit_,) = e.on_candle(CANDLES[1])
    e.on_message(_fill(exit_, "50100", "t2", side=c.Side.SELL), 2)
    e.on_message(_done(exit_), 2)
    (again,) = e.on_candle(CANDLES[2])
    (closed,) = e.trades.closed
    expected_bps = closed.net_pnl_usd / (closed.entry_price * closed.size) * 10_000
    assert again.reason.stats["trade_count"] == 1
    assert again.reason.stats["win_rate"] == (1 if closed.net_pnl_usd > 0 else 0)
    assert abs(again.reason.stats["expectancy_bps"] - expected_bps) <= Decimal("0.005")
    assert c.decode_agent_message(c.encode(again)) == again  # the stats fit the wire


def test_exit_when_long_then_sells_exactly_the_strategy_holding_reduce_only() -> None:
    """An exit sells what this strategy holds, not another strategy's position."""
    mine, other = (
        Scripted({0: Action.ENTER_LONG, 2: Action.EXIT_LONG}),
        Scripted({0: Action.ENTER_LONG}, strategy_id="other"),
    )
    e = engine(mine, other)
    orders = e.on_candle(CANDLES[0])
    for i, order in enumerate(orders):
        e.on_message(_fill(order, "50000", f"t{i}"), 1)
        e.on_message(_done(order), 1)
    e.on_candle(CANDLES[1])

    (exit_order,) = e.on_candle(CANDLES[2])

    assert exit_order.side is c.Side.SELL
    assert exit_order.reduce_only
    assert exit_order.size == Decimal("0.01")  # not the account's 0.02


def test_exit_when_position_above_order_limit_then_sold_in_pieces() -> None:
    """A holding worth more than one order may carry leaves over several candles."""
    e = engine(Scripted({0: Action.ENTER_LONG, 2: Action.EXIT_LONG}))
    (entry,) = e.on_candle(CANDLES[0])
    e.on_message(_fill(entry, "50000", "t0"), 1)
    e.on_message(_done(entry), 1)
    e.on_candle(CANDLES[1])
    e.on_message(_limits(max_order_size_base="0.004"), 1)

    sizes = []
    for i, candle in enumerate(CANDLES[2:], start=1):
        for order in e.on_candle(candle):
            sizes.append(order.size)
            e.on_message(_fill(order, "50000", f"s{i}"), 1)
            e.on_message(_done(order), 1)

    assert sizes == [Decimal("0.004"), Decimal("0.004"), Decimal("0.002")]
    assert e.books["scripted"].holdings.get("BTC-USD") is None


def test_entry_when_fixed_size_above_order_limit_then_refused_not_cut() -> None:
    """The reference's fixed size is never shrunk to fit: it is not sent at all."""
    e = engine(Scripted({0: Action.ENTER_LONG}))
    e.on_message(_limits(max_order_size_base="0.005"), 0)

    assert e.on_candle(CANDLES[0]) == []


def test_entry_when_risk_sized_above_notional_limit_then_cut_to_fit() -> None:
    """A risk-sized entry is cut to the gate's notional limit, less the margin."""
    risk_sized = SizingParams(
        risk_per_trade=Decimal("0.01"),
        target_vol=Decimal("0.01"),
        m_min=Decimal("0.25"),
        max_notional_usd=Decimal("1000000"),
    )
    # 1 % of 10,000 USD over a 100 USD stop: 1 BTC, about 50,000 USD, before the cut.
    e = engine(Scripted({0: Action.ENTER_LONG}, stop="100"), sizing=risk_sized)
    e.on_message(_limits(max_order_notional_usd="100.00"), 0)

    (order,) = e.on_candle(CANDLES[0])

    cap = Decimal("100.00") * LIMIT_MARGIN
    assert order.size * CANDLES[0].close <= cap
    assert order.size * CANDLES[0].close > cap - Decimal("0.01")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 1e30])
def test_reason_when_signal_value_unbounded_then_left_out(value: float) -> None:
    """Values the contract cannot carry are dropped from the reason, not sent."""
    assert _wire_values({"bad": value, "good": 2.0}) == {"good": Decimal("2.000000000000")}


def test_equity_when_candles_and_a_fill_then_at_most_one_a_minute_plus_after_fills() -> None:
    """The live equity curve: a point a minute of candle time, and one after each fill;
    the starting cash is recorded once."""
    e = engine(Scripted({1: Action.ENTER_LONG}))
    quarter = candles_from_closes([50_000 + i for i in range(9)], granularity_s=15)
    for i, candle in enumerate(quarter):
        for order in e.on_candle(candle):
            e.on_message(_fill(order, "50001", f"t{i}"), candle.end_ns)
            e.on_message(_done(order), candle.end_ns)

    events = e.drain_events()
    equity = [ev for ev in events if ev.kind == "equity"]
    started = [ev for ev in events if ev.kind == "started"]
    assert [ev.body for ev in started] == [{"starting_cash_usd": Decimal(10_000)}]
    # 15 s candles: candle 0, then the one after the fill (candle 2), then 60 s later.
    assert [ev.ts_ns for ev in equity] == [quarter[i].end_ns for i in (0, 2, 6)]
    last = equity[-1].body
    held = Decimal("0.01") * quarter[6].close
    assert last["equity_usd"] == Decimal(10_000) - Decimal("500.01") - Decimal("0.10") + held


def test_signal_when_last_order_refused_then_cooling_down_for_three_candles() -> None:
    """After a refusal the same strategy waits COOLDOWN_CANDLES candles before asking again."""
    e = engine(Scripted(dict.fromkeys(range(6), Action.ENTER_LONG)))
    (first,) = e.on_candle(CANDLES[0])
    refused = c.Decision(
        request_id=first.request_id,
        intent_id=first.intent_id,
        verdict=c.Rejected(code=c.RejectCode.NOTIONAL_LIMIT, message="too big"),
        decided_ns=1,
    )
    e.on_message(refused, 1)

    sent = [len(e.on_candle(candle)) for candle in CANDLES[1:6]]

    assert sent == [0, 0, 1, 0, 0]  # candles 1 and 2 wait; 3 asks again (then in flight)
