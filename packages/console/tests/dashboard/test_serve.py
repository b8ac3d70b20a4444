"""`serve_dashboard` as the supervisor will run it: its own process, one ready line with
the login link, 127.0.0.1 only, a clean exit on SIGTERM."""

import re
import select
import signal
import subprocess
import sys

import httpx

from trading_console.backtest import BacktestResult

READY = re.compile(r"^dashboard ready: (http://127\.0\.0\.1:(\d+))/\?token=([A-Za-z0-9_\-]{40,})$")


def test_serve_when_started_then_ready_line_logs_in_and_sigterm_stops_it(
    backtest: BacktestResult,
) -> None:
    """The printed link logs in; SIGTERM stops it gracefully (uvicorn shuts down, then
    re-raises the signal, so the exit status is the signal's, with no traceback)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "trading_console.dashboard", "--data", str(backtest.run_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 20)
        line = proc.stdout.readline().strip() if ready else ""
        match = READY.match(line)
        assert match is not None, (line, proc.stderr.read() if proc.poll() is not None else "")
        base, _, token = match.groups()
        with httpx.Client(base_url=base, follow_redirects=True) as http:
            assert http.get("/").status_code == 401
            page = http.get(f"/?token={token}")
            snap = http.get("/api/snapshot").json()
        assert page.status_code == 200
        assert str(page.url) == f"{base}/"  # the token left the address bar
        assert snap["gate"]["state"] == "halted"
        assert token not in page.text
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=10)
        err = proc.stderr.read()
        proc.stdout.close()
        proc.stderr.close()
    assert code == -signal.SIGTERM, err
    assert "Traceback" not in err
    assert token not in err  # no access log line carries the login link


def test_serve_module_when_run_then_binds_loopback_only() -> None:
    """The entry point offers no --host: there is nothing to widen."""
    out = subprocess.run(
        [sys.executable, "-m", "trading_console.dashboard", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    assert "--host" not in out
    assert "--port" in out
    assert "127.0.0.1" in out
