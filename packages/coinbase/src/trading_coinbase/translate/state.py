"""Orders, fills, balances and fees as the venue reports them, parsed (§2, §2.4, §3)."""

from decimal import Decimal

import msgspec

from trading_coinbase import schemas as w
from trading_coinbase.translate.enums import Side, VenueOrderStatus, order_status, parse_side
from trading_coinbase.translate.scalars import (
    NS_PER_S,
    decimal_or_zero,
    parse_decimal,
    parse_optional_rfc3339_ns,
    parse_wire_int,
)

__all__ = [
    "Balance",
    "FeeRates",
    "FillDelta",
    "FillRecord",
    "OrderState",
    "UserOrderState",
    "balance",
    "fee_rates",
    "fill_delta",
    "fill_record",
    "order_state",
    "server_time_ns",
    "user_order_state",
]


class OrderState(msgspec.Struct, frozen=True, kw_only=True):
    """What REST says about one order, parsed. Empty sizes read as zero."""

    order_id: str
    client_order_id: str
    product_id: str
    side: Side
    status: VenueOrderStatus
    order_type: str
    time_in_force: str
    filled_size: Decimal
    average_filled_price: Decimal
    filled_value: Decimal
    total_fees: Decimal
    number_of_fills: int
    created_ns: int | None


def order_state(order: w.Order, at: str = "$.order") -> OrderState:
    """A REST order as an `OrderState`; `at` is the order's path for error messages."""
    fills = order.number_of_fills
    return OrderState(
        order_id=order.order_id,
        client_order_id=order.client_order_id,
        product_id=order.product_id,
        side=parse_side(order.side, f"{at}.side"),
        status=order_status(order.status),
        order_type=order.order_type.upper(),
        time_in_force=order.time_in_force,
        filled_size=decimal_or_zero(order.filled_size, f"{at}.filled_size"),
        average_filled_price=decimal_or_zero(
            order.average_filled_price, f"{at}.average_filled_price"
        ),
        filled_value=decimal_or_zero(order.filled_value, f"{at}.filled_value"),
        total_fees=decimal_or_zero(order.total_fees, f"{at}.total_fees"),
        number_of_fills=parse_wire_int(fills, f"{at}.number_of_fills") if fills else 0,
        created_ns=parse_optional_rfc3339_ns(order.created_time, f"{at}.created_time"),
    )


class FillRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One REST fill, parsed; `liquidity` is MAKER or TAKER as the venue says."""

    entry_id: str
    trade_id: str
    order_id: str
    product_id: str
    side: Side
    price: Decimal
    size: Decimal
    commission: Decimal
    liquidity: str
    size_in_quote: bool
    trade_time_ns: int | None


def fill_record(fill: w.Fill, at: str = "$.fills[0]") -> FillRecord:
    """A REST fill as a `FillRecord`."""
    return FillRecord(
        entry_id=fill.entry_id,
        trade_id=fill.trade_id,
        order_id=fill.order_id,
        product_id=fill.product_id,
        side=parse_side(fill.side, f"{at}.side"),
        price=parse_decimal(fill.price, f"{at}.price"),
        size=parse_decimal(fill.size, f"{at}.size"),
        commission=decimal_or_zero(fill.commission, f"{at}.commission"),
        liquidity=fill.liquidity_indicator,
        size_in_quote=fill.size_in_quote,
        trade_time_ns=parse_optional_rfc3339_ns(fill.trade_time, f"{at}.trade_time"),
    )


class UserOrderState(msgspec.Struct, frozen=True, kw_only=True):
    """A user-channel order, parsed; quantities are cumulative for the order."""

    order_id: str
    client_order_id: str
    product_id: str
    side: Side
    status: VenueOrderStatus
    order_type: str
    cumulative_quantity: Decimal
    leaves_quantity: Decimal
    avg_price: Decimal
    total_fees: Decimal


def user_order_state(order: w.WsUserOrder, at: str = "$.events[0].orders[0]") -> UserOrderState:
    """A user-channel order as a `UserOrderState` (`"Limit"` is normalised to LIMIT)."""
    return UserOrderState(
        order_id=order.order_id,
        client_order_id=order.client_order_id,
        product_id=order.product_id,
        side=parse_side(order.order_side, f"{at}.order_side"),
        status=order_status(order.status),
        order_type=order.order_type.upper(),
        cumulative_quantity=decimal_or_zero(order.cumulative_quantity, f"{at}.cumulative_quantity"),
        leaves_quantity=decimal_or_zero(order.leaves_quantity, f"{at}.leaves_quantity"),
        avg_price=decimal_or_zero(order.avg_price, f"{at}.avg_price"),
        total_fees=decimal_or_zero(order.total_fees, f"{at}.total_fees"),
    )


class FillDelta(msgspec.Struct, frozen=True, kw_only=True):
    """The new fill between two cumulative states of one order."""

    quantity: Decimal
    price: Decimal


def fill_delta(previous: UserOrderState | None, current: UserOrderState) -> FillDelta | None:
    """The fill since `previous` (§3): qty = cum_now - cum_prev,
    price = (avg_now*cum_now - avg_prev*cum_prev) / qty. None if nothing new filled
    (a restated snapshot or a replay after reconnect is not a new fill)."""
    cum_prev = Decimal(0) if previous is None else previous.cumulative_quantity
    avg_prev = Decimal(0) if previous is None else previous.avg_price
    quantity = current.cumulative_quantity - cum_prev
    if quantity <= 0:
        return None
    notional = current.avg_price * current.cumulative_quantity - avg_prev * cum_prev
    return FillDelta(quantity=quantity, price=notional / quantity)


class Balance(msgspec.Struct, frozen=True, kw_only=True):
    """One account's balance in its currency."""

    account_uuid: str
    currency: str
    available: Decimal
    hold: Decimal


def balance(account: w.Account, at: str = "$.account") -> Balance:
    """An account as a `Balance`; a missing hold is zero."""
    hold = account.hold
    return Balance(
        account_uuid=account.uuid,
        currency=account.currency,
        available=parse_decimal(account.available_balance.value, f"{at}.available_balance.value"),
        hold=Decimal(0) if hold is None else parse_decimal(hold.value, f"{at}.hold.value"),
    )


class FeeRates(msgspec.Struct, frozen=True, kw_only=True):
    """The key's current maker and taker fee rates (fractions: 0.006 = 0.6 %)."""

    pricing_tier: str
    maker: Decimal
    taker: Decimal


def fee_rates(summary: w.TransactionSummary) -> FeeRates:
    """The fee tier of a transaction summary."""
    tier = summary.fee_tier
    return FeeRates(
        pricing_tier=tier.pricing_tier,
        maker=parse_decimal(tier.maker_fee_rate, "$.fee_tier.maker_fee_rate"),
        taker=parse_decimal(tier.taker_fee_rate, "$.fee_tier.taker_fee_rate"),
    )


def server_time_ns(time: w.ServerTime) -> int:
    """GET /time as epoch nanoseconds, from epochMillis when given, else epochSeconds."""
    if time.epoch_millis != "":
        return parse_wire_int(time.epoch_millis, "$.epochMillis") * 1_000_000
    return parse_wire_int(time.epoch_seconds, "$.epochSeconds") * NS_PER_S
