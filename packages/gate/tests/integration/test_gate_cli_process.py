"""`trading-gate status / halt / resume` against a running gate, and when there is none."""

import socket
import subprocess
import sys
from pathlib import Path

from gate_process import running_gate

GATE = Path(sys.executable).parent / "trading-gate"


def _run(*argv: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([GATE, *argv], capture_output=True, text=True, check=False, timeout=60)


def test_cli_when_gate_running_then_status_halt_resume_work(tmp_path: Path) -> None:
    """status prints the state; halt latches it; resume needs a reason and lowers it."""
    with running_gate(tmp_path) as gate:
        data = str(gate.data)
        assert "state:        active" in _run("status", "--data", data).stdout
        halted = _run("halt", "--data", data, "--reason", "drill", "--operator", "tester")
        assert halted.returncode == 0, halted.stderr
        assert "book verified empty" in halted.stdout
        assert "halted (kill_switch: drill)" in _run("status", "--data", data).stdout
        no_reason = _run("resume", "--data", data, "--to", "active", "--yes")
        assert no_reason.returncode == 2
        resumed = _run(
            "resume", "--data", data, "--to", "active", "--reason", "drill over", "--yes"
        )
        assert resumed.returncode == 0, resumed.stderr
        assert '"state":"active"' in _run("status", "--data", data, "--json").stdout
        assert _run("reload-config", "--data", data).returncode == 0


def test_cli_when_gate_not_running_then_exit_3_with_the_reason(tmp_path: Path) -> None:
    """No socket, or a stale socket nobody listens on: exit 3, saying which."""
    missing = _run("status", "--data", tmp_path / "data")
    assert missing.returncode == 3
    assert "no admin socket" in missing.stderr
    run_dir = tmp_path / "stale" / "run"
    run_dir.mkdir(parents=True)
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(run_dir / "admin.sock"))
    stale.close()  # the path stays behind, with nobody listening
    refused = _run("halt", "--data", tmp_path / "stale", "--reason", "x")
    assert refused.returncode == 3
    assert "stale socket" in refused.stderr
