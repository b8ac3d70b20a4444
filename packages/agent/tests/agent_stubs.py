"""Object mothers for the agent's tests: candles and contexts with sane defaults."""

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import msgspec

from trading_agent.domain.events import EngineEvent
from trading_agent.domain.market import NS_PER_S, Candle
from trading_agent.domain.regime import UNKNOWN_REGIME, Regime
from trading_agent.domain.trades import Trade
from trading_agent.strategies.base import Position, StrategyContext
from trading_contract import (
    Decision,
    Fill,
    GateState,
    Liquidity,
    RejectCode,
    Rejected,
    Side,
    TradingState,
)

T0_NS = 1_700_000_000 * NS_PER_S  # 2023-11-14 22:13:20 UTC


def candle(**overrides: Any) -> Candle:
    """A calm 1-minute BTC-USD candle around 50,000."""
    fields: dict[str, Any] = {
        "product_id": "BTC-USD",
        "start_ns": T0_NS,
        "granularity_s": 60,
        "open": Decimal("50000.00"),
        "high": Decimal("50010.00"),
        "low": Decimal("49990.00"),
        "close": Decimal("50005.00"),
        "volume": Decimal("12.5"),
    }
    return Candle(**(fields | overrides))


def candles_from_closes(
    closes: Iterable[float | str | Decimal], *, product_id: str = "BTC-USD", granularity_s: int = 60
) -> list[Candle]:
    """One candle per close: open at the previous close, high/low 0.1 % around both."""
    out: list[Candle] = []
    previous: Decimal | None = None
    for i, raw in enumerate(closes):
        close = Decimal(str(raw))
        open_ = previous if previous is not None else close
        band = max(open_, close) * Decimal("0.001")
        out.append(
            Candle(
                product_id=product_id,
                start_ns=T0_NS + i * granularity_s * NS_PER_S,
                granularity_s=granularity_s,
                open=open_,
                high=max(open_, close) + band,
                low=min(open_, close) - band,
                close=close,
                volume=Decimal("10"),
            )
        )
        previous = close
    return out


def context(
    c: Candle, position: Position | None = None, regime: Regime = UNKNOWN_REGIME
) -> StrategyContext:
    return StrategyContext(candle=c, position=position or Position(), regime=regime)


def closes(candles: Sequence[Candle]) -> list[float]:
    return [float(c.close) for c in candles]


def fill(**overrides: Any) -> Fill:
    """A 0.01 BTC-USD taker buy at 50,000 with a 0.60 % fee (3.00 USD)."""
    fields: dict[str, Any] = {
        "client_order_id": "coid-1",
        "intent_id": "intent-1",
        "trade_id": "t-1",
        "product_id": "BTC-USD",
        "side": Side.BUY,
        "price": Decimal("50000.00"),
        "size": Decimal("0.01"),
        "fee": Decimal("3.00"),
        "fee_currency": "USD",
        "liquidity": Liquidity.TAKER,
        "event_ns": T0_NS,
    }
    return Fill(**(fields | overrides))


def trade(**overrides: Any) -> Trade:
    """A closed 0.01 BTC-USD round trip, 50,000 -> 51,000 over an hour, +3.94 net, 0.394 R."""
    fields: dict[str, Any] = {
        "product_id": "BTC-USD",
        "strategy_id": "breakout",
        "entry_intent_id": "intent-1",
        "exit_intent_id": "intent-2",
        "entry_ns": T0_NS,
        "exit_ns": T0_NS + 3600 * NS_PER_S,
        "entry_price": Decimal("50000"),
        "exit_price": Decimal("51000"),
        "size": Decimal("0.01"),
        "gross_pnl_usd": Decimal("10"),
        "fees_usd": Decimal("6.06"),
        "net_pnl_usd": Decimal("3.94"),
        "risk_usd": Decimal("10"),
        "r_multiple": Decimal("0.394"),
        "max_adverse_usd": Decimal("2"),
        "max_favourable_usd": Decimal("12"),
        "fill_count": 2,
    }
    return Trade(**(fields | overrides))


# ---------------------------------------------------------------- engine events (journal)


def event(kind: str, ts_ns: int, body: object) -> EngineEvent:
    """An engine event with the struct's builtins as the body: stored as the engine's
    event of the struct itself is (test_event_store.py), and readable as a dict."""
    built = msgspec.to_builtins(body)
    assert isinstance(built, dict)
    return EngineEvent(ts_ns=ts_ns, kind=kind, body=built)


def rejection(code: RejectCode, message: str, intent_id: str, ts_ns: int) -> EngineEvent:
    decision = Decision(
        request_id=f"r-{intent_id}",
        intent_id=intent_id,
        verdict=Rejected(code=code, message=message),
        decided_ns=ts_ns,
    )
    return event("rejected", ts_ns, decision)


def gate_state(state: TradingState, cause: str, ts_ns: int) -> EngineEvent:
    return event(
        "gate_state", ts_ns, GateState(state=state, cause=cause, since_ns=ts_ns, sent_ns=ts_ns)
    )


def journal_day_events(day_start_ns: int) -> list[EngineEvent]:
    """A busy UTC day starting at `day_start_ns`, with one event just before it and one
    at its end (both belong to other days): signals, a skip, orders, accepts,
    rejections of two codes, fills, two closed trades (+3.94 and -1.25 net), a halt and
    a resume, and an unanswered request."""
    hour = 3600 * NS_PER_S
    t = day_start_ns
    buy = fill(trade_id="t-1", event_ns=t + 1 * hour)
    sell = fill(trade_id="t-2", side=Side.SELL, price=Decimal("51000"), event_ns=t + 2 * hour)
    loser = trade(
        strategy_id="momentum",
        product_id="ETH-USD",
        gross_pnl_usd=Decimal("-0.50"),
        fees_usd=Decimal("0.75"),
        net_pnl_usd=Decimal("-1.25"),
        r_multiple=None,
    )
    return [
        event("trade_closed", t - 1, trade(net_pnl_usd=Decimal("1000"))),  # yesterday
        event("signal", t, {"action": "enter_long"}),
        event("order", t + 1, {"intent_id": "intent-1"}),
        event("accepted", t + 2, {"intent_id": "intent-1"}),
        event("fill", t + 1 * hour, buy),
        event("signal", t + 2 * hour - 2, {"action": "exit_long"}),
        event("order", t + 2 * hour - 1, {"intent_id": "intent-2"}),
        event("fill", t + 2 * hour, sell),
        event("trade_closed", t + 2 * hour, trade()),
        rejection(RejectCode.NOTIONAL_LIMIT, "notional 120 > 100 | per order", "i-3", t + 3 * hour),
        rejection(RejectCode.HALTED, "the gate is halted", "i-4", t + 4 * hour + 1),
        gate_state(TradingState.HALTED, "kill_switch: drill", t + 4 * hour),
        rejection(RejectCode.NOTIONAL_LIMIT, "notional 130 > 100", "i-5", t + 5 * hour),
        event("skipped", t + 5 * hour + 1, {"why": "the gate is halted"}),
        gate_state(TradingState.ACTIVE, "operator_resume", t + 6 * hour),
        event("signal", t + 7 * hour, {"action": "enter_long"}),
        event("order", t + 7 * hour + 1, {"intent_id": "i-6"}),
        event("request_failed", t + 7 * hour + 2, {"intent_id": "i-6", "why": "gate timeout"}),
        event("order", t + 8 * hour, {"intent_id": "i-7"}),
        event("accepted", t + 8 * hour + 1, {"intent_id": "i-7"}),
        event("trade_closed", t + 9 * hour, loser),
        event("trade_closed", t + 24 * hour, trade(net_pnl_usd=Decimal("-1000"))),  # tomorrow
    ]
