"""agent.db: every engine event, appended in order, never updated.

One table, `events(seq, ts_ns, kind, body)`: `seq` is the order of appending, `ts_ns`
the time on the injected clock the event happened, `body` canonical JSON (sorted keys,
Decimals as strings: exact, and byte-identical for the same events). Views for the
console and the learning loops are queries over it (`read.py`).

Writes are batched: `append` buffers and `flush` commits the buffer in one transaction
(the engine flushes at least once per candle in live mode). WAL, synchronous=NORMAL:
the gate's journal is the durable record of orders and fills, and this log can be
rebuilt from the engine's inputs; losing its last few events in a power cut is the
trade for not paying an fsync per event.
"""

import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Final

import msgspec

from trading_agent.domain.events import EngineEvent

__all__ = ["SCHEMA_VERSION", "EventStore", "StoreError"]

SCHEMA_VERSION: Final = 1

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS events (
    seq   INTEGER PRIMARY KEY,
    ts_ns INTEGER NOT NULL,
    kind  TEXT    NOT NULL,
    body  TEXT    NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS events_kind ON events (kind, seq);
CREATE TRIGGER IF NOT EXISTS events_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_append_only_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
"""

_encoder: Final = msgspec.json.Encoder(order="sorted", decimal_format="string")


class StoreError(Exception):
    """agent.db cannot be opened or written; the message names the file."""


class EventStore:
    """The writer of one agent.db. Not thread-safe: one engine, one store."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._conn = sqlite3.connect(path, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = NORMAL")
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, SCHEMA_VERSION):
                raise StoreError(f"{path}: schema version {version}, this code knows 1")
            self._conn.executescript(_SCHEMA)
            self._conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION:d}")
        except sqlite3.Error as exc:
            raise StoreError(f"{path}: cannot open the agent store: {exc}") from exc
        self._buffer: list[tuple[int, str, str]] = []

    def append(self, events: Iterable[EngineEvent]) -> None:
        """Buffer events; they reach the file at the next `flush`. A struct body is
        written as its builtins would be: its fields as keys, sorted like a dict's."""
        self._buffer.extend(
            (e.ts_ns, e.kind, _encoder.encode(e.body).decode("utf-8")) for e in events
        )

    def flush(self) -> int:
        """Commit the buffered events in one transaction; how many were written.

        Raises:
            StoreError: the write failed; the buffer is kept for the next try.
        """
        if not self._buffer:
            return 0
        try:
            with self._conn:
                self._conn.execute("BEGIN")
                self._conn.executemany(
                    "INSERT INTO events (ts_ns, kind, body) VALUES (?, ?, ?)", self._buffer
                )
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot write events: {exc}") from exc
        written, self._buffer = len(self._buffer), []
        return written

    def close(self) -> None:
        self.flush()
        self._conn.close()
