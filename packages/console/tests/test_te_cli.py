"""The te entry point: --help, and `te up` saying what it can and cannot start yet."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from trading_console import cli
from trading_console.components import COMPONENTS, Component

TE = Path(sys.executable).parent / "te"


def test_te_when_help_then_lists_up() -> None:
    """`te --help` exits 0 and lists the `up` command."""
    done = subprocess.run([TE, "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "up " in done.stdout


def test_te_up_when_components_missing_then_names_them_and_exits_zero() -> None:
    """`te up` lists every component with its status and does not fail."""
    done = subprocess.run(
        [TE, "up"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert done.returncode == 0, done.stderr
    for component in COMPONENTS:
        assert component.name in done.stdout
        expected = "ready" if component.available else "not built yet"
        assert expected in done.stdout


def test_component_when_entry_module_exists_then_available() -> None:
    """Availability follows the presence of the component's entry module."""
    assert Component("x", "role", "trading_console.cli", "-").available
    assert not Component("x", "role", "trading_console.no_such_module", "-").available
    assert not Component("x", "role", "no_such_package.app", "-").available


def test_te_when_run_as_module_then_same_cli() -> None:
    """`python -m trading_console` is the same command."""
    done = subprocess.run(
        [sys.executable, "-m", "trading_console", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "te: run, watch and stop" in done.stdout


def test_te_up_when_every_component_built_then_does_not_claim_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With every component present, `te up` reports none as missing."""
    built = tuple(Component(c.name, c.role, "trading_console.cli", c.built_by) for c in COMPONENTS)
    monkeypatch.setattr(cli, "COMPONENTS", built)
    result = CliRunner().invoke(cli.main, ["up"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "not built yet" not in result.output
    assert "Nothing started" not in result.output
