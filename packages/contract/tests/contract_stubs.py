"""Object mothers: one valid example of every protocol v1 message, overridable."""

from decimal import Decimal
from typing import Any

import msgspec

import trading_contract as c

T0 = 1_764_614_400_000_000_000  # 2025-12-01T18:40:00Z in ns


def reason(**overrides: Any) -> c.Reason:
    fields: dict[str, Any] = {
        "regime": "range_low_vol",
        "signals": {"zscore": Decimal("-2.31"), "bb_width": Decimal("0.0142")},
        "stats": {"win_rate": Decimal("0.54"), "expectancy_usd": Decimal("1.20")},
        "note": "z-score below -2 in a ranging market",
    }
    return c.Reason(**(fields | overrides))


def place_order(**overrides: Any) -> c.PlaceOrder:
    fields: dict[str, Any] = {
        "request_id": "req-0001",
        "intent_id": "mr.BTC-USD.1764614400.1",
        "product_id": "BTC-USD",
        "side": c.Side.BUY,
        "order_type": c.OrderType.LIMIT,
        "size": Decimal("0.00150000"),
        "size_in": c.SizeUnit.BASE,
        "limit_price": Decimal("91234.56"),
        "time_in_force": c.TimeInForce.GTD,
        "end_time_ns": T0 + 300_000_000_000,
        "post_only": True,
        "strategy_id": "mean_reversion",
        "reason": reason(),
        "sent_ns": T0,
    }
    return c.PlaceOrder(**(fields | overrides))


def market_order(**overrides: Any) -> c.PlaceOrder:
    fields: dict[str, Any] = {
        "order_type": c.OrderType.MARKET,
        "size": Decimal("25.00"),
        "size_in": c.SizeUnit.QUOTE,
        "limit_price": None,
        "time_in_force": c.TimeInForce.IOC,
        "end_time_ns": None,
        "post_only": False,
    }
    return place_order(**(fields | overrides))


def stop_limit_order(**overrides: Any) -> c.PlaceOrder:
    fields: dict[str, Any] = {
        "side": c.Side.SELL,
        "order_type": c.OrderType.STOP_LIMIT,
        "limit_price": Decimal("88000.00"),
        "stop_price": Decimal("88500.00"),
        "stop_direction": c.StopDirection.DOWN,
        "time_in_force": c.TimeInForce.GTC,
        "end_time_ns": None,
        "post_only": False,
        "reduce_only": True,
    }
    return place_order(**(fields | overrides))


def _open_order() -> c.OpenOrder:
    return c.OpenOrder(
        client_order_id="3f1c6a52-9d8e-5b1f-a0c4-7e2d9b6f1a30",
        intent_id="mr.BTC-USD.1764614400.1",
        product_id="BTC-USD",
        side=c.Side.BUY,
        order_type=c.OrderType.LIMIT,
        size=Decimal("0.00150000"),
        size_in=c.SizeUnit.BASE,
        limit_price=Decimal("91234.56"),
        filled_size=Decimal("0.00050000"),
        status=c.OrderStatus.PARTIALLY_FILLED,
        created_ns=T0,
    )


COID = "3f1c6a52-9d8e-5b1f-a0c4-7e2d9b6f1a30"
INTENT = "mr.BTC-USD.1764614400.1"

# One example per message type, named for its golden file.
EXAMPLES: dict[str, c.AgentMessage | c.GateMessage | c.AdminRequest | c.AdminReply] = {
    "hello": c.Hello(
        protocol_version=1, agent_id="agent-1", capabilities=("heartbeat.v1",), sent_ns=T0
    ),
    "heartbeat": c.Heartbeat(seq=42, sent_ns=T0 + 42_000_000_000),
    "place_order_limit": place_order(),
    "place_order_market": market_order(),
    "place_order_stop_limit": stop_limit_order(),
    "cancel_order": c.CancelOrder(request_id="req-0002", client_order_id=COID, sent_ns=T0),
    "cancel_all": c.CancelAll(request_id="req-0003", product_id="ETH-USD", sent_ns=T0),
    "query": c.Query(request_id="req-0004", kind=c.QueryKind.OPEN_ORDERS, sent_ns=T0),
    "welcome": c.Welcome(
        protocol_version=1,
        gate_id="gate-1",
        session_id="s-20251201-0001",
        heartbeat_interval_ms=1000,
        heartbeat_timeout_ms=3000,
        max_frame_bytes=c.MAX_FRAME_BYTES,
        capabilities=("heartbeat.v1",),
        state=c.TradingState.ACTIVE,
        sent_ns=T0,
    ),
    "decision_accepted": c.Decision(
        request_id="req-0001",
        intent_id=INTENT,
        verdict=c.Accepted(client_order_ids=(COID,)),
        decided_ns=T0 + 38_000,
    ),
    "decision_rejected": c.Decision(
        request_id="req-0001",
        intent_id=INTENT,
        verdict=c.Rejected(
            code=c.RejectCode.NOTIONAL_LIMIT,
            message="notional 1368.52 USD exceeds max_notional_usd 1000 for BTC-USD",
            fired_by="products.BTC-USD.max_notional_usd",
        ),
        decided_ns=T0 + 21_000,
    ),
    "order_update": c.OrderUpdate(
        client_order_id=COID,
        intent_id=INTENT,
        product_id="BTC-USD",
        status=c.OrderStatus.PARTIALLY_FILLED,
        filled_size=Decimal("0.00050000"),
        average_fill_price=Decimal("91234.56"),
        venue_order_id="11111-00000-000000",
        event_ns=T0 + 1_500_000_000,
    ),
    "fill": c.Fill(
        client_order_id=COID,
        intent_id=INTENT,
        trade_id="a1b2c3",
        product_id="BTC-USD",
        side=c.Side.BUY,
        price=Decimal("91234.56"),
        size=Decimal("0.00050000"),
        fee=Decimal("0.0273703680"),
        fee_currency="USD",
        liquidity=c.Liquidity.MAKER,
        event_ns=T0 + 1_500_000_000,
    ),
    "gate_state": c.GateState(
        state=c.TradingState.HALTED,
        cause="dead man's switch: no heartbeat for 3.0 s",
        since_ns=T0 + 9_000_000_000,
        sent_ns=T0 + 9_000_000_000,
    ),
    "query_reply_positions": c.QueryReply(
        request_id="req-0005",
        result=c.PositionsResult(
            positions=(
                c.Position(
                    product_id="BTC-USD",
                    base_size=Decimal("-0.0100"),
                    average_entry_price=Decimal("90000.00"),
                    realized_pnl_usd=Decimal("12.34"),
                    unrealized_pnl_usd=Decimal("-3.21"),
                ),
            )
        ),
        as_of_ns=T0,
    ),
    "query_reply_balances": c.QueryReply(
        request_id="req-0006",
        result=c.BalancesResult(
            balances=(
                c.Balance(currency="USD", available=Decimal("9876.54"), hold=Decimal("136.85")),
            )
        ),
        as_of_ns=T0,
    ),
    "query_reply_open_orders": c.QueryReply(
        request_id="req-0004", result=c.OpenOrdersResult(orders=(_open_order(),)), as_of_ns=T0
    ),
    "query_reply_gate_state": c.QueryReply(
        request_id="req-0007",
        result=c.GateStateResult(
            state=c.TradingState.REDUCING,
            cause="reconciliation found an orphan order",
            since_ns=T0,
            last_heartbeat_ns=T0 + 1_000_000_000,
        ),
        as_of_ns=T0 + 2_000_000_000,
    ),
    "query_reply_limits": c.QueryReply(
        request_id="req-0008",
        result=c.LimitsResult(
            config_hash="9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            limits=(
                c.LimitInForce(key="max_gross_exposure_usd", value=Decimal("5000")),
                c.LimitInForce(key="max_notional_usd", product_id="BTC-USD", value=Decimal("1000")),
            ),
        ),
        as_of_ns=T0,
    ),
    "error": c.Error(
        code=c.ErrorCode.UNKNOWN_FIELD,
        message="unknown_field at `$.reason.x`: Object contains unknown field `x`",
        field="$.reason.x",
        fatal=False,
    ),
    "admin_status": c.AdminStatus(request_id="adm-0001"),
    "admin_halt": c.AdminHalt(
        request_id="adm-0002", operator="alice", reason="exchange status page reports degraded"
    ),
    "admin_resume": c.AdminResume(
        request_id="adm-0003",
        operator="alice",
        reason="venue healthy again; book verified empty",
        to=c.TradingState.REDUCING,
    ),
    "admin_reload_config": c.AdminReloadConfig(request_id="adm-0004", operator="alice"),
    "admin_reload_rules": c.AdminReloadRules(request_id="adm-0005", operator="alice"),
    "admin_ack": c.AdminAck(
        request_id="adm-0002", ok=True, message="halted; cancelling 2 open orders"
    ),
    "admin_status_reply": c.AdminStatusReply(
        request_id="adm-0001",
        state=c.TradingState.HALTED,
        cause="operator alice: exchange status page reports degraded",
        since_ns=T0 + 9_000_000_000,
        agent_connected=True,
        last_heartbeat_ns=T0 + 9_500_000_000,
        open_orders=2,
        unknown_orders=0,
        config_hash="9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        rules_hash="e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        as_of_ns=T0 + 10_000_000_000,
    ),
}


def is_agent_message(message: msgspec.Struct) -> bool:
    return isinstance(
        message, c.Hello | c.Heartbeat | c.PlaceOrder | c.CancelOrder | c.CancelAll | c.Query
    )


def is_admin_request(message: msgspec.Struct) -> bool:
    return isinstance(
        message,
        c.AdminStatus | c.AdminHalt | c.AdminResume | c.AdminReloadConfig | c.AdminReloadRules,
    )


def is_admin_reply(message: msgspec.Struct) -> bool:
    # `Error` is a reply on both sockets; its golden file is decoded as a gate message.
    return isinstance(message, c.AdminAck | c.AdminStatusReply)
