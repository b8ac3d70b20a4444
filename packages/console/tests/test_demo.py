"""te up's demo key and demo safety config for the loopback venue."""

import json
import stat
from pathlib import Path

import pytest

from trading_console.demo import prepare_demo
from trading_gate import load_config

SAFETY = Path(__file__).resolve().parents[3] / "config" / "safety.yaml"


def test_prepare_when_new_then_private_key_0600_in_0700_and_config_points_at_it(
    tmp_path: Path,
) -> None:
    """The key file is the gate's to read (0600 in 0700); only key_file differs."""
    demo = prepare_demo(tmp_path / "data", SAFETY)

    assert stat.S_IMODE(demo.private_key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(demo.private_key_file.parent.stat().st_mode) == 0o700
    assert set(json.loads(demo.private_key_file.read_text())) == {"name", "privateKey"}
    loaded = load_config(demo.safety_config)
    assert Path(loaded.config.keys.key_file) == demo.private_key_file
    original = [line for line in SAFETY.read_text().splitlines() if "key_file" not in line]
    rewritten = [
        line for line in demo.safety_config.read_text().splitlines() if "key_file" not in line
    ]
    assert rewritten == original


def test_prepare_when_run_again_then_the_same_key_is_kept(tmp_path: Path) -> None:
    """The demo key is made once per installation."""
    first = prepare_demo(tmp_path / "data", SAFETY).private_key_file.read_text()

    again = prepare_demo(tmp_path / "data", SAFETY).private_key_file.read_text()

    assert again == first


def test_prepare_when_config_has_no_key_file_line_then_refused(tmp_path: Path) -> None:
    """A config the demo cannot point at its key is refused by name."""
    bare = tmp_path / "bare.yaml"
    bare.write_text("version: 1\n")

    with pytest.raises(ValueError, match="key_file"):
        prepare_demo(tmp_path / "data", bare)
