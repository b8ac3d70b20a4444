"""`te down`: stop a `te up` from another terminal, in order; refuse a second `te up`."""

import os
import select
import subprocess
import sys
import time
from pathlib import Path

TE = Path(sys.executable).parent / "te"
CONFIG = Path(__file__).resolve().parents[3] / "config" / "safety.yaml"


def _te(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([TE, *args], capture_output=True, text=True, check=False, timeout=120)


def _wait_for_line(proc: subprocess.Popen[str], text: str, timeout_s: float = 60) -> list[str]:
    assert proc.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.5)
        if ready:
            line = proc.stdout.readline()
            seen.append(line)
            if text in line:
                return seen
    raise AssertionError(f"{text!r} not printed within {timeout_s} s: {''.join(seen)}")


def test_down_when_up_runs_then_everything_stops_in_order_and_a_second_up_is_refused(
    tmp_path: Path,
) -> None:
    """While `te up` runs, a second one over the same data is refused naming the pid;
    `te down` then stops the first (agent, gate, venue in that order), exit 0, and the
    pid file is gone."""
    data = tmp_path / "data"
    up = subprocess.Popen(
        [TE, "up", "--config", CONFIG, "--data", data, "--duration", "300"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    try:
        _wait_for_line(up, "dashboard ready")
        second = _te("up", "--config", CONFIG, "--data", data, "--duration", "5")
        assert second.returncode == 1
        assert f"te up is already running over {data.resolve()} (pid {up.pid})" in second.stderr
        down = _te("down", "--data", data)
        assert down.returncode == 0, down.stderr
        assert f"stopping te up (pid {up.pid})" in down.stdout
        out, _ = up.communicate(timeout=60)
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()
    assert up.returncode == 0
    order = [out.index(f"{name} stopped") for name in ("agent", "gate", "exchange-sim")]
    assert order == sorted(order), out
    assert not (data / "te-up.pid").exists()


def test_down_when_nothing_runs_then_exit_3(tmp_path: Path) -> None:
    """No pid file: exit 3 and say so."""
    done = _te("down", "--data", tmp_path)
    assert done.returncode == 3
    assert "no te up pid file" in done.stderr


def test_down_when_pid_file_is_stale_then_exit_3_and_nothing_is_signalled(tmp_path: Path) -> None:
    """A pid file whose process is not a `te up` (here: this test's own pid, a python
    running pytest) is stale: te down signals nothing."""
    (tmp_path / "te-up.pid").write_text(f"{os.getpid()}\n")
    done = _te("down", "--data", tmp_path)
    assert done.returncode == 3
    assert "stale te-up.pid" in done.stderr
