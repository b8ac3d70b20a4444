"""Test support: a throwaway key pair and the venue served on a manual clock.

For tests here and in other packages (the gate's adapter against the real protocol):

    async with harness(series, settings=VenueSettings(bar_seconds=1.0)) as h:
        async with h.rest() as client:          # the real trading_coinbase client
            await client.create_order(spec)
        h.clock.advance(1.0)                    # the next bar becomes the market
        h.trade("BTC-USD", open=..., high=..., low=..., close=..., volume=...)
                                                # or: a bar of the test's own (a hook)

The clients sign with the harness's key on the SAME manual clock, so moving the clock
never expires their tokens by accident; the client's own rate limiter is opened wide
and its retry sleeps are instant, so only the venue's limits and faults show.
"""

import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from decimal import Decimal
from typing import Final, Literal, NamedTuple

import msgspec
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from trading_coinbase.auth import ApiKey, Signer
from trading_coinbase.ratelimit import BucketLimits, RateLimiter
from trading_coinbase.rest import RestClient, RetryPolicy
from trading_coinbase.websocket import WebsocketFeed
from trading_sim.matching.model import Bar
from trading_sim.venue.clock import ManualClock
from trading_sim.venue.config import VenueSettings
from trading_sim.venue.exchange import Exchange
from trading_sim.venue.faults import Faults
from trading_sim.venue.server import RunningVenue, build_exchange, serve_venue

__all__ = ["KEY_NAME", "Harness", "KeyPair", "harness", "new_key_pair"]

KEY_NAME: Final = "organizations/sim-org/apiKeys/sim-key"
# 2026-01-01T00:00:00Z: a fixed start, so ids, times and fills repeat run to run.
DEFAULT_START_NS: Final = 1_767_225_600 * 1_000_000_000
_WIDE_OPEN: Final = BucketLimits(rate_per_s=100_000, capacity=100_000)


class KeyPair(NamedTuple):
    """`private_pem` as the CDP portal issues it (for `ApiKey`); `public_pem` for the venue."""

    private_pem: str
    public_pem: bytes


def new_key_pair(algorithm: Literal["ES256", "EdDSA"] = "ES256") -> KeyPair:
    """A fresh EC P-256 (ES256) or Ed25519 (EdDSA) key pair."""
    private: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
    if algorithm == "ES256":
        private = ec.generate_private_key(ec.SECP256R1())
        text = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    else:
        private = ed25519.Ed25519PrivateKey.generate()
        text = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return KeyPair(private_pem=text.decode("ascii"), public_pem=public)


async def _no_sleep(_: float) -> None:
    return None


class Harness:
    """A served venue on a manual clock, and real clients for it."""

    def __init__(
        self, clock: ManualClock, exchange: Exchange, venue: RunningVenue, key: ApiKey
    ) -> None:
        self.clock = clock
        self.exchange = exchange
        self.venue = venue
        self.key = key

    def signer(self, key: ApiKey | None = None) -> Signer:
        """A signer on the harness clock, with the harness key unless another is given."""
        return Signer(key or self.key, clock=self.clock.now_s)

    def rest(
        self,
        *,
        signer: Signer | None = None,
        keyless: bool = False,
        attempts: int = 4,
        timeout_s: float = 5.0,
    ) -> RestClient:
        """The real REST client against the venue; `keyless` for public calls only."""
        chosen = None if keyless else (signer or self.signer())
        return RestClient(
            base_url=self.venue.base_url,
            signer=chosen,
            timeout_s=timeout_s,
            retry=RetryPolicy(attempts=attempts, base_delay_s=0.001, max_delay_s=0.001),
            private_limiter=RateLimiter(_WIDE_OPEN),
            public_limiter=RateLimiter(_WIDE_OPEN),
            sleep=_no_sleep,
        )

    def market_feed(self, *, idle_timeout_s: float = 5.0) -> WebsocketFeed:
        """The real websocket client on /ws/market (keyless)."""
        return WebsocketFeed(url=self.venue.market_ws_url, idle_timeout_s=idle_timeout_s)

    def user_feed(
        self, *, signer: Signer | None = None, idle_timeout_s: float = 5.0
    ) -> WebsocketFeed:
        """The real websocket client on /ws/user, signing its subscribes."""
        return WebsocketFeed(
            url=self.venue.user_ws_url,
            signer=signer or self.signer(),
            idle_timeout_s=idle_timeout_s,
        )

    def set_faults(self, **changes: object) -> Faults:
        """Change fault knobs in process (the same merge as POST /__sim/faults)."""
        return self.exchange.faults.update(msgspec.json.encode(changes))

    def trade(
        self,
        product_id: str,
        *,
        open: Decimal,
        high: Decimal,
        low: Decimal,
        close: Decimal,
        volume: Decimal,
        seconds: float = 60.0,
    ) -> None:
        """Test hook: `seconds` of trading at these prices (volume in base units).

        The clock moves on by `seconds` and the venue trades one bar spanning them
        (`Exchange.trade_bar`), outside the replay; so serve a replay whose `bar_seconds`
        outlasts the test. Orders working when the bar opened may fill against it.
        """
        open_ns = self.clock.now_ns()
        self.clock.advance(seconds)
        bar = Bar(
            product_id=product_id,
            open_ns=open_ns,
            close_ns=self.clock.now_ns(),
            open=open,
            high=high,
            low=low,
            close=close,
            volume=volume,
        )
        self.exchange.trade_bar(bar)

    def next_bar(self, count: int = 1) -> None:
        """Move the clock to the arrival of the bar `count` after the current one."""
        arrival = self.exchange.replay.arrival_ns(self.exchange.index + count)
        self.clock.set(max(arrival, self.clock.now_ns()))
        self.exchange.sync()


@contextlib.asynccontextmanager
async def harness(
    series: Mapping[str, Sequence[Bar]],
    *,
    settings: VenueSettings | None = None,
    start_ns: int = DEFAULT_START_NS,
    key_pair: KeyPair | None = None,
) -> AsyncIterator[Harness]:
    """Serve a venue over `series` on a manual clock starting at `start_ns`."""
    pair = key_pair or new_key_pair()
    clock = ManualClock(start_ns)
    chosen = settings or VenueSettings(key_name=KEY_NAME)
    exchange = build_exchange(chosen, series, clock, public_key_pem=pair.public_pem)
    async with serve_venue(exchange) as venue:
        yield Harness(clock, exchange, venue, ApiKey(KEY_NAME, pair.private_pem))
