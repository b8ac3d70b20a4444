"""The loopback exchange: a Coinbase Advanced Trade venue on 127.0.0.1.

A real HTTP and websocket server speaking the Advanced Trade protocol
(EXCHANGE_AND_LLM_APIS.md §1-3) over the sim's matching engine, with recorded candles
replayed as its market, so the gate's real Coinbase adapter and the agent's public
market-data client run their live code path end to end without the internet. Every
body is encoded with `trading_coinbase.schemas`, the Structs the clients decode.

    clock      the injected venue clock (SystemClock, ManualClock)
    config     VenueSettings: speed, account, fills, limits, deadlines, initial faults
    market     Replay: bar i is the market at start + i * bar_seconds, looping
    state      VenueState: orders by id and client id, fills with trade ids, edits
    auth       JwtVerifier: ES256/EdDSA, iss/sub/nbf/exp, the REST `uri` claim
    limits     per-client token buckets: 30/s private, 10/s public, 429 beyond
    faults     latency, lost create replies, 429/5xx bursts, ws gaps and drops, stale
    exchange   Exchange: all of the above on one clock; sync() moves the market
    rest*      REST routes under /api/v3/brokerage (table in rest_routes)
    ws         /ws/market and /ws/user: heartbeats, level2, ticker, candles, trades, user
    admin      /__sim/faults and /__sim/state, outside Coinbase's namespace
    server     build_exchange, build_app, serve_venue (uvicorn in your event loop)
    cli        python -m trading_sim.venue

Usage in a test (port 0 picks a free port):

    exchange = build_exchange(VenueSettings(bar_seconds=0.05), bars, ManualClock(t0),
                              public_key_pem=pem)
    async with serve_venue(exchange) as venue:
        client = RestClient(base_url=venue.base_url, signer=signer)
"""

from trading_sim.venue.auth import AuthRejected, JwtVerifier, KeyConfigError, load_public_key
from trading_sim.venue.cli import main
from trading_sim.venue.clock import Clock, ManualClock, SystemClock
from trading_sim.venue.config import DEFAULT_BALANCES, VenueSettings
from trading_sim.venue.exchange import Exchange, MarketTick, OrderUpdate, VenueStatus
from trading_sim.venue.faults import FaultBoard, FaultError, Faults
from trading_sim.venue.market import Bucket, DayStats, Replay, ReplayError, aggregate
from trading_sim.venue.rest import API_PREFIX, Endpoint
from trading_sim.venue.rest_routes import ENDPOINTS
from trading_sim.venue.server import RunningVenue, build_app, build_exchange, serve_venue
from trading_sim.venue.state import VenueFill, VenueOrder, VenueState
from trading_sim.venue.ws import MARKET_PATH, USER_PATH

__all__ = [
    "API_PREFIX",
    "DEFAULT_BALANCES",
    "ENDPOINTS",
    "MARKET_PATH",
    "USER_PATH",
    "AuthRejected",
    "Bucket",
    "Clock",
    "DayStats",
    "Endpoint",
    "Exchange",
    "FaultBoard",
    "FaultError",
    "Faults",
    "JwtVerifier",
    "KeyConfigError",
    "ManualClock",
    "MarketTick",
    "OrderUpdate",
    "Replay",
    "ReplayError",
    "RunningVenue",
    "SystemClock",
    "VenueFill",
    "VenueOrder",
    "VenueSettings",
    "VenueState",
    "VenueStatus",
    "aggregate",
    "build_app",
    "build_exchange",
    "load_public_key",
    "main",
    "serve_venue",
]
