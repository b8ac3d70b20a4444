"""The gate as a real process, over its real sockets, with the paper exchange inside.

Each test counts what reached the exchange from the gate's own audit log (the
`order.venue_ack` rows), read-only, as the console would.
"""

import os
import select
import signal
import socket
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

import trading_contract as c
from gate_process import (
    BTC_OPEN,
    AgentClient,
    GateProcess,
    resting_bid,
    running_gate,
    write_config,
)

AGENT_SCRIPT = Path(__file__).with_name("agent_script.py")
TESTS = Path(__file__).resolve().parents[1]


def _acks(gate: GateProcess) -> int:
    return len(gate.audit_rows("order.venue_ack"))


def _code(decision: c.Decision) -> c.RejectCode | None:
    return decision.verdict.code if isinstance(decision.verdict, c.Rejected) else None


def test_gate_when_orders_checked_then_only_approved_ones_reach_the_exchange(
    tmp_path: Path,
) -> None:
    """Approved orders reach the venue; each refused one gets its code and never does."""
    with running_gate(tmp_path) as gate:
        agent = AgentClient(gate.agent_socket)
        try:
            accepted = [agent.place(f"ok-{i}", size=Decimal("0.0001") * (i + 1)) for i in range(3)]
            refused = {
                "size": agent.place("too-big", size=Decimal("0.02")),
                "collar": agent.place(
                    "far", limit_price=(resting_bid() * Decimal("0.9")).quantize(Decimal("0.01"))
                ),
                "product": agent.place("doge", product_id="DOGE-USD"),
                "grid": agent.place("grid", size=Decimal("0.000100001")),
            }
            gate.wait_for(lambda: _acks(gate) == 3)
            time.sleep(0.3)
        finally:
            agent.close()
        assert all(isinstance(d.verdict, c.Accepted) for d in accepted)
        assert {k: _code(d) for k, d in refused.items()} == {
            "size": c.RejectCode.SIZE_LIMIT,
            "collar": c.RejectCode.PRICE_COLLAR,
            "product": c.RejectCode.PRODUCT_NOT_ALLOWED,
            "grid": c.RejectCode.OFF_INCREMENT,
        }
        assert _acks(gate) == 3
        assert len(gate.audit_rows("order.rejected")) == 4


def test_gate_when_burst_past_order_rate_then_exactly_the_limit_gets_through(
    tmp_path: Path,
) -> None:
    """Six orders inside one 1 s window with a limit of 5: five reach the venue."""
    with running_gate(tmp_path) as gate:
        agent = AgentClient(gate.agent_socket)
        try:
            decisions = [
                agent.place(f"burst-{i}", size=Decimal("0.0001") + Decimal("0.00001") * i)
                for i in range(6)
            ]
            time.sleep(0.5)
        finally:
            agent.close()
        assert [_code(d) for d in decisions] == [None] * 5 + [c.RejectCode.ORDER_RATE_LIMIT]
        assert _acks(gate) == 5


def test_gate_when_intent_replayed_then_same_answer_and_one_order(tmp_path: Path) -> None:
    """A replayed intent id gets the first answer again and never a second order."""
    with running_gate(tmp_path) as gate:
        agent = AgentClient(gate.agent_socket)
        try:
            first = agent.place("same-intent")
            again = agent.place("same-intent", request_id="r-again")
            time.sleep(0.5)
        finally:
            agent.close()
        assert again.verdict == first.verdict
        assert again.request_id == "r-again"
        assert _acks(gate) == 1


def test_gate_when_second_agent_connects_then_it_is_refused(tmp_path: Path) -> None:
    """Exactly one agent at a time: the second gets ALREADY_CONNECTED; the first goes on."""
    with running_gate(tmp_path) as gate:
        first = AgentClient(gate.agent_socket)
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as second:
                second.settimeout(5)
                second.connect(str(gate.agent_socket))
                header = second.recv(4)
                error = c.decode_gate_message(second.recv(c.body_length(header)))
                assert isinstance(error, c.Error)
                assert error.code is c.ErrorCode.ALREADY_CONNECTED
                assert second.recv(1) == b""
            assert isinstance(first.place("still-here").verdict, c.Accepted)
        finally:
            first.close()


def test_gate_when_frames_malformed_then_typed_errors_and_nothing_changes(tmp_path: Path) -> None:
    """Bad frames get Error replies and change nothing; an oversize header ends the link."""
    with running_gate(tmp_path) as gate:
        agent = AgentClient(gate.agent_socket)
        try:
            for body in (
                b"{not json",
                b'{"type":"heartbeat","seq":1,"seq":2,"sent_ns":1}',
                b'{"type":"place_order","size":NaN}',
            ):
                agent.send_raw(c.frame(body))
                error = agent.await_reply(c.Error)
                assert not error.fatal
            assert _acks(gate) == 0
            assert isinstance(agent.place("after-garbage").verdict, c.Accepted)
            agent.send_raw((2**31).to_bytes(4, "big"))
            error = agent.await_reply(c.Error)
            assert error.code is c.ErrorCode.FRAME_TOO_LARGE
            assert error.fatal
            with pytest.raises((EOFError, ConnectionResetError)):
                agent.read()
        finally:
            agent.close()


def test_kill_switch_when_pulled_then_halted_book_empty_and_only_a_human_resumes(
    tmp_path: Path,
) -> None:
    """halt latches HALTED, cancels every order, verifies; new orders are refused until resume."""
    with running_gate(tmp_path) as gate:
        agent = AgentClient(gate.agent_socket)
        try:
            for i in range(3):
                agent.place(f"resting-{i}", size=Decimal("0.0001") + Decimal("0.00001") * i)
            gate.wait_for(lambda: gate.status().open_orders == 3)
            ack = gate.admin(c.AdminHalt(request_id="t-halt", operator="tester", reason="drill"))
            assert isinstance(ack, c.AdminAck)
            assert ack.ok, ack
            status = gate.status()
            assert status.state is c.TradingState.HALTED
            assert status.open_orders == 0
            assert _code(agent.place("while-halted")) is c.RejectCode.HALTED
            resumed = gate.admin(
                c.AdminResume(
                    request_id="t-resume",
                    operator="tester",
                    reason="drill over",
                    to=c.TradingState.ACTIVE,
                )
            )
            assert isinstance(resumed, c.AdminAck)
            assert resumed.ok
            after = agent.place("after-resume", size=Decimal("0.0002"))
            assert isinstance(after.verdict, c.Accepted), after
        finally:
            agent.close()
        [report] = gate.audit_rows("kill.report")
        assert report["verified_empty"] is True
        assert len(report["cancels_sent"]) == 3


def _spawn_agent(gate: GateProcess, orders: int) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    agent = subprocess.Popen(
        [sys.executable, str(AGENT_SCRIPT), str(gate.agent_socket), str(orders)],
        stdout=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    assert agent.stdout is not None
    ready, _, _ = select.select([agent.stdout], [], [], 20)
    line = agent.stdout.readline() if ready else ""
    if not line.startswith("placed"):
        agent.kill()
        agent.wait()
        raise AssertionError(f"the stand-in agent did not place its orders: {line!r}")
    return agent


def test_agent_when_killed_then_gate_halts_and_cancels_everything(tmp_path: Path) -> None:
    """SIGKILL of the agent: EOF fires the dead man at once; every order is cancelled."""
    with running_gate(tmp_path) as gate:
        agent = _spawn_agent(gate, 4)
        gate.wait_for(lambda: gate.status().open_orders == 4)
        agent.kill()
        agent.wait()
        agent.stdout.close()  # type: ignore[union-attr]
        took = gate.wait_for(
            lambda: (s := gate.status()).state is c.TradingState.HALTED and s.open_orders == 0
        )
        [report] = gate.audit_rows("kill.report")
        assert report["verified_empty"] is True
        assert took < 3.0


def test_agent_when_stopped_then_dead_man_fires_after_the_timeout(tmp_path: Path) -> None:
    """SIGSTOP of the agent: no heartbeats, so the dead man fires at the timeout."""
    with running_gate(tmp_path, dead_man={"heartbeat_timeout_s": 1}) as gate:
        agent = _spawn_agent(gate, 2)
        gate.wait_for(lambda: gate.status().open_orders == 2)
        try:
            agent.send_signal(signal.SIGSTOP)
            stopped = time.monotonic()
            gate.wait_for(lambda: gate.status().state is c.TradingState.HALTED, timeout_s=5)
            delay = time.monotonic() - stopped
            gate.wait_for(lambda: gate.status().open_orders == 0)
        finally:
            agent.send_signal(signal.SIGCONT)
            agent.kill()
            agent.wait()
            agent.stdout.close()  # type: ignore[union-attr]
        # The last heartbeat came up to 0.3 s before the stop; timeout 1 s, polling slack.
        assert 0.6 <= delay <= 1.6, delay


def test_gate_when_restarted_halted_then_still_halted(tmp_path: Path) -> None:
    """HALTED is journaled: a restart does not clear it; only a human does."""
    config = write_config(tmp_path / "safety.yaml")
    gate = GateProcess(tmp_path, config=config).start()
    try:
        gate.admin(c.AdminHalt(request_id="t-halt", operator="tester", reason="before restart"))
    finally:
        gate.stop()
    again = GateProcess(tmp_path, config=config).start()
    try:
        status = again.status()
        assert status.state is c.TradingState.HALTED
        assert "before restart" in status.cause
    finally:
        again.stop()


def test_gate_when_secrets_in_environment_then_no_artefact_contains_them(tmp_path: Path) -> None:
    """Credential variables are scrubbed: no log, audit row, anchor or environ holds them."""
    canary = "canary-5e2b1f0c-do-not-leak"
    env = {**os.environ, "COINBASE_API_SECRET": canary, "ANTHROPIC_API_KEY": canary}
    with running_gate(tmp_path, env=env) as gate:
        assert gate.proc is not None
        environ = Path(f"/proc/{gate.proc.pid}/environ").read_bytes()
        agent = AgentClient(gate.agent_socket)
        try:
            agent.place("canary-order")
            gate.admin(c.AdminHalt(request_id="t-halt", operator="tester", reason="canary run"))
        finally:
            agent.close()
    # /proc/<pid>/environ is the environment at exec; the scrub is in-process, so check the
    # gate's children would not inherit it: the live os.environ is what matters here.
    artefacts = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert artefacts
    for path in artefacts:
        assert canary.encode() not in path.read_bytes(), path
    assert canary.encode() in environ  # the test really planted it


def _canary_key(root: Path, canary: str, mode: int = 0o600) -> Path:
    keys = root / "keys"
    keys.mkdir(mode=0o700)
    keys.chmod(0o700)
    key = keys / "cdp_api_key.json"
    pem = f"-----BEGIN EC PRIVATE KEY-----\\n{canary}\\n-----END EC PRIVATE KEY-----\\n"
    key.write_text(f'{{"name": "organizations/o/apiKeys/{canary}-name", "privateKey": "{pem}"}}')
    key.chmod(mode)
    return key


def test_gate_when_key_file_holds_a_canary_then_no_artefact_contains_it(tmp_path: Path) -> None:
    """The key is read and checked at start; orders, a halt, errors and the stop leave it
    in no log, audit row, anchor or output."""
    canary = "canary-key-9b41d7e2"
    key = _canary_key(tmp_path, canary)
    with running_gate(tmp_path, keys={"key_file": str(key)}) as gate:
        agent = AgentClient(gate.agent_socket)
        try:
            agent.place("with-key")
            agent.place("refused", size=Decimal("5"))
            agent.send_raw(c.frame(b"{broken"))
            agent.await_reply(c.Error)
            gate.admin(c.AdminHalt(request_id="t-halt", operator="tester", reason="canary"))
        finally:
            agent.close()
    artefacts = [p for p in tmp_path.rglob("*") if p.is_file() and p.parent.name != "keys"]
    assert any(p.name == "gate.db" for p in artefacts)
    for path in artefacts:
        assert canary.encode() not in path.read_bytes(), path


def test_gate_when_key_file_unsafe_then_refuses_to_start_without_quoting_it(tmp_path: Path) -> None:
    """A key readable by others stops the gate at start, with the fix and not the key."""
    canary = "canary-key-1f0e6a3c"
    key = _canary_key(tmp_path, canary, mode=0o644)
    config = write_config(tmp_path / "safety.yaml", keys={"key_file": str(key)})
    with pytest.raises(AssertionError, match="chmod 600") as refused:
        GateProcess(tmp_path, config=config).start()
    assert canary not in str(refused.value)


def test_paper_when_market_trades_through_a_resting_bid_then_it_fills_as_maker(
    tmp_path: Path,
) -> None:
    """The paper market's bars are stamped on the gate's clock, so a bid that rests
    before a bar trades through it fills at its limit as maker (a regression: bars kept
    their recorded times, older than every order, and no resting order ever filled)."""
    with running_gate(tmp_path, "--bar-seconds", "0.05") as gate:
        gate.wait_for(lambda: gate.status().state is c.TradingState.ACTIVE)
        agent = AgentClient(gate.agent_socket)
        try:
            bid = (BTC_OPEN * Decimal("0.995")).quantize(Decimal("0.01"))
            decision = agent.place("i-maker", limit_price=bid)
            assert isinstance(decision.verdict, c.Accepted)

            def filled() -> bool:
                return any(isinstance(e, c.Fill) for e in agent.events) or _poll(agent)

            gate.wait_for(filled, timeout_s=20)
        finally:
            agent.close()
    (fill,) = [e for e in agent.events if isinstance(e, c.Fill)]
    assert fill.liquidity is c.Liquidity.MAKER
    assert fill.price == bid


def _poll(agent: AgentClient) -> bool:
    """Read whatever the gate pushed (a heartbeat reply at least comes every 0.5 s)."""
    agent.events.append(agent.read())
    return False
