"""The trading-gate entry point starts, answers --help and exits cleanly."""

import subprocess
import sys
from pathlib import Path

import trading_contract

GATE = Path(sys.executable).parent / "trading-gate"


def test_gate_cli_when_help_then_usage_and_exit_zero() -> None:
    """`trading-gate --help` explains the gate and exits 0."""
    done = subprocess.run([GATE, "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "Usage: trading-gate" in done.stdout
    assert "holds" in done.stdout


def test_gate_cli_when_protocol_then_prints_version_and_messages() -> None:
    """`trading-gate protocol` names the protocol version and what the gate accepts."""
    done = subprocess.run([GATE, "protocol"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert f"protocol v{trading_contract.PROTOCOL_VERSION}" in done.stdout
    assert "accepts: hello, heartbeat, place_order" in done.stdout


def test_gate_cli_when_unknown_command_then_usage_error() -> None:
    """An unknown subcommand is a usage error (exit 2), not a crash."""
    done = subprocess.run([GATE, "launch-rockets"], capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "No such command" in done.stderr


def test_gate_cli_when_run_as_module_then_same_cli() -> None:
    """`python -m trading_gate` is the same command (the supervisor starts it so)."""
    done = subprocess.run(
        [sys.executable, "-m", "trading_gate", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Usage:" in done.stdout
