"""gate.db itself: opening, pragmas, the schema and its migration, the head query, and
the one place each kind of ``sqlite3`` failure becomes an audit error."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from trading_gate.audit.encoding import GENESIS_HASH, digest
from trading_gate.audit.errors import (
    AuditCorrupt,
    AuditSchemaMismatch,
    AuditUnavailable,
    AuditWriteFailed,
)
from trading_gate.audit.records import AuditHead

__all__ = [
    "DEFAULT_BUSY_TIMEOUT_MS",
    "INSERT",
    "ROWS",
    "SCHEMA_VERSION",
    "is_corruption",
    "open_audit_db",
    "query_head",
    "read_errors",
    "schema_version",
    "write_errors",
]

SCHEMA_VERSION: Final = 1
DEFAULT_BUSY_TIMEOUT_MS: Final = 2000

_SQLITE_CORRUPT: Final = 11
_SQLITE_NOTADB: Final = 26


# ---------------------------------------------------------------- error translation


@contextmanager
def write_errors(what: str) -> Iterator[None]:
    """Turn a failed write into `AuditWriteFailed`, naming ``what`` was being done.

    Raises:
        AuditWriteFailed: the block raised ``sqlite3.Error`` or ``OSError``.
    """
    # The one place a failed write becomes the halt signal.
    try:
        yield
    except (sqlite3.Error, OSError) as exc:
        raise AuditWriteFailed(f"could not {what}: {exc}") from exc


@contextmanager
def read_errors(path: Path | str) -> Iterator[None]:
    """Turn a failed open or read of ``path`` into `AuditUnavailable` or `AuditCorrupt`.

    Raises:
        AuditCorrupt: the block raised a ``sqlite3.Error`` that reports damage.
        AuditUnavailable: the block raised any other ``sqlite3.Error``.
    """
    # The one place a failed open or read becomes AuditUnavailable (or AuditCorrupt).
    try:
        yield
    except sqlite3.Error as exc:
        kind = AuditCorrupt if is_corruption(exc) else AuditUnavailable
        raise kind(f"{path}: {exc}") from exc


def is_corruption(exc: sqlite3.Error) -> bool:
    """True when SQLite says the file is damaged or is not a database."""
    code: int = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    return code in (_SQLITE_CORRUPT, _SQLITE_NOTADB)


# ---------------------------------------------------------------- schema

_SCHEMA_V1: Final = (
    """CREATE TABLE audit (
        seq INTEGER PRIMARY KEY CHECK (seq >= 1),
        ts_wall_ns INTEGER NOT NULL,
        ts_mono_ns INTEGER NOT NULL,
        event_type TEXT NOT NULL,
        payload TEXT NOT NULL,
        prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
        hash TEXT NOT NULL CHECK (length(hash) = 64)
    ) STRICT""",
    # These catch the gate's own bugs; anyone with the file can drop them (hence anchors).
    """CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'audit rows are append-only: UPDATE refused'); END""",
    """CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'audit rows are append-only: DELETE refused'); END""",
)
INSERT: Final = (
    "INSERT INTO audit (seq, ts_wall_ns, ts_mono_ns, event_type, payload, prev_hash, hash)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)
# Text columns come back as stored bytes: a flipped byte may leave invalid UTF-8 behind.
ROWS: Final = (
    "SELECT seq, ts_wall_ns, ts_mono_ns, CAST(event_type AS BLOB), CAST(payload AS BLOB),"
    " CAST(prev_hash AS BLOB), CAST(hash AS BLOB) FROM audit"
)


# ---------------------------------------------------------------- opening


def open_audit_db(
    path: Path, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS, page_size: int | None = None
) -> sqlite3.Connection:
    """Open (creating if new) gate.db for writing: WAL, synchronous=FULL, checked, migrated.

    The connection has ``isolation_level=None``: transactions are explicit. The caller
    closes it. ``page_size`` (a power of two from 512 to 65536) applies to a new file
    only, and changes how rows are laid out in pages, never a row: a backtest writes
    thousands of 1-2 KB rows, and 16 KiB pages take fewer page splits per row than
    SQLite's default 4 KiB. An existing file keeps the page size it has.

    Raises:
        AuditCorrupt: the file is not a database or fails ``PRAGMA quick_check``.
        AuditSchemaMismatch: ``user_version`` is newer than this code, or tables are missing.
        AuditUnavailable: it cannot be opened, is locked, or refuses WAL mode.
    """
    if busy_timeout_ms <= 0:
        raise ValueError("busy_timeout_ms must be positive")
    if page_size is not None and (page_size not in _PAGE_SIZES or isinstance(page_size, bool)):
        raise ValueError(f"page_size {page_size!r} is not a power of two from 512 to 65536")
    with read_errors(path):
        conn = sqlite3.connect(path, timeout=busy_timeout_ms / 1000, isolation_level=None)
    opened = False
    try:
        with read_errors(path):
            if page_size is not None:
                # Before WAL mode and the first table: only then does SQLite take it.
                conn.execute(f"PRAGMA page_size = {page_size:d}")
            _configure(conn, path, busy_timeout_ms)
            _migrate(conn, path)
        opened = True
    finally:
        if not opened:
            conn.close()
    return conn


_PAGE_SIZES: Final = frozenset(2**n for n in range(9, 17))
_EXPECTED_PRAGMAS: Final = {"synchronous": 2, "foreign_keys": 1, "recursive_triggers": 1}


def _configure(conn: sqlite3.Connection, path: Path, busy_timeout_ms: int) -> None:
    conn.execute(f"PRAGMA busy_timeout = {busy_timeout_ms:d}")
    check = [row[0] for row in conn.execute("PRAGMA quick_check")]
    if check != ["ok"]:
        raise AuditCorrupt(f"{path}: quick_check failed: {'; '.join(map(str, check[:5]))}")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise AuditUnavailable(f"{path}: journal_mode is {mode}, not wal")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    # Without it, INSERT OR REPLACE deletes a row without firing the DELETE trigger.
    conn.execute("PRAGMA recursive_triggers = ON")
    settings = [conn.execute(f"PRAGMA {name}").fetchone()[0] for name in _EXPECTED_PRAGMAS]
    if settings != list(_EXPECTED_PRAGMAS.values()):
        raise AuditUnavailable(f"{path}: pragmas did not take: {settings}")


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = schema_version(conn, path)
        if version == 0:
            for statement in _SCHEMA_V1:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION:d}")
        conn.execute("COMMIT")
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")


# ---------------------------------------------------------------- queries


def schema_version(conn: sqlite3.Connection, path: Path | str) -> int:
    """The file's ``user_version``: 0 for a new file, else `SCHEMA_VERSION`.

    Raises:
        AuditSchemaMismatch: the version is newer than this code, or the table is missing.
    """
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise AuditSchemaMismatch(f"{path}: schema version {version} is newer than this code")
    has_table = conn.execute(
        "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'audit'"
    ).fetchone()
    if version == SCHEMA_VERSION and has_table is None:
        raise AuditSchemaMismatch(f"{path}: schema version {version} but no audit table")
    return version


def query_head(conn: sqlite3.Connection) -> AuditHead:
    """The last row's seq and hash, checked; `GENESIS_HASH` at seq 0 for an empty table.

    Raises:
        AuditCorrupt: the last row fails its hash.
    """
    row = conn.execute(f"{ROWS} ORDER BY seq DESC LIMIT 1").fetchone()
    if row is None:
        return AuditHead(0, GENESIS_HASH)
    seq, wall, mono, event_type, payload, prev_hash, stored = row
    if digest(seq, wall, mono, event_type, prev_hash, payload) != stored:
        raise AuditCorrupt(f"head row seq {seq} fails its hash; run `trading-gate audit verify`")
    return AuditHead(seq, stored.decode("ascii"))
