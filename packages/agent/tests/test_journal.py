"""The journal's shell: agent.db read read-only, the page written atomically."""

import datetime as dt
import hashlib
import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from agent_stubs import journal_day_events
from trading_agent.journal import JournalError, read_events, read_proposals, write_journal
from trading_agent.store.event_store import EventStore

DAY = dt.date(2023, 11, 15)
START_NS = int(dt.datetime(2023, 11, 15, tzinfo=dt.UTC).timestamp()) * 1_000_000_000


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data directory whose agent.db the real store wrote: a busy day and two strays."""
    data = tmp_path / "data"
    data.mkdir()
    store = EventStore(data / "agent.db")
    store.append(journal_day_events(START_NS))
    store.close()
    return data


def _sql(db: Path, query: str, *args: object) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(query, args).fetchall()
    finally:
        conn.close()


def test_write_journal_when_day_has_trades_then_page_holds_the_databases_sum(
    data_dir: Path, tmp_path: Path
) -> None:
    """The page's realized net P&L is the sum SQLite finds for that day's trades."""
    end = START_NS + 86_400 * 1_000_000_000
    bodies = _sql(
        data_dir / "agent.db",
        "SELECT json_extract(body, '$.net_pnl_usd') FROM events"
        " WHERE kind = 'trade_closed' AND ts_ns >= ? AND ts_ns < ?",
        START_NS,
        end,
    )
    expected = sum((Decimal(str(b[0])) for b in bodies), Decimal(0))
    page = write_journal(data_dir, tmp_path / "journal", DAY)
    assert page == tmp_path / "journal" / "2023-11-15.md"
    assert f"| realized net P&L (USD) | {expected:+.2f} |" in page.read_text()
    assert f"| trades closed | {len(bodies)} |" in page.read_text()


def test_write_journal_when_run_then_agent_db_is_unchanged_and_no_temp_file_is_left(
    data_dir: Path, tmp_path: Path
) -> None:
    """Reading never writes the log; a rerun writes the same bytes and leaves no temp file."""
    db = data_dir / "agent.db"
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    first = write_journal(data_dir, tmp_path / "journal", DAY).read_bytes()
    second = write_journal(data_dir, tmp_path / "journal", DAY).read_bytes()
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    assert first == second
    assert [p.name for p in (tmp_path / "journal").iterdir()] == ["2023-11-15.md"]


def test_read_events_when_bounded_and_filtered_then_the_rows_sql_selects(data_dir: Path) -> None:
    """Bounds are [start, end) and kinds an allow-list, in seq order, as a plain query says."""
    db = data_dir / "agent.db"
    end = START_NS + 3 * 3600 * 1_000_000_000
    expected = _sql(
        db,
        "SELECT seq, ts_ns FROM events WHERE ts_ns >= ? AND ts_ns < ?"
        " AND kind IN ('fill', 'signal') ORDER BY seq",
        START_NS,
        end,
    )
    got = read_events(db, start_ns=START_NS, end_ns=end, kinds=("fill", "signal"))
    assert [(e.seq, e.ts_ns) for e in got] == expected
    assert len(expected) == 4
    assert read_events(db, kinds=()) == ()


def test_read_events_when_no_database_then_error_names_the_file(tmp_path: Path) -> None:
    """A missing agent.db is a JournalError naming the path, and nothing is created."""
    with pytest.raises(JournalError, match=r"agent\.db: no agent store"):
        read_events(tmp_path / "agent.db")
    assert not (tmp_path / "agent.db").exists()


def test_read_events_when_file_is_not_a_database_then_error_names_the_file(
    tmp_path: Path,
) -> None:
    """A file that is not SQLite is refused with its name, not a traceback."""
    junk = tmp_path / "agent.db"
    junk.write_text("not a database, just text that is long enough to have a header\n" * 10)
    with pytest.raises(JournalError, match="cannot read the agent's events"):
        read_events(junk)


def _ledger(rules: Path, *entries: dict[str, str]) -> None:
    rules.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(e, sort_keys=True) for e in entries]
    (rules / "decisions.jsonl").write_text("\n".join(lines) + "\n")


def _decision(ts: str, proposal: str, decision: str) -> dict[str, str]:
    return {"ts": ts, "id": proposal, "decision": decision, "tier": "active",
            "operator": "alice", "reason": "looked fine", "sha256": "0" * 64,
            "file": f"active/{proposal}.rule"}  # fmt: skip


def test_write_journal_when_rules_given_then_the_days_decisions_and_waiting_proposals(
    data_dir: Path, tmp_path: Path
) -> None:
    """Only the day's ledger lines are listed, with who and why; waiting ones are named."""
    rules = tmp_path / "rules"
    _ledger(
        rules,
        _decision("2023-11-14T23:59:59+00:00", "yesterday", "approved"),
        _decision("2023-11-15T09:30:00+00:00", "eth_cap", "approved"),
        _decision("2023-11-15T17:05:12+00:00", "no_sells", "rejected"),
    )
    (rules / "proposed").mkdir()
    (rules / "proposed" / "night_hours.rule").write_text("rule ...")
    page = write_journal(data_dir, tmp_path / "journal", DAY, rules_dir=rules).read_text()
    section = page.split("## Proposals", 1)[1]
    assert "| 09:30:00 | eth_cap | approved | active | alice | looked fine |" in section
    assert "| 17:05:12 | no_sells | rejected |" in section
    assert "yesterday" not in section
    assert "Waiting for a human: `night_hours`." in section


def test_write_journal_when_no_rules_dir_then_the_section_says_so(
    data_dir: Path, tmp_path: Path
) -> None:
    """Without the rule directory the page does not pretend there were no proposals."""
    page = write_journal(data_dir, tmp_path / "journal", DAY).read_text()
    assert "Not read: the journal was written without the rule directory." in page


def test_read_proposals_when_a_ledger_line_is_broken_then_error_names_the_line(
    tmp_path: Path,
) -> None:
    """The ledger is written by te alone: a bad line is an error with its line number."""
    rules = tmp_path / "rules"
    _ledger(rules, _decision("2023-11-15T09:30:00+00:00", "eth_cap", "approved"))
    with (rules / "decisions.jsonl").open("a") as out:
        out.write('{"ts": 5}\n')
    with pytest.raises(JournalError, match=r"decisions.jsonl:2: not a ledger entry"):
        read_proposals(rules, DAY)
