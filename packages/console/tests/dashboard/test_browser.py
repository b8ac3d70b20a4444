"""The dashboard in a real browser (Debian's chromium through Playwright) over a real
system: a `trading-gate run` process on the paper venue and a `trading-agent run` that
traded through it for a few seconds, and the dashboard served by its own entry point.

The numbers on the page are checked against the databases, read here independently
with plain sqlite3 and json, and against the gate's own admin status. The kill switch is
driven through the page, confirm step included, and must halt the running gate and
cancel a resting order placed beforehand. Screenshots go to the module's temporary
folder (the path is printed with -s).
"""

import hashlib
import json
import re
import select
import signal
import sqlite3
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

import trading_contract as c
import trading_sim as sim
from browser_support import needs_chromium
from gate_process import TEST_LIMITS, AgentClient, GateProcess, running_gate

REPO = Path(__file__).resolve().parents[4]
AGENT_SECONDS = "4"
# Below every low of the bundled BTC sample, so it never fills; a 15 % collar admits it
# whatever the replay's current mid (the sample's highs are under 12 % above it).
RESTING_BID = (
    min(b.low for b in sim.read_bars(sim.bundled_bars_path("BTC-USD"), "BTC-USD"))
    * Decimal("0.995")
).quantize(Decimal("0.01"))

pytestmark = needs_chromium


@dataclass
class Live:
    gate: GateProcess
    login_url: str
    shots: Path

    @property
    def gate_db(self) -> Path:
        return self.gate.data / "gate.db"

    @property
    def agent_db(self) -> Path:
        return self.gate.data / "agent.db"


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _run_agent(gate: GateProcess, log: Path) -> None:
    agent = Path(sys.executable).parent / "trading-agent"
    argv = [
        str(agent), "run", "--data", str(gate.data),
        "--strategies-dir", str(REPO / "config" / "strategies"),
        "--strategy", "return_sign", "--strategy", "momentum", "--duration", AGENT_SECONDS,
    ]  # fmt: skip
    with log.open("w") as err:
        proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=err, timeout=40, check=False)
    assert proc.returncode == 0, log.read_text()
    gate.wait_for(lambda: not gate.status().agent_connected)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    root = tmp_path_factory.mktemp("live")
    shots = tmp_path_factory.mktemp("screenshots")
    print(f"\nscreenshots: {shots}")  # noqa: T201 - where to look, with -s
    btc = TEST_LIMITS["products"]["BTC-USD"] | {"price_collar_bps": 1500}
    with (
        running_gate(root, "--bar-seconds", "0.1", products={"BTC-USD": btc}) as gate,
        (root / "dashboard.stderr").open("w") as dashboard_log,
    ):
        _run_agent(gate, root / "agent.stderr")
        dashboard = subprocess.Popen(
            [sys.executable, "-m", "trading_console.dashboard", "--data", str(gate.data)],
            stdout=subprocess.PIPE,
            stderr=dashboard_log,
            text=True,
        )
        assert dashboard.stdout is not None
        try:
            ready, _, _ = select.select([dashboard.stdout], [], [], 20)
            line = dashboard.stdout.readline() if ready else ""
            match = re.search(r"dashboard ready: (http://127\.0\.0\.1:\d+/\?token=\S+)", line)
            assert match is not None, line
            yield Live(gate=gate, login_url=match.group(1), shots=shots)
        finally:
            dashboard.send_signal(signal.SIGTERM)
            dashboard.wait(timeout=10)
            dashboard.stdout.close()


def open_dashboard(page: Page, live: Live) -> None:
    page.goto(live.login_url)
    expect(page.get_by_test_id("connection")).to_have_text("live")
    assert "token" not in page.url


# ---------------------------------------------------------------- the numbers


def test_page_when_real_run_then_numbers_match_the_databases(page: Page, live: Live) -> None:
    """Fill count, positions, state, trades and refusals on the page are the databases'."""
    fills = [json.loads(f) for (f,) in rows(live.gate_db, "SELECT fill FROM fills")]
    base: dict[str, Decimal] = defaultdict(Decimal)
    for f in fills:
        base[f["product_id"]] += Decimal(f["size"]) * (1 if f["side"] == "buy" else -1)
    refusals = Counter(
        json.loads(p)["decision"]["verdict"]["code"]
        for (p,) in rows(
            live.gate_db, "SELECT payload FROM audit WHERE event_type='order.rejected'"
        )
    )
    agent_kinds = dict(rows(live.agent_db, "SELECT kind, count(*) FROM events GROUP BY kind"))
    status = live.gate.status()
    assert fills, "the agent must have traded for this test to mean anything"

    open_dashboard(page, live)

    expect(page.get_by_test_id("fill-count")).to_have_text(str(len(fills)))
    expect(page.get_by_test_id("gate-state")).to_have_text(status.state.value.upper())
    expect(page.get_by_test_id("gate-cause")).to_contain_text(status.cause.split(";")[0])
    expect(page.get_by_test_id("halt-banner")).to_be_visible(
        visible=status.state is c.TradingState.HALTED
    )
    for product, size in base.items():
        cells = page.locator(f'[data-testid="positions"] tr[data-product="{product}"] td')
        assert Decimal(cells.nth(1).inner_text()) == size
    expect(page.get_by_test_id("agent-fills")).to_have_text(str(agent_kinds["fill"]))
    expect(page.get_by_test_id("trade-count")).to_have_text(str(agent_kinds.get("trade_closed", 0)))
    ((decided,),) = rows(
        live.gate_db,
        "SELECT count(*) FROM audit WHERE event_type IN ('order.accepted', 'order.rejected')",
    )
    assert page.locator('[data-testid="decisions"] > tr').count() == min(20, decided)
    for code, count in refusals.items():
        row = page.locator('[data-testid="rejections"] tr', has_text=code)
        expect(row.locator("td").nth(1)).to_have_text(str(count))
    for (strategy, product), stats in _last_reported_stats(live.agent_db).items():
        row = page.locator(
            f'[data-testid="strategies"] tr[data-strategy="{strategy}"][data-product="{product}"]'
        )
        expect(row.locator('td[data-field="confidence"]')).to_have_text(stats["confidence"])
        expect(row.locator('td[data-field="trade-count"]')).to_have_text(stats["trade_count"])
    expect(page.get_by_test_id("rules")).to_have_text("no rules")
    expect(page.get_by_test_id("proposals")).to_have_text("no pending proposals")
    page.screenshot(path=live.shots / "overview.png", full_page=True)


def _last_reported_stats(agent_db: Path) -> dict[tuple[str, str], dict[str, str]]:
    """Each (strategy, product)'s `reason.stats` from its last `order` event."""
    last: dict[tuple[str, str], dict[str, str]] = {}
    for (body,) in rows(agent_db, "SELECT body FROM events WHERE kind = 'order' ORDER BY seq"):
        order = json.loads(body)
        last[(order["strategy_id"], order["product_id"])] = order["reason"]["stats"]
    assert last, "the agent must have sent orders for the Strategies panel to mean anything"
    return last


# ---------------------------------------------------------------- resume, then the kill switch


def _resume_through_the_page(page: Page, live: Live) -> None:
    page.get_by_test_id("resume-button").click()
    page.get_by_test_id("resume-reason").fill("test: book checked, resuming")
    page.get_by_test_id("resume-to").select_option("active")
    submit = page.get_by_test_id("resume-submit")
    expect(submit).to_be_disabled()
    page.get_by_test_id("resume-confirm").fill("RESUME")
    expect(submit).to_be_enabled()
    submit.click()
    expect(page.get_by_test_id("action-result")).to_contain_text("resumed to active")
    assert live.gate.status().state is c.TradingState.ACTIVE


def _order_status(live: Live, intent: str) -> str:
    conn = sqlite3.connect(f"file:{live.gate_db}?mode=ro", uri=True)
    try:
        (state,) = conn.execute(
            "SELECT state FROM orders WHERE intent_id = ?", (intent,)
        ).fetchone()
    finally:
        conn.close()
    return str(json.loads(state)["status"])


def test_kill_switch_when_confirmed_then_gate_halts_and_resting_order_cancelled(
    page: Page, live: Live
) -> None:
    """Resume (typed RESUME and a reason), rest a bid, then the kill switch (typed HALT):
    the running gate is HALTED by the operator, its book is empty, the bid cancelled."""
    client = AgentClient(live.gate.agent_socket)
    try:
        open_dashboard(page, live)
        if live.gate.status().state is not c.TradingState.ACTIVE:
            _resume_through_the_page(page, live)
        decision = client.place("dash-resting-bid", limit_price=RESTING_BID)
        assert isinstance(decision.verdict, c.Accepted), decision
        live.gate.wait_for(lambda: _order_status(live, "dash-resting-bid") == "open")
        open_row = page.locator('[data-testid="open-orders"] tr', has_text="BTC-USD")
        expect(open_row).to_contain_text("open")
        expect(page.get_by_test_id("gate-open-orders")).to_have_text("1")
        page.screenshot(path=live.shots / "open-order.png", full_page=True)

        page.get_by_test_id("kill-button").click()
        expect(page.get_by_test_id("halt-dialog")).to_be_visible()
        page.get_by_test_id("halt-reason").fill("browser test: kill switch")
        page.get_by_test_id("halt-confirm").fill("HAL")
        expect(page.get_by_test_id("halt-submit")).to_be_disabled()
        page.get_by_test_id("halt-confirm").fill("HALT")
        expect(page.get_by_test_id("halt-submit")).to_be_enabled()
        page.screenshot(path=live.shots / "kill-confirm.png")
        page.get_by_test_id("halt-submit").click()

        expect(page.get_by_test_id("action-result")).to_contain_text("book verified empty")
        status = live.gate.status()
        assert status.state is c.TradingState.HALTED
        assert status.cause.startswith("kill_switch: browser test: kill switch")
        assert status.open_orders == 0
        assert _order_status(live, "dash-resting-bid") == "cancelled"
        (last_mode,) = live.gate.audit_rows("gate.mode")[-1:]
        assert (last_mode["cause"], last_mode["detail"]) == (
            "kill_switch",
            "browser test: kill switch",
        )
        expect(page.get_by_test_id("halt-banner")).to_contain_text("kill_switch")
        expect(page.get_by_test_id("open-orders")).to_contain_text("no open orders")
        expect(
            page.locator('[data-testid="anomalies"] li[data-kind="gate_state"]')
        ).to_contain_text("gate HALTED: kill_switch: browser test: kill switch")
        page.screenshot(path=live.shots / "halted.png", full_page=True)
        page.screenshot(path=live.shots / "halted-viewport.png")
    finally:
        client.close()


# ---------------------------------------------------------------- the gate goes away


def _fingerprint(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def test_page_when_gate_stopped_then_says_so_and_databases_untouched(
    page: Page, live: Live
) -> None:
    """Gate down: the page says so and why the kill switch cannot act; a live session
    over the final databases leaves both files unchanged."""
    live.gate.stop()
    before = {db: _fingerprint(db) for db in (live.gate_db, live.agent_db)}

    open_dashboard(page, live)
    expect(page.get_by_test_id("down-banner")).to_contain_text("Gate not running: no admin socket")
    expect(page.get_by_test_id("kill-button")).to_be_disabled()
    expect(page.get_by_test_id("kill-help")).to_contain_text("cannot reach the gate")
    expect(page.get_by_test_id("gate-state")).to_have_text("HALTED")
    first = page.locator("body").get_attribute("data-generated")
    page.locator('[data-testid="decisions"] summary').first.click()
    expect(page.locator("body")).not_to_have_attribute("data-generated", first or "")
    page.screenshot(path=live.shots / "gate-down.png", full_page=True)

    assert {db: _fingerprint(db) for db in (live.gate_db, live.agent_db)} == before
