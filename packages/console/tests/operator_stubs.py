"""Helpers for the operator commands' tests: `te` as a real subprocess, a stale socket,
read-only SQL, and orders a real gate accepts."""

import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import trading_contract as c
from gate_process import AgentClient

TE = Path(sys.executable).parent / "te"

RunTe = Callable[..., subprocess.CompletedProcess[str]]
Sql = Callable[..., list[tuple[Any, ...]]]

MARKET_BUY: dict[str, Any] = {
    "order_type": c.OrderType.MARKET,
    "limit_price": None,
    "time_in_force": c.TimeInForce.IOC,
}


def run_te(
    *args: object, stdin: Any = subprocess.DEVNULL, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`te ARGS...` with stdin not a terminal (unless given one)."""
    # COLUMNS: rich wraps at 80 columns without a terminal; tests match whole lines.
    return subprocess.run(
        [str(TE), *(str(a) for a in args)],
        capture_output=True,
        text=True,
        check=False,
        stdin=stdin,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "250"},
    )


def read_only_rows(db: Path, sql: str, *args: object) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def stale_socket(path: Path) -> Path:
    """A Unix socket file nobody listens on: bound, then closed without unlinking."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    sock.close()
    return path


def place_until_accepted(agent: AgentClient, name: str, **fields: Any) -> c.Decision:
    """Until the first bar gives the gate a mid, orders are refused; retry for 10 s."""
    for attempt in range(50):
        decision = agent.place(f"{name}-{attempt}", **fields)
        if isinstance(decision.verdict, c.Accepted):
            return decision
        time.sleep(0.2)
    raise AssertionError(f"the gate refused {name}: {decision}")


def tamper_audit_row(db: Path, seq: int) -> None:
    """Edit one audit row behind the append-only triggers' back, as an attacker could."""
    conn = sqlite3.connect(db)
    try:
        conn.execute("DROP TRIGGER audit_append_only_update")
        conn.execute("UPDATE audit SET payload = '{\"edited\":true}' WHERE seq = ?", (seq,))
        conn.commit()
    finally:
        conn.close()
