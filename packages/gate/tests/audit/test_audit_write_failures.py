"""A write that fails becomes AuditWriteFailed, and nothing is half-applied."""

import sqlite3
from pathlib import Path

import pytest

from trading_gate.audit import (
    AuditLog,
    AuditWriteFailed,
    open_audit_db,
    verify_audit,
)
from trading_gate.errors import OperatorActionRequired

T0 = 1_700_000_000_000_000_000


def fill(log: AuditLog, n: int) -> None:
    for i in range(1, n + 1):
        log.append("e", {"i": i}, ts_wall_ns=T0 + i, ts_mono_ns=i)


def journal_zero_qty_order(
    log: AuditLog, *, swallow: bool = False, then_append: bool = False
) -> None:
    """Audit an order, then write a journal row the table's CHECK refuses."""
    with log.transaction() as txn:
        txn.append("order.pending", {"qty": "0"}, ts_wall_ns=T0 + 50, ts_mono_ns=50)
        try:
            txn.execute("INSERT INTO journal (qty) VALUES (?)", ("0",))
        except AuditWriteFailed:
            if not swallow:
                raise
        if then_append:
            txn.append("order.denied", {}, ts_wall_ns=T0 + 51, ts_mono_ns=51)


def append_then_crash(log: AuditLog) -> None:
    with log.transaction() as txn:
        txn.append("e", {}, ts_wall_ns=T0, ts_mono_ns=1)
        raise KeyError("boom")


def test_append_when_disk_full_then_write_failed_and_head_unchanged(
    log: AuditLog, conn: sqlite3.Connection, db_path: Path
) -> None:
    """SQLITE_FULL (max_page_count reached) is AuditWriteFailed; the head stays the last row."""
    fill(log, 3)
    before = log.head
    (pages,) = conn.execute("PRAGMA page_count").fetchone()
    conn.execute(f"PRAGMA max_page_count = {pages}")

    with pytest.raises(AuditWriteFailed, match="disk is full") as caught:
        log.append("e", {"blob": "x" * 20_000}, ts_wall_ns=T0 + 9, ts_mono_ns=9)

    assert isinstance(caught.value, OperatorActionRequired)
    assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
    assert log.head == before
    report = verify_audit(db_path, None)
    assert report.ok
    assert (report.rows_checked, report.head_hash) == (3, before.hash)


def test_append_when_space_returns_after_disk_full_then_chain_has_no_gap(
    log: AuditLog, conn: sqlite3.Connection, db_path: Path
) -> None:
    """Once space is back, the next row is seq head+1 and the chain still verifies."""
    fill(log, 2)
    (pages,) = conn.execute("PRAGMA page_count").fetchone()
    conn.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(AuditWriteFailed):
        log.append("e", {"blob": "x" * 20_000}, ts_wall_ns=T0 + 9, ts_mono_ns=9)
    conn.execute("PRAGMA max_page_count = 1000000")

    record = log.append("e", {"blob": "x" * 20_000}, ts_wall_ns=T0 + 10, ts_mono_ns=10)

    assert record.seq == 3
    assert verify_audit(db_path, None).ok


def test_append_when_database_locked_then_write_failed_and_head_unchanged(
    db_path: Path, anchor_path: Path
) -> None:
    """A lock held past the busy timeout is AuditWriteFailed, not a silent wait or a retry."""
    conn = open_audit_db(db_path, busy_timeout_ms=50)
    blocker = sqlite3.connect(db_path, isolation_level=None, timeout=0.05)
    try:
        log = AuditLog(conn, anchor_path=anchor_path)
        fill(log, 1)
        before = log.head
        blocker.execute("BEGIN EXCLUSIVE")

        with pytest.raises(AuditWriteFailed, match="locked"):
            log.append("e", {}, ts_wall_ns=T0 + 5, ts_mono_ns=5)
        assert log.head == before

        blocker.execute("ROLLBACK")
        assert log.append("e", {}, ts_wall_ns=T0 + 6, ts_mono_ns=6).seq == 2
        log.close(ts_wall_ns=T0 + 7)
    finally:
        blocker.close()
        conn.close()
    assert verify_audit(db_path, anchor_path).ok


def test_transaction_when_journal_statement_fails_then_audit_row_not_committed(
    log: AuditLog, conn: sqlite3.Connection
) -> None:
    """The journal row and its audit row commit together or not at all."""
    conn.execute("CREATE TABLE journal (qty TEXT NOT NULL CHECK (qty != '0')) STRICT")
    fill(log, 1)
    before = log.head

    with pytest.raises(AuditWriteFailed, match="CHECK constraint"):
        journal_zero_qty_order(log)

    assert log.head == before
    assert conn.execute("SELECT count(*) FROM audit").fetchone() == (1,)


def test_transaction_when_failure_swallowed_then_exit_still_refuses_to_commit(
    log: AuditLog, conn: sqlite3.Connection
) -> None:
    """Catching the error inside the block does not let a half transaction commit."""
    conn.execute("CREATE TABLE journal (qty TEXT NOT NULL CHECK (qty != '0')) STRICT")

    with pytest.raises(AuditWriteFailed, match="not committed"):
        journal_zero_qty_order(log, swallow=True)

    assert log.head.seq == 0
    assert conn.execute("SELECT count(*) FROM audit").fetchone() == (0,)


def test_transaction_when_write_after_failure_then_refused(
    log: AuditLog, conn: sqlite3.Connection
) -> None:
    """After one failed statement, the doomed transaction refuses further writes."""
    conn.execute("CREATE TABLE journal (qty TEXT NOT NULL CHECK (qty != '0')) STRICT")
    with pytest.raises(AuditWriteFailed, match="earlier write"):
        journal_zero_qty_order(log, swallow=True, then_append=True)
    assert log.head.seq == 0


def test_transaction_when_body_raises_then_rolled_back_and_error_unchanged(
    log: AuditLog, conn: sqlite3.Connection
) -> None:
    """A bug in the caller's block rolls back its rows and propagates as itself."""
    with pytest.raises(KeyError, match="boom"):
        append_then_crash(log)
    assert log.head.seq == 0
    assert conn.execute("SELECT count(*) FROM audit").fetchone() == (0,)
    assert log.append("e", {}, ts_wall_ns=T0, ts_mono_ns=2).seq == 1


def test_append_when_anchor_unwritable_then_write_failed_after_durable_commit(
    db_path: Path, anchor_path: Path
) -> None:
    """An anchor that cannot be written halts the gate; the row itself is already durable."""
    conn = open_audit_db(db_path)
    try:
        log = AuditLog(conn, anchor_path=anchor_path, anchor_every=2)
        fill(log, 1)
        anchor_path.unlink()
        anchor_path.mkdir()

        with pytest.raises(AuditWriteFailed, match="anchor seq 2"):
            log.append("e", {}, ts_wall_ns=T0 + 2, ts_mono_ns=2)

        assert log.head.seq == 2
        assert verify_audit(db_path, None).head_seq == 2
    finally:
        conn.close()


def test_audit_log_when_anchor_directory_missing_then_write_failed(
    conn: sqlite3.Connection, tmp_path: Path
) -> None:
    """If the anchor file cannot even be created, the log does not start."""
    with pytest.raises(AuditWriteFailed, match="create anchor file"):
        AuditLog(conn, anchor_path=tmp_path / "absent" / "audit.anchor")
