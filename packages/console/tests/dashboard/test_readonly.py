"""The dashboard never writes a database: a whole session over copies of a real run's
gate.db and agent.db leaves both files byte for byte and mtime for mtime as they were."""

import hashlib
import re
import shutil
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
from starlette.types import ASGIApp

from trading_console.backtest import BacktestResult
from trading_console.dashboard import build_dashboard
from trading_console.dashboard.auth import CSRF_HEADER

TOKEN = "readonly-token-0123456789"  # noqa: S105 - a test login


def fingerprint(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return hashlib.sha256(path.read_bytes()).hexdigest(), stat.st_size, stat.st_mtime_ns


def test_session_when_full_then_databases_unchanged(
    backtest: BacktestResult,
    tmp_path: Path,
    serve: Callable[[ASGIApp], AbstractContextManager[str]],
) -> None:
    """Login, page, API, server-sent events and both actions: no byte of either file moves."""
    data = tmp_path / "data"
    data.mkdir()
    for name in ("gate.db", "agent.db"):
        shutil.copy2(backtest.run_dir / name, data / name)
    before = {name: fingerprint(data / name) for name in ("gate.db", "agent.db")}
    app = build_dashboard(
        data, token=TOKEN, admin_socket=tmp_path / "admin.sock", push_interval_s=0.05
    )

    with serve(app) as url, httpx.Client(base_url=url, follow_redirects=True) as http:
        page = http.get(f"/?token={TOKEN}").text
        match = re.search(r'name="csrf-token" content="([0-9a-f]+)"', page)
        assert match is not None
        headers = {CSRF_HEADER: match.group(1)}
        for _ in range(3):
            assert http.get("/api/snapshot").json()["book"]["error"] is None
        with http.stream("GET", "/events") as events:
            received = [line for line, _ in zip(events.iter_lines(), range(8), strict=False)]
        assert sum(line == "event: snapshot" for line in received) >= 2
        halt = http.post("/api/halt", json={"confirm": "HALT", "reason": "t"}, headers=headers)
        resume = http.post(
            "/api/resume", json={"confirm": "RESUME", "reason": "t"}, headers=headers
        )
        assert (halt.status_code, resume.status_code) == (503, 503)  # no gate to ask

    after = {name: fingerprint(data / name) for name in ("gate.db", "agent.db")}
    assert after == before
    # A read-only WAL reader may leave the empty -wal/-shm files SQLite needs; nothing else.
    for wal in data.glob("*-wal"):
        assert wal.stat().st_size == 0
    extra = {p.name for p in data.iterdir()} - {"gate.db", "agent.db"}
    assert extra <= {"gate.db-wal", "gate.db-shm", "agent.db-wal", "agent.db-shm"}


def test_session_when_databases_missing_then_none_created(
    tmp_path: Path, serve: Callable[[ASGIApp], AbstractContextManager[str]]
) -> None:
    """Over an empty data directory the page says why, and creates no database."""
    data = tmp_path / "data"
    data.mkdir()
    app = build_dashboard(data, token=TOKEN, admin_socket=data / "run" / "admin.sock")

    with serve(app) as url, httpx.Client(base_url=url, follow_redirects=True) as http:
        http.get(f"/?token={TOKEN}")
        snap = http.get("/api/snapshot").json()

    assert "no gate.db at" in snap["book"]["error"]
    assert "no agent.db at" in snap["agent"]["error"]
    assert "gate not running" in snap["gate"]["live_error"]
    assert list(data.iterdir()) == []
