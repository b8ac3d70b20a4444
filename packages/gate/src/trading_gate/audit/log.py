"""The writer: `AuditLog` over a connection from `open_audit_db`, and the
`AuditTransaction` it yields so a journal row and its audit row commit together.

The live gate commits (and so makes durable) every transaction as it ends. A backtest
may ask for `deferred_commit`: each transaction is then a savepoint inside one long
SQLite transaction that commits only when an anchor is written, on `flush` and on
`close`, so a dead backtest loses its uncommitted tail (it is rerun anyway) but every
row written, its bytes and its order are the same.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Final

import msgspec

from trading_gate.audit.anchors import Anchor, append_durably, write_anchor
from trading_gate.audit.batch import DeferredBatch, Statement
from trading_gate.audit.database import INSERT, query_head, read_errors, write_errors
from trading_gate.audit.errors import AuditCorrupt, AuditWriteFailed
from trading_gate.audit.records import AuditHead, AuditRecord, next_record
from trading_gate.errors import GateBug

__all__ = ["DEFAULT_ANCHOR_EVERY", "AuditLog", "AuditTransaction"]

DEFAULT_ANCHOR_EVERY: Final = 100

_astuple: Final = msgspec.structs.astuple


class AuditTransaction:
    """Writes inside one `AuditLog.transaction`; nothing is durable until the block exits.

    Any failed statement dooms the transaction: even if the caller catches the
    `AuditWriteFailed`, the block's exit rolls back and raises again.
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        head: AuditHead,
        record: list[Statement] | None = None,
    ) -> None:
        self._conn = conn
        self._head = head
        # A deferred batch keeps every statement run, to replay them (see `batch`).
        self._record = record
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
        row = _astuple(record)
        try:
            self._conn.execute(INSERT, row)
        except (sqlite3.Error, OSError) as exc:
            raise self._failed(f"append audit row seq {record.seq}", exc) from exc
        if self._record is not None:
            self._record.append((INSERT, row))
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
        try:
            cursor = self._conn.execute(sql, params)
        except (sqlite3.Error, OSError) as exc:
            raise self._failed("write in the audit transaction", exc) from exc
        if self._record is not None:
            # A copy: the caller may reuse its list or dict before the replay.
            kept = dict(params) if isinstance(params, Mapping) else tuple(params)
            self._record.append((sql, kept))
        return cursor

    def _failed(self, what: str, exc: Exception) -> AuditWriteFailed:
        # The same error `write_errors` raises, and it dooms the transaction. Spelled out
        # rather than a context manager: this runs for every row the gate writes.
        failure = AuditWriteFailed(f"could not {what}: {exc}")
        failure.__cause__ = exc
        self._failure = failure
        return failure

    def _require_active(self) -> None:
        if not self._active:
            raise GateBug("this audit transaction has ended")
        if self._failure is not None:
            raise AuditWriteFailed("an earlier write in this transaction failed") from self._failure


class _Block:
    """`AuditLog.transaction` as a plain context manager: the same steps as a
    generator-based one, without the generator's cost on every journal write."""

    __slots__ = ("_log", "_txn")

    def __init__(self, log: AuditLog) -> None:
        self._log = log

    def __enter__(self) -> AuditTransaction:
        self._txn = self._log._begin()
        return self._txn

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._log._finish(self._txn, raised=kind is not None)


class AuditLog:
    """The gate's append-only, hash-chained log over a connection from `open_audit_db`.

    Holds the head in memory; anchors it every ``anchor_every`` committed rows and on
    `close`. The connection stays the caller's to close.

    Two options exist for backtests only; both are off for the live gate, whose every
    row is durable before the gate acts on it:

    - ``deferred_commit``: transactions join one long SQLite transaction, committed
      every few anchors, by `flush` and by `close` (see `trading_gate.audit.batch`).
      The same rows and anchor lines are written; a crash loses the uncommitted tail.
    - ``fsync_anchors=False``: anchor lines are appended but not fsynced.
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        *,
        anchor_path: Path,
        anchor_every: int = DEFAULT_ANCHOR_EVERY,
        deferred_commit: bool = False,
        fsync_anchors: bool = True,
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
        self._fsync = fsync_anchors
        self._batch = (
            DeferredBatch(conn, anchor_path, fsync_anchors=fsync_anchors)
            if deferred_commit
            else None
        )
        self._in_block = False
        with read_errors("audit database"):
            self._head = query_head(conn)
        self._anchored_seq = self._head.seq
        self._closed = False
        self._broken: str | None = None
        # An existing, empty anchor file says "never anchored"; a missing one fails verify.
        with write_errors(f"create anchor file {anchor_path}"):
            append_durably(anchor_path, b"", fsync=fsync_anchors)

    @property
    def head(self) -> AuditHead:
        """The last committed row's seq and hash (with ``deferred_commit``: the last row of
        the last finished transaction, committed or not)."""
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

    def transaction(self) -> _Block:
        """``BEGIN IMMEDIATE``, yield a writer, and ``COMMIT`` once when the block exits
        (with ``deferred_commit``, the commit waits; see the class docstring).

        The order journal writes its own row with `AuditTransaction.execute` and its audit
        row with `AuditTransaction.append`: both commit, or neither. The head moves only
        after the commit.

        Raises:
            AuditWriteFailed: begin, a statement or the commit failed; all rolled back.
            GateBug: the log is closed, or a transaction is already open.
        """
        return _Block(self)

    def _begin(self) -> AuditTransaction:
        # The block's entry: nothing is checked or begun before the ``with`` enters it.
        self._require_usable()
        batch = self._batch
        txn = AuditTransaction(self._conn, self._head, None if batch is None else batch.block)
        self._in_block = True
        try:
            if batch is None:
                self._conn.execute("BEGIN IMMEDIATE")
            else:
                batch.begin()
        except (sqlite3.Error, OSError) as exc:
            self._finish(txn, raised=True)
            raise AuditWriteFailed(f"could not begin an audit transaction: {exc}") from exc
        return txn

    def _finish(self, txn: AuditTransaction, *, raised: bool) -> None:
        # The block's exit: commit what it wrote unless it raised (then roll back and let
        # its exception through), and anchor when enough rows have committed.
        committed = False
        try:
            if not raised:
                txn._active = False
                if txn._failure is not None:
                    raise AuditWriteFailed("not committed: a write in it failed") from txn._failure
                self._end(txn.head.seq)
                committed = True
        finally:
            txn._active = False
            self._in_block = False
            if not committed:
                self._abandon()
        if raised:
            return
        self._head = txn.head
        if txn._last_ts_wall_ns is not None and (
            self._head.seq - self._anchored_seq >= self._anchor_every
        ):
            self._anchor(txn._last_ts_wall_ns)

    def flush(self) -> None:
        """Commit what a ``deferred_commit`` log holds, and write its anchors (else nothing).

        Raises:
            AuditWriteFailed: the commit failed (the uncommitted rows are gone and the head
                is the last committed row), or an anchor line could not be written.
        """
        self._require_usable()
        self._commit_batch()

    def anchor_now(self, *, ts_wall_ns: int) -> Anchor:
        """Append the current head to the anchor file now.

        Raises:
            AuditWriteFailed: the anchor line could not be written and synced.
        """
        self._require_usable()
        anchor = self._anchor(ts_wall_ns)
        self._commit_batch()
        return anchor

    def close(self, *, ts_wall_ns: int) -> None:
        """Anchor any rows not yet anchored, commit, then refuse further writes.

        Raises:
            AuditWriteFailed: the final commit or anchor failed (the log closes anyway).
        """
        if self._closed:
            return
        self._closed = True
        if self._broken is not None:
            return
        if self._head.seq > self._anchored_seq:
            self._anchor(ts_wall_ns)
        self._commit_batch()

    def _end(self, seq: int) -> None:
        if self._batch is not None:
            self._batch.release()
            return
        try:
            self._conn.execute("COMMIT")
        except (sqlite3.Error, OSError) as exc:
            raise AuditWriteFailed(f"could not commit audit rows up to seq {seq}: {exc}") from exc

    def _anchor(self, ts_wall_ns: int) -> Anchor:
        head = self._head
        anchor = Anchor(head.seq, head.hash, ts_wall_ns)
        if self._batch is None:
            write_anchor(self._anchor_path, head.seq, head.hash, ts_wall_ns, fsync=self._fsync)
        else:
            # Written after the commit of the rows it vouches for.
            self._guard_batch(self._batch.anchor, anchor)
        self._anchored_seq = head.seq
        return anchor

    def _commit_batch(self) -> None:
        if self._batch is not None and self._batch.pending:
            self._guard_batch(self._batch.commit)

    def _guard_batch(self, step: Callable[..., None], *args: Anchor) -> None:
        seq = self._head.seq
        try:
            step(*args)
        except sqlite3.Error as exc:
            # The batch was rolled back: back to the last committed row.
            self._resync()
            raise AuditWriteFailed(f"could not commit audit rows up to seq {seq}: {exc}") from exc

    def _resync(self) -> None:
        try:
            self._head = query_head(self._conn)
        except (sqlite3.Error, AuditCorrupt) as exc:
            self._broken = f"reading the head after a failed commit failed ({exc})"
            return
        self._anchored_seq = min(self._anchored_seq, self._head.seq)

    def _abandon(self) -> None:
        # Resync from the file rather than trust memory: after an I/O error on COMMIT,
        # SQLite may or may not have kept the transaction.
        try:
            if self._batch is not None:
                self._batch.undo_block()
            elif self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            self._head = query_head(self._conn)
        except (sqlite3.Error, OSError, AuditCorrupt) as exc:
            self._broken = f"rollback after a failed write failed ({exc})"

    def _require_usable(self) -> None:
        if self._closed:
            raise GateBug("the audit log is closed")
        if self._broken is not None:
            raise AuditWriteFailed(f"audit log unusable: {self._broken}; reopen the database")
        batch_open = self._batch is not None and self._batch.open
        if self._in_block or (self._conn.in_transaction and not batch_open):
            raise GateBug("a transaction is already open on the audit connection")
