"""`te journal`: the agent's page for a day, with the console's equity plot."""

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent_stubs import journal_day_events
from operator_stubs import RunTe, Sql
from rule_stubs import rule_text
from trading_agent.store.event_store import EventStore
from trading_console.cli import main
from trading_console.proposals import add_proposal, approve

DAY = "2023-11-15"
START_NS = int(dt.datetime(2023, 11, 15, tzinfo=dt.UTC).timestamp()) * 1_000_000_000
END_NS = START_NS + 86_400 * 1_000_000_000
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """An installation's data/ whose agent.db the real store wrote (a busy day)."""
    data = tmp_path / "data"
    data.mkdir()
    store = EventStore(data / "agent.db")
    store.append(journal_day_events(START_NS))
    store.close()
    return data


def _day_rows(sql: Sql, data: Path, select: str, kind: str) -> list[tuple[object, ...]]:
    return sql(
        data / "agent.db",
        f"SELECT {select} FROM events WHERE kind = ? AND ts_ns >= ? AND ts_ns < ?",  # noqa: S608
        kind,
        START_NS,
        END_NS,
    )


def test_journal_when_day_has_events_then_page_and_plot_match_the_database(
    te: RunTe, data_dir: Path, sql: Sql
) -> None:
    """The page's P&L, rejection counts, halts and failures are what SQL finds in agent.db
    for that day; the PNG exists and the page links it."""
    done = te("journal", "--data", data_dir, "--day", DAY)
    assert done.returncode == 0, done.stderr
    journal = data_dir.parent / "journal"
    page = (journal / f"{DAY}.md").read_text()
    assert (journal / f"{DAY}-equity.png").read_bytes().startswith(PNG_MAGIC)
    assert f"![equity]({DAY}-equity.png)" in page

    nets = _day_rows(sql, data_dir, "json_extract(body, '$.net_pnl_usd')", "trade_closed")
    net = sum((Decimal(str(r[0])) for r in nets), Decimal(0))
    assert f"| realized net P&L (USD) | {net:+.2f} |" in page
    assert f"| trades closed | {len(nets)} |" in page

    codes = _day_rows(sql, data_dir, "json_extract(body, '$.verdict.code')", "rejected")
    for code in {c[0] for c in codes}:
        count = sum(1 for c in codes if c[0] == code)
        assert re.search(rf"^\| {code} \| {count} \| ", page, re.M), code

    states = _day_rows(sql, data_dir, "json_extract(body, '$.state')", "gate_state")
    halts = sum(1 for s in states if s[0] == "halted")
    assert f"| gate halts | {halts} |" in page
    failures = _day_rows(sql, data_dir, "json_extract(body, '$.intent_id')", "request_failed")
    assert f"| requests unanswered | {len(failures)} |" in page
    for (intent,) in failures:
        assert f"| {intent} |" in page
    assert "## Loop findings\n\nnone yet" in page
    assert "## Proposals\n\nnone yet" in page


def test_journal_when_run_twice_then_identical_page_and_plot(data_dir: Path) -> None:
    """Same database, same day: byte-identical markdown and PNG (in process, to pay for
    importing matplotlib once)."""
    journal = data_dir.parent / "journal"
    runs = []
    for _ in range(2):
        result = CliRunner().invoke(main, ["journal", "--data", str(data_dir), "--day", DAY])
        assert result.exit_code == 0, result.output
        runs.append([(journal / n).read_bytes() for n in (f"{DAY}.md", f"{DAY}-equity.png")])
    assert runs[0] == runs[1]


def test_journal_when_no_plot_then_markdown_only_naming_the_command(
    te: RunTe, data_dir: Path, tmp_path: Path
) -> None:
    """--no-plot (and --journal elsewhere): only the page, which says how to draw the plot."""
    done = te("journal", "--data", data_dir, "--day", DAY, "--journal", tmp_path / "j", "--no-plot")
    assert done.returncode == 0, done.stderr
    assert [p.name for p in (tmp_path / "j").iterdir()] == [f"{DAY}.md"]
    assert f"`te journal --day {DAY}` draws it" in (tmp_path / "j" / f"{DAY}.md").read_text()


def test_journal_when_day_is_malformed_then_usage_error(te: RunTe, data_dir: Path) -> None:
    """A day that is not YYYY-MM-DD is refused with exit 2."""
    done = te("journal", "--data", data_dir, "--day", "15/11/2023")
    assert done.returncode == 2
    assert "--day" in done.stderr


def test_journal_when_no_agent_db_then_exit_1_naming_the_file(te: RunTe, tmp_path: Path) -> None:
    """No agent.db: a one-line error naming the path; no page is written."""
    (tmp_path / "data").mkdir()
    done = te("journal", "--data", tmp_path / "data", "--day", DAY)
    assert done.returncode == 1
    assert f"{tmp_path / 'data' / 'agent.db'}: no agent store here" in done.stderr
    assert not (tmp_path / "journal").exists()


def test_journal_when_a_proposal_was_decided_that_day_then_the_page_lists_it(
    te: RunTe, data_dir: Path, tmp_path: Path
) -> None:
    """A proposal approved through the proposals module on that day is on the page, with
    who approved it and why; one still waiting is named."""
    rules = data_dir.parent / "config" / "rules"
    for name, when in (("eth_cap", "order.size_base > 1"), ("night", "time.hour < 6")):
        source = tmp_path / f"{name}.rule"
        source.write_text(rule_text(name, when))
        add_proposal(rules, source)
    noon = dt.datetime(2023, 11, 15, 12, 0, 1, tzinfo=dt.UTC)
    approve(rules, "eth_cap", operator="alice", reason="caps a runaway", now=noon, to="shadow")
    done = te("journal", "--data", data_dir, "--day", DAY, "--no-plot")
    assert done.returncode == 0, done.stderr
    section = (data_dir.parent / "journal" / f"{DAY}.md").read_text().split("## Proposals")[1]
    assert "| 12:00:01 | eth_cap | approved | shadow | alice | caps a runaway |" in section
    assert "Waiting for a human: `night`." in section
