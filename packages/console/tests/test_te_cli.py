"""The te entry point: --help, and `te up` saying what it can and cannot start yet."""

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from trading_console.components import COMPONENTS, Component
from trading_gate.rule_files import load_rule_dir

TE = Path(sys.executable).parent / "te"


def test_te_when_help_then_lists_up() -> None:
    """`te --help` exits 0 and lists the `up` command."""
    done = subprocess.run([TE, "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "up " in done.stdout


def test_te_up_when_run_briefly_then_starts_the_gate_and_stops_it_cleanly(tmp_path: Path) -> None:
    """`te up --duration` lists every component, starts what is built, stops it, exits 0."""
    config = Path(__file__).resolve().parents[3] / "config" / "safety.yaml"
    done = subprocess.run(
        [TE, "up", "--duration", "2", "--config", config, "--data", tmp_path / "data"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
        timeout=90,
    )
    assert done.returncode == 0, done.stderr
    for component in COMPONENTS:
        assert component.name in done.stdout
        expected = "starting" if component.available else "not built yet"
        assert expected in done.stdout
    assert "trading-sim venue ready: http://127.0.0.1:" in done.stdout
    assert "trading-gate ready" in done.stdout
    assert "trading-agent ready" in done.stdout
    assert "dashboard ready: http://127.0.0.1:" in done.stdout
    order = [done.stdout.index(f"{name} stopped") for name in ("agent", "gate", "exchange-sim")]
    assert order == sorted(order), done.stdout
    assert "gate stopped (exit 0)" in done.stdout
    assert "exchange-sim stopped (exit 0)" in done.stdout
    assert (tmp_path / "data" / "agent.db").is_file()
    assert (tmp_path / "data" / "gate.db").is_file()
    assert "cancelling every open order" in (tmp_path / "data" / "logs" / "gate.log").read_text()
    # The gate enforces the operator's rules next to --config, not the demo config's.
    shipped = load_rule_dir(config.parent / "rules")
    loaded = _audit_payloads(tmp_path / "data" / "gate.db", "rules.loaded")
    assert [row["sha256"] for row in loaded] == [shipped.sha256]
    assert shipped.core, "the repo ships an example core rule"


def _audit_payloads(db: Path, event_type: str) -> list[dict[str, object]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT payload FROM audit WHERE event_type = ? ORDER BY seq", (event_type,)
        ).fetchall()
    conn.close()
    return [json.loads(row[0]) for row in rows]


def test_te_up_when_config_missing_then_clear_error(tmp_path: Path) -> None:
    """A missing safety config is a one-line error and exit 1, not a traceback."""
    done = subprocess.run(
        [TE, "up", "--config", tmp_path / "nope.yaml", "--data", tmp_path / "data"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "no safety config" in done.stderr


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


def test_te_up_when_exchange_paper_then_no_venue_and_the_gate_replays_itself(
    tmp_path: Path,
) -> None:
    """`--exchange paper`: the gate's in-process paper exchange; the venue is not used."""
    config = Path(__file__).resolve().parents[3] / "config" / "safety.yaml"
    done = subprocess.run(
        [TE, "up", "--exchange", "paper", "--duration", "2", "--config", config,
         "--data", tmp_path / "data"],
        capture_output=True, text=True, check=False,
        env={**os.environ, "COLUMNS": "200"}, timeout=90,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "not used (--exchange paper)" in done.stdout
    assert "trading-sim venue ready" not in done.stdout
    assert "gate's paper replay" in done.stdout
    assert "gate stopped (exit 0)" in done.stdout


def test_te_up_when_live_without_confirmation_then_refused_and_nothing_started(
    tmp_path: Path,
) -> None:
    """--live with no terminal to ask on and no confirmation flag: exit 1, no process."""
    done = subprocess.run(
        [TE, "up", "--live", "--data", tmp_path / "data"],
        capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert "refusing to trade real money" in done.stderr
    assert not (tmp_path / "data").exists()


def test_te_up_when_live_confirmed_but_no_key_then_the_gate_refuses_to_start(
    tmp_path: Path,
) -> None:
    """--live needs the configured key file: without it the gate does not start, and te
    up says where to look (no request ever leaves the machine)."""
    config = Path(__file__).resolve().parents[3] / "config" / "safety.yaml"
    done = subprocess.run(
        [TE, "up", "--live", "--i-understand-this-trades-real-money", "--config", config,
         "--data", tmp_path / "data"],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert "gate did not start" in done.stderr
    log = (tmp_path / "data" / "logs" / "gate.log").read_text()
    assert "/etc/trading-gate" in log  # the key_file of the shipped safety.yaml


def test_te_up_when_run_twice_then_the_second_starts_fresh_and_keeps_the_first(
    tmp_path: Path,
) -> None:
    """The simulated venue starts empty each time: the previous run's databases are set
    aside (not deleted), so the gate reconciles cleanly and trades again."""
    config = Path(__file__).resolve().parents[3] / "config" / "safety.yaml"
    argv = [TE, "up", "--exchange", "paper", "--duration", "2", "--config", config,
            "--data", tmp_path / "data"]  # fmt: skip
    env = {**os.environ, "COLUMNS": "200"}
    first = subprocess.run(argv, capture_output=True, text=True, check=False, env=env, timeout=90)
    second = subprocess.run(argv, capture_output=True, text=True, check=False, env=env, timeout=90)

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert "last run's databases moved to" in second.stdout
    (kept,) = (tmp_path / "data" / "previous").iterdir()
    assert (kept / "gate.db").is_file()
    assert "trading-gate ready: state active" in second.stdout
