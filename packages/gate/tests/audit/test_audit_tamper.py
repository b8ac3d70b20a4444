"""The tamper suite: verify_audit names the first bad row, and the anchor catches the rest.

Each attack uses a separate plain sqlite3 connection that first drops the append-only
triggers, as anyone who can write the file can, or edits the file's bytes directly.
"""

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from trading_gate.audit import (
    GENESIS_HASH,
    AuditCorrupt,
    AuditRecord,
    AuditUnavailable,
    ProblemKind,
    VerifyReport,
    canonical_json,
    row_hash,
    verify_audit,
)

# The shapes of the conftest fixtures of the same names.
WriteChain = Callable[..., list[AuditRecord]]
Attacker = Callable[[], sqlite3.Connection]


def flip(data: bytes, index: int, mask: int = 0x01) -> bytes:
    return data[:index] + bytes([data[index] ^ mask]) + data[index + 1 :]


def kinds(report: VerifyReport) -> list[tuple[int | None, ProblemKind]]:
    return [(problem.seq, problem.kind) for problem in report.problems]


def test_verify_when_chain_untouched_then_ok(
    write_chain: WriteChain, db_path: Path, anchor_path: Path
) -> None:
    """An honest chain verifies from genesis, against every anchor."""
    records = write_chain(10, anchor_every=4)
    report = verify_audit(db_path, anchor_path)
    assert report.ok, report.problems
    assert (report.rows_checked, report.head_seq, report.head_hash) == (10, 10, records[-1].hash)
    assert report.anchors_checked == 3


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ("payload", [(4, ProblemKind.HASH_MISMATCH)]),
        ("event_type", [(4, ProblemKind.HASH_MISMATCH)]),
        ("prev_hash", [(4, ProblemKind.BROKEN_LINK), (4, ProblemKind.HASH_MISMATCH)]),
        ("hash", [(4, ProblemKind.HASH_MISMATCH), (5, ProblemKind.BROKEN_LINK)]),
    ],
)
def test_verify_when_byte_flipped_in_column_then_names_that_row(
    write_chain: WriteChain,
    attacker: Attacker,
    db_path: Path,
    column: str,
    expected: list[tuple[int, ProblemKind]],
) -> None:
    """One flipped byte in any text column of row 4 makes row 4 the first bad row."""
    write_chain(8)
    atk = attacker()
    # The column name comes from the parametrize list above, never from input.
    select = f"SELECT CAST({column} AS BLOB) FROM audit WHERE seq = 4"  # noqa: S608
    update = f"UPDATE audit SET {column} = CAST(? AS TEXT) WHERE seq = 4"  # noqa: S608
    (stored,) = atk.execute(select).fetchone()
    atk.execute(update, (flip(stored, 3),))

    report = verify_audit(db_path, None)

    assert kinds(report) == expected
    assert report.rows_checked == 8


def test_verify_when_timestamp_changed_then_names_that_row(
    write_chain: WriteChain, attacker: Attacker, db_path: Path
) -> None:
    """The times are hashed too: moving a row's wall clock by 1 ns is caught."""
    write_chain(5)
    attacker().execute("UPDATE audit SET ts_wall_ns = ts_wall_ns + 1 WHERE seq = 2")
    assert kinds(verify_audit(db_path, None)) == [(2, ProblemKind.HASH_MISMATCH)]


def test_verify_when_row_deleted_then_gap_named(
    write_chain: WriteChain, attacker: Attacker, db_path: Path
) -> None:
    """Deleting row 5 is reported as a gap at seq 5, and only that."""
    write_chain(9)
    attacker().execute("DELETE FROM audit WHERE seq = 5")

    report = verify_audit(db_path, None)

    assert kinds(report) == [(5, ProblemKind.GAP)]
    assert "rows 5..5 missing" in report.problems[0].message


def test_verify_when_two_rows_swapped_then_first_swapped_seq_named(
    write_chain: WriteChain, attacker: Attacker, db_path: Path
) -> None:
    """Swapping the seq values of rows 3 and 4 breaks the link at seq 3."""
    write_chain(6)
    atk = attacker()
    atk.execute("UPDATE audit SET seq = 1000 WHERE seq = 3")
    atk.execute("UPDATE audit SET seq = 3 WHERE seq = 4")
    atk.execute("UPDATE audit SET seq = 4 WHERE seq = 1000")

    report = verify_audit(db_path, None)

    assert report.problems[0].seq == 3
    assert report.problems[0].kind is ProblemKind.BROKEN_LINK
    assert "reordered" in report.problems[0].message
    assert {problem.seq for problem in report.problems} == {3, 4, 5}


def test_verify_when_tail_truncated_then_only_the_anchor_detects_it(
    write_chain: WriteChain, attacker: Attacker, db_path: Path, anchor_path: Path
) -> None:
    """Cutting rows 8-10 leaves a valid shorter chain; only the anchor at seq 10 tells.

    Known limitation, by design: without an anchor file a cut tail is undetectable.
    """
    records = write_chain(10, anchor_every=5)
    attacker().execute("DELETE FROM audit WHERE seq >= 8")

    assert verify_audit(db_path, None).ok
    report = verify_audit(db_path, anchor_path)

    assert kinds(report) == [(8, ProblemKind.TRUNCATED)]
    message = report.problems[0].message
    assert "chain ends at seq 7 but anchor at seq 10" in message
    assert records[-1].hash in message


def test_verify_when_every_row_deleted_then_truncated_from_seq_one(
    write_chain: WriteChain, attacker: Attacker, db_path: Path, anchor_path: Path
) -> None:
    """An emptied table is a chain cut back to genesis."""
    write_chain(3)
    attacker().execute("DELETE FROM audit")
    assert kinds(verify_audit(db_path, anchor_path)) == [(1, ProblemKind.TRUNCATED)]


def fake_chain(atk: sqlite3.Connection, first: int, last: int) -> None:
    """Rewrite rows first..last with different payloads and hashes that are consistent."""
    row = atk.execute("SELECT hash FROM audit WHERE seq = ?", (first - 1,)).fetchone()
    prev = row[0] if row else GENESIS_HASH
    atk.execute("DELETE FROM audit WHERE seq >= ?", (first,))
    for seq in range(first, last + 1):
        payload = canonical_json({"marker": "FORGED", "n": seq}).decode()
        digest = row_hash(seq, seq, seq, "order.submitted", prev, payload)
        values = (seq, seq, seq, "order.submitted", payload, prev, digest)
        atk.execute("INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?)", values)
        prev = digest


def test_verify_when_chain_replaced_wholesale_then_anchor_mismatch(
    write_chain: WriteChain, attacker: Attacker, db_path: Path, anchor_path: Path
) -> None:
    """A rebuilt, self-consistent chain passes alone but fails against the anchors.

    Known limitation, by design: without an anchor file a rebuilt chain is undetectable.
    """
    write_chain(10, anchor_every=5)
    fake_chain(attacker(), 1, 10)

    assert verify_audit(db_path, None).ok
    report = verify_audit(db_path, anchor_path)

    assert kinds(report) == [(5, ProblemKind.ANCHOR_MISMATCH), (10, ProblemKind.ANCHOR_MISMATCH)]
    assert "rows 1..5 were rewritten" in report.problems[0].message


def test_verify_when_tail_rewritten_then_anchors_bound_the_damage(
    write_chain: WriteChain, attacker: Attacker, db_path: Path, anchor_path: Path
) -> None:
    """Rewriting rows 7-10 keeps the anchor at 5 matching and names rows 6..10."""
    write_chain(10, anchor_every=5)
    fake_chain(attacker(), 7, 10)

    report = verify_audit(db_path, anchor_path)

    assert kinds(report) == [(10, ProblemKind.ANCHOR_MISMATCH)]
    assert "rows 6..10 were rewritten" in report.problems[0].message


def test_verify_when_anchor_file_missing_then_problem(
    write_chain: WriteChain, db_path: Path, anchor_path: Path
) -> None:
    """A deleted anchor file is a finding, not silence."""
    write_chain(2)
    anchor_path.unlink()
    report = verify_audit(db_path, anchor_path)
    assert kinds(report) == [(None, ProblemKind.BAD_ANCHOR_FILE)]
    assert "does not exist" in report.problems[0].message


def test_verify_when_anchor_line_garbled_then_problem_names_the_line(
    write_chain: WriteChain, db_path: Path, anchor_path: Path
) -> None:
    """A line that is not an anchor is reported with its line number; the rest still count."""
    write_chain(4, anchor_every=2)
    with anchor_path.open("ab") as anchors:
        anchors.write(b'{"seq": 3, "hash": "not-hex", "ts_wall_ns": 1}\n')
    report = verify_audit(db_path, anchor_path)
    assert kinds(report) == [(None, ProblemKind.BAD_ANCHOR_FILE)]
    assert "line 3" in report.problems[0].message
    assert report.anchors_checked == 2


def test_verify_when_payload_byte_flipped_on_disk_then_names_that_row(
    write_chain: WriteChain, db_path: Path
) -> None:
    """A byte flipped in the file itself, inside row 7's payload, names row 7."""
    write_chain(10)
    assert not Path(f"{db_path}-wal").exists(), "closing must have checkpointed the WAL"
    data = db_path.read_bytes()
    assert data.count(b"MARKER-0007") == 1
    db_path.write_bytes(flip(data, data.index(b"MARKER-0007") + 10))

    report = verify_audit(db_path, None)

    assert kinds(report) == [(7, ProblemKind.HASH_MISMATCH)]


def test_verify_when_header_flipped_on_disk_then_typed_corrupt_error(
    write_chain: WriteChain, db_path: Path
) -> None:
    """A damaged file header is a typed AuditCorrupt, not a traceback."""
    write_chain(3)
    data = db_path.read_bytes()
    db_path.write_bytes(flip(data, 0, 0xFF))
    with pytest.raises(AuditCorrupt, match="not a database"):
        verify_audit(db_path, None)


def test_verify_when_any_byte_flipped_on_disk_then_report_or_typed_error(
    write_chain: WriteChain, db_path: Path
) -> None:
    """Wherever a byte flips, verify returns a report or raises AuditUnavailable; no crash."""
    write_chain(12)
    original = db_path.read_bytes()
    outcomes: set[str] = set()
    for index in range(0, len(original), 61):
        db_path.write_bytes(flip(original, index, 0x5A))
        for suffix in ("-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
        try:
            report = verify_audit(db_path, None)
        except AuditUnavailable as exc:
            outcomes.add(type(exc).__name__)
        else:
            outcomes.update(problem.kind.value for problem in report.problems)
    assert ProblemKind.HASH_MISMATCH in outcomes
    assert "AuditCorrupt" in outcomes


def test_verify_when_anchored_row_deleted_then_gap_and_anchor_named(
    write_chain: WriteChain, attacker: Attacker, db_path: Path, anchor_path: Path
) -> None:
    """Deleting the very row an anchor names is both a gap and an anchor finding."""
    write_chain(6, anchor_every=3)
    attacker().execute("DELETE FROM audit WHERE seq = 3")
    report = verify_audit(db_path, anchor_path)
    assert kinds(report) == [(3, ProblemKind.GAP), (3, ProblemKind.ANCHOR_MISMATCH)]
    assert "names a missing row" in report.problems[1].message


def test_verify_when_table_rebuilt_loosely_then_mistyped_row_named(
    write_chain: WriteChain, attacker: Attacker, db_path: Path
) -> None:
    """A table rebuilt without STRICT can hold a text timestamp: named, not a traceback."""
    write_chain(3)
    atk = attacker()
    atk.execute("ALTER TABLE audit RENAME TO audit_old")
    atk.execute(
        "CREATE TABLE audit (seq, ts_wall_ns, ts_mono_ns, event_type, payload, prev_hash, hash)"
    )
    atk.execute("INSERT INTO audit SELECT * FROM audit_old")
    atk.execute("UPDATE audit SET ts_wall_ns = 'noon' WHERE seq = 2")

    report = verify_audit(db_path, None)

    assert kinds(report) == [(2, ProblemKind.MALFORMED)]
