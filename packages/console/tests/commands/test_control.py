"""`te kill` and `te resume` against a real gate, and their refusals."""

import getpass
import json
import os
import pty
import subprocess
from pathlib import Path

import pytest

import trading_contract as c
from gate_process import AgentClient, running_gate
from operator_stubs import TE, RunTe, Sql, place_until_accepted, stale_socket
from trading_gate.admin_client import request


def _status(socket: Path) -> c.AdminStatusReply:
    reply = request(socket, c.AdminStatus(request_id="t-status"))
    assert isinstance(reply, c.AdminStatusReply), reply
    return reply


def test_kill_when_stdin_is_not_a_terminal_and_no_yes_then_refuses_and_does_nothing(
    te: RunTe, tmp_path: Path
) -> None:
    """No terminal, no --yes: exit 2 with the reason, and not even the kill file is made."""
    (tmp_path / "data").mkdir()
    done = te("kill", "--data", tmp_path / "data", "--reason", "test")
    assert done.returncode == 2
    assert "refusing without confirmation" in done.stderr
    assert not (tmp_path / "data" / "KILL").exists()


def test_kill_when_gate_runs_then_halted_cancelled_verified_and_audited_with_operator(
    te: RunTe, tmp_path: Path, sql: Sql
) -> None:
    """A resting order, then `te kill --yes`: exit 0, HALTED with the reason, no open
    order left, and gate.db records the operator's login name as who set it."""
    with running_gate(tmp_path) as gate:
        agent = AgentClient(gate.agent_socket)
        try:
            place_until_accepted(agent, "rest")
            assert _status(gate.admin_socket).open_orders == 1
            done = te("kill", "--data", gate.data, "--reason", "drill at noon", "--yes")
            after = _status(gate.admin_socket)
            mode = json.loads(sql(gate.data / "gate.db", "SELECT mode FROM gate_mode")[0][0])
        finally:
            agent.close()
    assert done.returncode == 0, done.stderr
    assert "latched:   HALTED (kill_switch: drill at noon)" in done.stdout
    assert "open:      0 orders, 0 unknown" in done.stdout
    assert "verified:  the book is empty" in done.stdout
    assert (after.state, after.open_orders) == (c.TradingState.HALTED, 0)
    assert (mode["set_by"], mode["detail"]) == (getpass.getuser(), "drill at noon")


def test_kill_when_gate_not_running_then_kill_file_made_loudly_and_exit_4(
    te: RunTe, tmp_path: Path
) -> None:
    """No gate: the kill file is created, stderr says so in capitals, exit 4; a second
    kill finds it already there and says that."""
    data = tmp_path / "data"
    data.mkdir()
    first = te("kill", "--data", data, "--reason", "socket gone", "--yes")
    second = te("kill", "--data", data, "--reason", "again", "--yes")
    assert first.returncode == second.returncode == 4
    assert f"CREATED THE KILL FILE: {data / 'KILL'}" in first.stderr
    assert "NOTHING HAS CONFIRMED THE HALT YET" in first.stderr
    assert "THE KILL FILE IS ALREADY THERE" in second.stderr
    assert "socket gone" in (data / "KILL").read_text()


def test_kill_when_socket_is_stale_then_falls_back_to_the_kill_file(
    te: RunTe, tmp_path: Path
) -> None:
    """A socket file nobody listens on is unreachable too: the kill file, exit 4."""
    stale_socket(tmp_path / "data" / "run" / "admin.sock")
    done = te("kill", "--data", tmp_path / "data", "--reason", "stale", "--yes")
    assert done.returncode == 4
    assert "stale socket" in done.stderr
    assert (tmp_path / "data" / "KILL").exists()


def test_kill_when_admin_socket_unreachable_then_running_gate_halts_from_the_kill_file(
    te: RunTe, tmp_path: Path
) -> None:
    """The admin socket's name moved away (the gate still listens on it): `te kill`
    cannot reach it, writes DATA/KILL, and the running gate halts from that file."""
    with running_gate(tmp_path) as gate:
        aside = gate.admin_socket.with_name("admin.aside")
        gate.admin_socket.rename(aside)
        try:
            assert _status(aside).state is not c.TradingState.HALTED
            done = te("kill", "--data", gate.data, "--reason", "socket lost", "--yes")
            assert done.returncode == 4, done.stderr
            gate.wait_for(lambda: _status(aside).state is c.TradingState.HALTED, timeout_s=5)
            halted = _status(aside)
            gate.wait_for(lambda: not (gate.data / "KILL").exists(), timeout_s=5)
        finally:
            aside.rename(gate.admin_socket)
    assert halted.cause.startswith(f"kill_switch: kill file {gate.data / 'KILL'}")


def test_resume_when_halted_then_reducing_by_default_then_active_on_request(
    te: RunTe, tmp_path: Path
) -> None:
    """After a kill, `te resume --yes` lowers HALTED to REDUCING; `--to active` to ACTIVE."""
    with running_gate(tmp_path) as gate:
        assert te("kill", "--data", gate.data, "--reason", "drill", "--yes").returncode == 0
        reducing = te("resume", "--data", gate.data, "--reason", "checked the book", "--yes")
        state_after_first = _status(gate.admin_socket).state
        active = te(
            "resume", "--data", gate.data, "--reason", "all clear", "--to", "active", "--yes"
        )
        state_after_second = _status(gate.admin_socket).state
    assert (reducing.returncode, reducing.stdout.strip()) == (0, "resumed to reducing")
    assert state_after_first is c.TradingState.REDUCING
    assert (active.returncode, active.stdout.strip()) == (0, "resumed to active")
    assert state_after_second is c.TradingState.ACTIVE


def test_resume_when_gate_not_running_then_exit_3(te: RunTe, tmp_path: Path) -> None:
    """Resume never falls back to anything: no gate, exit 3 and why."""
    (tmp_path / "data").mkdir()
    done = te("resume", "--data", tmp_path / "data", "--reason", "x", "--yes")
    assert done.returncode == 3
    assert "gate not running" in done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["resume", "--reason", "   ", "--yes"], "--reason must say why; it is blank"),
        (["kill", "--reason", "two\nlines", "--yes"], "control character"),
        (["kill", "--reason", "x" * 501, "--yes"], "at most 500"),
        (["kill", "--yes"], "Missing option '--reason'"),
        (["resume", "--reason", "x", "--to", "halted", "--yes"], "'halted' is not one of"),
        (["resume", "--reason", "x"], "refusing without confirmation"),
    ],
)
def test_control_when_bad_arguments_then_usage_error_exit_2(
    te: RunTe, tmp_path: Path, args: list[str], message: str
) -> None:
    """Bad or missing arguments are refused before anything is sent or written."""
    (tmp_path / "data").mkdir()
    done = te(*args, "--data", tmp_path / "data")
    assert done.returncode == 2
    assert message in done.stderr
    assert not (tmp_path / "data" / "KILL").exists()


def test_kill_when_data_dir_missing_then_usage_error_and_no_kill_file(
    te: RunTe, tmp_path: Path
) -> None:
    """A kill file in a directory that does not exist would halt no gate: exit 2."""
    done = te("kill", "--data", tmp_path / "nope", "--reason", "x", "--yes")
    assert done.returncode == 2
    assert "does not exist" in done.stderr
    assert not (tmp_path / "nope").exists()


@pytest.mark.parametrize(("answer", "code", "killed"), [(b"n\n", 1, False), (b"y\n", 4, True)])
def test_kill_when_asked_on_a_terminal_then_only_yes_proceeds(
    tmp_path: Path, answer: bytes, code: int, killed: bool
) -> None:
    """On a terminal `te kill` asks; "n" aborts with nothing done, "y" goes on (here to
    the kill file, as no gate runs)."""
    data = tmp_path / "data"
    data.mkdir()
    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen(
            [TE, "kill", "--data", data, "--reason", "asked"],
            stdin=follower,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        os.write(leader, answer)
        out, err = proc.communicate(timeout=30)
    finally:
        os.close(leader)
        os.close(follower)
    assert proc.returncode == code, err
    assert b"Halt trading now and cancel every open order" in out
    assert (data / "KILL").exists() is killed
