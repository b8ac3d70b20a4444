"""The trading-agent entry point starts, answers --help and exits cleanly."""

import subprocess
import sys
from pathlib import Path

AGENT = Path(sys.executable).parent / "trading-agent"


def test_agent_cli_when_help_then_usage_and_exit_zero() -> None:
    """`trading-agent --help` explains the agent and exits 0."""
    done = subprocess.run([AGENT, "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "Usage: trading-agent" in done.stdout
    assert "no exchange keys" in done.stdout


def test_agent_cli_when_version_then_package_version() -> None:
    """`trading-agent --version` prints the installed package version."""
    done = subprocess.run([AGENT, "--version"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "0.1.0" in done.stdout


def test_agent_cli_when_run_as_module_then_same_cli() -> None:
    """`python -m trading_agent` is the same command."""
    done = subprocess.run(
        [sys.executable, "-m", "trading_agent", "protocol"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "sends:   hello" in done.stdout
