"""Backtest-only commit batching for `AuditLog(deferred_commit=True)`.

A backtest writes tens of thousands of audit rows and journal rows, and a commit per
transaction (one WAL write each) costs more than the rows. Here every transaction of
the log joins one long SQLite transaction that commits once per `anchors_per_commit`
anchors, at `flush` and at `close`. Nothing about the rows changes: the same statements
run in the same order, so gate.db ends byte-for-byte the same, and the anchor lines are
the same lines, written only after the rows they vouch for have committed.

A transaction still lands whole or not at all without a savepoint per transaction
(each costs two statements): the statements of every finished transaction since the
last commit are kept, and undoing a failed one rolls the long transaction back and runs
them again. A backtest that dies loses its uncommitted tail; it is rerun anyway. The
live gate never uses this: its rows are durable before it acts on them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

from trading_gate.audit.anchors import Anchor, write_anchor

__all__ = ["ANCHORS_PER_COMMIT", "DeferredBatch", "Params", "Statement"]

# 20 anchors of 100 rows: a commit every ~2,000 rows, whose statements are kept in memory.
ANCHORS_PER_COMMIT: Final = 20

Params = Sequence[object] | Mapping[str, object]
Statement = tuple[str, Params]


class DeferredBatch:
    """The long transaction, the statements it holds and the anchors waiting on it."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        anchor_path: Path,
        *,
        fsync_anchors: bool,
        anchors_per_commit: int = ANCHORS_PER_COMMIT,
    ) -> None:
        if anchors_per_commit < 1:
            raise ValueError("anchors_per_commit must be positive")
        self._conn = conn
        self._anchor_path = anchor_path
        self._fsync = fsync_anchors
        self._anchors_per_commit = anchors_per_commit
        self._open = False
        # Statements of the transaction in progress, and of the finished ones not committed.
        self.block: list[Statement] = []
        self._done: list[Statement] = []
        self._anchors: list[Anchor] = []

    @property
    def open(self) -> bool:
        """The long transaction is open (it holds rows or is about to)."""
        return self._open

    @property
    def pending(self) -> bool:
        """Something waits for a commit: rows, or anchor lines."""
        return self._open or bool(self._anchors)

    def begin(self) -> None:
        """Start a log transaction: open the long transaction if it is not.

        Raises:
            sqlite3.Error: ``BEGIN`` failed.
        """
        if not self._open:
            self._conn.execute("BEGIN IMMEDIATE")
            self._open = True

    def release(self) -> None:
        """The log transaction in progress finished: its statements join the batch."""
        self._done.extend(self.block)
        self.block.clear()

    def undo_block(self) -> None:
        """Drop the log transaction in progress and keep the finished ones.

        SQLite may already have rolled everything back itself (a full disk, an I/O
        error); either way the long transaction restarts with the kept statements.

        Raises:
            sqlite3.Error, OSError: the rollback or a replayed statement failed.
        """
        self.block.clear()
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")
        self._open = False
        if self._done:
            self._conn.execute("BEGIN IMMEDIATE")
            self._open = True
            for sql, params in self._done:
                self._conn.execute(sql, params)

    def anchor(self, anchor: Anchor) -> None:
        """Queue an anchor line; every `anchors_per_commit` of them, commit and write.

        Raises:
            sqlite3.Error: the commit failed (see `commit`).
            OSError, InvalidAuditInput: an anchor line could not be written.
        """
        self._anchors.append(anchor)
        if len(self._anchors) >= self._anchors_per_commit:
            self.commit()

    def commit(self) -> None:
        """Commit the batch, then write the anchors queued for it, in order.

        Raises:
            sqlite3.Error: the commit failed; the batch and its anchors are discarded.
            OSError, InvalidAuditInput: an anchor line could not be written (the rows
                are committed; the unwritten lines are dropped).
        """
        if self._open:
            try:
                self._conn.execute("COMMIT")
            except sqlite3.Error:
                self.discard()
                raise
            self._open = False
            self._done.clear()
        anchors, self._anchors = self._anchors, []
        for a in anchors:
            write_anchor(self._anchor_path, a.seq, a.hash, a.ts_wall_ns, fsync=self._fsync)

    def discard(self) -> None:
        """Give up everything not committed: rows, kept statements and queued anchors.

        Raises:
            sqlite3.Error: the rollback failed.
        """
        self.block.clear()
        self._done.clear()
        self._anchors.clear()
        self._open = False
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")
