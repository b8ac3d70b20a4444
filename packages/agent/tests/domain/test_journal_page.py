"""The journal page: one UTC day of engine events folded and rendered as markdown."""

import datetime as dt
import random
import re
from collections import Counter
from decimal import Decimal

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from agent_stubs import event, journal_day_events, rejection, trade
from trading_agent.domain.events import EngineEvent
from trading_agent.domain.journal_page import (
    NONE_YET,
    JournalPage,
    ProposalsDay,
    StoredEvent,
    build_page,
    day_bounds_ns,
    equity_curve,
    rejections_by_code,
    render_markdown,
)
from trading_contract import RejectCode

DAY = dt.date(2023, 11, 15)
START_NS = int(dt.datetime(2023, 11, 15, tzinfo=dt.UTC).timestamp()) * 1_000_000_000
END_NS = START_NS + 86_400 * 1_000_000_000
_ENCODER = msgspec.json.Encoder(order="sorted", decimal_format="string")


def stored(events: list[EngineEvent]) -> list[StoredEvent]:
    """Events as agent.db holds them: seq from 1, bodies as the store encodes them."""
    return [
        StoredEvent(seq=i, ts_ns=e.ts_ns, kind=e.kind, body=_ENCODER.encode(e.body).decode())
        for i, e in enumerate(events, start=1)
    ]


def todays(events: list[EngineEvent]) -> list[EngineEvent]:
    return [e for e in events if START_NS <= e.ts_ns < END_NS]


def test_build_page_when_busy_day_then_counts_match_the_events_of_that_day() -> None:
    """Each count is the number of that day's events of its kind; other days are out."""
    events = journal_day_events(START_NS)
    kinds = Counter(e.kind for e in todays(events))
    page = build_page(DAY, stored(events))
    assert page.events == len(todays(events)) == len(events) - 2
    assert (page.first_seq, page.last_seq) == (2, len(events) - 1)
    assert page.signals == kinds["signal"]
    assert page.skipped == kinds["skipped"]
    assert page.orders_sent == kinds["order"]
    assert page.accepted == kinds["accepted"]
    assert len(page.rejections) == kinds["rejected"]
    assert len(page.fills) == kinds["fill"]
    assert len(page.trades) == kinds["trade_closed"]
    assert len(page.gate_changes) == kinds["gate_state"]
    assert len(page.request_failures) == kinds["request_failed"]
    assert page.unreadable == ()


def test_build_page_when_trades_then_net_pnl_is_the_exact_sum_of_the_bodies() -> None:
    """The realized net P&L in the summary is the exact Decimal sum of the day's trades."""
    events = journal_day_events(START_NS)
    expected = sum(
        (Decimal(str(e.body["net_pnl_usd"])) for e in todays(events) if e.kind == "trade_closed"),
        Decimal(0),
    )
    page = build_page(DAY, stored(events))
    assert expected == Decimal("2.69")
    assert equity_curve(page)[-1].pnl_usd == expected
    assert "| realized net P&L (USD) | +2.69 |" in render_markdown(page)


def test_build_page_when_events_at_the_boundaries_then_midnight_in_next_midnight_out() -> None:
    """An event at 00:00:00 belongs to the day; one at 24:00:00 to the next."""
    events = [
        event("signal", START_NS - 1, {}),
        event("signal", START_NS, {}),
        event("signal", END_NS - 1, {}),
        event("signal", END_NS, {}),
    ]
    page = build_page(DAY, stored(events))
    assert (page.signals, page.first_seq, page.last_seq) == (2, 2, 3)


def test_build_page_when_events_arrive_shuffled_then_the_same_page_and_bytes() -> None:
    """The page depends on the events, not on the order they are handed in."""
    rows = stored(journal_day_events(START_NS))
    shuffled = rows[:]
    random.Random(7).shuffle(shuffled)  # noqa: S311 - a fixed shuffle, not a secret
    assert build_page(DAY, shuffled) == build_page(DAY, rows)
    assert render_markdown(build_page(DAY, shuffled)) == render_markdown(build_page(DAY, rows))


def test_rejections_by_code_when_counts_tie_then_most_first_then_by_code() -> None:
    """Codes sort by count (descending), then by name: a total order."""
    t = START_NS
    events = [
        rejection(RejectCode.SIZE_LIMIT, "a", "i1", t),
        rejection(RejectCode.HALTED, "b", "i2", t + 1),
        rejection(RejectCode.SIZE_LIMIT, "c", "i3", t + 2),
        rejection(RejectCode.DUPLICATE_INTENT, "d", "i4", t + 3),
    ]
    page = build_page(DAY, stored(events))
    assert rejections_by_code(page) == (("size_limit", 2), ("duplicate_intent", 1), ("halted", 1))


def test_equity_curve_when_two_trades_then_steps_from_zero_at_midnight_to_the_close() -> None:
    """0 at 00:00, the running sum after each trade, and the total at 24:00."""
    page = build_page(DAY, stored(journal_day_events(START_NS)))
    curve = [(p.ts_ns, p.pnl_usd) for p in equity_curve(page)]
    hour = 3600 * 1_000_000_000
    assert curve == [
        (START_NS, Decimal(0)),
        (START_NS + 2 * hour, Decimal("3.94")),
        (START_NS + 9 * hour, Decimal("2.69")),
        (END_NS, Decimal("2.69")),
    ]


def test_render_when_the_day_is_empty_then_every_section_says_so() -> None:
    """No events: the page still has every section, and the loops say "none yet"."""
    text = render_markdown(JournalPage(day=DAY), proposals=ProposalsDay())
    for heading in ("Summary", "Trades", "Fills", "P&L", "Equity", "Anomalies"):
        assert f"## {heading}\n" in text
    assert f"## Loop findings\n\n{NONE_YET}" in text
    assert f"## Proposals\n\n{NONE_YET}: no proposal was approved" in text
    assert "Waiting for a human: none." in text
    assert "No trade closed on this day." in text
    assert "agent.db: no events on this day" in text


def test_render_when_busy_day_then_tables_hold_each_trade_code_halt_and_failure() -> None:
    """Trade rows carry their net P&L; codes their counts; free text cannot break a table."""
    text = render_markdown(build_page(DAY, stored(journal_day_events(START_NS))))
    trade_rows = re.findall(
        r"^\| (\d\d:\d\d:\d\d) \| (\w+) \| ([A-Z-]+) \|.*\| ([+-][\d.]+) \| [^|]+ \|$", text, re.M
    )
    assert trade_rows == [
        ("02:00:00", "breakout", "BTC-USD", "+3.94"),
        ("09:00:00", "momentum", "ETH-USD", "-1.25"),
    ]
    assert "| notional_limit | 2 | 03:00:00 | notional 120 > 100 \\| per order |" in text
    assert "| halted | 1 | 04:00:00 | the gate is halted |" in text
    assert "| 04:00:00 | HALTED | kill_switch: drill |" in text
    assert "| gate halts | 1 |" in text
    assert "| 07:00:00 | i-6 | gate timeout |" in text


def test_build_page_when_a_body_is_unreadable_then_it_is_listed_with_its_seq() -> None:
    """A body that does not decode is an anomaly on the page, never a crash or a gap."""
    rows = stored([event("trade_closed", START_NS + 5, trade())])
    rows.append(StoredEvent(seq=2, ts_ns=START_NS + 6, kind="fill", body='{"price": "x"}'))
    page = build_page(DAY, rows)
    assert len(page.trades) == 1
    assert [(u.seq, u.kind) for u in page.unreadable] == [(2, "fill")]
    assert "### Unreadable events" in render_markdown(page)


def test_render_when_a_plot_is_given_then_it_is_linked_else_the_command_is_named() -> None:
    """The plot is linked relative to the page; without one the page says how to draw it."""
    page = JournalPage(day=DAY)
    assert "![equity](2023-11-15-equity.png)" in render_markdown(
        page, plot_file="2023-11-15-equity.png"
    )
    assert "`te journal --day 2023-11-15`" in render_markdown(page)


@given(st.dates(min_value=dt.date(1970, 1, 1), max_value=dt.date(2200, 12, 31)))
def test_day_bounds_when_any_date_then_utc_midnights_24_hours_apart(day: dt.date) -> None:
    """The bounds are that day's and the next day's 00:00 UTC, from the stdlib's calendar."""
    midnight = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    start, end = day_bounds_ns(day)
    assert start == int(midnight.timestamp()) * 1_000_000_000
    assert end == int((midnight + dt.timedelta(days=1)).timestamp()) * 1_000_000_000
