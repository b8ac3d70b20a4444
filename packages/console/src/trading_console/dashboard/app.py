"""The dashboard's Starlette app: routes over `views`, behind `auth.Guard`.

    GET  /               the page (HTML; its script and styles are under /static)
    GET  /api/snapshot   every panel as JSON
    GET  /events         server-sent events: one `snapshot` event per interval
    POST /api/halt       the kill switch     {"confirm": "HALT", "reason": ..., "operator": ...}
    POST /api/resume     resume trading      {"confirm": "RESUME", "reason": ..., "to": ...}
    POST /api/proposals/approve   {"id": ..., "confirm": "APPROVE", "reason": ..., "to": ...}
    POST /api/proposals/reject    {"id": ..., "confirm": "REJECT", "reason": ...}

The proposal routes change files under the rules directory only through
`trading_console.proposals` (as `te proposals` does), then ask the gate to reload.

Reads run in worker threads (sqlite3 and the admin socket block); the event loop only
serves. Binding to loopback is `serve.py`'s job; this app refuses other Host names.
"""

import html
from collections.abc import AsyncIterator, Callable
from importlib.resources import files
from pathlib import Path
from string import Template
from typing import Final, TypeVar

import anyio
import msgspec
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from trading_console.dashboard import views
from trading_console.dashboard.auth import Credentials, Guard

__all__ = ["MAX_BODY_BYTES", "build_dashboard", "snapshot_events"]

MAX_BODY_BYTES: Final = 4096
_encoder: Final = msgspec.json.Encoder(decimal_format="string")
_Body = TypeVar("_Body", bound=msgspec.Struct)


class _Action(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    confirm: str = ""
    reason: str = ""
    operator: str = ""
    to: str = "active"


class _ProposalAction(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: str = ""
    confirm: str = ""
    reason: str = ""
    operator: str = ""
    to: str = ""  # approve: empty means the tier the evidence asks for


def build_dashboard(
    data_dir: Path,
    *,
    token: str,
    admin_socket: Path,
    push_interval_s: float = 1.0,
    rules_dir: Path | None = None,
) -> Starlette:
    """The dashboard over `data_dir`'s gate.db and agent.db, acting via `admin_socket`,
    with the rules and proposals of `rules_dir` (default: DATA/../config/rules).

    Raises:
        ValueError: the token is too short (see `auth.Credentials.from_token`), or
            `push_interval_s` is not positive.
    """
    if not push_interval_s > 0:
        raise ValueError(f"push_interval_s must be positive, got {push_interval_s}")
    credentials = Credentials.from_token(token)
    sources = views.Sources.in_data_dir(data_dir, admin_socket, rules_dir)
    package = files("trading_console.dashboard")
    page = Template(package.joinpath("templates", "index.html").read_text(encoding="utf-8"))
    page_html = page.substitute(csrf_token=html.escape(credentials.csrf, quote=True))

    async def index(request: Request) -> Response:
        return HTMLResponse(page_html)

    async def snapshot(request: Request) -> Response:
        return Response(await _encoded_snapshot(sources), media_type="application/json")

    async def events(request: Request) -> Response:
        return StreamingResponse(
            snapshot_events(sources, push_interval_s),
            media_type="text/event-stream",
            headers={"x-accel-buffering": "no"},
        )

    static = StaticFiles(directory=Path(str(package.joinpath("static"))))
    return Starlette(
        routes=[
            Route("/", index),
            Route("/api/snapshot", snapshot),
            Route("/events", events),
            *_action_routes(sources),
            Mount("/static", static, name="static"),
        ],
        middleware=[Middleware(Guard, credentials=credentials)],
    )


def _action_routes(sources: views.Sources) -> list[Route]:
    """The POST routes, one shape: a bounded JSON body decoded into its Struct, then the
    view's action (which refuses, or asks the gate through its admin socket)."""

    def common(a: _Action | _ProposalAction) -> dict[str, str]:
        return {"confirm": a.confirm, "reason": a.reason, "operator": a.operator}

    return [
        _post("/api/halt", _Action, views.halt, sources, common),
        _post("/api/resume", _Action, views.resume, sources, lambda a: common(a) | {"to": a.to}),
        _post("/api/proposals/approve", _ProposalAction, views.approve_proposal, sources,
              lambda a: common(a) | {"proposal_id": a.id, "to": a.to}),
        _post("/api/proposals/reject", _ProposalAction, views.reject_proposal, sources,
              lambda a: common(a) | {"proposal_id": a.id}),
    ]  # fmt: skip


def _post(
    path: str,
    kind: type[_Body],
    action: Callable[..., views.ActionResult],
    sources: views.Sources,
    fields: Callable[[_Body], dict[str, str]],
) -> Route:
    async def endpoint(request: Request) -> Response:
        body = await _action(request, kind)
        if isinstance(body, Response):
            return body
        return await _run(action, sources, **fields(body))

    return Route(path, endpoint, methods=["POST"])


async def _encoded_snapshot(sources: views.Sources) -> bytes:
    result: views.Snapshot = await run_in_threadpool(views.snapshot, sources)
    return _encoder.encode(result)


async def snapshot_events(sources: views.Sources, interval_s: float) -> AsyncIterator[bytes]:
    """Server-sent events: a `snapshot` event now and then every `interval_s`, forever
    (Starlette stops the stream when the browser goes away)."""
    yield b"retry: 2000\n\n"
    while True:
        body = await _encoded_snapshot(sources)
        yield b"event: snapshot\ndata: " + body + b"\n\n"
        await anyio.sleep(interval_s)


async def _action(request: Request, kind: type[_Body]) -> _Body | Response:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return JSONResponse({"ok": False, "message": "request too large"}, status_code=413)
    try:
        return msgspec.json.decode(body or b"{}", type=kind)
    except msgspec.DecodeError as exc:
        return JSONResponse({"ok": False, "message": f"bad request: {exc}"}, status_code=400)


async def _run(
    action: Callable[..., views.ActionResult], sources: views.Sources, **fields: str
) -> Response:
    try:
        result = await run_in_threadpool(action, sources, **fields)
    except views.ActionRefused as exc:
        return JSONResponse({"ok": False, "message": str(exc)}, status_code=400)
    status = 200 if result.ok else (503 if not result.reached_gate else 409)
    return Response(_encoder.encode(result), status_code=status, media_type="application/json")
