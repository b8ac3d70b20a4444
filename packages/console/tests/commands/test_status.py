"""`te status`: a running gate, a stopped one, none at all, a stale socket, a bad chain."""

import json
from decimal import Decimal
from pathlib import Path

from gate_process import AgentClient, running_gate
from operator_stubs import (
    MARKET_BUY,
    RunTe,
    Sql,
    place_until_accepted,
    stale_socket,
    tamper_audit_row,
)
from trading_gate.audit import AuditLog, open_audit_db

TERMINAL = ("filled", "cancelled", "rejected", "expired")


def _positions(sql: Sql, db: Path) -> dict[str, Decimal]:
    """Signed base per product, summed by SQLite's own JSON functions over the fills."""
    rows = sql(
        db,
        "SELECT json_extract(fill, '$.product_id'), json_extract(fill, '$.side'),"
        " json_extract(fill, '$.size') FROM fills",
    )
    out: dict[str, Decimal] = {}
    for product, side, size in rows:
        out[product] = out.get(product, Decimal(0)) + Decimal(size) * (1 if side == "buy" else -1)
    return {p: v for p, v in out.items() if v}


def _open_orders(sql: Sql, db: Path) -> set[str]:
    rows = sql(
        db,
        "SELECT client_order_id FROM orders"
        " WHERE json_extract(state, '$.status') NOT IN (?, ?, ?, ?)",
        *TERMINAL,
    )
    return {r[0] for r in rows}


def test_status_when_data_dir_missing_then_usage_error_naming_it(te: RunTe, tmp_path: Path) -> None:
    """No data directory: exit 2 and the path in the message, not a traceback."""
    done = te("status", "--data", tmp_path / "nope")
    assert done.returncode == 2
    assert f"{tmp_path / 'nope'} does not exist" in done.stderr


def test_status_when_gate_never_ran_then_exit_3_and_says_so(te: RunTe, tmp_path: Path) -> None:
    """An empty data directory: not running (exit 3), no state, the notes say why."""
    (tmp_path / "data").mkdir()
    done = te("status", "--data", tmp_path / "data", "--json")
    assert done.returncode == 3, done.stderr
    report = json.loads(done.stdout)
    assert report["gate"]["running"] is False
    assert "no admin socket" in report["gate"]["unreachable"]
    assert report["gate"]["state"] is None
    assert any("the gate has not run in this data directory" in n for n in report["notes"])


def test_status_when_socket_is_stale_then_exit_3_and_names_it_stale(
    te: RunTe, tmp_path: Path
) -> None:
    """A socket file nobody listens on is "not running", and the message says stale."""
    stale_socket(tmp_path / "data" / "run" / "admin.sock")
    done = te("status", "--data", tmp_path / "data")
    assert done.returncode == 3
    assert "stale socket" in done.stdout
    assert "GATE NOT RUNNING" in done.stdout


def test_status_when_gate_runs_then_state_heartbeat_positions_and_orders_as_gate_db_says(
    te: RunTe, tmp_path: Path, sql: Sql
) -> None:
    """With a live gate, an agent beating and a fill: exit 0, ACTIVE, a fresh heartbeat,
    positions and open orders equal to what SQL finds in gate.db, a verifying chain."""
    with running_gate(tmp_path) as gate:
        agent = AgentClient(gate.agent_socket, heartbeat_s=0.2)
        try:
            place_until_accepted(agent, "buy", **MARKET_BUY)
            place_until_accepted(agent, "rest")
            db = gate.data / "gate.db"
            gate.wait_for(lambda: bool(sql(db, "SELECT 1 FROM fills")), timeout_s=10)
            done = te("status", "--data", gate.data, "--config", gate.config, "--json")
            table = te("status", "--data", gate.data, "--config", gate.config)
            expected_positions, expected_orders = _positions(sql, db), _open_orders(sql, db)
        finally:
            agent.close()
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["gate"]["running"] is True
    assert report["gate"]["state"] == "active"
    assert report["gate"]["agent_connected"] is True
    assert 0 <= report["gate"]["heartbeat_age_s"] < report["gate"]["heartbeat_timeout_s"] == 3.0
    positions = {
        p["product_id"]: Decimal(p["base"]) for p in report["positions"] if p["base"] != "0"
    }
    assert positions == expected_positions
    assert positions
    assert {o["client_order_id"] for o in report["open_orders"]} == expected_orders
    assert len(expected_orders) == 1
    assert report["audit"]["ok"] is True
    assert report["anomalies"] == []
    assert table.returncode == 0
    assert "ACTIVE" in table.stdout
    assert "no anomalies" in table.stdout


def test_status_when_gate_stopped_then_exit_3_with_what_gate_db_recorded(
    te: RunTe, traded_data: Path, sql: Sql
) -> None:
    """A stopped gate: exit 3, yet the state, positions and P&L from gate.db are shown,
    and the recorded HALTED is an anomaly."""
    done = te("status", "--data", traded_data, "--json")
    assert done.returncode == 3, done.stderr
    report = json.loads(done.stdout)
    db = traded_data / "gate.db"
    mode = json.loads(sql(db, "SELECT mode FROM gate_mode")[0][0])
    assert report["gate"]["source"] == "gate.db"
    assert report["gate"]["state"] == mode["state"] == "halted"
    assert report["gate"]["since_ns"] == mode["since_ns"]
    positions = {
        p["product_id"]: Decimal(p["base"]) for p in report["positions"] if p["base"] != "0"
    }
    assert positions == _positions(sql, db)
    fees = sum(Decimal(r[0]) for r in sql(db, "SELECT json_extract(fill, '$.fee') FROM fills"))
    assert Decimal(report["gate_pnl"]["fees_usd"]) == fees
    assert report["open_orders"] == []
    assert any(
        a.startswith("gate HALTED (as gate.db last recorded it)") for a in report["anomalies"]
    )


def test_status_when_audit_chain_tampered_then_anomaly_names_the_row(
    te: RunTe, traded_copy: Path
) -> None:
    """A row edited behind the triggers' back makes the chain fail, and status says where."""
    tamper_audit_row(traded_copy / "gate.db", 3)
    done = te("status", "--data", traded_copy, "--json")
    report = json.loads(done.stdout)
    assert report["audit"]["ok"] is False
    assert report["audit"]["first_problem"].startswith("seq 3:")
    assert any(a.startswith("audit chain does not verify: seq 3") for a in report["anomalies"])


def test_status_when_the_audit_log_holds_a_refused_reload_then_it_is_an_anomaly(
    te: RunTe, traded_copy: Path, sql: Sql
) -> None:
    """Anomalies the gate wrote to its audit log (here a refused rules reload, appended
    with the gate's own AuditLog, so the chain still verifies) are listed with their row."""
    db = traded_copy / "gate.db"
    conn = open_audit_db(db)
    log = AuditLog(conn, anchor_path=traded_copy / "audit.anchor")
    record = log.append(
        "rules.reload_refused",
        {"sha256": "0" * 64, "problems": ["active/x.rule:5:8: error: unknown field"]},
        ts_wall_ns=1_764_633_600_000_000_000,
        ts_mono_ns=1,
    )
    log.close(ts_wall_ns=1_764_633_600_000_000_001)
    conn.close()
    done = te("status", "--data", traded_copy, "--json")
    report = json.loads(done.stdout)
    assert report["audit"]["ok"] is True
    listed = [a for a in report["anomalies"] if f"audit #{record.seq}:" in a]
    assert len(listed) == 1
    assert listed[0].startswith("2025-12-02 00:00:00Z")
    assert "active/x.rule:5:8" in listed[0]
