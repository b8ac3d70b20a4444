"""Websocket payloads (§3): the subscribe request and every data frame, tagged by channel."""

from typing import Literal

import msgspec

from trading_coinbase.schemas.base import Request, Response

__all__ = [
    "CandlesEvent",
    "CandlesMessage",
    "HeartbeatEvent",
    "HeartbeatsMessage",
    "L2DataMessage",
    "L2Event",
    "L2Update",
    "MarketTradesEvent",
    "MarketTradesMessage",
    "StatusEvent",
    "StatusMessage",
    "StatusProduct",
    "SubscribeRequest",
    "SubscriptionsEvent",
    "SubscriptionsMessage",
    "TickerBatchMessage",
    "TickerEvent",
    "TickerMessage",
    "UserEvent",
    "UserMessage",
    "WsCandle",
    "WsErrorFrame",
    "WsMessage",
    "WsProbe",
    "WsTicker",
    "WsTrade",
    "WsUserOrder",
]


# ---------------------------------------------------------------- websocket (§3)


class SubscribeRequest(Request, frozen=True, kw_only=True, omit_defaults=True):
    """One (un)subscribe: one channel per message; `jwt` only for user channels."""

    type: Literal["subscribe", "unsubscribe"]
    channel: str
    product_ids: tuple[str, ...] | None = None
    jwt: str | None = None

    def __repr__(self) -> str:
        # The JWT is a bearer credential for 120 s: never print it.
        masked = "None" if self.jwt is None else "'***'"
        return (
            f"SubscribeRequest(type={self.type!r}, channel={self.channel!r}, "
            f"product_ids={self.product_ids!r}, jwt={masked})"
        )


class WsProbe(Response, frozen=True, kw_only=True):
    """The few fields read first from every frame to route it (error? which channel?)."""

    type: str = ""
    channel: str = ""
    message: str = ""
    sequence_num: int | str | None = None


class WsErrorFrame(Response, frozen=True, kw_only=True):
    """`{"type":"error","message":...}` ⚠: the session ends and the caller reconnects."""

    type: Literal["error"]
    message: str = ""


class _Envelope(Response, frozen=True, kw_only=True, tag_field="channel"):
    """Every data frame: channel (the tag), client_id, timestamp, sequence_num, events."""

    sequence_num: int | str
    client_id: str = ""
    timestamp: str = ""


class SubscriptionsEvent(Response, frozen=True, kw_only=True):
    """The ack: channel -> subscribed product ids (or user ids)."""

    subscriptions: dict[str, tuple[str, ...]] = msgspec.field(default_factory=dict)


class SubscriptionsMessage(_Envelope, frozen=True, kw_only=True, tag="subscriptions"):
    """Subscription acknowledgement."""

    events: tuple[SubscriptionsEvent, ...] = ()


class HeartbeatEvent(Response, frozen=True, kw_only=True):
    """1/s liveness; `heartbeat_counter` may arrive as a number or a string."""

    current_time: str = ""
    heartbeat_counter: int | str = 0


class HeartbeatsMessage(_Envelope, frozen=True, kw_only=True, tag="heartbeats"):
    """Heartbeats channel frame."""

    events: tuple[HeartbeatEvent, ...] = ()


class L2Update(Response, frozen=True, kw_only=True):
    """One level change; `new_quantity` is the absolute size, "0" deletes the level."""

    side: str
    price_level: str
    new_quantity: str
    event_time: str = ""


class L2Event(Response, frozen=True, kw_only=True):
    """A level2 snapshot or update for one product."""

    type: str
    product_id: str
    updates: tuple[L2Update, ...] = ()


class L2DataMessage(_Envelope, frozen=True, kw_only=True, tag="l2_data"):
    """Level2 arrives as channel `l2_data`."""

    events: tuple[L2Event, ...] = ()


class WsTrade(Response, frozen=True, kw_only=True):
    """One trade on market_trades."""

    trade_id: str
    product_id: str
    price: str
    size: str
    side: str
    time: str = ""


class MarketTradesEvent(Response, frozen=True, kw_only=True):
    """A batch of trades."""

    type: str
    trades: tuple[WsTrade, ...] = ()


class MarketTradesMessage(_Envelope, frozen=True, kw_only=True, tag="market_trades"):
    """market_trades channel frame."""

    events: tuple[MarketTradesEvent, ...] = ()


class WsTicker(Response, frozen=True, kw_only=True):
    """One ticker entry."""

    product_id: str
    price: str
    volume_24_h: str = ""
    low_24_h: str = ""
    high_24_h: str = ""
    price_percent_chg_24_h: str = ""
    best_bid: str = ""
    best_ask: str = ""
    best_bid_quantity: str = ""
    best_ask_quantity: str = ""


class TickerEvent(Response, frozen=True, kw_only=True):
    """A batch of tickers."""

    type: str
    tickers: tuple[WsTicker, ...] = ()


class TickerMessage(_Envelope, frozen=True, kw_only=True, tag="ticker"):
    """ticker channel frame (each match)."""

    events: tuple[TickerEvent, ...] = ()


class TickerBatchMessage(_Envelope, frozen=True, kw_only=True, tag="ticker_batch"):
    """ticker_batch channel frame (~5 s batches)."""

    events: tuple[TickerEvent, ...] = ()


class WsCandle(Response, frozen=True, kw_only=True):
    """A 5-minute candle, updated each second; `start` is epoch seconds as a string."""

    start: str
    open: str
    high: str
    low: str
    close: str
    volume: str
    product_id: str


class CandlesEvent(Response, frozen=True, kw_only=True):
    """A batch of candles."""

    type: str
    candles: tuple[WsCandle, ...] = ()


class CandlesMessage(_Envelope, frozen=True, kw_only=True, tag="candles"):
    """candles channel frame."""

    events: tuple[CandlesEvent, ...] = ()


class StatusProduct(Response, frozen=True, kw_only=True):
    """One product's status."""

    id: str
    status: str = ""
    product_type: str = ""


class StatusEvent(Response, frozen=True, kw_only=True):
    """A batch of product statuses."""

    type: str
    products: tuple[StatusProduct, ...] = ()


class StatusMessage(_Envelope, frozen=True, kw_only=True, tag="status"):
    """status channel frame."""

    events: tuple[StatusEvent, ...] = ()


class WsUserOrder(Response, frozen=True, kw_only=True):
    """An order on the user channel: state is cumulative per order (§3)."""

    order_id: str
    status: str
    client_order_id: str = ""
    product_id: str = ""
    order_side: str = ""
    order_type: str = ""
    time_in_force: str = ""
    cumulative_quantity: str = ""
    leaves_quantity: str = ""
    avg_price: str = ""
    total_fees: str = ""
    filled_value: str = ""
    number_of_fills: int | str = ""
    limit_price: str = ""
    stop_price: str = ""
    post_only: str = ""
    trigger_status: str = ""
    cancel_reason: str = ""
    reject_reason: str = ""
    creation_time: str = ""
    total_value_after_fees: str = ""
    product_type: str = ""


class UserEvent(Response, frozen=True, kw_only=True):
    """A snapshot (open orders in batches of 50) or an update."""

    type: str
    orders: tuple[WsUserOrder, ...] = ()


class UserMessage(_Envelope, frozen=True, kw_only=True, tag="user"):
    """user channel frame (JWT)."""

    events: tuple[UserEvent, ...] = ()


WsMessage = (
    SubscriptionsMessage
    | HeartbeatsMessage
    | L2DataMessage
    | MarketTradesMessage
    | TickerMessage
    | TickerBatchMessage
    | CandlesMessage
    | StatusMessage
    | UserMessage
)
"""Every data frame the client understands, discriminated by `channel`."""
