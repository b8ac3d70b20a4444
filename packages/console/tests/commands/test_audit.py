"""`te audit verify`: the gate's verifier over a real gate's data directory."""

from pathlib import Path

from operator_stubs import RunTe, Sql, tamper_audit_row


def test_audit_verify_when_chain_intact_then_exit_0_with_every_row_checked(
    te: RunTe, traded_data: Path, sql: Sql
) -> None:
    """A real gate's log verifies against its anchor; the row count is the table's."""
    rows = sql(traded_data / "gate.db", "SELECT count(*), max(seq) FROM audit")[0]
    done = te("audit", "verify", "--data", traded_data)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"ok: {rows[0]} rows, head seq {rows[1]} hash ")
    assert "anchors checked 0" not in done.stdout


def test_audit_verify_when_a_row_was_edited_then_exit_1_naming_the_first_bad_row(
    te: RunTe, traded_copy: Path
) -> None:
    """Row 4 edited: exit 1, and the first line names seq 4."""
    tamper_audit_row(traded_copy / "gate.db", 4)
    done = te("audit", "verify", "--data", traded_copy)
    assert done.returncode == 1
    assert done.stderr.splitlines()[0].startswith("FAILED: first bad row seq 4: content altered")


def test_audit_verify_when_anchor_file_missing_then_chain_alone_with_a_warning(
    te: RunTe, traded_copy: Path
) -> None:
    """Without the anchor file (as at the gate's start) the chain is checked alone and a
    warning says what that cannot catch."""
    (traded_copy / "audit.anchor").unlink()
    done = te("audit", "verify", "--data", traded_copy)
    assert done.returncode == 0
    assert "warning: no anchor file given" in done.stdout


def test_audit_verify_when_no_gate_db_then_exit_2(te: RunTe, tmp_path: Path) -> None:
    """A data directory without gate.db: exit 2, "cannot read the audit log"."""
    (tmp_path / "data").mkdir()
    done = te("audit", "verify", "--data", tmp_path / "data")
    assert done.returncode == 2
    assert "cannot read the audit log" in done.stderr


def test_audit_verify_when_data_dir_missing_then_usage_error(te: RunTe, tmp_path: Path) -> None:
    """No data directory at all: a usage error naming it."""
    done = te("audit", "verify", "--data", tmp_path / "nope")
    assert done.returncode == 2
    assert "does not exist" in done.stderr
