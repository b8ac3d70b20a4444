"""The verifier: recompute the chain from genesis and check it against every anchor.

Tampering is not an exception: `verify_audit` returns a `VerifyReport` naming the first
bad row.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import cast

from trading_gate.audit.anchors import Anchor, read_anchors
from trading_gate.audit.database import (
    DEFAULT_BUSY_TIMEOUT_MS,
    ROWS,
    is_corruption,
    read_errors,
    schema_version,
)
from trading_gate.audit.encoding import GENESIS_HASH, digest
from trading_gate.audit.errors import AuditUnavailable
from trading_gate.audit.report import ProblemKind, VerifyProblem, VerifyReport

__all__ = ["verify_audit"]


def verify_audit(db_path: Path, anchor_path: Path | None) -> VerifyReport:
    """Recompute the chain from genesis and check it against every anchor.

    The database is opened read-only (``mode=ro``, ``query_only``), safe beside a running
    gate. Without an anchor file a truncated tail or a rebuilt chain cannot be detected.

    Raises:
        AuditCorrupt: the file is not a database.
        AuditSchemaMismatch: its schema is not one this code knows.
        AuditUnavailable: it is missing or cannot be opened.
    """
    # Anchors first: each was written after its row committed, so every anchor read now
    # names a row that the snapshot taken below must contain.
    anchors, problems = ([], []) if anchor_path is None else read_anchors(anchor_path)
    if not db_path.is_file():
        raise AuditUnavailable(f"{db_path}: no such database file")
    walk = _ChainWalk(anchors, problems)
    with read_errors(db_path):
        conn = sqlite3.connect(
            f"{db_path.resolve().as_uri()}?mode=ro",
            uri=True,
            isolation_level=None,
            timeout=DEFAULT_BUSY_TIMEOUT_MS / 1000,
        )
    try:
        with read_errors(db_path):
            conn.execute("PRAGMA query_only = ON")
            schema_version(conn, db_path)
            _walk_database(conn, walk)
    finally:
        conn.close()
    return walk.report(len(anchors))


def _walk_database(conn: sqlite3.Connection, walk: _ChainWalk) -> None:
    # Damage SQLite notices becomes a finding, not a traceback; rows are still walked.
    try:
        check = [str(row[0]) for row in conn.execute("PRAGMA quick_check")]
        if check != ["ok"]:
            walk.problem(None, ProblemKind.CORRUPT_DATABASE, "quick_check: " + "; ".join(check[:5]))
        conn.execute("BEGIN")
        for row in conn.execute(f"{ROWS} ORDER BY seq"):
            walk.feed(row)
        conn.execute("COMMIT")
    except sqlite3.DatabaseError as exc:
        if not is_corruption(exc):
            raise
        where = f"after seq {walk.head_seq}" if walk.rows else "at the start"
        walk.problem(walk.head_seq + 1, ProblemKind.CORRUPT_DATABASE, f"reading {where}: {exc}")
    walk.finish()


_Row = tuple[int, int, int, bytes, bytes, bytes, bytes]


def _typed_row(raw: tuple[object, ...]) -> _Row | None:
    numbers, texts = raw[:3], raw[3:]
    if all(type(n) is int for n in numbers) and all(type(t) is bytes for t in texts):
        return cast(_Row, raw)
    return None


def _short(value: bytes) -> str:
    return value[:16].decode("ascii", errors="backslashreplace")


class _ChainWalk:
    """The verifier's state while it reads rows in seq order."""

    def __init__(self, anchors: list[Anchor], problems: list[VerifyProblem]) -> None:
        self.problems = problems
        self.pending: dict[int, list[Anchor]] = {}
        for anchor in anchors:
            self.pending.setdefault(anchor.seq, []).append(anchor)
        self.rows = 0
        self.head_seq = 0
        self.head_hash = GENESIS_HASH.encode("ascii")
        self.prev: bytes | None = self.head_hash
        self.last_good_anchor = 0
        self._check_anchors(0, self.head_hash)

    def problem(self, seq: int | None, kind: ProblemKind, message: str) -> None:
        self.problems.append(VerifyProblem(seq, kind, message))

    def feed(self, raw: tuple[object, ...]) -> None:
        row = _typed_row(raw)
        if row is None:
            # Only a table rebuilt without STRICT can hold these; skip the row, keep walking.
            self.rows += 1
            where = raw[0] if isinstance(raw[0], int) else None
            self.problem(where, ProblemKind.MALFORMED, f"row {raw[0]!r} has a mistyped column")
            self.head_seq = where if where is not None else self.head_seq
            self.prev = None
            return
        seq, wall, mono, event_type, payload, prev_hash, stored = row
        self._check_position(seq, prev_hash)
        if digest(seq, wall, mono, event_type, prev_hash, payload) != stored:
            message = f"content altered: stored hash {_short(stored)}… does not match the row"
            self.problem(seq, ProblemKind.HASH_MISMATCH, message)
        self._check_anchors(seq, stored)
        self.rows += 1
        self.head_seq, self.head_hash, self.prev = seq, stored, stored

    def _check_position(self, seq: int, prev_hash: bytes) -> None:
        expected = self.head_seq + 1
        if seq > expected:
            message = (
                f"rows {expected}..{seq - 1} missing (deleted): seq {seq} follows {expected - 1}"
            )
            self.problem(expected, ProblemKind.GAP, message)
        elif seq < expected:
            self.problem(seq, ProblemKind.MALFORMED, f"seq {seq} where {expected} was expected")
        elif self.prev is not None and prev_hash != self.prev:
            message = (
                f"prev_hash {_short(prev_hash)}… is not the hash of seq {seq - 1}"
                f" ({_short(self.prev)}…): rows reordered, inserted or replaced"
            )
            self.problem(seq, ProblemKind.BROKEN_LINK, message)

    def _check_anchors(self, seq: int, stored: bytes) -> None:
        for anchor in self.pending.pop(seq, []):
            if anchor.hash.encode("ascii") == stored:
                self.last_good_anchor = seq
                continue
            message = (
                f"chain hash at seq {seq} is {_short(stored)}… but the anchor says"
                f" {anchor.hash[:16]}…: rows {self.last_good_anchor + 1}..{seq} were rewritten"
            )
            self.problem(seq, ProblemKind.ANCHOR_MISMATCH, message)

    def finish(self) -> None:
        # Anchors still pending name rows the walk never reached: cut off, or in a gap.
        beyond = [a for seq, group in self.pending.items() if seq > self.head_seq for a in group]
        if beyond:
            last = max(beyond, key=lambda anchor: anchor.seq)
            message = (
                f"chain ends at seq {self.head_seq} but anchor at seq {last.seq} says it"
                f" reached hash {last.hash}: the tail was cut"
            )
            self.problem(self.head_seq + 1, ProblemKind.TRUNCATED, message)
        for seq in sorted(s for s in self.pending if s <= self.head_seq):
            self.problem(
                seq, ProblemKind.ANCHOR_MISMATCH, f"anchor at seq {seq} names a missing row"
            )
        self.pending.clear()

    def report(self, anchors_checked: int) -> VerifyReport:
        # Findings without a seq (the anchor file, quick_check) sort after the rows.
        ordered = sorted(self.problems, key=lambda p: (p.seq is None, p.seq or 0))
        return VerifyReport(
            rows_checked=self.rows,
            head_seq=self.head_seq,
            head_hash=self.head_hash.decode("ascii", errors="backslashreplace"),
            anchors_checked=anchors_checked,
            problems=tuple(ordered),
        )
