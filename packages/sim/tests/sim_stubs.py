"""Object mothers and a tiny driver for the matching engine's tests."""

import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import trading_sim as s

T0 = 1_700_000_000 * 10**9  # 2023-11-14T22:13:20Z in ns, on a minute boundary
MINUTE = 60 * 10**9
D = Decimal


def seeded(seed: int) -> random.Random:
    """The engine's rng: seeded so every run replays exactly (not for secrets)."""
    return random.Random(seed)  # noqa: S311


def at(minutes: int, seconds: int = 0) -> int:
    """The time `minutes` bars after T0, plus `seconds`."""
    return T0 + minutes * MINUTE + seconds * 10**9


def config(**overrides: Any) -> s.EngineConfig:
    """No spread or slippage, 10 % participation, the default (Coinbase) fee tiers."""
    fields: dict[str, Any] = {"spread_bps": D(0), "slippage_bps": D(0)}
    return s.EngineConfig(**(fields | overrides))


def bar(minute: int = 0, **overrides: Any) -> s.Bar:
    """The minute bar opening `minute` bars after T0: 100 / 101 / 99 / 100, volume 10."""
    fields: dict[str, Any] = {
        "product_id": "BTC-USD",
        "open_ns": at(minute),
        "close_ns": at(minute + 1),
        "open": D(100),
        "high": D(101),
        "low": D(99),
        "close": D(100),
        "volume": D(10),
    }
    return s.Bar(**(fields | overrides))


def order(**overrides: Any) -> s.SimOrder:
    """A GTC limit buy of 1 BTC at 99, placed one bar after T0."""
    fields: dict[str, Any] = {
        "order_id": "o1",
        "client_order_id": "c1",
        "product_id": "BTC-USD",
        "side": s.Side.BUY,
        "kind": s.OrderKind.LIMIT,
        "size": D(1),
        "limit_price": D(99),
        "tif": s.TimeInForce.GTC,
        "created_ns": at(1),
    }
    return s.SimOrder(**(fields | overrides))


def market(**overrides: Any) -> s.SimOrder:
    fields: dict[str, Any] = {
        "kind": s.OrderKind.MARKET,
        "limit_price": None,
        "tif": s.TimeInForce.IOC,
    }
    return order(**(fields | overrides))


def stop_limit(**overrides: Any) -> s.SimOrder:
    """A GTC stop-limit sell of 1 BTC: fires at or below 95, limit 94."""
    fields: dict[str, Any] = {
        "side": s.Side.SELL,
        "kind": s.OrderKind.STOP_LIMIT,
        "stop_price": D(95),
        "stop_direction": s.StopDirection.DOWN,
        "limit_price": D(94),
    }
    return order(**(fields | overrides))


RICH = {"USD": D(1_000_000), "BTC": D(100)}


@dataclass
class Venue:
    """Drives the pure engine step by step and keeps every event, for readable tests."""

    state: s.EngineState
    rng: random.Random = field(default_factory=lambda: seeded(7))
    events: list[s.SimEvent] = field(default_factory=list)

    @classmethod
    def open(
        cls,
        cfg: s.EngineConfig | None = None,
        balances: dict[str, Decimal] | None = None,
        *,
        market: bool = True,
        seed: int = 7,
    ) -> "Venue":
        """A venue with `balances` (ample by default) and, unless told not to, bar 0 fed."""
        venue = cls(
            s.new_state(cfg or config(), RICH if balances is None else balances),
            seeded(seed),
        )
        if market:
            venue.bar(bar(0))
        return venue

    def bar(self, b: s.Bar) -> list[s.SimEvent]:
        self.state, events = s.on_bar(self.state, b, self.rng)
        return self._keep(events)

    def submit(
        self, o: s.SimOrder, now_ns: int | None = None, quote: s.Quote | None = None
    ) -> list[s.SimEvent]:
        when = o.created_ns if now_ns is None else now_ns
        self.state, events = s.submit(self.state, o, when, self.rng, quote)
        return self._keep(events)

    def cancel(self, order_id: str, now_ns: int) -> list[s.SimEvent]:
        self.state, events = s.cancel(self.state, order_id, now_ns)
        return self._keep(events)

    def expire(self, now_ns: int) -> list[s.SimEvent]:
        self.state, events = s.expire(self.state, now_ns)
        return self._keep(events)

    def fills(self, order_id: str | None = None) -> list[s.SimFill]:
        return [
            e.fill
            for e in self.events
            if isinstance(e, s.OrderFilled) and order_id in (None, e.order.order_id)
        ]

    def last(self, order_id: str) -> s.SimOrder:
        """The latest snapshot of an order, from the events."""
        snapshots = [
            e.order
            for e in self.events
            if not isinstance(e, s.CancelRejected) and e.order.order_id == order_id
        ]
        return snapshots[-1]

    def balance(self, currency: str) -> s.Balance:
        found = [b for b in s.account_balances(self.state) if b.currency == currency]
        return found[0] if found else s.Balance(currency=currency, total=D(0), hold=D(0))

    def _keep(self, events: s.Events) -> list[s.SimEvent]:
        self.events.extend(events)
        return list(events)


def statuses(events: list[s.SimEvent]) -> list[str]:
    """The order statuses the events carry, in order (triggers included as 'triggered')."""
    out: list[str] = []
    for e in events:
        if isinstance(e, s.CancelRejected):
            out.append("cancel_rejected")
        elif isinstance(e, s.OrderTriggered):
            out.append("triggered")
        else:
            out.append(e.order.status.value)
    return out
