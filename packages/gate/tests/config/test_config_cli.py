"""`check_config`, behind `trading-gate check-config PATH`: exit codes and output."""

import hashlib
import os
from pathlib import Path

import pytest

from trading_gate.config import load_config, settings_table
from trading_gate.config_cli import EXIT_INVALID, EXIT_OK, EXIT_UNREADABLE, check_config

SHIPPED = Path(__file__).resolve().parents[4] / "config" / "safety.yaml"


def test_check_config_when_valid_then_zero_and_summary() -> None:
    """A valid file exits 0 and shows its products, its hash and every setting."""
    code, text = check_config(SHIPPED)

    assert code == EXIT_OK == 0
    assert text.splitlines()[0] == f"{SHIPPED}: valid"
    assert f"sha256: {hashlib.sha256(SHIPPED.read_bytes()).hexdigest()}" in text
    assert "products: BTC-USD, ETH-USD, SOL-USD" in text
    shown = {tuple(line.split()) for line in text.splitlines() if line.startswith("  ")}
    assert shown == set(settings_table(load_config(SHIPPED).config))


def test_check_config_when_invalid_then_one_and_every_problem(tmp_path: Path) -> None:
    """A refused file exits 1 and lists each problem on its own line."""
    path = tmp_path / "safety.yaml"
    text = SHIPPED.read_text(encoding="utf-8")
    path.write_text(
        text.replace("max_open_orders: 6", "max_open_orders: no").replace(
            "flatten: false", "flatten: off"
        )
    )

    code, output = check_config(path)

    assert code == EXIT_INVALID == 1
    lines = output.splitlines()
    assert lines[0] == f"{path}: refused, 2 problems:"
    assert lines[1].startswith("  account.max_open_orders (line ")
    assert lines[2].startswith("  on_halt.flatten (line ")
    assert len(lines) == 3


def test_check_config_when_missing_then_two_and_cannot_read(tmp_path: Path) -> None:
    """A missing file exits 2, distinct from a file that was read and refused."""
    missing = tmp_path / "nope.yaml"

    code, output = check_config(missing)

    assert code == EXIT_UNREADABLE == 2
    assert output.startswith(f"cannot check {missing}:")
    assert "No such file or directory" in output


def test_check_config_when_directory_then_two(tmp_path: Path) -> None:
    """A directory is unreadable as a config, exit 2."""
    code, output = check_config(tmp_path)

    assert code == EXIT_UNREADABLE
    assert "not a regular file" in output


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_check_config_when_no_permission_then_two(tmp_path: Path) -> None:
    """A file the gate may not read exits 2 and says so."""
    path = tmp_path / "safety.yaml"
    path.write_bytes(SHIPPED.read_bytes())
    path.chmod(0)

    code, output = check_config(path)

    assert code == EXIT_UNREADABLE
    assert "Permission denied" in output
