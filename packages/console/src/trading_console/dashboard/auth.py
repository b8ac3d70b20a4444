"""Who may use the dashboard: the holder of its login token, in a browser on this machine.

The login token (printed once by `serve_dashboard`) is accepted in the query string of
a GET, which answers with a redirect to the same page without it and sets a session
cookie (HttpOnly, SameSite=Strict), so the token leaves the address bar at once. Every
other request needs that cookie: without it, 401. A request that changes something
(any method but GET and HEAD) also needs the CSRF token in the `X-CSRF-Token` header,
and an `Origin`, if sent, naming this server.

The cookie and the CSRF token are HMACs of the login token, so neither reveals it, and
the page carries only the CSRF token (it must, for its script to send it). The Host
header must be 127.0.0.1 or localhost: a page on another name that resolves here (DNS
rebinding) gets 421. Every response carries a strict Content-Security-Policy: scripts,
styles and connections from this server only.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import urlencode

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "COOKIE_NAME",
    "CSRF_HEADER",
    "MIN_TOKEN_CHARS",
    "SECURITY_HEADERS",
    "Credentials",
    "Guard",
]

COOKIE_NAME: Final = "te_dashboard"
CSRF_HEADER: Final = "x-csrf-token"
MIN_TOKEN_CHARS: Final = 16
_LOOPBACK_NAMES: Final = frozenset({"127.0.0.1", "localhost"})
_SAFE_METHODS: Final = frozenset({"GET", "HEAD"})

SECURITY_HEADERS: Final = {
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cache-control": "no-store",
}


@dataclass(frozen=True)
class Credentials:
    """The login token and the two values derived from it. Its repr shows none of them."""

    token: str = field(repr=False)
    session: str = field(repr=False)
    csrf: str = field(repr=False)

    @classmethod
    def from_token(cls, token: str) -> "Credentials":
        """Raises: ValueError: the token is shorter than `MIN_TOKEN_CHARS` or not ASCII."""
        if len(token) < MIN_TOKEN_CHARS or not token.isascii() or not token.isprintable():
            raise ValueError(
                f"the dashboard token must be at least {MIN_TOKEN_CHARS} printable ASCII "
                "characters (use secrets.token_urlsafe())"
            )
        return cls(token=token, session=_derive(token, "session"), csrf=_derive(token, "csrf"))


def _derive(token: str, purpose: str) -> str:
    return hmac.new(token.encode(), purpose.encode(), hashlib.sha256).hexdigest()


def _same(given: str | None, expected: str) -> bool:
    # Bytes, so a non-ASCII value compares (unequal) in constant time instead of raising.
    return given is not None and secrets.compare_digest(given.encode(), expected.encode())


class Guard:
    """ASGI middleware: the checks above on every HTTP request, and the security headers
    on every response (refusals included)."""

    def __init__(self, app: ASGIApp, credentials: Credentials) -> None:
        self._app = app
        self._credentials = credentials

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
            await send(message)

        answer = self.answer(Request(scope))
        if answer is None:
            await self._app(scope, receive, send_with_headers)
        else:
            await answer(scope, receive, send_with_headers)

    def answer(self, request: Request) -> Response | None:
        """The response that ends this request here, or None to let it through."""
        host = request.headers.get("host", "").rsplit(":", 1)[0]
        if host not in _LOOPBACK_NAMES:
            return _refuse(421, "this dashboard answers on 127.0.0.1 only")
        given = request.query_params.get("token")
        if given is not None:
            return self._login(request, given)
        if not _same(request.cookies.get(COOKIE_NAME), self._credentials.session):
            return _refuse(401, "open the link with the login token that the dashboard printed")
        if request.method not in _SAFE_METHODS:
            return self._csrf_refusal(request)
        return None

    def _login(self, request: Request, given: str) -> Response:
        if request.method not in _SAFE_METHODS or not _same(given, self._credentials.token):
            return _refuse(401, "the login token is wrong; open the link the dashboard printed")
        rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
        target = request.url.path + (f"?{urlencode(rest)}" if rest else "")
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            COOKIE_NAME, self._credentials.session, httponly=True, samesite="strict", path="/"
        )
        return response

    def _csrf_refusal(self, request: Request) -> Response | None:
        if not _same(request.headers.get(CSRF_HEADER), self._credentials.csrf):
            return _refuse(403, "missing or wrong CSRF token: reload the page")
        origin = request.headers.get("origin")
        if origin is not None and origin != f"http://{request.headers.get('host', '')}":
            return _refuse(403, f"a request from {origin} may not act on this dashboard")
        return None


def _refuse(status: int, why: str) -> Response:
    return PlainTextResponse(f"{status}: {why}\n", status_code=status)
