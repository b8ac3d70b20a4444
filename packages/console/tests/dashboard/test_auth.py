"""Who may use the dashboard: the login token once, then the session cookie; the CSRF
token on every action; loopback Host names only; strict headers on every answer."""

import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from html.parser import HTMLParser
from importlib.resources import files
from pathlib import Path

import httpx
import pytest
from starlette.types import ASGIApp

from trading_console.backtest import BacktestResult
from trading_console.dashboard import bind_loopback, build_dashboard, serve_dashboard
from trading_console.dashboard.auth import COOKIE_NAME, CSRF_HEADER, Credentials

TOKEN = "test-token-0123456789abcdef"  # noqa: S105 - a test login
PATHS = ["/", "/api/snapshot", "/events", "/static/app.js", "/static/dashboard.css"]


@pytest.fixture(scope="module")
def dashboard_url(
    backtest: BacktestResult,
    tmp_path_factory: pytest.TempPathFactory,
    serve: Callable[[ASGIApp], AbstractContextManager[str]],
) -> Iterator[str]:
    """The dashboard over the backtest's databases, served over real HTTP; no gate."""
    admin = tmp_path_factory.mktemp("no-gate") / "admin.sock"
    with serve(build_dashboard(backtest.run_dir, token=TOKEN, admin_socket=admin)) as url:
        yield url


@pytest.fixture
def client(dashboard_url: str) -> Iterator[httpx.Client]:
    """A fresh browser-like client: its own, empty cookie jar."""
    with httpx.Client(base_url=dashboard_url, follow_redirects=False) as http:
        yield http


def login(client: httpx.Client) -> str:
    """Log in; the CSRF token the page carries."""
    assert client.get(f"/?token={TOKEN}").status_code == 303
    page = client.get("/")
    assert page.status_code == 200
    match = re.search(r'<meta name="csrf-token" content="([0-9a-f]{64})">', page.text)
    assert match is not None
    return match.group(1)


@pytest.mark.parametrize("path", PATHS)
def test_request_when_no_token_then_401(client: httpx.Client, path: str) -> None:
    """Every path, static files too, needs the login."""
    response = client.get(path)

    assert response.status_code == 401
    assert "login token" in response.text


@pytest.mark.parametrize("token", ["wrong-token-0123456789", TOKEN[:-1], TOKEN + "x", "é" * 20])
def test_login_when_token_wrong_then_401_and_no_cookie(client: httpx.Client, token: str) -> None:
    """A wrong token (one character off, or not ASCII) is refused and sets no cookie."""
    response = client.get("/", params={"token": token})

    assert response.status_code == 401
    assert "set-cookie" not in response.headers


def test_login_when_token_right_then_redirect_sets_strict_httponly_cookie(
    client: httpx.Client,
) -> None:
    """The token is traded for a session cookie and leaves the address bar."""
    response = client.get(f"/api/snapshot?x=1&token={TOKEN}")

    assert response.status_code == 303
    assert response.headers["location"] == "/api/snapshot?x=1"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/" in cookie
    assert TOKEN not in cookie  # the cookie is derived, not the token itself


@pytest.mark.parametrize("path", PATHS[:2] + PATHS[3:])
def test_request_when_cookie_set_then_served(client: httpx.Client, path: str) -> None:
    """After the login every page, API and static file answers."""
    login(client)

    assert client.get(path).status_code == 200


def test_request_when_cookie_forged_then_401(client: httpx.Client) -> None:
    """A cookie that is not the session value is refused."""
    client.cookies.set(COOKIE_NAME, "0" * 64, domain="127.0.0.1")

    assert client.get("/").status_code == 401


def test_page_when_served_then_no_token_and_no_external_resource(client: httpx.Client) -> None:
    """The page carries the CSRF token only; every script, style and image is local."""
    login(client)
    page = client.get("/").text

    assert TOKEN not in page
    assert Credentials.from_token(TOKEN).session not in page
    sources = _resource_urls(page)
    assert sources, "the page loads its script and styles"
    assert all(url.startswith(("/static/", "data:")) for url in sources), sources
    static = files("trading_console.dashboard").joinpath("static")
    for name in ("app.js", "dashboard.css"):
        assert "http" not in static.joinpath(name).read_text()


class _Resources(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # Anchors are links a human clicks, not resources the page loads.
        wanted = {"script": "src", "link": "href", "img": "src", "iframe": "src"}.get(tag)
        self.urls += [v for k, v in attrs if k == wanted and v is not None]


def _resource_urls(page: str) -> list[str]:
    parser = _Resources()
    parser.feed(page)
    return parser.urls


def test_action_when_no_csrf_header_then_403_and_nothing_sent(client: httpx.Client) -> None:
    """A logged-in POST without the CSRF token (a cross-site form) is refused."""
    login(client)

    response = client.post("/api/halt", json={"confirm": "HALT"})

    assert response.status_code == 403
    assert "CSRF" in response.text


def test_action_when_csrf_wrong_or_origin_foreign_then_403(client: httpx.Client) -> None:
    """A wrong CSRF token, or a right one from another origin, is refused."""
    csrf = login(client)

    wrong = client.post("/api/halt", json={}, headers={CSRF_HEADER: "0" * 64})
    foreign = client.post(
        "/api/halt", json={}, headers={CSRF_HEADER: csrf, "origin": "http://evil.example"}
    )

    assert (wrong.status_code, foreign.status_code) == (403, 403)


def test_action_when_csrf_right_then_reaches_the_view(client: httpx.Client) -> None:
    """With cookie and CSRF token the action runs: here it explains the missing gate."""
    csrf = login(client)
    headers = {CSRF_HEADER: csrf, "origin": str(client.base_url).rstrip("/")}

    unconfirmed = client.post("/api/halt", json={"reason": "x"}, headers=headers)
    confirmed = client.post("/api/halt", json={"confirm": "HALT"}, headers=headers)
    malformed = client.post("/api/resume", content=b"{not json", headers=headers)
    oversized = client.post("/api/halt", content=b"x" * 5000, headers=headers)

    assert unconfirmed.status_code == 400
    assert unconfirmed.json()["message"] == "type HALT to confirm the kill switch"
    assert confirmed.status_code == 503
    assert "gate not running" in confirmed.json()["message"]
    assert malformed.status_code == 400
    assert oversized.status_code == 413


def test_login_when_token_sent_with_post_then_401(client: httpx.Client) -> None:
    """The token logs in by GET only; it never authorizes an action by itself."""
    response = client.post(f"/api/halt?token={TOKEN}", json={"confirm": "HALT"})

    assert response.status_code == 401


def test_request_when_host_not_loopback_then_421(client: httpx.Client) -> None:
    """A foreign Host (DNS rebinding) is refused even with the right token."""
    response = client.get(f"/?token={TOKEN}", headers={"host": "evil.example"})

    assert response.status_code == 421


@pytest.mark.parametrize("path", ["/", "/nope"])
def test_response_when_any_then_strict_security_headers(client: httpx.Client, path: str) -> None:
    """Refusals and pages alike carry the CSP and no-store headers."""
    for response in (client.get(path), client.get(f"{path}?token={TOKEN}")):
        headers = response.headers
        assert "script-src 'self'" in headers["content-security-policy"]
        assert "default-src 'none'" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY"
        assert headers["cache-control"] == "no-store"
        assert headers["referrer-policy"] == "no-referrer"


def test_credentials_when_token_short_then_refused(tmp_path: Path) -> None:
    """A guessable token is refused at build time; the repr shows no secret."""
    with pytest.raises(ValueError, match="at least 16"):
        build_dashboard(tmp_path, token="short", admin_socket=tmp_path / "a.sock")  # noqa: S106
    assert TOKEN not in repr(Credentials.from_token(TOKEN))


@pytest.mark.parametrize("host", ["0.0.0.0", "localhost", "::1", "192.168.1.2", ""])  # noqa: S104
def test_serve_when_host_not_127_0_0_1_then_refused(tmp_path: Path, host: str) -> None:
    """The dashboard can halt the gate: it binds 127.0.0.1 and nothing else."""
    with pytest.raises(ValueError, match=r"binds to 127\.0\.0\.1 only"):
        serve_dashboard(tmp_path, host=host)


def test_bind_loopback_when_port_taken_then_os_error() -> None:
    """A taken port is an OSError, and the socket is not left open."""
    first = bind_loopback()
    try:
        with pytest.raises(OSError, match="in use"):
            bind_loopback(port=first.getsockname()[1])
    finally:
        first.close()
