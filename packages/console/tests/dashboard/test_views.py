"""The dashboard's panels and actions over real databases, and over an admin socket that
answers like the gate (a stand-in that records what it was sent)."""

import json
import shutil
import socket
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

import trading_contract as c
from trading_agent.store.read import PnlPoint
from trading_console.backtest import BacktestResult
from trading_console.dashboard import views
from trading_console.dashboard.app import snapshot_events

Answer = Callable[[c.AdminRequest], c.AdminReply]


class AdminStandIn:
    """A Unix socket speaking the admin framing: records requests, replies with `answer`."""

    def __init__(self, path: Path, answer: Answer) -> None:
        self.path = path
        self.requests: list[c.AdminRequest] = []
        self._answer = answer
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(path))
        self._server.listen(4)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            with conn:
                body = c.recv_frame(conn.recv)
                assert body is not None
                request = c.decode_admin_request(body)
                self.requests.append(request)
                conn.sendall(c.frame(c.encode(self._answer(request))))

    def close(self) -> None:
        self._server.shutdown(socket.SHUT_RDWR)
        self._server.close()
        self._thread.join(timeout=2)


def status_reply(request: c.AdminRequest) -> c.AdminReply:
    if isinstance(request, c.AdminStatus):
        return c.AdminStatusReply(
            request_id=request.request_id,
            state=c.TradingState.ACTIVE,
            cause="reconciled",
            since_ns=1,
            agent_connected=True,
            open_orders=2,
            unknown_orders=0,
            config_hash="a" * 64,
            rules_hash="b" * 64,
            as_of_ns=2,
        )
    return c.AdminAck(request_id=request.request_id, ok=True, message="halted; book verified empty")


@pytest.fixture
def short_dir() -> Iterator[Path]:
    # Unix socket paths are limited to ~100 bytes; pytest's tmp_path can be longer.
    path = Path(tempfile.mkdtemp(prefix="dash-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def gate_standin(short_dir: Path) -> Iterator[AdminStandIn]:
    standin = AdminStandIn(short_dir / "admin.sock", status_reply)
    yield standin
    standin.close()


def sources(data: Path, admin: Path) -> views.Sources:
    return views.Sources.in_data_dir(data, admin)


def _agent_fill_events(db: Path) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM events WHERE kind = 'fill'").fetchone()[0])
    finally:
        conn.close()


# ---------------------------------------------------------------- the gate panel


def test_gate_panel_when_gate_not_running_then_recorded_state_and_why(
    backtest: BacktestResult, tmp_path: Path
) -> None:
    """No admin socket: the panel says the gate is not running and shows gate.db's HALTED."""
    panel = views.gate_panel(sources(backtest.run_dir, tmp_path / "admin.sock"))

    assert not panel.running
    assert panel.live is None
    assert panel.live_error is not None
    assert "gate not running: no admin socket at" in panel.live_error
    assert panel.state == "halted"
    assert panel.halted
    assert panel.cause.startswith("drawdown: equity")
    assert panel.db_error is None
    book = views.book_panel(sources(backtest.run_dir, tmp_path / "admin.sock"))
    assert book.counts is not None
    assert book.counts.fills == _agent_fill_events(backtest.run_dir / "agent.db")


def test_gate_panel_when_no_gate_db_then_unknown_and_the_reason(tmp_path: Path) -> None:
    """An empty data directory: state unknown, and the page is told why."""
    panel = views.gate_panel(sources(tmp_path, tmp_path / "admin.sock"))

    assert panel.state == "unknown"
    assert not panel.halted
    assert panel.db_error is not None
    assert "no gate.db at" in panel.db_error


def test_gate_panel_when_gate_answers_then_live_state_wins(
    backtest: BacktestResult, gate_standin: AdminStandIn
) -> None:
    """A live status is shown over the journaled one (the journal may lag a moment)."""
    panel = views.gate_panel(sources(backtest.run_dir, gate_standin.path))

    assert panel.running
    assert panel.state == "active"
    assert panel.live is not None
    assert panel.live.open_orders == 2
    assert panel.recorded is not None
    assert panel.recorded.state is c.TradingState.HALTED
    assert [type(r) for r in gate_standin.requests] == [c.AdminStatus]


# ---------------------------------------------------------------- the whole snapshot


def test_snapshot_when_backtest_then_json_carries_every_panel(
    backtest: BacktestResult, tmp_path: Path
) -> None:
    """One JSON document with every panel; money as exact decimal strings."""
    snap = views.snapshot(sources(backtest.run_dir, tmp_path / "admin.sock"))

    doc = json.loads(msgspec.json.encode(snap))

    assert set(doc) == {"generated_ns", "gate", "book", "agent", "rules", "proposals"}
    # No rules directory next to the run's data: an empty set and nothing pending.
    assert (doc["rules"]["core"], doc["rules"]["error"]) == ([], None)
    assert doc["proposals"]["pending"] == []
    assert doc["book"]["error"] is None
    assert doc["agent"]["error"] is None
    assert doc["agent"]["trade_count"] == len(backtest.trades)
    assert snap.agent.pnl is not None
    assert Decimal(doc["agent"]["pnl"]["total_usd"]) == snap.agent.pnl.total_usd
    assert len(doc["book"]["decisions"]) == 20
    assert all(len(d["checks"]) > 1 for d in doc["book"]["decisions"])
    assert doc["agent"]["curve"][-1]["total_usd"] == str(snap.agent.curve[-1].total_usd)


def test_snapshot_when_sources_missing_then_each_panel_says_why(tmp_path: Path) -> None:
    """No databases and no gate: every panel carries its reason, nothing raises."""
    snap = views.snapshot(sources(tmp_path / "nowhere", tmp_path / "admin.sock"))

    assert "no gate.db" in (snap.book.error or "")
    assert "no agent.db" in (snap.agent.error or "")
    assert snap.gate.live_error is not None
    assert not (tmp_path / "nowhere").exists()


def test_chart_points_when_several_per_second_then_last_kept_and_strictly_increasing() -> None:
    """The chart gets whole seconds, strictly increasing, the last value of each second."""
    ns = 1_000_000_000
    points = tuple(
        PnlPoint(seq=i, ts_ns=t, realized_usd=Decimal(0), total_usd=Decimal(v))
        for i, (t, v) in enumerate(
            [(10 * ns, "1"), (10 * ns + 5, "2"), (12 * ns, "3"), (11 * ns, "9"), (13 * ns, "4")]
        )
    )

    chart = views.chart_points(points)

    assert [(p.time, p.total_usd) for p in chart] == [(10, "2"), (12, "3"), (13, "4")]


def test_snapshot_events_when_streamed_then_each_event_is_a_full_snapshot(
    backtest: BacktestResult, tmp_path: Path
) -> None:
    """The SSE stream: a retry hint, then `snapshot` events whose data is the JSON."""
    import anyio

    async def first_two() -> list[bytes]:
        stream = snapshot_events(sources(backtest.run_dir, tmp_path / "a.sock"), 0.01)
        got = [await anext(stream) for _ in range(3)]
        await stream.aclose()  # type: ignore[attr-defined]
        return got

    retry, *events = anyio.run(first_two)

    assert retry == b"retry: 2000\n\n"
    for event in events:
        head, data = event.split(b"\n", 1)
        assert head == b"event: snapshot"
        assert data.startswith(b"data: ")
        assert data.endswith(b"\n\n")
        assert set(json.loads(data[6:])) >= {"gate", "book", "agent"}


# ---------------------------------------------------------------- actions


def test_halt_when_confirm_word_wrong_then_refused_before_sending(
    gate_standin: AdminStandIn, tmp_path: Path
) -> None:
    """Without the typed HALT nothing reaches the gate."""
    with pytest.raises(views.ActionRefused, match="type HALT"):
        views.halt(sources(tmp_path, gate_standin.path), confirm="halt?", reason="x")

    assert gate_standin.requests == []


def test_halt_when_confirmed_then_admin_halt_carries_reason_and_operator(
    gate_standin: AdminStandIn, tmp_path: Path
) -> None:
    """The kill switch sends AdminHalt with the operator's reason and name."""
    result = views.halt(
        sources(tmp_path, gate_standin.path),
        confirm=" HALT ",
        reason=" venue looks wrong ",
        operator="alice",
    )

    assert result == views.ActionResult(
        ok=True, message="halted; book verified empty", reached_gate=True
    )
    (sent,) = gate_standin.requests
    assert isinstance(sent, c.AdminHalt)
    assert (sent.reason, sent.operator) == ("venue looks wrong", "alice")


def test_halt_when_gate_not_running_then_result_explains(tmp_path: Path) -> None:
    """No admin socket: not ok, not reached, and the message says what that means."""
    result = views.halt(sources(tmp_path, tmp_path / "admin.sock"), confirm="HALT", reason="")

    assert not result.ok
    assert not result.reached_gate
    assert "gate not running" in result.message
    assert "may still rest at the venue" in result.message


def test_halt_when_gate_answers_error_then_not_ok_with_its_message(short_dir: Path) -> None:
    """The gate's Error reply is shown as a refusal, not as success."""

    def refuse(request: c.AdminRequest) -> c.AdminReply:
        return c.Error(code=c.ErrorCode.SCHEMA_VIOLATION, message="bad operator", fatal=False)

    standin = AdminStandIn(short_dir / "admin.sock", refuse)
    try:
        result = views.halt(sources(short_dir, standin.path), confirm="HALT", reason="r")
    finally:
        standin.close()

    assert not result.ok
    assert result.reached_gate
    assert "bad operator" in result.message


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"confirm": "resume", "reason": "ok", "to": "active"}, "type RESUME"),
        ({"confirm": "RESUME", "reason": "  ", "to": "active"}, "say why"),
        ({"confirm": "RESUME", "reason": "ok", "to": "halted"}, "active or reducing"),
        ({"confirm": "RESUME", "reason": "ok", "to": "active", "operator": "-x"}, "operator"),
        ({"confirm": "RESUME", "reason": "bad\x00text", "to": "active"}, "not sent"),
    ],
)
def test_resume_when_input_invalid_then_refused_before_sending(
    gate_standin: AdminStandIn, tmp_path: Path, fields: dict[str, str], why: str
) -> None:
    """A resume needs the typed word, a reason, a lower state and a valid name."""
    with pytest.raises(views.ActionRefused, match=why):
        views.resume(sources(tmp_path, gate_standin.path), **fields)

    assert gate_standin.requests == []


def test_resume_when_confirmed_then_admin_resume_to_the_chosen_state(
    gate_standin: AdminStandIn, tmp_path: Path
) -> None:
    """Resume sends AdminResume with the state, reason and (default) operator name."""
    views.resume(
        sources(tmp_path, gate_standin.path),
        confirm="RESUME",
        reason="venue back",
        to="reducing",
    )

    (sent,) = gate_standin.requests
    assert isinstance(sent, c.AdminResume)
    assert sent.to is c.TradingState.REDUCING
    assert sent.reason == "venue back"
    assert sent.operator  # the login name, or "dashboard" if it is not a valid name
