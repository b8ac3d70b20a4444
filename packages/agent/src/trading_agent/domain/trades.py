"""Round trips folded from fills: what each trade made, in dollars and in R.

A trade opens when a buy fills on a flat product and closes when sells bring it back to
flat; buys in between scale into it, partial sells scale out. Round trips are per
product, so a trade belongs to the strategy of the intent that opened it.

A `Fill` carries only its `intent_id`, so the caller passes the `EntryTag` of each
intent it sent: its strategy and the risk per unit it planned (entry price - stop). One
R is that risk times the trade's size (all base bought); `r_multiple = net P&L / R`,
None for a trade opened without a stop (Tharp 1998, "Trade Your Way to Financial
Freedom", for R multiples and expectancy).

Excursions (MAE/MFE) are measured from the trade's final average entry price against
the lowest and highest prices seen while it was open: its own fill prices, and the lows
and highs of candles fed with `on_candle` that start at or after the entry (a candle
that started earlier may hold prices from before the trade).

Duplicates are ignored by `(product_id, trade_id)`, as in `portfolio`.
"""

from collections.abc import Mapping
from decimal import Decimal, localcontext
from types import MappingProxyType

import msgspec

from trading_agent.domain.appended import Appended
from trading_agent.domain.market import Candle
from trading_agent.domain.portfolio import (
    EXACT,
    ROUNDED,
    FillError,
    OversellError,
    check_fill,
    fill_key,
)
from trading_agent.domain.seen import SeenKeys
from trading_contract import Fill, Side

__all__ = [
    "EntryTag",
    "OpenTrade",
    "Trade",
    "TradeLog",
    "UnknownIntentError",
    "on_candle",
    "on_fill",
]


class UnknownIntentError(FillError):
    """A fill opened a trade for an intent the caller did not tag: whose trade is it?"""


class EntryTag(msgspec.Struct, frozen=True, kw_only=True):
    """What the agent knew when it sent an intent: its strategy and planned risk."""

    strategy_id: str
    # Entry price - stop, per unit of base; None when the entry had no stop.
    risk_per_unit_usd: Decimal | None = None

    def __post_init__(self) -> None:
        risk = self.risk_per_unit_usd
        if risk is not None and not (risk.is_finite() and risk > 0):
            raise ValueError(
                f"risk per unit for {self.strategy_id} must be finite and > 0 "
                f"(a stop below the entry), got {risk}"
            )


class OpenTrade(msgspec.Struct, frozen=True, kw_only=True):
    """A trade still holding base: running sums, so closing it is exact arithmetic."""

    product_id: str
    strategy_id: str
    entry_intent_id: str
    risk_per_unit_usd: Decimal | None
    entry_ns: int
    base_size: Decimal
    bought_size: Decimal
    bought_usd: Decimal
    sold_usd: Decimal
    fees_usd: Decimal
    lowest_price: Decimal
    highest_price: Decimal
    fill_count: int


class Trade(msgspec.Struct, frozen=True, kw_only=True):
    """One closed round trip. `net_pnl_usd = gross_pnl_usd - fees_usd` exactly."""

    product_id: str
    strategy_id: str
    entry_intent_id: str
    exit_intent_id: str
    entry_ns: int
    exit_ns: int
    entry_price: Decimal
    exit_price: Decimal
    size: Decimal
    gross_pnl_usd: Decimal
    fees_usd: Decimal
    net_pnl_usd: Decimal
    risk_usd: Decimal | None
    r_multiple: Decimal | None
    max_adverse_usd: Decimal
    max_favourable_usd: Decimal
    fill_count: int

    @property
    def holding_ns(self) -> int:
        return self.exit_ns - self.entry_ns


class TradeLog(msgspec.Struct, frozen=True, kw_only=True):
    """Open trades by product and closed ones in the order they closed."""

    open: Mapping[str, OpenTrade] = MappingProxyType({})
    closed: Appended[Trade] = msgspec.field(default_factory=Appended)
    seen_fills: SeenKeys = msgspec.field(default_factory=SeenKeys)


def on_fill(log: TradeLog, fill: Fill, tags: Mapping[str, EntryTag]) -> TradeLog:
    """The log after `fill`; the same object if this fill was already folded.

    `tags` maps intent ids to their `EntryTag`; only the fill that opens a trade needs
    its intent there.

    Raises:
        FillError: see `portfolio.check_fill`.
        UnknownIntentError: an opening fill whose intent is not in `tags`.
        OversellError: a sell larger than the open trade (or with no trade open).
    """
    key = fill_key(fill)
    if key in log.seen_fills:
        return log
    check_fill(fill)
    current = log.open.get(fill.product_id)
    with localcontext(EXACT):
        if fill.side is Side.BUY:
            after = _opened(fill, tags) if current is None else _bought(current, fill)
            return _replaced(log, key, fill.product_id, after, None)
        if current is None or fill.size > current.base_size:
            held = Decimal(0) if current is None else current.base_size
            raise OversellError(
                f"fill {fill.trade_id} sells {fill.size} {fill.product_id} "
                f"but the open trade holds {held} (spot has no shorts)"
            )
        sold = _sold(current, fill)
        if sold.base_size == 0:
            return _replaced(log, key, fill.product_id, None, _closed(sold, fill))
        return _replaced(log, key, fill.product_id, sold, None)


def on_candle(log: TradeLog, candle: Candle) -> TradeLog:
    """The log with the candle's range counted in its product's open trade excursions."""
    current = log.open.get(candle.product_id)
    if current is None or candle.start_ns < current.entry_ns:
        return log
    low = min(current.lowest_price, candle.low)
    high = max(current.highest_price, candle.high)
    if low == current.lowest_price and high == current.highest_price:
        return log
    widened = msgspec.structs.replace(current, lowest_price=low, highest_price=high)
    return msgspec.structs.replace(log, open=_with(log.open, candle.product_id, widened))


def _opened(fill: Fill, tags: Mapping[str, EntryTag]) -> OpenTrade:
    tag = tags.get(fill.intent_id)
    if tag is None:
        raise UnknownIntentError(
            f"fill {fill.trade_id} opens a {fill.product_id} trade for intent "
            f"{fill.intent_id}, which has no entry tag"
        )
    return OpenTrade(
        product_id=fill.product_id,
        strategy_id=tag.strategy_id,
        entry_intent_id=fill.intent_id,
        risk_per_unit_usd=tag.risk_per_unit_usd,
        entry_ns=fill.event_ns,
        base_size=fill.size,
        bought_size=fill.size,
        bought_usd=fill.price * fill.size,
        sold_usd=Decimal(0),
        fees_usd=fill.fee,
        lowest_price=fill.price,
        highest_price=fill.price,
        fill_count=1,
    )


def _bought(t: OpenTrade, fill: Fill) -> OpenTrade:
    return msgspec.structs.replace(
        t,
        base_size=t.base_size + fill.size,
        bought_size=t.bought_size + fill.size,
        bought_usd=t.bought_usd + fill.price * fill.size,
        **_touched(t, fill),
    )


def _sold(t: OpenTrade, fill: Fill) -> OpenTrade:
    return msgspec.structs.replace(
        t,
        base_size=t.base_size - fill.size,
        sold_usd=t.sold_usd + fill.price * fill.size,
        **_touched(t, fill),
    )


def _touched(t: OpenTrade, fill: Fill) -> dict[str, object]:
    return {
        "fees_usd": t.fees_usd + fill.fee,
        "lowest_price": min(t.lowest_price, fill.price),
        "highest_price": max(t.highest_price, fill.price),
        "fill_count": t.fill_count + 1,
    }


def _closed(t: OpenTrade, last: Fill) -> Trade:
    size = t.bought_size
    gross = t.sold_usd - t.bought_usd
    net = gross - t.fees_usd
    entry_price = ROUNDED.divide(t.bought_usd, size)
    risk = None if t.risk_per_unit_usd is None else t.risk_per_unit_usd * size
    return Trade(
        product_id=t.product_id,
        strategy_id=t.strategy_id,
        entry_intent_id=t.entry_intent_id,
        exit_intent_id=last.intent_id,
        entry_ns=t.entry_ns,
        exit_ns=last.event_ns,
        entry_price=entry_price,
        exit_price=ROUNDED.divide(t.sold_usd, size),
        size=size,
        gross_pnl_usd=gross,
        fees_usd=t.fees_usd,
        net_pnl_usd=net,
        risk_usd=risk,
        r_multiple=None if risk is None else ROUNDED.divide(net, risk),
        max_adverse_usd=_excursion(entry_price - t.lowest_price, size),
        max_favourable_usd=_excursion(t.highest_price - entry_price, size),
        fill_count=t.fill_count,
    )


def _excursion(per_unit: Decimal, size: Decimal) -> Decimal:
    return ROUNDED.multiply(max(per_unit, Decimal(0)), size)


def _replaced(
    log: TradeLog,
    key: tuple[str, str],
    product_id: str,
    open_trade: OpenTrade | None,
    closed: Trade | None,
) -> TradeLog:
    return TradeLog(
        open=_with(log.open, product_id, open_trade),
        closed=log.closed if closed is None else log.closed.appended(closed),
        seen_fills=log.seen_fills.added(key),
    )


def _with(
    trades: Mapping[str, OpenTrade], product_id: str, trade: OpenTrade | None
) -> Mapping[str, OpenTrade]:
    out = dict(trades)
    if trade is None:
        out.pop(product_id, None)
    else:
        out[product_id] = trade
    return MappingProxyType(out)
