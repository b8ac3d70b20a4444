"""AuditLog: gapless, hash-chained appends in gate.db, anchored outside it."""

import json
import sqlite3
from pathlib import Path

import pytest

from trading_gate.audit import (
    GENESIS_HASH,
    SCHEMA_VERSION,
    AuditCorrupt,
    AuditHead,
    AuditLog,
    AuditSchemaMismatch,
    AuditUnavailable,
    InvalidAuditInput,
    open_audit_db,
    row_hash,
    verify_audit,
    write_anchor,
)
from trading_gate.errors import GateBug

T0 = 1_700_000_000_000_000_000


def test_open_audit_db_when_new_then_wal_full_strict_and_versioned(
    conn: sqlite3.Connection,
) -> None:
    """A new gate.db is in WAL mode, synchronous=FULL, at the current schema version."""
    assert conn.isolation_level is None
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert conn.execute("PRAGMA synchronous").fetchone() == (2,)
    assert conn.execute("PRAGMA foreign_keys").fetchone() == (1,)
    assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    strict = conn.execute("SELECT strict FROM pragma_table_list WHERE name = 'audit'").fetchone()
    assert strict == (1,)


def test_open_audit_db_when_newer_schema_then_schema_mismatch(db_path: Path) -> None:
    """A file from a newer gate is refused rather than written with an old layout."""
    other = sqlite3.connect(db_path)
    other.execute("PRAGMA user_version = 99")
    other.close()
    with pytest.raises(AuditSchemaMismatch, match="schema version 99"):
        open_audit_db(db_path)


def test_open_audit_db_when_not_a_database_then_corrupt(db_path: Path) -> None:
    """A file that is not SQLite is refused with a typed error."""
    db_path.write_bytes(b"definitely not a database, just some text " * 200)
    with pytest.raises(AuditCorrupt):
        open_audit_db(db_path)


def test_open_audit_db_when_directory_missing_then_unavailable(tmp_path: Path) -> None:
    """No parent directory: AuditUnavailable, and nothing is created."""
    with pytest.raises(AuditUnavailable):
        open_audit_db(tmp_path / "absent" / "gate.db")
    assert not (tmp_path / "absent").exists()


def test_open_audit_db_when_wal_impossible_then_unavailable() -> None:
    """An in-memory database cannot be in WAL mode, so it is refused."""
    with pytest.raises(AuditUnavailable, match="journal_mode is memory"):
        open_audit_db(Path(":memory:"))


def test_append_when_first_row_then_seq_one_linked_to_genesis(log: AuditLog) -> None:
    """The first row is seq 1, its prev_hash is 64 zeros, and its hash is recomputable."""
    record = log.append("gate.started", {"version": "0.1.0"}, ts_wall_ns=T0, ts_mono_ns=5)
    assert (record.seq, record.prev_hash) == (1, GENESIS_HASH)
    assert record.payload == '{"version":"0.1.0"}'
    expected = row_hash(1, T0, 5, "gate.started", GENESIS_HASH, record.payload)
    assert record.hash == expected
    assert log.head == AuditHead(1, expected)


def test_append_when_reopened_then_chain_continues(db_path: Path, anchor_path: Path) -> None:
    """After close and reopen, the head is the last row and the next row links to it."""
    conn = open_audit_db(db_path)
    first = AuditLog(conn, anchor_path=anchor_path)
    last = [first.append("e.one", {"i": i}, ts_wall_ns=T0 + i, ts_mono_ns=i) for i in range(3)][-1]
    first.close(ts_wall_ns=T0 + 10)
    conn.close()

    conn = open_audit_db(db_path)
    second = AuditLog(conn, anchor_path=anchor_path)
    assert second.head == AuditHead(3, last.hash)
    record = second.append("e.two", {}, ts_wall_ns=T0 + 20, ts_mono_ns=20)
    second.close(ts_wall_ns=T0 + 30)
    conn.close()

    assert (record.seq, record.prev_hash) == (4, last.hash)
    report = verify_audit(db_path, anchor_path)
    assert report.ok, report.problems
    assert (report.rows_checked, report.head_seq, report.head_hash) == (4, 4, record.hash)


def test_audit_log_when_head_row_altered_then_refuses_to_open(
    db_path: Path, anchor_path: Path
) -> None:
    """A head row that fails its hash is not extended: opening the log is refused."""
    conn = open_audit_db(db_path)
    log = AuditLog(conn, anchor_path=anchor_path)
    log.append("e", {"qty": "1"}, ts_wall_ns=T0, ts_mono_ns=1)
    log.close(ts_wall_ns=T0)
    conn.execute("DROP TRIGGER audit_append_only_update")
    conn.execute("""UPDATE audit SET payload = '{"qty":"9"}'""")
    try:
        with pytest.raises(AuditCorrupt, match="head row seq 1 fails its hash"):
            AuditLog(conn, anchor_path=anchor_path)
    finally:
        conn.close()


def test_transaction_when_two_appends_then_one_commit_and_head_moves_after(
    log: AuditLog, conn: sqlite3.Connection
) -> None:
    """Rows appended in one transaction commit together; the head moves only at the end."""
    conn.execute("CREATE TABLE journal (intent TEXT PRIMARY KEY) STRICT")
    with log.transaction() as txn:
        txn.execute("INSERT INTO journal (intent) VALUES (?)", ("i-1",))
        one = txn.append("order.pending", {"intent": "i-1"}, ts_wall_ns=T0, ts_mono_ns=1)
        two = txn.append("order.sent", {"intent": "i-1"}, ts_wall_ns=T0 + 1, ts_mono_ns=2)
        assert log.head == AuditHead(0, GENESIS_HASH)
        assert txn.head == AuditHead(2, two.hash)
    assert (one.seq, two.seq, two.prev_hash) == (1, 2, one.hash)
    assert log.head == AuditHead(2, two.hash)
    assert conn.execute("SELECT count(*) FROM journal").fetchone() == (1,)


def test_transaction_when_nested_then_gate_bug(log: AuditLog) -> None:
    """A transaction inside another is a bug."""
    with log.transaction(), pytest.raises(GateBug, match="already open"):
        log.append("e", {}, ts_wall_ns=T0, ts_mono_ns=1)


def test_transaction_when_used_after_exit_then_gate_bug(log: AuditLog) -> None:
    """A writer kept past its block cannot write."""
    with log.transaction() as txn:
        pass
    with pytest.raises(GateBug, match="has ended"):
        txn.append("e", {}, ts_wall_ns=T0, ts_mono_ns=1)


def test_append_when_closed_then_gate_bug(log: AuditLog) -> None:
    """A closed log refuses writes."""
    log.close(ts_wall_ns=T0)
    with pytest.raises(GateBug, match="closed"):
        log.append("e", {}, ts_wall_ns=T0, ts_mono_ns=1)


@pytest.mark.parametrize(
    ("event_type", "payload", "wall", "mono", "match"),
    [
        ("e", {"px": 1.5}, T0, 1, "float"),
        ("", {}, T0, 1, "event_type"),
        ("has space", {}, T0, 1, "event_type"),
        ("e", {}, -1, 1, "ts_wall_ns"),
        ("e", {}, T0, 2**63, "ts_mono_ns"),
        ("e", {}, True, 1, "ts_wall_ns"),
    ],
)
def test_append_when_input_invalid_then_refused_and_nothing_written(
    log: AuditLog,
    conn: sqlite3.Connection,
    event_type: str,
    payload: dict[str, object],
    wall: int,
    mono: int,
    match: str,
) -> None:
    """Floats, bad event types and out-of-range times are refused before any write."""
    with pytest.raises(InvalidAuditInput, match=match):
        log.append(event_type, payload, ts_wall_ns=wall, ts_mono_ns=mono)
    assert log.head == AuditHead(0, GENESIS_HASH)
    assert conn.execute("SELECT count(*) FROM audit").fetchone() == (0,)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit SET payload = '{}' WHERE seq = 1",
        "DELETE FROM audit WHERE seq = 1",
        "DELETE FROM audit",
        "INSERT OR REPLACE INTO audit SELECT * FROM audit WHERE seq = 1",
    ],
)
def test_triggers_when_rows_changed_then_aborted(
    log: AuditLog, conn: sqlite3.Connection, db_path: Path, statement: str
) -> None:
    """UPDATE, DELETE and INSERT OR REPLACE on the gate's connection abort (bug catchers)."""
    log.append("e", {"n": 1}, ts_wall_ns=T0, ts_mono_ns=1)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute(statement)
    assert verify_audit(db_path, None).ok


def test_anchor_when_every_n_rows_and_close_then_one_json_line_each(
    db_path: Path, anchor_path: Path
) -> None:
    """With anchor_every=3, seven rows anchor at seq 3 and 6, and close anchors seq 7."""
    conn = open_audit_db(db_path)
    log = AuditLog(conn, anchor_path=anchor_path, anchor_every=3)
    records = [log.append("e", {"i": i}, ts_wall_ns=T0 + i, ts_mono_ns=i) for i in range(1, 8)]
    log.close(ts_wall_ns=T0 + 100)
    log.close(ts_wall_ns=T0 + 200)
    conn.close()

    lines = anchor_path.read_text().splitlines()
    assert [json.loads(line) for line in lines] == [
        {"seq": 3, "hash": records[2].hash, "ts_wall_ns": T0 + 3},
        {"seq": 6, "hash": records[5].hash, "ts_wall_ns": T0 + 6},
        {"seq": 7, "hash": records[6].hash, "ts_wall_ns": T0 + 100},
    ]
    assert lines[0] == f'{{"seq":3,"hash":"{records[2].hash}","ts_wall_ns":{T0 + 3}}}'


def test_anchor_now_when_called_then_head_appended(log: AuditLog, anchor_path: Path) -> None:
    """anchor_now writes the current head at once and returns it."""
    record = log.append("e", {}, ts_wall_ns=T0, ts_mono_ns=1)
    anchor = log.anchor_now(ts_wall_ns=T0 + 5)
    assert (anchor.seq, anchor.hash, anchor.ts_wall_ns) == (1, record.hash, T0 + 5)
    assert json.loads(anchor_path.read_text().splitlines()[-1])["seq"] == 1


def test_audit_log_when_opened_then_empty_anchor_file_exists(
    log: AuditLog, db_path: Path, anchor_path: Path
) -> None:
    """Opening creates the anchor file, so a fresh log verifies with zero anchors."""
    assert anchor_path.read_bytes() == b""
    report = verify_audit(db_path, anchor_path)
    assert report.ok
    assert (report.rows_checked, report.head_seq, report.anchors_checked) == (0, 0, 0)


def test_verify_when_writer_mid_transaction_then_reads_committed_rows_only(
    log: AuditLog, db_path: Path, anchor_path: Path
) -> None:
    """The read-only verifier runs beside a writer holding its lock and sees committed rows."""
    log.append("e", {"n": 1}, ts_wall_ns=T0, ts_mono_ns=1)
    with log.transaction() as txn:
        txn.append("e", {"n": 2}, ts_wall_ns=T0 + 1, ts_mono_ns=2)
        report = verify_audit(db_path, anchor_path)
    assert report.ok
    assert (report.rows_checked, report.head_seq) == (1, 1)


def test_open_audit_db_when_version_set_but_table_missing_then_schema_mismatch(
    db_path: Path,
) -> None:
    """A file claiming the current version without the audit table is refused."""
    other = sqlite3.connect(db_path)
    other.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    other.close()
    with pytest.raises(AuditSchemaMismatch, match="no audit table"):
        open_audit_db(db_path)


def test_open_audit_db_when_busy_timeout_not_positive_then_value_error(db_path: Path) -> None:
    """A zero busy timeout would turn every brief lock into a halt."""
    with pytest.raises(ValueError, match="busy_timeout_ms"):
        open_audit_db(db_path, busy_timeout_ms=0)
    assert not db_path.exists()


def test_audit_log_when_bad_arguments_then_value_error(
    conn: sqlite3.Connection, db_path: Path, anchor_path: Path
) -> None:
    """anchor_every must be positive, and the connection must use explicit transactions."""
    with pytest.raises(ValueError, match="anchor_every"):
        AuditLog(conn, anchor_path=anchor_path, anchor_every=0)
    implicit = sqlite3.connect(db_path)
    try:
        with pytest.raises(ValueError, match="isolation_level=None"):
            AuditLog(implicit, anchor_path=anchor_path)
    finally:
        implicit.close()


@pytest.mark.parametrize(
    ("seq", "head_hash", "match"),
    [(-1, "a" * 64, "seq"), (1, "A" * 64, "hash"), (1, "a" * 63, "hash")],
)
def test_write_anchor_when_values_invalid_then_refused_and_nothing_written(
    anchor_path: Path, seq: int, head_hash: str, match: str
) -> None:
    """Only a non-negative seq and 64 lowercase hex digits make an anchor line."""
    with pytest.raises(InvalidAuditInput, match=match):
        write_anchor(anchor_path, seq, head_hash, T0)
    assert not anchor_path.exists()
