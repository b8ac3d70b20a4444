"""How the loopback venue runs: replay speed, account, fills, limits, deadlines, faults.

One frozen value, checked on construction; the process builds it from its command
line, tests build it directly. The market itself (bar series) and the key are passed
beside it, because they are data and a secret's public half, not settings.
"""

from collections.abc import Mapping
from decimal import Decimal
from typing import Final

import msgspec

from trading_sim.matching.config import DEFAULT_PRODUCTS, EngineConfig, ProductSpec
from trading_sim.venue.faults import Faults

__all__ = ["DEFAULT_BALANCES", "VenueSettings"]

DEFAULT_BALANCES: Final = {"USD": Decimal(10_000)}


class VenueSettings(msgspec.Struct, frozen=True, kw_only=True):
    """The venue's settings; every default is Coinbase's published figure where one exists.

    `bar_seconds` is the venue-clock time between bars; `history_bars` bars are the
    market already at `start_ns` (None: when the venue is built). `align_to_clock`
    shifts the market timeline so the bar current at the start ends at the start
    (the right choice at real-time speed). Rates are Coinbase's: 30 private requests
    per second per key, 10 public per client address (§2.6); a subscribe within 5 s
    (§3); one heartbeat a second. `poll_s` is how often the venue looks at its clock
    to move the market when no request does.

    Raises:
        ValueError: a value out of range (names it).
    """

    bar_seconds: float = 1.0
    history_bars: int = 0
    start_ns: int | None = None
    align_to_clock: bool = False
    balances: Mapping[str, Decimal] = msgspec.field(default_factory=lambda: dict(DEFAULT_BALANCES))
    spread_bps: Decimal = Decimal(2)
    slippage_bps: Decimal = Decimal(0)
    random_slippage_bps: Decimal = Decimal(0)
    participation: Decimal = Decimal("0.1")
    prior_volume_quote: Decimal = Decimal(0)
    seed: int = 0
    key_name: str | None = None
    portfolio_uuid: str = "5f1c7e2a-0d3b-4c55-9a61-3b1f0e8d2c47"
    jwt_leeway_s: int = 5
    private_rate_per_s: int = 30
    public_rate_per_s: int = 10
    subscribe_deadline_s: float = 5.0
    heartbeat_s: float = 1.0
    poll_s: float = 0.05
    faults: Faults = msgspec.field(default_factory=Faults)

    def __post_init__(self) -> None:
        problem = _problem(self)
        if problem:
            raise ValueError(f"bad venue settings: {problem}")

    @property
    def bar_ns(self) -> int:
        return round(self.bar_seconds * 1e9)

    def engine_config(self, product_ids: tuple[str, ...]) -> EngineConfig:
        """The matching engine's config for these products (known specs, else spot defaults).

        Raises:
            ValueError: a product id that is not BASE-QUOTE, or a cost out of range.
        """
        known = {p.product_id: p for p in DEFAULT_PRODUCTS}
        products = tuple(known.get(p) or ProductSpec.spot(p) for p in product_ids)
        return EngineConfig(
            products=products,
            prior_volume_quote=self.prior_volume_quote,
            participation=self.participation,
            spread_bps=self.spread_bps,
            slippage_bps=self.slippage_bps,
            random_slippage_bps=self.random_slippage_bps,
        )


def _problem(s: VenueSettings) -> str:
    if not 0 < s.bar_seconds <= 86_400 or s.bar_ns < 1_000_000:
        return "bar_seconds must be in [0.001, 86400]"
    if s.history_bars < 0:
        return "history_bars must not be negative"
    if not all(v.is_finite() and v >= 0 for v in s.balances.values()):
        return "balances must be finite and not negative"
    if s.private_rate_per_s < 0 or s.public_rate_per_s < 0:
        return "rates must not be negative (0 turns a limit off)"
    timers = (s.subscribe_deadline_s, s.heartbeat_s, s.poll_s)
    if not all(0 < x <= 3600 for x in timers):
        return "subscribe_deadline_s, heartbeat_s and poll_s must be in (0, 3600]"
    if s.jwt_leeway_s < 0:
        return "jwt_leeway_s must not be negative"
    return ""
