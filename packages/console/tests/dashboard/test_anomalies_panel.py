"""The Anomalies panel over a gate.db written with the gate's own AuditLog and journal:
the audit events it must list (and the routine ones it must not) found independently
with plain sqlite3 and json, `te status`'s own anomalies for the same directory, the
audit chain's verdict and its refresh, the dead man's timeout, and the bound."""

import dataclasses
import json
import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

import trading_contract as c
from operator_stubs import tamper_audit_row
from trading_console import anomalies as found
from trading_console.commands.status import gather
from trading_console.dashboard import views
from trading_gate import journal
from trading_gate.audit import AuditLog, open_audit_db
from trading_gate.core.trading_state import Cause, GateMode
from trading_gate.killswitch import KillReport
from trading_gate.ports import VenueFill

REPO = Path(__file__).resolve().parents[4]
T0 = 1_700_000_000_000_000_000
S = 1_000_000_000
PROBLEM = "coid-7: cancel pending and the venue has no such order"


class AuditWriter:
    """gate.db as the gate writes it: the journal's tables, and rows through AuditLog."""

    def __init__(self, data: Path) -> None:
        data.mkdir(parents=True, exist_ok=True)
        self.path = data / "gate.db"
        self._conn = open_audit_db(self.path)
        journal.create_tables(self._conn)
        self._log = AuditLog(self._conn, anchor_path=data / "audit.anchor")
        self.now = T0

    def event(self, event_type: str, payload: Any) -> None:
        self.now += S
        built = payload if isinstance(payload, dict) else msgspec.to_builtins(payload)
        self._log.append(event_type, built, ts_wall_ns=self.now, ts_mono_ns=self.now)

    def mode(self, state: c.TradingState, cause: Cause, detail: str) -> GateMode:
        self.now += S
        mode = GateMode(state=state, cause=cause, since_ns=self.now, set_by="gate", detail=detail)
        with self._log.transaction() as txn:
            journal.save_mode(txn, mode)
            txn.append(
                "gate.mode", msgspec.to_builtins(mode), ts_wall_ns=self.now, ts_mono_ns=self.now
            )
        return mode

    def close(self) -> None:
        self._log.close(ts_wall_ns=self.now)
        self._conn.close()


@pytest.fixture
def writer(tmp_path: Path) -> Iterator[AuditWriter]:
    written = AuditWriter(tmp_path / "data")
    yield written
    written.close()


def _kill(*, verified: bool, remaining: tuple[str, ...] = ()) -> KillReport:
    return KillReport(
        latch_ns=1,
        latched_at_ns=2,
        cancels_sent=(c.VenueOrderId("venue-1"),),
        attempts=3,
        verified_empty=verified,
        remaining=tuple(c.VenueOrderId(r) for r in remaining),
        elapsed_ns=4,
        errors=() if verified else ("list_open_orders: timed out",),
    )


def _external_fill() -> VenueFill:
    return VenueFill(
        trade_id=c.TradeId("trade-x"),
        venue_order_id=c.VenueOrderId("venue-x"),
        client_order_id=c.ClientOrderId("coid-stranger"),
        product_id=c.ProductId("BTC-USD"),
        side=c.Side.SELL,
        price=Decimal("50123.45"),
        size=Decimal("0.002"),
        fee=Decimal("0.1"),
        liquidity=c.Liquidity.MAKER,
        ts_ns=T0,
    )


def _write_every_kind(w: AuditWriter) -> None:
    w.mode(c.TradingState.ACTIVE, Cause.RECONCILED, "")
    w.event("reconcile.done", {"problems": []})  # routine
    w.event("exchange.stream_suspect", {"reason": "sequence gap on user channel"})
    w.event("reconcile.done", {"problems": [PROBLEM]})
    w.event("rules.reload_refused", {"sha256": "a" * 64, "problems": ["active/x.rule:3:7: ?"]})
    w.event("config.reload_refused", {"sha256": "b" * 64, "problems": ["limits: negative"]})
    w.event("fill.external", _external_fill())
    w.event("kill.report", _kill(verified=True))  # routine
    w.event("kill.report", _kill(verified=False, remaining=("venue-9",)))
    w.mode(c.TradingState.HALTED, Cause.KILL_SWITCH, "drill")


def _audit_rows(db: Path) -> list[tuple[int, int, str, dict[str, Any]]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT seq, ts_wall_ns, event_type, payload FROM audit").fetchall()
    finally:
        conn.close()
    return [(int(s), int(t), str(e), json.loads(p)) for s, t, e, p in rows]


def _is_anomaly(event_type: str, payload: dict[str, Any]) -> bool:
    if event_type == "reconcile.done":
        return bool(payload.get("problems"))
    if event_type == "kill.report":
        return payload.get("verified_empty") is False
    return event_type in found.AUDIT_EVENT_TYPES


def _sources(data: Path, **changes: Any) -> views.Sources:
    # No admin socket there: the gate panel reads what gate.db recorded.
    return dataclasses.replace(views.Sources.in_data_dir(data, data / "no-admin.sock"), **changes)


# ---------------------------------------------------------------- the audit log's events


def test_anomalies_when_every_kind_written_then_listed_newest_first_routine_ones_not(
    writer: AuditWriter,
) -> None:
    """Every anomalous audit row (found here with plain json) is listed once, newest
    first, after the recorded HALTED; a clean reconciliation and a verified kill are not."""
    _write_every_kind(writer)
    rows = _audit_rows(writer.path)
    expected = [(seq, ts) for seq, ts, kind, p in rows if _is_anomaly(kind, p)]
    halted_ns = max(ts for _, ts, kind, _ in rows if kind == "gate.mode")

    panel = views.gate_panel(_sources(writer.path.parent)).anomalies

    assert panel.error is None
    newest = sorted(expected, reverse=True)
    assert [(a.seq, a.ts_ns) for a in panel.items] == [(None, halted_ns), *newest]
    assert len(expected) == 6
    kinds = [a.kind for a in panel.items]
    assert kinds == [
        "gate_state",
        "kill_not_verified",
        "external_fill",
        "config_reload_refused",
        "rules_reload_refused",
        "reconcile_problems",
        "stream_suspect",
    ]
    text = {a.kind: a.text for a in panel.items}
    assert text["gate_state"] == "gate HALTED (as gate.db last recorded it): kill_switch: drill"
    assert "venue-9" in text["kill_not_verified"]
    assert "list_open_orders: timed out" in text["kill_not_verified"]
    assert all(
        s in text["external_fill"] for s in ("trade-x", "coid-stranger", "0.002", "50123.45")
    )
    assert "limits: negative" in text["config_reload_refused"]
    assert "active/x.rule:3:7" in text["rules_reload_refused"]
    assert PROBLEM in text["reconcile_problems"]
    assert "sequence gap on user channel" in text["stream_suspect"]
    assert {a.source for a in panel.items} == {"gate", "audit"}


def test_anomalies_when_written_then_standing_ones_are_te_status_own(writer: AuditWriter) -> None:
    """For the same data directory the panel's standing conditions are, word for word,
    the anomalies `te status` reports first; te status then lists the same audit rows
    as the panel, newest first (its ten most recent)."""
    _write_every_kind(writer)
    data = writer.path.parent
    sources = _sources(data, safety_config=REPO / "config" / "safety.yaml")

    panel = views.gate_panel(sources).anomalies
    report = gather(data, REPO / "config" / "safety.yaml", now_ns=writer.now)

    standing = tuple(a.text for a in panel.items if a.seq is None)
    logged = [a for a in panel.items if a.seq is not None][:10]
    assert report.anomalies
    assert report.anomalies[: len(standing)] == standing
    rest = report.anomalies[len(standing) :]
    assert len(rest) == len(logged)
    for line, anomaly in zip(rest, logged, strict=True):
        assert f"audit #{anomaly.seq}: {anomaly.text}" in line


def test_anomalies_when_gate_active_and_log_clean_then_none(writer: AuditWriter) -> None:
    """An ACTIVE gate, a clean reconciliation and a verified chain: nothing listed."""
    writer.mode(c.TradingState.ACTIVE, Cause.RECONCILED, "")
    writer.event("reconcile.done", {"problems": []})

    panel = views.gate_panel(_sources(writer.path.parent)).anomalies

    assert panel.items == ()
    assert panel.chain_checked_ns is not None
    assert panel.error is None


def test_anomalies_when_many_then_bounded_to_the_newest_fifty(writer: AuditWriter) -> None:
    """Sixty stream warnings: the fifty newest are listed, newest first."""
    writer.mode(c.TradingState.ACTIVE, Cause.RECONCILED, "")
    for n in range(60):
        writer.event("exchange.stream_suspect", {"reason": f"gap {n}"})
    seqs = sorted(
        (s for s, _, kind, _ in _audit_rows(writer.path) if kind == "exchange.stream_suspect"),
        reverse=True,
    )

    panel = views.gate_panel(_sources(writer.path.parent)).anomalies

    assert [a.seq for a in panel.items] == seqs[:50]


# ---------------------------------------------------------------- the chain, the heartbeat


def test_anomalies_when_chain_tampered_then_listed_once_rechecked(writer: AuditWriter) -> None:
    """A row edited behind the triggers' back is flagged by seq, on the next check: a
    long interval keeps the last verdict, a due one finds the edit."""
    writer.mode(c.TradingState.ACTIVE, Cause.RECONCILED, "")
    writer.event("reconcile.done", {"problems": []})
    writer.close()
    data = writer.path.parent
    lazy = _sources(data, slow_check_interval_s=3600.0)
    eager = _sources(data, slow_check_interval_s=0.0)
    assert views.gate_panel(lazy).anomalies.items == ()

    tamper_audit_row(writer.path, 2)

    assert views.gate_panel(lazy).anomalies.items == ()  # the verdict an hour is kept
    items = views.gate_panel(eager).anomalies.items
    assert [(a.kind, a.source) for a in items] == [("audit_chain", "audit")]
    assert items[0].text.startswith("audit chain does not verify: seq 2")


@pytest.mark.parametrize("over", [True, False])
def test_anomalies_when_heartbeat_old_then_judged_against_safety_yaml(
    tmp_path: Path, over: bool
) -> None:
    """A heartbeat older than safety.yaml's dead man's timeout (read here with yaml) is
    an agent anomaly; a younger one is not."""
    config = REPO / "config" / "safety.yaml"
    timeout = float(yaml.safe_load(config.read_text())["dead_man"]["heartbeat_timeout_s"])
    age = timeout + 1.5 if over else timeout - 0.5
    sources = _sources(tmp_path / "none", safety_config=config)
    facts = found.GateFacts(
        state=c.TradingState.ACTIVE,
        running=True,
        cause="reconciled",
        last_heartbeat_ns=T0,
        heartbeat_age_s=age,
    )

    panel = views.anomalies_panel(sources, facts)

    expected = [f"no agent heartbeat for {age:.1f} s (dead man's timeout {timeout:g} s)"]
    assert [a.text for a in panel.items] == (expected if over else [])
    assert all((a.source, a.ts_ns) == ("agent", T0) for a in panel.items)
    assert panel.heartbeat_timeout_s == timeout
    assert "no gate.db" in (panel.error or "")


def test_anomalies_when_safety_yaml_missing_then_noted_not_judged(tmp_path: Path) -> None:
    """No safety.yaml: the timeout is unknown, said in a note, and no heartbeat is judged."""
    sources = _sources(tmp_path / "none", safety_config=tmp_path / "missing.yaml")
    facts = found.GateFacts(
        state=c.TradingState.ACTIVE, running=True, cause="x", heartbeat_age_s=1e6
    )

    panel = views.anomalies_panel(sources, facts)

    assert panel.items == ()
    assert panel.heartbeat_timeout_s is None
    assert any("dead man's timeout unknown" in n for n in panel.notes)


# ---------------------------------------------------------------- ordering


_ANOMALY = st.builds(
    found.Anomaly,
    ts_ns=st.none() | st.integers(min_value=0, max_value=10**19),
    source=st.sampled_from(["gate", "agent", "audit"]),
    kind=st.just("k"),
    text=st.text(max_size=3),
)


@given(st.lists(_ANOMALY, max_size=20), st.integers(min_value=1, max_value=25))
def test_newest_first_when_any_list_then_undated_lead_then_by_time_and_bounded(
    items: list[found.Anomaly], limit: int
) -> None:
    """Undated first in given order, then dated newest first (ties in given order), at
    most `limit`: checked against a two-pass selection."""
    undated = [a for a in items if a.ts_ns is None]
    dated = [a for a in items if a.ts_ns is not None]
    by_time: list[found.Anomaly] = []
    for ts in sorted({a.ts_ns for a in dated if a.ts_ns is not None}, reverse=True):
        by_time += [a for a in dated if a.ts_ns == ts]

    assert found.newest_first(items, limit) == tuple((undated + by_time)[:limit])
