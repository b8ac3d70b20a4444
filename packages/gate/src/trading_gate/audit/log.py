"""The writer: `AuditLog` over a connection from `open_audit_db`, and the
`AuditTransaction` it yields so a journal row and its audit row commit together."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Final

import msgspec

from trading_gate.audit.anchors import Anchor, append_durably, write_anchor
from trading_gate.audit.database import INSERT, query_head, read_errors, write_errors
from trading_gate.audit.errors import AuditCorrupt, AuditWriteFailed
from trading_gate.audit.records import AuditHead, AuditRecord, next_record
from trading_gate.errors import GateBug

__all__ = ["DEFAULT_ANCHOR_EVERY", "AuditLog", "AuditTransaction"]

DEFAULT_ANCHOR_EVERY: Final = 100


class AuditTransaction:
    """Writes inside one `AuditLog.transaction`; nothing is durable until the block exits.

    Any failed statement dooms the transaction: even if the caller catches the
    `AuditWriteFailed`, the block's exit rolls back and raises again.
    """

    def __init__(self, conn: sqlite3.Connection, head: AuditHead) -> None:
        self._conn = conn
        self._head = head
        self._active = True
        self._failure: AuditWriteFailed | None = None
        self._last_ts_wall_ns: int | None = None

    @property
    def head(self) -> AuditHead:
        """The head including this transaction's uncommitted rows."""
        return self._head

    def append(
        self, event_type: str, payload: Mapping[str, object], *, ts_wall_ns: int, ts_mono_ns: int
    ) -> AuditRecord:
        """Add the next row; it commits with the transaction.

        Raises:
            InvalidAuditInput: see `canonical_json`; also a bad event type or time.
            AuditWriteFailed: the insert failed.
        """
        self._require_active()
        record = next_record(self._head, event_type, payload, ts_wall_ns, ts_mono_ns)
        with self._guarded(f"append audit row seq {record.seq}"):
            self._conn.execute(INSERT, msgspec.structs.astuple(record))
        self._head = AuditHead(record.seq, record.hash)
        self._last_ts_wall_ns = ts_wall_ns
        return record

    def execute(
        self, sql: str, params: Sequence[object] | Mapping[str, object] = ()
    ) -> sqlite3.Cursor:
        """Run one of the caller's own statements (a journal row) in this transaction.

        Raises:
            AuditWriteFailed: the statement failed; the transaction will not commit.
        """
        self._require_active()
        with self._guarded("write in the audit transaction"):
            return self._conn.execute(sql, params)

    @contextmanager
    def _guarded(self, what: str) -> Iterator[None]:
        try:
            with write_errors(what):
                yield
        except AuditWriteFailed as exc:
            self._failure = exc
            raise

    def _require_active(self) -> None:
        if not self._active:
            raise GateBug("this audit transaction has ended")
        if self._failure is not None:
            raise AuditWriteFailed("an earlier write in this transaction failed") from self._failure


class AuditLog:
    """The gate's append-only, hash-chained log over a connection from `open_audit_db`.

    Holds the head in memory; anchors it every ``anchor_every`` committed rows and on
    `close`. The connection stays the caller's to close.
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        *,
        anchor_path: Path,
        anchor_every: int = DEFAULT_ANCHOR_EVERY,
    ) -> None:
        """Load the head from the last row and make sure the anchor file exists.

        Raises:
            AuditCorrupt: the last row fails its hash.
            AuditUnavailable: the table cannot be read.
            AuditWriteFailed: the anchor file cannot be created.
        """
        if conn.isolation_level is not None:
            raise ValueError("the connection must come from open_audit_db (isolation_level=None)")
        if isinstance(anchor_every, bool) or not isinstance(anchor_every, int) or anchor_every < 1:
            raise ValueError("anchor_every must be a positive int")
        self._conn = conn
        self._anchor_path = anchor_path
        self._anchor_every = anchor_every
        with read_errors("audit database"):
            self._head = query_head(conn)
        self._anchored_seq = self._head.seq
        self._closed = False
        self._broken: str | None = None
        # An existing, empty anchor file says "never anchored"; a missing one fails verify.
        with write_errors(f"create anchor file {anchor_path}"):
            append_durably(anchor_path, b"")

    @property
    def head(self) -> AuditHead:
        """The last committed row's seq and hash."""
        return self._head

    def append(
        self, event_type: str, payload: Mapping[str, object], *, ts_wall_ns: int, ts_mono_ns: int
    ) -> AuditRecord:
        """Append one row in its own transaction and commit it durably.

        Raises:
            InvalidAuditInput: see `canonical_json`; also a bad event type or time.
            AuditWriteFailed: the row is not committed (or, if raised by the anchor after the
                commit, the row is durable but not anchored). Halt either way.
        """
        with self.transaction() as txn:
            return txn.append(event_type, payload, ts_wall_ns=ts_wall_ns, ts_mono_ns=ts_mono_ns)

    @contextmanager
    def transaction(self) -> Iterator[AuditTransaction]:
        """``BEGIN IMMEDIATE``, yield a writer, and ``COMMIT`` once when the block exits.

        The order journal writes its own row with `AuditTransaction.execute` and its audit
        row with `AuditTransaction.append`: both commit, or neither. The head moves only
        after the commit.

        Raises:
            AuditWriteFailed: begin, a statement or the commit failed; all rolled back.
            GateBug: the log is closed, or a transaction is already open.
        """
        self._require_usable()
        txn = AuditTransaction(self._conn, self._head)
        committed = False
        try:
            with write_errors("begin an audit transaction"):
                self._conn.execute("BEGIN IMMEDIATE")
            yield txn
            txn._active = False
            if txn._failure is not None:
                raise AuditWriteFailed("not committed: a write in it failed") from txn._failure
            with write_errors(f"commit audit rows up to seq {txn.head.seq}"):
                self._conn.execute("COMMIT")
            committed = True
        finally:
            txn._active = False
            if not committed:
                self._abandon()
        self._head = txn.head
        if txn._last_ts_wall_ns is not None and (
            self._head.seq - self._anchored_seq >= self._anchor_every
        ):
            self._anchor(txn._last_ts_wall_ns)

    def anchor_now(self, *, ts_wall_ns: int) -> Anchor:
        """Append the current head to the anchor file now.

        Raises:
            AuditWriteFailed: the anchor line could not be written and synced.
        """
        self._require_usable()
        return self._anchor(ts_wall_ns)

    def close(self, *, ts_wall_ns: int) -> None:
        """Anchor any rows not yet anchored, then refuse further writes.

        Raises:
            AuditWriteFailed: the final anchor could not be written (the log closes anyway).
        """
        if self._closed:
            return
        self._closed = True
        if self._broken is None and self._head.seq > self._anchored_seq:
            self._anchor(ts_wall_ns)

    def _anchor(self, ts_wall_ns: int) -> Anchor:
        head = self._head
        write_anchor(self._anchor_path, head.seq, head.hash, ts_wall_ns)
        self._anchored_seq = head.seq
        return Anchor(head.seq, head.hash, ts_wall_ns)

    def _abandon(self) -> None:
        # Resync from the file rather than trust memory: after an I/O error on COMMIT,
        # SQLite may or may not have kept the transaction.
        try:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            self._head = query_head(self._conn)
        except (sqlite3.Error, AuditCorrupt) as exc:
            self._broken = f"rollback after a failed write failed ({exc})"

    def _require_usable(self) -> None:
        if self._closed:
            raise GateBug("the audit log is closed")
        if self._broken is not None:
            raise AuditWriteFailed(f"audit log unusable: {self._broken}; reopen the database")
        if self._conn.in_transaction:
            raise GateBug("a transaction is already open on the audit connection")
