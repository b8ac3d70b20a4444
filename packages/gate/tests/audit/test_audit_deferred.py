"""A deferred-commit log (backtests) writes exactly what a commit-per-transaction log
writes: the same rows, heads and anchor bytes, whatever fails on the way."""

import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trading_gate.audit import AuditLog, AuditWriteFailed, open_audit_db, verify_audit
from trading_gate.audit.batch import ANCHORS_PER_COMMIT
from trading_gate.errors import GateBug

T0 = 1_700_000_000_000_000_000
_JOURNAL = "CREATE TABLE journal (n INTEGER PRIMARY KEY, qty TEXT NOT NULL CHECK (qty != '0'))"

# One step of a script: ("ok", rows) commits a journal row and `rows` audit rows;
# "bad_sql" fails a journal statement mid-transaction (raised, or swallowed by the
# caller); "boom" raises out of the block; "anchor" anchors now; "nested" nests.
Step = tuple[str, int]
_STEPS = st.one_of(
    st.tuples(st.just("ok"), st.integers(0, 4)),
    st.tuples(st.sampled_from(["bad_sql", "swallowed", "boom", "anchor", "nested"]), st.just(0)),
)


def _run(log: AuditLog, script: list[Step]) -> list[object]:
    """Play `script`; return what the caller saw at each step (heads and error types)."""
    seen: list[object] = []
    for i, (kind, rows) in enumerate(script):
        stamp = {"ts_wall_ns": T0 + i, "ts_mono_ns": i}
        try:
            if kind == "anchor":
                log.anchor_now(ts_wall_ns=T0 + i)
            elif kind == "nested":
                with log.transaction(), log.transaction():
                    pass
            else:
                with log.transaction() as txn:
                    txn.append("order.pending", {"step": i}, **stamp)
                    txn.execute("INSERT INTO journal (n, qty) VALUES (?, ?)", [i, "1"])
                    if kind in ("bad_sql", "swallowed"):
                        try:
                            txn.execute("INSERT INTO journal (n, qty) VALUES (?, ?)", (-i, "0"))
                        except AuditWriteFailed:
                            if kind == "bad_sql":
                                raise
                    if kind == "boom":
                        raise KeyError(i)
                    for r in range(rows):
                        txn.append("order.acked", {"step": i, "row": r}, **stamp)
        except (AuditWriteFailed, KeyError, GateBug) as exc:
            seen.append(type(exc).__name__)
        seen.append(log.head)
    log.close(ts_wall_ns=T0 + len(script))
    return seen


def _written(root: Path, script: list[Step], *, deferred: bool) -> tuple[object, ...]:
    root.mkdir()
    conn = open_audit_db(root / "gate.db")
    conn.execute(_JOURNAL)
    log = AuditLog(
        conn,
        anchor_path=root / "audit.anchor",
        anchor_every=3,
        deferred_commit=deferred,
        fsync_anchors=not deferred,
    )
    seen = _run(log, script)
    audit = conn.execute("SELECT * FROM audit ORDER BY seq").fetchall()
    journal = conn.execute("SELECT * FROM journal ORDER BY rowid").fetchall()
    conn.close()
    report = verify_audit(root / "gate.db", root / "audit.anchor")
    return seen, audit, journal, (root / "audit.anchor").read_bytes(), report.ok


@settings(max_examples=40, deadline=None)
@given(script=st.lists(_STEPS, max_size=40))
def test_deferred_commit_when_any_script_then_same_as_commit_per_transaction(
    script: list[Step],
) -> None:
    """Rows, journal, heads, errors and anchor file match the live log's, step by step."""
    with tempfile.TemporaryDirectory() as tmp:
        live = _written(Path(tmp) / "live", script, deferred=False)
        deferred = _written(Path(tmp) / "deferred", script, deferred=True)

    assert deferred == live
    assert live[-1] is True


def test_deferred_commit_when_rows_written_then_uncommitted_until_anchors_batch(
    tmp_path: Path,
) -> None:
    """Another reader sees nothing until `ANCHORS_PER_COMMIT` anchors are due; then all."""
    conn = open_audit_db(tmp_path / "gate.db")
    anchor_path = tmp_path / "audit.anchor"
    log = AuditLog(conn, anchor_path=anchor_path, anchor_every=2, deferred_commit=True)
    reader = sqlite3.connect(tmp_path / "gate.db")
    rows_per_commit = 2 * ANCHORS_PER_COMMIT

    for i in range(1, rows_per_commit):
        log.append("e", {"i": i}, ts_wall_ns=T0 + i, ts_mono_ns=i)
    unseen = reader.execute("SELECT count(*) FROM audit").fetchone()[0]
    no_anchor = anchor_path.read_bytes()
    log.append("e", {"i": rows_per_commit}, ts_wall_ns=T0, ts_mono_ns=0)
    seen = reader.execute("SELECT count(*) FROM audit").fetchone()[0]
    lines = anchor_path.read_bytes().splitlines()

    assert (unseen, no_anchor) == (0, b"")
    assert seen == rows_per_commit
    assert len(lines) == ANCHORS_PER_COMMIT
    log.close(ts_wall_ns=T0)
    reader.close()
    conn.close()


def test_flush_when_deferred_rows_pending_then_committed_and_anchors_written(
    tmp_path: Path,
) -> None:
    """`flush` commits now and writes the anchors queued so far, no more."""
    conn = open_audit_db(tmp_path / "gate.db")
    anchor_path = tmp_path / "audit.anchor"
    log = AuditLog(conn, anchor_path=anchor_path, anchor_every=2, deferred_commit=True)
    for i in range(1, 6):
        log.append("e", {"i": i}, ts_wall_ns=T0 + i, ts_mono_ns=i)

    log.flush()

    reader = sqlite3.connect(tmp_path / "gate.db")
    assert reader.execute("SELECT count(*) FROM audit").fetchone()[0] == 5
    assert len(anchor_path.read_bytes().splitlines()) == 2  # at seq 2 and 4
    reader.close()
    log.close(ts_wall_ns=T0)
    conn.close()


def test_deferred_commit_when_commit_fails_then_write_failed_and_head_back_to_committed(
    tmp_path: Path,
) -> None:
    """A refused COMMIT drops the batch and its queued anchors; the head is the last
    committed row, and what remains verifies."""
    conn = open_audit_db(tmp_path / "gate.db")
    anchor_path = tmp_path / "audit.anchor"
    log = AuditLog(conn, anchor_path=anchor_path, anchor_every=2, deferred_commit=True)
    log.append("e", {"i": 1}, ts_wall_ns=T0, ts_mono_ns=1)
    log.flush()
    committed = log.head
    log.append("e", {"i": 2}, ts_wall_ns=T0, ts_mono_ns=2)
    # A deferred foreign key is checked at COMMIT: this one refuses it.
    conn.execute(
        "CREATE TABLE child (p INTEGER REFERENCES audit (seq) DEFERRABLE INITIALLY DEFERRED)"
    )
    conn.execute("INSERT INTO child (p) VALUES (999)")

    with pytest.raises(AuditWriteFailed, match="commit audit rows up to seq 2"):
        log.flush()

    assert log.head == committed
    assert anchor_path.read_bytes() == b""
    log.close(ts_wall_ns=T0)
    conn.close()
    assert verify_audit(tmp_path / "gate.db", None).ok


def test_fsync_anchors_when_off_then_same_bytes(tmp_path: Path) -> None:
    """Anchor lines appended without fsync are the lines appended with it."""
    contents = []
    for fsync in (True, False):
        root = tmp_path / str(fsync)
        root.mkdir()
        conn = open_audit_db(root / "gate.db")
        log = AuditLog(conn, anchor_path=root / "a", anchor_every=2, fsync_anchors=fsync)
        for i in range(1, 6):
            log.append("e", {"i": i}, ts_wall_ns=T0 + i, ts_mono_ns=i)
        log.close(ts_wall_ns=T0 + 9)
        conn.close()
        contents.append((root / "a").read_bytes())

    assert contents[0] == contents[1]
    assert len(contents[0].splitlines()) == 3
