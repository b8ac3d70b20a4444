"""open_audit_db(page_size=...): a new file's page layout changes, its rows never do."""

import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trading_gate.audit import AuditLog, open_audit_db, verify_audit

T0 = 1_700_000_000_000_000_000
payloads = st.dictionaries(
    st.text("abcdefgh", min_size=1, max_size=8),
    st.text(max_size=3000) | st.integers(0, 2**40),
    max_size=4,
)


def _write(
    root: Path, payloads: list[dict[str, object]], page_size: int | None
) -> list[tuple[object, ...]]:
    root.mkdir()
    conn = open_audit_db(root / "gate.db", page_size=page_size)
    log = AuditLog(conn, anchor_path=root / "audit.anchor")
    for i, payload in enumerate(payloads):
        log.append("test.row", payload, ts_wall_ns=T0 + i, ts_mono_ns=i)
    log.close(ts_wall_ns=T0 + len(payloads))
    rows = conn.execute("SELECT * FROM audit ORDER BY rowid").fetchall()
    conn.close()
    return rows


def test_open_audit_db_when_page_size_given_then_new_file_uses_it(tmp_path: Path) -> None:
    """A new file takes the page size asked for; WAL and the pragmas still hold."""
    conn = open_audit_db(tmp_path / "gate.db", page_size=16384)
    assert conn.execute("PRAGMA page_size").fetchone() == (16384,)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert conn.execute("PRAGMA synchronous").fetchone() == (2,)
    conn.close()


def test_open_audit_db_when_existing_file_then_page_size_kept(tmp_path: Path) -> None:
    """An existing file keeps its page size: the option only shapes new files."""
    open_audit_db(tmp_path / "gate.db").close()
    conn = open_audit_db(tmp_path / "gate.db", page_size=65536)
    assert conn.execute("PRAGMA page_size").fetchone() == (4096,)
    conn.close()


@pytest.mark.parametrize("bad", [0, 1000, 2**17, 256, True])
def test_open_audit_db_when_page_size_not_a_power_of_two_in_range_then_value_error(
    tmp_path: Path, bad: int
) -> None:
    """A page size SQLite would silently ignore is refused, naming the value."""
    with pytest.raises(ValueError, match="page_size"):
        open_audit_db(tmp_path / "gate.db", page_size=bad)
    assert not (tmp_path / "gate.db").exists()


@settings(max_examples=10, deadline=None)
@given(st.lists(payloads, min_size=1, max_size=30), st.sampled_from([512, 16384, 65536]))
def test_open_audit_db_when_page_size_differs_then_same_rows_and_verifies(
    tmp_path_factory: pytest.TempPathFactory, rows: list[dict[str, object]], page_size: int
) -> None:
    """The same appends under any page size give the same rows as the default, verified."""
    base = tmp_path_factory.mktemp("pages")
    default = _write(base / "default", rows, None)
    sized = _write(base / "sized", rows, page_size)
    assert sized == default
    assert (base / "sized" / "audit.anchor").read_bytes() == (
        base / "default" / "audit.anchor"
    ).read_bytes()
    conn = sqlite3.connect(base / "sized" / "gate.db")
    assert conn.execute("PRAGMA page_size").fetchone() == (page_size,)
    conn.close()
    assert verify_audit(base / "sized" / "gate.db", base / "sized" / "audit.anchor").ok
