"""Serve the dashboard on 127.0.0.1 and print the one link that logs in.

Only loopback: the dashboard can halt the gate, so it is never reachable from another
machine (reach it remotely through an SSH tunnel). uvicorn's access log is off because
the login link carries the token in its query string.
"""

import secrets
import socket
from pathlib import Path
from typing import Final

import uvicorn

from trading_console.dashboard.app import build_dashboard

__all__ = ["LOOPBACK", "bind_loopback", "serve_dashboard"]

LOOPBACK: Final = "127.0.0.1"
_BACKLOG: Final = 64


def bind_loopback(host: str = LOOPBACK, port: int = 0) -> socket.socket:
    """A listening TCP socket on 127.0.0.1 (port 0: any free port).

    Raises:
        ValueError: `host` is anything but 127.0.0.1, or the port is out of range.
        OSError: the port is taken.
    """
    if host != LOOPBACK:
        raise ValueError(
            f"the dashboard binds to {LOOPBACK} only, not {host!r}: it can halt the gate, "
            "so it must not be reachable from another machine (use an SSH tunnel)"
        )
    if not 0 <= port <= 65535:
        raise ValueError(f"port must be 0..65535, got {port}")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((LOOPBACK, port))
        sock.listen(_BACKLOG)
    except OSError:
        sock.close()
        raise
    return sock


def serve_dashboard(
    data_dir: Path,
    *,
    host: str = LOOPBACK,
    port: int = 0,
    token: str | None = None,
    admin_socket: Path | None = None,
    rules_dir: Path | None = None,
) -> None:
    """Serve the dashboard over `data_dir` until SIGINT or SIGTERM.

    Prints ``dashboard ready: http://127.0.0.1:PORT/?token=...`` once listening (a
    supervisor waits for "ready"). Without `token`, a random one is made for this run.
    The admin socket defaults to ``data_dir/run/admin.sock``.

    Raises:
        ValueError: `host` is not 127.0.0.1, or the token is too short.
        OSError: the port is taken.
    """
    sock = bind_loopback(host, port)
    try:
        login = token or secrets.token_urlsafe(32)
        app = build_dashboard(
            data_dir,
            token=login,
            admin_socket=admin_socket or data_dir / "run" / "admin.sock",
            rules_dir=rules_dir,
        )
        config = uvicorn.Config(
            app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=2
        )
        bound_port = sock.getsockname()[1]
        print(  # noqa: T201 - the one line the operator (and a supervisor) waits for
            f"dashboard ready: http://{LOOPBACK}:{bound_port}/?token={login}", flush=True
        )
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
