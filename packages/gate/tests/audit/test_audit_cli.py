"""audit_verify: exit 0 with a summary, 1 naming the first bad row, 2 if unreadable."""

import sqlite3
from collections.abc import Callable
from pathlib import Path

from trading_gate.audit import AuditRecord
from trading_gate.audit_cli import EXIT_BAD_CHAIN, EXIT_OK, EXIT_UNREADABLE, audit_verify

WriteChain = Callable[..., list[AuditRecord]]
Attacker = Callable[[], sqlite3.Connection]


def test_audit_verify_when_chain_ok_then_exit_zero_and_summary(
    write_chain: WriteChain, db_path: Path, anchor_path: Path
) -> None:
    """A good chain: exit 0 and one line with rows, head and anchors checked."""
    records = write_chain(5, anchor_every=2)
    code, text = audit_verify(db_path, anchor_path)
    assert (code, EXIT_OK) == (0, 0)
    assert text == f"ok: 5 rows, head seq 5 hash {records[-1].hash}, anchors checked 3"


def test_audit_verify_when_no_anchor_then_ok_with_warning(
    write_chain: WriteChain, db_path: Path
) -> None:
    """Without an anchor file the chain can pass, but the text says what went unchecked."""
    write_chain(2)
    code, text = audit_verify(db_path, None)
    assert code == EXIT_OK
    assert text.startswith("ok: 2 rows, head seq 2 hash ")
    assert "anchors checked 0" in text
    assert "warning: no anchor file" in text


def test_audit_verify_when_row_deleted_then_exit_one_naming_first_bad_row(
    write_chain: WriteChain, attacker: Attacker, db_path: Path, anchor_path: Path
) -> None:
    """A deleted row: exit 1, and the first line names seq 3."""
    write_chain(6)
    attacker().execute("DELETE FROM audit WHERE seq = 3")
    code, text = audit_verify(db_path, anchor_path)
    assert (code, EXIT_BAD_CHAIN) == (1, 1)
    assert text.splitlines()[0].startswith("FAILED: first bad row seq 3: rows 3..3 missing")
    assert "seq 3 [gap]" in text


def test_audit_verify_when_tail_cut_then_exit_one_naming_the_anchor(
    write_chain: WriteChain, attacker: Attacker, db_path: Path, anchor_path: Path
) -> None:
    """A cut tail: exit 1, and the text quotes the anchor that proves it."""
    write_chain(4)
    attacker().execute("DELETE FROM audit WHERE seq = 4")
    code, text = audit_verify(db_path, anchor_path)
    assert code == EXIT_BAD_CHAIN
    assert "chain ends at seq 3 but anchor at seq 4" in text


def test_audit_verify_when_anchor_file_missing_then_exit_one(
    write_chain: WriteChain, db_path: Path, tmp_path: Path
) -> None:
    """A missing anchor file fails the check: the tail cannot be vouched for."""
    write_chain(1)
    code, text = audit_verify(db_path, tmp_path / "elsewhere.anchor")
    assert code == EXIT_BAD_CHAIN
    assert text.startswith("FAILED: anchor file ")


def test_audit_verify_when_database_missing_then_exit_two_and_nothing_created(
    tmp_path: Path,
) -> None:
    """A missing database: exit 2, and the read-only verifier creates no file."""
    missing = tmp_path / "gate.db"
    code, text = audit_verify(missing, None)
    assert (code, EXIT_UNREADABLE) == (2, 2)
    assert text.startswith("error: cannot read the audit log:")
    assert "no such database file" in text
    assert not missing.exists()


def test_audit_verify_when_not_a_database_then_exit_two(tmp_path: Path) -> None:
    """A file that is not SQLite: exit 2 with a one-line reason, not a traceback."""
    bogus = tmp_path / "gate.db"
    bogus.write_bytes(b"\x00garbage" * 512)
    code, text = audit_verify(bogus, None)
    assert code == EXIT_UNREADABLE
    assert "not a database" in text
