"""Composition: the venue's Starlette app, and uvicorn serving it on loopback.

`build_exchange` wires settings, bars, clock and key into one `Exchange`; `build_app`
puts the REST, admin and websocket routes on it; `serve_venue` runs uvicorn inside
the caller's event loop on 127.0.0.1 (port 0 picks a free port, reported back) with
the venue's poll task beside it. It refuses any address but loopback: the venue has no
TLS and its admin endpoints have no key.
"""

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Final

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from trading_sim.matching.model import Bar
from trading_sim.venue import admin, rest, ws
from trading_sim.venue.auth import JwtVerifier, load_public_key
from trading_sim.venue.clock import Clock
from trading_sim.venue.config import VenueSettings
from trading_sim.venue.exchange import Exchange
from trading_sim.venue.market import Replay
from trading_sim.venue.rest_routes import ENDPOINTS

__all__ = ["LOOPBACK", "RunningVenue", "build_app", "build_exchange", "serve_venue"]

LOOPBACK: Final = frozenset({"127.0.0.1", "::1", "localhost"})
_MAX_BODY: Final = 1 << 20
_STARTUP_S: Final = 10.0


def build_exchange(
    settings: VenueSettings,
    series: Mapping[str, Sequence[Bar]],
    clock: Clock,
    *,
    public_key_pem: bytes | None = None,
) -> Exchange:
    """The venue over `series` (bars per product), starting now on `clock` unless told.

    Without a public key every private call is refused (401).

    Raises:
        ReplayError: bars that cannot be replayed.
        KeyConfigError: a public key that is not EC P-256 or Ed25519.
    """
    start_ns = clock.now_ns() if settings.start_ns is None else settings.start_ns
    replay = Replay(
        series,
        start_ns=start_ns,
        bar_ns=settings.bar_ns,
        history_bars=settings.history_bars,
        align_to_start=settings.align_to_clock,
    )
    verifier = None
    if public_key_pem is not None:
        verifier = JwtVerifier(
            load_public_key(public_key_pem),
            key_name=settings.key_name,
            leeway_s=settings.jwt_leeway_s,
        )
    return Exchange(settings, replay, clock, verifier)


async def _not_found(request: Request, exc: Exception) -> Response:
    detail = exc.detail if isinstance(exc, HTTPException) else "not found"
    return rest.error_response(404, f"{request.url.path}: {detail}")


async def _not_allowed(request: Request, exc: Exception) -> Response:
    return rest.error_response(400, f"{request.method} is not allowed on {request.url.path}")


def build_app(exchange: Exchange) -> Starlette:
    """The ASGI app: REST under /api/v3/brokerage, /__sim admin, /ws/market and /ws/user."""
    routes: list[BaseRoute] = [
        *rest.routes(exchange, ENDPOINTS),
        *admin.routes(exchange),
        *ws.routes(exchange),
    ]
    return Starlette(
        routes=routes,
        exception_handlers={404: _not_found, 405: _not_allowed},
        max_body_size=_MAX_BODY,
    )


class RunningVenue:
    """A venue being served: where to reach it, and a way to wait for it to stop."""

    def __init__(self, host: str, port: int, serving: "asyncio.Task[None]") -> None:
        self.host = host
        self.port = port
        self._serving = serving

    async def wait_closed(self) -> None:
        """Return when uvicorn has stopped (a signal, or the block ending)."""
        await asyncio.shield(self._serving)

    @property
    def _netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What `trading_coinbase.RestClient(base_url=...)` takes."""
        return f"http://{self._netloc}"

    @property
    def market_ws_url(self) -> str:
        return f"ws://{self._netloc}{ws.MARKET_PATH}"

    @property
    def user_ws_url(self) -> str:
        return f"ws://{self._netloc}{ws.USER_PATH}"


def _bind(host: str, port: int) -> socket.socket:
    if host not in LOOPBACK:
        raise ValueError(f"the loopback venue listens on loopback only, not {host!r}")
    family = socket.AF_INET6 if host == "::1" else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted sockets only then
    # (with proto 0 every small reply waits ~40 ms on delayed ACKs).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1" if host == "localhost" else host, port))
    return sock


@contextlib.asynccontextmanager
async def serve_venue(
    exchange: Exchange, *, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[RunningVenue]:
    """Serve `exchange` while the block runs; yields where it listens.

    Raises:
        ValueError: a host that is not loopback.
        OSError: the port cannot be bound.
        RuntimeError: uvicorn did not start.
    """
    sock = _bind(host, port)
    bound = sock.getsockname()[1]
    config = uvicorn.Config(
        build_app(exchange),
        log_level="warning",
        access_log=False,
        lifespan="off",
        ws="websockets-sansio",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    polling = asyncio.create_task(exchange.poll())
    # A failing poll is a bug: stop serving, and the `await polling` below re-raises it.
    polling.add_done_callback(lambda _: setattr(server, "should_exit", True))
    try:
        await _started(server, serving)
        yield RunningVenue("127.0.0.1" if host == "localhost" else host, bound, serving)
    finally:
        server.should_exit = True
        polling.cancel()
        await serving
        sock.close()
        # Waited for, not awaited under suppress(CancelledError), which would also
        # swallow a cancel of the caller arriving meanwhile.
        await asyncio.wait({polling})
        if not polling.cancelled():
            polling.result()  # the failing poll's error


async def _started(server: uvicorn.Server, serving: "asyncio.Task[None]") -> None:
    async with asyncio.timeout(_STARTUP_S):
        while not server.started:
            if serving.done():
                serving.result()
                raise RuntimeError("uvicorn stopped before it started")
            await asyncio.sleep(0.005)
