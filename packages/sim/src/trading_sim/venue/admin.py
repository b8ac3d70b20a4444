"""The venue's own admin endpoints, outside Coinbase's namespace: `/__sim/...`.

    GET  /__sim/faults   the fault knobs now
    POST /__sim/faults   change some knobs: a JSON object of knob -> value
    GET  /__sim/state    where the replay is (bar index, market time), counts, and why
                         recent requests were refused authentication

No key: the venue listens on loopback only (see `server`), and these exist for the
tests and the demo that run it.
"""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from trading_sim.venue.exchange import Exchange
from trading_sim.venue.faults import FaultError
from trading_sim.venue.rest import error_response, json_response

__all__ = ["ADMIN_PREFIX", "routes"]

ADMIN_PREFIX = "/__sim"


def routes(exchange: Exchange) -> list[Route]:
    """The admin routes over `exchange`."""

    async def get_faults(request: Request) -> Response:
        return json_response(exchange.faults.current)

    async def set_faults(request: Request) -> Response:
        try:
            faults = exchange.faults.update(await request.body())
        except FaultError as exc:
            return error_response(400, str(exc))
        exchange.sync()
        return json_response(faults)

    async def get_state(request: Request) -> Response:
        exchange.sync()
        return json_response(exchange.status())

    return [
        Route(f"{ADMIN_PREFIX}/faults", get_faults, methods=["GET"]),
        Route(f"{ADMIN_PREFIX}/faults", set_faults, methods=["POST"]),
        Route(f"{ADMIN_PREFIX}/state", get_state, methods=["GET"]),
    ]
