"""A proposal approved in the page becomes active: real chromium (Playwright), the
dashboard's own entry point, and a real `trading-gate run` whose rules dir is the
installation's config/rules (where the dashboard looks by default).

After the approval typed in the page, the test checks, independently of the page: the
file moved to active/, the ledger line, the gate's rules hash equal to the loader's
hash of the files, the gate's audit row of the reload naming the file, and an order
the rule forbids refused over the agent socket with RULE_DENIED naming the rule. The
other proposal is rejected in the page. Screenshots go to a temporary folder (-s).
"""

import hashlib
import json
import re
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

import trading_contract as c
from browser_support import needs_chromium
from gate_process import AgentClient, GateProcess, running_gate
from operator_stubs import place_until_accepted
from rule_stubs import rule_text, write_rule
from trading_gate.rule_files import load_rule_dir

NO_BTC_BUYS = rule_text(
    "no_btc_buys",
    'order.product == "BTC-USD" and order.side == "buy"',
    'deny "BTC buys are off" if order.size_base > 0.00005',
    name="no BTC buys over 0.00005",
)
TO_REJECT = rule_text("no_sells", 'order.side == "sell"', 'deny "no sells"')
EVIDENCE = {"summary": "BTC entries lost in every window", "source": "human",
            "created": "2026-12-01", "metrics": {"trades": "40", "expectancy_bps": "-4.2"},
            "tier": "active"}  # fmt: skip

pytestmark = needs_chromium


@dataclass
class Live:
    gate: GateProcess
    agent: AgentClient
    rules: Path
    login_url: str
    shots: Path


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    root = tmp_path_factory.mktemp("proposals")
    shots = tmp_path_factory.mktemp("screenshots")
    print(f"\nscreenshots: {shots}")  # noqa: T201 - where to look, with -s
    rules = root / "config" / "rules"
    write_rule(rules, "core", "huge.rule", rule_text("no_huge", effect='deny "huge" if '
               "order.size_base > 100"))  # fmt: skip
    write_rule(rules, "proposed", "no_btc_buys.rule", NO_BTC_BUYS)
    (rules / "proposed" / "no_btc_buys.evidence.json").write_text(json.dumps(EVIDENCE))
    write_rule(rules, "proposed", "no_sells.rule", TO_REJECT)
    with (
        running_gate(root, "--bar-seconds", "0.1", "--rules", str(rules)) as gate,
        (root / "dashboard.stderr").open("w") as dashboard_log,
    ):
        agent = AgentClient(gate.agent_socket)  # stays connected: no dead-man halt
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
            yield Live(gate=gate, agent=agent, rules=rules, login_url=match.group(1), shots=shots)
        finally:
            agent.close()
            dashboard.send_signal(signal.SIGTERM)
            dashboard.wait(timeout=10)
            dashboard.stdout.close()


def _decide_in_page(page: Page, proposal: str, name: str, word: str, reason: str) -> None:
    card = page.locator(f'[data-testid="proposal"][data-proposal="{proposal}"]')
    card.get_by_test_id(f"{name}-button").click()
    expect(page.get_by_test_id(f"{name}-dialog")).to_be_visible()
    page.get_by_test_id(f"{name}-reason").fill(reason)
    submit = page.get_by_test_id(f"{name}-submit")
    page.get_by_test_id(f"{name}-confirm").fill(word[:-1])
    expect(submit).to_be_disabled()
    page.get_by_test_id(f"{name}-confirm").fill(word)
    expect(submit).to_be_enabled()
    submit.click()


def test_proposal_when_approved_in_page_then_gate_enforces_it(page: Page, live: Live) -> None:
    """Listed with its evidence; approved (reason, typed APPROVE); then in force in the
    running gate, audited, and refusing the order it forbids."""
    before = place_until_accepted(live.agent, "before-approval")
    assert isinstance(before.verdict, c.Accepted)
    page.goto(live.login_url)
    expect(page.get_by_test_id("connection")).to_have_text("live")
    card = page.locator('[data-testid="proposal"][data-proposal="no_btc_buys"]')
    expect(card).to_contain_text("BTC entries lost in every window")
    expect(card).to_contain_text("expectancy_bps: -4.2")
    expect(card).to_contain_text('deny "BTC buys are off"')
    page.screenshot(path=live.shots / "proposals-pending.png", full_page=True)

    _decide_in_page(page, "no_btc_buys", "approve", "APPROVE", "browser test: cap BTC buys")
    # Reloaded by this request or, a moment before, by the gate's file watcher: either
    # way the gate names the set in force, the one with the approved rule.
    result = page.get_by_test_id("action-result")
    expect(result).to_contain_text("approved no_btc_buys into active; gate: rules ")
    expect(result).to_contain_text(f"; sha256 {load_rule_dir(live.rules).sha256[:12]}")

    assert (live.rules / "active" / "no_btc_buys.rule").read_text() == NO_BTC_BUYS
    assert not (live.rules / "proposed" / "no_btc_buys.rule").exists()
    entry = json.loads((live.rules / "decisions.jsonl").read_text().splitlines()[-1])
    assert (entry["id"], entry["decision"], entry["tier"], entry["reason"]) == (
        "no_btc_buys", "approved", "active", "browser test: cap BTC buys",
    )  # fmt: skip
    assert entry["sha256"] == hashlib.sha256(NO_BTC_BUYS.encode()).hexdigest()
    assert live.gate.status().rules_hash == load_rule_dir(live.rules).sha256
    reloads = live.gate.audit_rows("rules.reloaded")
    assert any("active/no_btc_buys.rule" in [f["path"] for f in r["files"]] for r in reloads)
    # Another size than the order before: the duplicate-intent check runs first.
    refused = live.agent.place("after-approval", size=Decimal("0.0002"))
    assert isinstance(refused.verdict, c.Rejected)
    assert refused.verdict.code is c.RejectCode.RULE_DENIED
    assert refused.verdict.fired_by == "no_btc_buys"

    row = page.locator('[data-testid="rules"] tr[data-rule="no_btc_buys"]')
    expect(row.locator("td").first).to_have_text("active")
    expect(row.locator("td").nth(6)).to_have_text("1")  # fired once: the order above
    expect(page.get_by_test_id("rules-gate")).to_contain_text("the gate has this set in force")
    page.screenshot(path=live.shots / "proposal-approved.png", full_page=True)


def test_proposal_when_rejected_in_page_then_moved_to_rejected(page: Page, live: Live) -> None:
    """Rejected (reason, typed REJECT): the file is in rejected/, the ledger says so,
    the page no longer lists it, and the gate's rules are unchanged."""
    in_force = live.gate.status().rules_hash
    page.goto(live.login_url)
    expect(page.get_by_test_id("connection")).to_have_text("live")
    _decide_in_page(page, "no_sells", "reject", "REJECT", "browser test: sells must pass")
    expect(page.get_by_test_id("action-result")).to_contain_text("rejected no_sells")
    assert (live.rules / "rejected" / "no_sells.rule").read_text() == TO_REJECT
    entry = json.loads((live.rules / "decisions.jsonl").read_text().splitlines()[-1])
    assert (entry["id"], entry["decision"]) == ("no_sells", "rejected")
    expect(page.get_by_test_id("proposals")).to_have_text("no pending proposals")
    assert live.gate.status().rules_hash == in_force
    page.screenshot(path=live.shots / "proposal-rejected.png", full_page=True)
