"""The exchange port over Coinbase Advanced Trade: REST for orders, the user channel to
follow them, level2 and ticker for the reference mids. The key is passed in here.

`connect()` turns the gate's key (read from its key file) into the library's signing
key, once, inside this module: the secret never leaves the process and is never logged.
`start()` runs the start-up self-checks (venue clock skew, the key's scope) and loads
the products' rules; `run()` holds the two websocket streams open.

Orders are sent exactly once (`place` never retries; the mapping of every Coinbase
error to the port's tree is in `coinbase_translate`). What the venue did is read two
ways, and the user channel decides which:

- trusted (subscribed, gap-free, and the gate reconciled since it resubscribed): an
  order the channel has reported in this subscription is answered from memory; fills
  are fetched over REST only for orders the channel shows filled beyond what is known,
  or that were just placed and not reported yet (the only source of trade ids is REST).
- suspect (see `coinbase_stream`): every lookup is REST, and `fills_since` sweeps the
  REST fill list back to `since_ns`. The first call after each resubscription sweeps
  too, so nothing that happened while the stream was down is missed.

Fills are kept by trade id, so the two ways never count one twice. `suspect`,
`reconcile_token()` and `reconciled()` are the gate's view of the stream: it refuses
new orders while the stream is suspect and reconciles to settle it.
"""

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Final
from urllib.parse import urlsplit

import msgspec

from trading_coinbase import schemas as w
from trading_coinbase import translate as t
from trading_coinbase.auth import ApiKey, Signer
from trading_coinbase.errors import (
    CoinbaseError,
    InvalidOrderSpec,
    KeyFormatError,
    OrderOutcomeUnknown,
)
from trading_coinbase.rest import DEFAULT_BASE_URL, RestClient
from trading_coinbase.websocket import MARKET_DATA_URL, USER_DATA_URL, WebsocketFeed
from trading_contract import ClientOrderId, ProductId, VenueOrderId
from trading_gate.core.clock import Clock
from trading_gate.core.context import ProductRules, ReferenceMid
from trading_gate.exchange.coinbase_fills import FillBook
from trading_gate.exchange.coinbase_orders import OrderViews
from trading_gate.exchange.coinbase_stream import MarketStream, Reconnect, UserStream
from trading_gate.exchange.coinbase_translate import (
    StreamOrder,
    order_spec,
    place_outcome,
    port_errors,
    port_product_rules,
    venue_balance,
)
from trading_gate.ports import (
    CancelResult,
    ExchangeAuthError,
    ExchangeError,
    OrderRequest,
    OutcomeUnknown,
    PlaceAccepted,
    PlaceRejected,
    PlaceResult,
    VenueBalance,
    VenueFill,
    VenueOrder,
)
from trading_gate.secrets import ExchangeKey

__all__ = [
    "CoinbaseEndpoints",
    "CoinbaseExchange",
    "CoinbaseSettings",
    "VenueCheckFailed",
    "connect",
]

_NS_PER_S: Final = 1_000_000_000
_LOOPBACK: Final = frozenset({"127.0.0.1", "::1", "localhost"})
_INDEFINITE_DUPLICATE: Final = "DUPLICATE_CLIENT_ORDER_ID"


class VenueCheckFailed(ExchangeError):
    """A start-up self-check refused the venue (its clock is too far from ours)."""


class CoinbaseSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Start-up tolerance, reconnect backoff, and how far REST lookups page back.

    Raises:
        ValueError: a tolerance or page count below 1.
    """

    max_clock_skew_s: float = 5.0
    reconnect: Reconnect = msgspec.field(default_factory=Reconnect)
    fill_pages: int = 50
    order_pages: int = 20

    def __post_init__(self) -> None:
        if self.max_clock_skew_s <= 0 or self.fill_pages < 1 or self.order_pages < 1:
            raise ValueError(f"invalid Coinbase settings {self!r}")


class CoinbaseEndpoints(msgspec.Struct, frozen=True, kw_only=True):
    """Where the venue is: Coinbase by default, or the loopback venue's printed URLs.

    Raises:
        ValueError: a URL without TLS (http, ws) to a host that is not loopback.
    """

    rest_url: str = DEFAULT_BASE_URL
    market_ws_url: str = MARKET_DATA_URL
    user_ws_url: str = USER_DATA_URL

    def __post_init__(self) -> None:
        for url, secure in (
            (self.rest_url, "https"),
            (self.market_ws_url, "wss"),
            (self.user_ws_url, "wss"),
        ):
            parts = urlsplit(url)
            if parts.scheme != secure and parts.hostname not in _LOOPBACK:
                raise ValueError(f"{url}: only {secure}:// may leave this machine")


def connect(
    key: ExchangeKey,
    *,
    clock: Clock,
    products: Sequence[ProductId],
    endpoints: CoinbaseEndpoints | None = None,
    settings: CoinbaseSettings | None = None,
) -> "CoinbaseExchange":
    """The adapter for `key` at `endpoints`, with the library's clients (not started).

    Raises:
        ExchangeAuthError: the private key is not an EC P-256 or Ed25519 key (the
            message never shows it).
    """
    where = endpoints or CoinbaseEndpoints()
    try:
        signer = Signer(ApiKey(key.name, key.private_key.reveal()))
    except KeyFormatError as exc:
        raise ExchangeAuthError(f"the key file's privateKey is not usable: {exc}") from None
    return CoinbaseExchange(
        rest=RestClient(base_url=where.rest_url, signer=signer),
        user_feed=WebsocketFeed(url=where.user_ws_url, signer=signer, idle_timeout_s=5.0),
        market_feed=WebsocketFeed(url=where.market_ws_url, idle_timeout_s=5.0),
        clock=clock,
        products=products,
        settings=settings,
    )


class CoinbaseExchange:
    """`ExchangePort` and `MarketView` over Coinbase Advanced Trade (module docstring)."""

    def __init__(
        self,
        *,
        rest: RestClient,
        user_feed: WebsocketFeed,
        market_feed: WebsocketFeed,
        clock: Clock,
        products: Sequence[ProductId],
        settings: CoinbaseSettings | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        seed: int | None = None,
    ) -> None:
        self._rest = rest
        self._clock = clock
        self._products = tuple(products)
        self._settings = settings or CoinbaseSettings()
        rng = random.Random(seed)  # noqa: S311 - reconnect jitter, not secrecy
        self._user = UserStream(
            user_feed,
            on_order=self._on_stream_order,
            reconnect=self._settings.reconnect,
            sleep=sleep,
            rng=rng,
        )
        self._market = MarketStream(
            market_feed,
            clock_ns=clock.now_ns,
            reconnect=self._settings.reconnect,
            sleep=sleep,
            rng=rng,
        )
        self._rules: dict[ProductId, ProductRules] = {}
        self._orders = OrderViews(rest, self._user, self._settings.order_pages)
        self._fills = FillBook(rest, self._orders.client_order_id, self._settings.fill_pages)
        # (subscription, since_ns) of the last full REST sweep of the fills.
        self._swept: tuple[int, int] | None = None

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """The self-checks before trading, then the products' rules.

        Raises:
            VenueCheckFailed: the venue's clock differs from ours by more than allowed.
            ExchangeAuthError: the key was refused, may transfer funds, or may not trade.
            TemporaryExchangeError: the venue could not be asked.
        """
        await self._check_clock()
        await self._check_key()
        await self.refresh_products()

    async def _check_clock(self) -> None:
        with port_errors("server time"):
            before = self._clock.now_ns()
            served = t.server_time_ns(await self._rest.get_server_time())
            after = self._clock.now_ns()
        skew_ns = served - (before + after) // 2
        limit = self._settings.max_clock_skew_s
        if abs(skew_ns) > limit * _NS_PER_S:
            raise VenueCheckFailed(
                f"the venue's clock is {skew_ns / _NS_PER_S:+.3f} s from ours (limit {limit} s):"
                " fix this machine's time (NTP) before trading"
            )

    async def _check_key(self) -> None:
        with port_errors("key permissions"):
            scope = await self._rest.get_key_permissions()
        if scope.can_transfer:
            raise ExchangeAuthError(
                "the API key may transfer funds: the gate trades only with a Trade-only key"
            )
        if not scope.can_trade:
            raise ExchangeAuthError("the API key may not trade: give it the Trade permission")

    async def refresh_products(self) -> None:
        """Read the increments, size bounds and flags of the gate's products.

        Raises:
            TemporaryExchangeError: the venue could not be asked.
        """
        with port_errors("list products"):
            listed = await self._rest.list_products(product_ids=self._products)
            self._rules = {
                ProductId(p.product_id): port_product_rules(p)
                for p in listed.products
                if p.product_id in self._products
            }

    @property
    def listed_products(self) -> tuple[ProductId, ...]:
        """The gate's products the venue lists (those with rules)."""
        return tuple(self._rules)

    async def run(self) -> None:
        """Hold the user and market streams open, reconnecting, until cancelled."""
        async with asyncio.TaskGroup() as streams:
            streams.create_task(self._user.run())
            if self._rules:
                streams.create_task(self._market.run(self.listed_products))

    async def wait_streams(self, timeout_s: float) -> bool:
        """Wait until both streams are subscribed (or `timeout_s`); whether they are."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._user.session is not None and (self._market.subscribed or not self._rules):
                return True
            await asyncio.sleep(0.02)
        return False

    async def aclose(self) -> None:
        """Close the REST client's connections."""
        await self._rest.aclose()

    # ------------------------------------------------------------ stream health

    @property
    def suspect(self) -> str | None:
        """Why the user stream cannot be trusted now (gap, silence, ...), or None."""
        return self._user.suspect

    def reconcile_token(self) -> int | None:
        """A token once the stream is resubscribed, for a reconcile to settle it."""
        return self._user.reconcile_token()

    def reconciled(self, token: int) -> None:
        """The gate reconciled over REST from `token` on: trust the stream again."""
        self._user.reconciled(token)

    @property
    def heartbeat_ns(self) -> int | None:
        """The venue's time on the last user-stream heartbeat (how current the stream is)."""
        return self._user.heartbeat_ns

    # ------------------------------------------------------------ market view

    def reference_mid(self, product_id: ProductId) -> ReferenceMid | None:
        """The latest level2/ticker mid and when the gate received it (MarketView)."""
        return self._market.reference_mid(product_id)

    def product_rules(self, product_id: ProductId) -> ProductRules | None:
        """The venue's rules for the product, as of `start()` (MarketView)."""
        return self._rules.get(product_id)

    # ------------------------------------------------------------ the port

    async def place(self, order: OrderRequest) -> PlaceResult:
        """Send one order, once; a reused client order id answers with the original order.

        Raises:
            OutcomeUnknown: timeout, 5xx, 429 or transport failure: look it up.
            ExchangeAuthError: the key was refused.
        """
        try:
            spec = order_spec(order)
        except InvalidOrderSpec as exc:
            return PlaceRejected(reason=f"UNSUPPORTED_ORDER_CONFIGURATION: {exc}"[:200])
        try:
            placed = await self._rest.create_order(spec)
        except OrderOutcomeUnknown as exc:
            if exc.reason == _INDEFINITE_DUPLICATE:
                return await self._duplicate(order.client_order_id, exc)
            raise OutcomeUnknown(f"create order: outcome unknown ({exc.reason})") from exc
        except CoinbaseError as exc:
            outcome = place_outcome(exc)
            if isinstance(outcome, PlaceRejected):
                return outcome
            raise outcome from exc
        venue_id = VenueOrderId(placed.order_id)
        self._orders.remember(order.client_order_id, venue_id)
        self._fills.placed(venue_id)
        return PlaceAccepted(venue_order_id=venue_id)

    async def _duplicate(self, coid: ClientOrderId, exc: CoinbaseError) -> PlaceResult:
        # The id was used before (§2.2): the original order is the answer, if it is found.
        try:
            found = await self.get_order(coid)
        except ExchangeError:
            found = None
        if found is None:
            raise OutcomeUnknown("create order: duplicate client order id not found") from exc
        return PlaceAccepted(venue_order_id=found.venue_order_id)

    async def cancel(self, venue_order_ids: Sequence[VenueOrderId]) -> tuple[CancelResult, ...]:
        """Cancel by venue id (batches of 100, each retried by the client); one result each.

        Raises:
            TemporaryExchangeError: a batch failed after the client's retries.
            ExchangeAuthError: the key was refused.
        """
        if not venue_order_ids:
            return ()
        with port_errors("batch cancel"):
            results = await self._rest.cancel_orders(list(venue_order_ids))
        by_id = {r.order_id: r for r in results}
        return tuple(_cancel_result(v, by_id.get(v)) for v in venue_order_ids)

    async def cancel_all(self, product_id: ProductId | None = None) -> tuple[CancelResult, ...]:
        """List the working orders (of one product, or all) and cancel them.

        Raises:
            TemporaryExchangeError: listing or a batch failed.
        """
        working = await self.list_open_orders(product_id)
        return await self.cancel([o.venue_order_id for o in working])

    async def list_open_orders(self, product_id: ProductId | None = None) -> tuple[VenueOrder, ...]:
        """Every order still working at the venue, oldest first, always read over REST.

        Raises:
            TemporaryExchangeError: the venue could not be asked.
        """
        products = () if product_id is None else (product_id,)
        with port_errors("list orders"):
            views = await self._orders.working(products)
        return tuple(sorted(views, key=lambda v: v.created_ns))

    async def get_order(self, client_order_id: ClientOrderId) -> VenueOrder | None:
        """The order placed with `client_order_id`, or None when the venue has none.

        From memory while the user channel is trusted and has confirmed the order;
        otherwise over REST (`coinbase_orders`).

        Raises:
            TemporaryExchangeError: the venue could not be asked.
        """
        with port_errors("get order"):
            return await self._orders.get(client_order_id)

    async def fills_since(self, since_ns: int) -> tuple[VenueFill, ...]:
        """Fills with ts_ns >= since_ns, oldest first, each trade once.

        Raises:
            TemporaryExchangeError: the venue could not be asked.
        """
        session = self._user.session
        with port_errors("list fills"):
            if self._fills_trusted(session, since_ns):
                await self._fills.catch_up()
            else:
                await self._fills.sweep(since_ns)
                if session is not None and session == self._user.session:
                    self._swept = (session, since_ns)
        return self._fills.since(since_ns)

    async def balances(self) -> tuple[VenueBalance, ...]:
        """Every currency wallet of the key's portfolio.

        Raises:
            TemporaryExchangeError: the venue could not be asked.
        """
        accounts: list[w.Account] = []
        cursor: str | None = None
        with port_errors("list accounts"):
            for _ in range(self._settings.order_pages):
                page = await self._rest.list_accounts(limit=250, cursor=cursor)
                accounts.extend(page.accounts)
                if not page.has_next or not page.cursor:
                    break
                cursor = page.cursor
            return tuple(venue_balance(a) for a in accounts)

    def _on_stream_order(self, report: StreamOrder) -> None:
        self._orders.reported(report)
        self._fills.reported(report.venue_order_id, report.filled_size)

    # ------------------------------------------------------------ fills

    def _fills_trusted(self, session: int | None, since_ns: int) -> bool:
        swept = self._swept
        return (
            self._user.suspect is None
            and swept is not None
            and swept[0] == session
            and swept[1] <= since_ns
        )


def _cancel_result(venue_id: VenueOrderId, result: w.CancelResult | None) -> CancelResult:
    if result is None:
        return CancelResult(venue_order_id=venue_id, success=False, failure_reason="NO_RESULT")
    if result.success:
        return CancelResult(venue_order_id=venue_id, success=True)
    reason = result.failure_reason or "UNKNOWN_CANCEL_FAILURE_REASON"
    return CancelResult(venue_order_id=venue_id, success=False, failure_reason=reason)
