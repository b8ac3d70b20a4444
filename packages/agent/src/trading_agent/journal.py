"""The daily journal's shell: read agent.db read-only, write journal/YYYY-MM-DD.md.

The page itself is `trading_agent.domain.journal_page` (pure). This module only opens
the database without the right to write it, hands the day's events to the renderer,
and replaces the page file atomically, so a reader never sees half a page and a rerun
over the same events writes the same bytes. The equity plot is drawn by the console
(`te journal`): matplotlib is the console's dependency, not the agent's.
"""

import datetime as dt
import os
import sqlite3
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import msgspec

from trading_agent.domain.journal_page import (
    JournalPage,
    ProposalDecision,
    ProposalsDay,
    StoredEvent,
    build_page,
    day_bounds_ns,
    render_markdown,
)

__all__ = [
    "AGENT_DB",
    "JournalError",
    "journal_path",
    "load_page",
    "read_events",
    "read_proposals",
    "write_journal",
    "write_page",
]

AGENT_DB: Final = "agent.db"
LEDGER: Final = "decisions.jsonl"
PROPOSED: Final = "proposed"
_MAX_LEDGER_BYTES: Final = 16 * 1024 * 1024
_ledger_line: Final = msgspec.json.Decoder(ProposalDecision)
_BUSY_TIMEOUT_S: Final = 5.0


class JournalError(Exception):
    """agent.db cannot be read, or the page cannot be written; the message names the file."""


def read_events(
    db_path: Path,
    *,
    start_ns: int | None = None,
    end_ns: int | None = None,
    kinds: Sequence[str] | None = None,
) -> tuple[StoredEvent, ...]:
    """Events with start_ns <= ts_ns < end_ns (either bound optional) of the given kinds,
    in seq order. The file is opened read-only (``mode=ro``, ``query_only``), so this is
    safe beside a running agent and can never change the log.

    Raises:
        JournalError: the file is missing or is not an agent store.
    """
    if not db_path.is_file():
        raise JournalError(f"{db_path}: no agent store here (has the agent run?)")
    where, params = _filters(start_ns, end_ns, kinds)
    sql = f"SELECT seq, ts_ns, kind, body FROM events{where} ORDER BY seq"  # noqa: S608 - placeholders only
    try:
        conn = sqlite3.connect(
            f"{db_path.resolve().as_uri()}?mode=ro", uri=True, timeout=_BUSY_TIMEOUT_S
        )
        try:
            conn.execute("PRAGMA query_only = ON")
            rows = conn.execute(sql, params).fetchall()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise JournalError(f"{db_path}: cannot read the agent's events: {exc}") from exc
    return tuple(StoredEvent(seq=s, ts_ns=t, kind=k, body=b) for s, t, k, b in rows)


def _filters(
    start_ns: int | None, end_ns: int | None, kinds: Sequence[str] | None
) -> tuple[str, list[object]]:
    clauses: list[str] = []
    params: list[object] = []
    if start_ns is not None:
        clauses.append("ts_ns >= ?")
        params.append(start_ns)
    if end_ns is not None:
        clauses.append("ts_ns < ?")
        params.append(end_ns)
    if kinds is not None:
        clauses.append(f"kind IN ({', '.join('?' for _ in kinds)})" if kinds else "0")
        params.extend(kinds)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def load_page(data_dir: Path, day: dt.date) -> JournalPage:
    """The journal page of `day` (UTC) from `data_dir`/agent.db.

    Raises:
        JournalError: agent.db is missing or unreadable.
    """
    start, end = day_bounds_ns(day)
    return build_page(day, read_events(data_dir / AGENT_DB, start_ns=start, end_ns=end))


def read_proposals(rules_dir: Path, day: dt.date) -> ProposalsDay:
    """The day's lines of `rules_dir`/decisions.jsonl and the proposals still waiting in
    `rules_dir`/proposed/, read only. A line that is not a ledger entry is an error
    (the ledger is append-only and written by `te` alone).

    Raises:
        JournalError: the ledger is unreadable, too large, or holds a bad line.
    """
    ledger = rules_dir / LEDGER
    decisions: list[ProposalDecision] = []
    if ledger.exists():
        try:
            if ledger.stat().st_size > _MAX_LEDGER_BYTES:
                raise JournalError(f"{ledger}: larger than {_MAX_LEDGER_BYTES} bytes")
            lines = ledger.read_bytes().splitlines()
        except OSError as exc:
            raise JournalError(f"{ledger}: cannot be read: {exc}") from exc
        prefix = day.isoformat()
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                entry = _ledger_line.decode(line)
            except msgspec.DecodeError as exc:
                raise JournalError(f"{ledger}:{number}: not a ledger entry ({exc})") from None
            if entry.ts.startswith(prefix):
                decisions.append(entry)
    pending = sorted(p.stem for p in (rules_dir / PROPOSED).glob("*.rule"))
    return ProposalsDay(decisions=tuple(decisions), pending=tuple(pending))


def journal_path(journal_dir: Path, day: dt.date) -> Path:
    return journal_dir / f"{day.isoformat()}.md"


def write_page(
    journal_dir: Path,
    page: JournalPage,
    *,
    plot_file: str | None = None,
    proposals: ProposalsDay | None = None,
) -> Path:
    """Write the page to `journal_dir`/YYYY-MM-DD.md (replacing it atomically).

    Raises:
        JournalError: the directory or the file cannot be written.
    """
    target = journal_path(journal_dir, page.day)
    text = render_markdown(page, plot_file=plot_file, proposals=proposals)
    try:
        journal_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=journal_dir, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
                out.write(text)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise JournalError(f"{target}: cannot write the journal page: {exc}") from exc
    return target


def write_journal(
    data_dir: Path,
    journal_dir: Path,
    day: dt.date,
    *,
    plot_file: str | None = None,
    rules_dir: Path | None = None,
) -> Path:
    """Read `day` from `data_dir`/agent.db (and, given `rules_dir`, its proposal
    decisions) and write its page; the page's path.

    Raises:
        JournalError: agent.db or the ledger is missing or unreadable, or the page cannot
            be written.
    """
    proposals = read_proposals(rules_dir, day) if rules_dir is not None else None
    page = load_page(data_dir, day)
    return write_page(journal_dir, page, plot_file=plot_file, proposals=proposals)
