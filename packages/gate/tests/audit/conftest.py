"""Fixtures for the audit log: a real gate.db and anchor file in tmp_path, closed after."""

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from trading_gate.audit import AuditLog, AuditRecord, open_audit_db

WriteChain = Callable[..., list[AuditRecord]]
Attacker = Callable[[], sqlite3.Connection]


def _wall_ns(seq: int) -> int:
    return 1_700_000_000_000_000_000 + seq * 1_000_000


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "gate.db"


@pytest.fixture
def anchor_path(tmp_path: Path) -> Path:
    return tmp_path / "audit.anchor"


@pytest.fixture
def conn(db_path: Path) -> Iterator[sqlite3.Connection]:
    connection = open_audit_db(db_path)
    yield connection
    connection.close()


@pytest.fixture
def log(conn: sqlite3.Connection, anchor_path: Path) -> Iterator[AuditLog]:
    audit = AuditLog(conn, anchor_path=anchor_path, anchor_every=100)
    yield audit
    audit.close(ts_wall_ns=_wall_ns(10_000))


@pytest.fixture
def write_chain(db_path: Path, anchor_path: Path) -> WriteChain:
    """Append n rows (each with a findable MARKER-<seq> payload), close, return them."""

    def write(n: int, *, anchor_every: int = 100) -> list[AuditRecord]:
        connection = open_audit_db(db_path)
        try:
            audit = AuditLog(connection, anchor_path=anchor_path, anchor_every=anchor_every)
            records = []
            for seq in range(audit.head.seq + 1, audit.head.seq + 1 + n):
                payload = {"marker": f"MARKER-{seq:04d}", "n": seq, "side": "buy"}
                stamp = {"ts_wall_ns": _wall_ns(seq), "ts_mono_ns": seq * 1000}
                records.append(audit.append("order.submitted", payload, **stamp))
            audit.close(ts_wall_ns=_wall_ns(n + 1))
        finally:
            connection.close()
        return records

    return write


@pytest.fixture
def attacker(db_path: Path) -> Iterator[Attacker]:
    """A plain sqlite3 connection that first drops the append-only triggers."""
    opened: list[sqlite3.Connection] = []

    def connect() -> sqlite3.Connection:
        connection = sqlite3.connect(db_path, isolation_level=None)
        opened.append(connection)
        query = "SELECT name FROM sqlite_schema WHERE type = 'trigger'"
        for (name,) in connection.execute(query).fetchall():
            connection.execute(f'DROP TRIGGER "{name}"')
        return connection

    yield connect
    for connection in opened:
        connection.close()
