"""Protocol v1: every message the agent and the gate exchange, as frozen tagged Structs.

Each message is a JSON object whose `type` field names it. Money, prices and sizes are
`Decimal` here and decimal strings on the wire; timestamps are integer nanoseconds UTC.
Cross-field rules are checked on construction and on decode alike.
"""

from decimal import Decimal
from typing import Annotated, Final

import msgspec
from msgspec import Meta

from trading_contract.types import (
    Capability,
    Count,
    DurationMs,
    ErrorCode,
    Liquidity,
    OrderStatus,
    OrderType,
    QueryKind,
    RejectCode,
    ShortText,
    Side,
    SignalName,
    SizeUnit,
    StopDirection,
    Text,
    TimeInForce,
    TimestampNs,
    TradingState,
    WireAgentId,
    WireClientOrderId,
    WireCurrency,
    WireGateId,
    WireIntentId,
    WireProductId,
    WireRequestId,
    WireSessionId,
    WireStrategyId,
    WireTradeId,
    WireVenueOrderId,
)

MAX_SIGNALS: Final = 16
MAX_CAPABILITIES: Final = 16
MAX_LIST_ITEMS: Final = 500

Signals = Annotated[dict[SignalName, Decimal], Meta(max_length=MAX_SIGNALS)]
Capabilities = Annotated[tuple[Capability, ...], Meta(max_length=MAX_CAPABILITIES)]
LimitKey = Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_.]{0,63}$")]


class _Value(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A nested value: strict, frozen, keyword-only."""


class _Message(_Value, tag_field="type", frozen=True, kw_only=True):
    """A top-level message; its `type` tag is the class's snake_case name."""


def _positive(name: str, value: Decimal | None) -> None:
    # Non-finite values are left to the codec, which refuses them as out of bounds.
    if value is not None and value.is_finite() and not value > 0:
        raise ValueError(f"`{name}` must be > 0, got {value}")


# ---------------------------------------------------------------- agent -> gate


class Hello(_Message, tag="hello", frozen=True, kw_only=True):
    """First frame of every connection: who the agent is and what it speaks."""

    protocol_version: Annotated[int, Meta(ge=0, le=65535)]
    agent_id: WireAgentId
    capabilities: Capabilities = ()
    sent_ns: TimestampNs


class Heartbeat(_Message, tag="heartbeat", frozen=True, kw_only=True):
    """Sent every second by the agent; the gate answers each with its own."""

    seq: Count
    sent_ns: TimestampNs


class Reason(_Value, frozen=True, kw_only=True):
    """Why a strategy wants an order: bounded, so an intent cannot smuggle a payload."""

    regime: ShortText
    signals: Signals = {}
    # The strategy statistics the agent reports with each intent (expectancy, win rate...).
    stats: Signals = {}
    note: Text = ""


class PlaceOrder(_Message, tag="place_order", frozen=True, kw_only=True):
    """An order intent. Replaying the same `intent_id` never creates a second order."""

    request_id: WireRequestId
    intent_id: WireIntentId
    product_id: WireProductId
    side: Side
    order_type: OrderType
    size: Decimal
    size_in: SizeUnit
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    stop_direction: StopDirection | None = None
    time_in_force: TimeInForce
    end_time_ns: TimestampNs | None = None
    post_only: bool = False
    reduce_only: bool = False
    strategy_id: WireStrategyId
    reason: Reason
    sent_ns: TimestampNs

    def __post_init__(self) -> None:
        _positive("size", self.size)
        _positive("limit_price", self.limit_price)
        _positive("stop_price", self.stop_price)
        for problem in _order_shape_problems(self):
            raise ValueError(problem)


_ALLOWED_TIF: Final = {
    # Coinbase spot market orders are immediate-or-cancel only (market_market_ioc).
    OrderType.MARKET: {TimeInForce.IOC},
    OrderType.LIMIT: set(TimeInForce),
    OrderType.STOP_LIMIT: {TimeInForce.GTC, TimeInForce.GTD},
}


def _order_shape_problems(order: PlaceOrder) -> list[str]:
    kind = order.order_type.value
    problems: list[str] = []
    if order.time_in_force not in _ALLOWED_TIF[order.order_type]:
        problems.append(f"`time_in_force` {order.time_in_force.value} is not allowed for {kind}")
    is_market = order.order_type is OrderType.MARKET
    is_stop = order.order_type is OrderType.STOP_LIMIT
    for name, value, needed in (
        ("limit_price", order.limit_price, not is_market),
        ("stop_price", order.stop_price, is_stop),
        ("stop_direction", order.stop_direction, is_stop),
    ):
        if (value is None) == needed:
            problems.append(f"`{name}` is {'required' if needed else 'not allowed'} for {kind}")
    if (order.end_time_ns is None) == (order.time_in_force is TimeInForce.GTD):
        problems.append("`end_time_ns` is required with gtd and only with gtd")
    if order.post_only and order.time_in_force not in {TimeInForce.GTC, TimeInForce.GTD}:
        problems.append("`post_only` needs a resting limit order (gtc or gtd)")
    if order.post_only and order.order_type is not OrderType.LIMIT:
        problems.append(f"`post_only` is not allowed for {kind}")
    if order.size_in is SizeUnit.QUOTE and order.order_type is OrderType.STOP_LIMIT:
        problems.append("`size_in` quote is not allowed for stop_limit")
    return problems


class CancelOrder(_Message, tag="cancel_order", frozen=True, kw_only=True):
    request_id: WireRequestId
    client_order_id: WireClientOrderId
    sent_ns: TimestampNs


class CancelAll(_Message, tag="cancel_all", frozen=True, kw_only=True):
    """Cancel every open order of this agent, or only those of one product."""

    request_id: WireRequestId
    product_id: WireProductId | None = None
    sent_ns: TimestampNs


class Query(_Message, tag="query", frozen=True, kw_only=True):
    request_id: WireRequestId
    kind: QueryKind
    sent_ns: TimestampNs


# ---------------------------------------------------------------- gate -> agent


class Welcome(_Message, tag="welcome", frozen=True, kw_only=True):
    """The gate's answer to a compatible Hello: the session's terms."""

    protocol_version: Annotated[int, Meta(ge=0, le=65535)]
    gate_id: WireGateId
    session_id: WireSessionId
    heartbeat_interval_ms: DurationMs
    heartbeat_timeout_ms: DurationMs
    max_frame_bytes: Annotated[int, Meta(ge=1, le=2**31 - 1)]
    capabilities: Capabilities = ()
    state: TradingState
    sent_ns: TimestampNs


class Accepted(_Value, tag_field="outcome", tag="accepted", frozen=True, kw_only=True):
    """The request went through; for a cancel-all, every order it is cancelling."""

    client_order_ids: Annotated[tuple[WireClientOrderId, ...], Meta(max_length=MAX_LIST_ITEMS)]


class Rejected(_Value, tag_field="outcome", tag="rejected", frozen=True, kw_only=True):
    code: RejectCode
    message: Text
    # The safety.yaml key or rule id that fired, when one did.
    fired_by: ShortText | None = None


class Decision(_Message, tag="decision", frozen=True, kw_only=True):
    """The gate's verdict on a PlaceOrder, CancelOrder or CancelAll, by request id."""

    request_id: WireRequestId
    intent_id: WireIntentId | None = None
    verdict: Accepted | Rejected
    decided_ns: TimestampNs


class OrderUpdate(_Message, tag="order_update", frozen=True, kw_only=True):
    """An order moved in its lifecycle; `filled_size` is cumulative and never shrinks."""

    client_order_id: WireClientOrderId
    intent_id: WireIntentId
    product_id: WireProductId
    status: OrderStatus
    filled_size: Decimal
    average_fill_price: Decimal | None = None
    venue_order_id: WireVenueOrderId | None = None
    detail: Text = ""
    event_ns: TimestampNs


class Fill(_Message, tag="fill", frozen=True, kw_only=True):
    client_order_id: WireClientOrderId
    intent_id: WireIntentId
    trade_id: WireTradeId
    product_id: WireProductId
    side: Side
    price: Decimal
    size: Decimal
    fee: Decimal
    fee_currency: WireCurrency
    liquidity: Liquidity
    event_ns: TimestampNs

    def __post_init__(self) -> None:
        _positive("price", self.price)
        _positive("size", self.size)


class GateState(_Message, tag="gate_state", frozen=True, kw_only=True):
    """Pushed on every change of trading state, and after Welcome."""

    state: TradingState
    cause: Text
    since_ns: TimestampNs
    sent_ns: TimestampNs


class Position(_Value, frozen=True, kw_only=True):
    product_id: WireProductId
    # Signed: negative is short.
    base_size: Decimal
    average_entry_price: Decimal | None = None
    realized_pnl_usd: Decimal
    unrealized_pnl_usd: Decimal | None = None


class Balance(_Value, frozen=True, kw_only=True):
    currency: WireCurrency
    available: Decimal
    hold: Decimal


class OpenOrder(_Value, frozen=True, kw_only=True):
    client_order_id: WireClientOrderId
    intent_id: WireIntentId
    product_id: WireProductId
    side: Side
    order_type: OrderType
    size: Decimal
    size_in: SizeUnit
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    filled_size: Decimal
    status: OrderStatus
    created_ns: TimestampNs


class LimitInForce(_Value, frozen=True, kw_only=True):
    """One limit of the safety config the gate is enforcing right now."""

    key: LimitKey
    product_id: WireProductId | None = None
    value: Decimal


class PositionsResult(
    _Value, tag_field="kind", tag=QueryKind.POSITIONS.value, frozen=True, kw_only=True
):
    positions: Annotated[tuple[Position, ...], Meta(max_length=MAX_LIST_ITEMS)]


class BalancesResult(
    _Value, tag_field="kind", tag=QueryKind.BALANCES.value, frozen=True, kw_only=True
):
    balances: Annotated[tuple[Balance, ...], Meta(max_length=MAX_LIST_ITEMS)]


class OpenOrdersResult(
    _Value, tag_field="kind", tag=QueryKind.OPEN_ORDERS.value, frozen=True, kw_only=True
):
    orders: Annotated[tuple[OpenOrder, ...], Meta(max_length=MAX_LIST_ITEMS)]


class GateStateResult(
    _Value, tag_field="kind", tag=QueryKind.GATE_STATE.value, frozen=True, kw_only=True
):
    state: TradingState
    cause: Text
    since_ns: TimestampNs
    last_heartbeat_ns: TimestampNs | None = None


class LimitsResult(_Value, tag_field="kind", tag=QueryKind.LIMITS.value, frozen=True, kw_only=True):
    config_hash: Annotated[str, Meta(pattern=r"^[0-9a-f]{64}$")]
    limits: Annotated[tuple[LimitInForce, ...], Meta(max_length=MAX_LIST_ITEMS)]


QueryResult = PositionsResult | BalancesResult | OpenOrdersResult | GateStateResult | LimitsResult


class QueryReply(_Message, tag="query_reply", frozen=True, kw_only=True):
    request_id: WireRequestId
    result: QueryResult
    as_of_ns: TimestampNs


class Error(_Message, tag="error", frozen=True, kw_only=True):
    """A protocol failure. `fatal` means the gate closes the connection after sending it."""

    code: ErrorCode
    message: Text
    field: Text | None = None
    fatal: bool


AgentMessage = Hello | Heartbeat | PlaceOrder | CancelOrder | CancelAll | Query
GateMessage = Welcome | Heartbeat | Decision | OrderUpdate | Fill | GateState | QueryReply | Error
