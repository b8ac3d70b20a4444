"""The rule language in the running gate: loaded at start (a bad file refuses to start),
enforced on the agent socket, audited with every rule's outcome, reloaded on a file
change or the admin command, and a bad edit keeps the set in force."""

import sqlite3
import subprocess
import sys
from pathlib import Path

from gate_process import TEST_LIMITS, AgentClient, GateProcess, running_gate, write_config
from rule_stubs import rule_text, write_rule
from trading_contract import RejectCode, Rejected
from trading_gate.rule_files import load_rule_dir

GATE = Path(sys.executable).parent / "trading-gate"
STRATEGY_TEST = rule_text(
    "no_test_strategy", 'order.strategy == "test"', 'deny "the test strategy is paused"'
)
SHADOW_SMALL = rule_text("shadow_small", "order.size_base < 1", 'deny "would deny small orders"')


def test_gate_when_a_rule_file_is_bad_then_it_refuses_to_start_naming_the_spot(
    tmp_path: Path,
) -> None:
    """Start-up is all or nothing, like safety.yaml: the error shows file:line:col."""
    bad = write_rule(tmp_path / "rules", "active", "x.rule", rule_text("x", "order.prodcut == 1"))
    config = write_config(tmp_path / "safety.yaml", **TEST_LIMITS)
    result = subprocess.run(
        [GATE, "run", "--config", config, "--data", tmp_path / "data", "--duration", "5"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert f"{bad}:5:8: error: unknown field" in result.stderr
    assert 'did you mean "order.product"' in result.stderr


def test_gate_when_an_active_rule_matches_then_the_order_is_denied_and_audited(
    tmp_path: Path,
) -> None:
    """Over the real socket: RULE_DENIED naming the rule; the audit row holds every rule's
    outcome, the shadow rule's would-have, the context it read and the set's hash."""
    rules_dir = tmp_path / "rules"
    write_rule(rules_dir, "active", "pause.rule", STRATEGY_TEST)
    write_rule(rules_dir, "shadow", "small.rule", SHADOW_SMALL)
    expected_hash = load_rule_dir(rules_dir).sha256
    with running_gate(tmp_path) as gate:
        assert gate.status().rules_hash == expected_hash
        agent = AgentClient(gate.agent_socket)
        try:
            denied = agent.place("i-1")
            allowed = agent.place("i-2", strategy_id="other")
        finally:
            agent.close()
        explained = _explain_first_rejection(gate, rules_dir)
        rejected = gate.audit_rows("order.rejected")
        accepted = gate.audit_rows("order.accepted")
        loaded = gate.audit_rows("rules.loaded")
    assert isinstance(denied.verdict, Rejected)
    assert denied.verdict.code is RejectCode.RULE_DENIED
    assert denied.verdict.fired_by == "no_test_strategy"
    assert not isinstance(allowed.verdict, Rejected)
    row = rejected[0]
    assert row["rules"] == [
        {"rule_id": "no_test_strategy", "tier": "active", "outcome": "fired", "effect": "deny",
         "message": "rule no_test_strategy: the test strategy is paused"},
    ]  # fmt: skip
    assert [(r["rule_id"], r["outcome"]) for r in row["shadow_rules"]] == [
        ("shadow_small", "fired")
    ]
    assert row["rule_context"]["values"]["order.strategy"] == "test"
    assert row["rules_sha256"] == expected_hash
    # The shadow rule would have denied the second order too, and never did.
    assert [r["outcome"] for r in accepted[0]["shadow_rules"]] == ["fired"]
    assert loaded[0]["sha256"] == expected_hash
    assert "[active] no_test_strategy" in explained
    assert 'order.strategy = "test"' in explained
    assert "verdict: denied by no_test_strategy" in explained
    assert [f["path"] for f in loaded[0]["files"]] == ["active/pause.rule", "shadow/small.rule"]


def test_gate_when_rule_files_change_then_it_reloads_and_a_bad_edit_keeps_the_old_set(
    tmp_path: Path,
) -> None:
    """A new file is picked up by the watcher; a broken edit is refused and audited, and
    the set in force keeps deciding; the admin command reloads on demand."""
    rules_dir = tmp_path / "rules"
    with running_gate(tmp_path) as gate:
        empty = gate.status().rules_hash
        path = write_rule(rules_dir, "active", "pause.rule", STRATEGY_TEST)
        good = load_rule_dir(rules_dir).sha256
        gate.wait_for(lambda: gate.status().rules_hash == good, timeout_s=15)
        already = _reload(gate)
        path.write_text(STRATEGY_TEST.replace("order.strategy", "order.strategyy"))
        gate.wait_for(lambda: bool(gate.audit_rows("rules.reload_refused")), timeout_s=15)
        assert gate.status().rules_hash == good
        refused_by_hand = _reload(gate)
        agent = AgentClient(gate.agent_socket)
        try:
            still_denied = agent.place("i-1")
        finally:
            agent.close()
        path.write_text(STRATEGY_TEST.replace("pause", "hold"))
        by_hand = _reload(gate)
        reloaded = gate.audit_rows("rules.reloaded")
        refused = gate.audit_rows("rules.reload_refused")
    assert isinstance(still_denied.verdict, Rejected)
    assert still_denied.verdict.fired_by == "no_test_strategy"
    assert reloaded[0]["previous_sha256"] == empty
    assert reloaded[0]["sha256"] == good
    assert "order.strategyy" in refused[0]["problems"][0]
    assert by_hand.returncode == 0, by_hand.stderr
    # After the watcher's reload the command names the set in force, not "unchanged".
    assert already.returncode == 0, already.stderr
    said = already.stdout + already.stderr
    assert "rules already in force: " in said
    assert f"; sha256 {good[:12]}" in said
    # The refusal reaches the operator as one line naming the file and the problem.
    assert refused_by_hand.returncode == 1
    assert "pause.rule:5:" in refused_by_hand.stderr
    assert "order.strategyy" in refused_by_hand.stderr


def _reload(gate: GateProcess) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [GATE, "reload-rules", "--data", gate.data],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def _explain_first_rejection(gate: GateProcess, rules_dir: Path) -> str:
    """`rules explain --db --seq` on the audit row of the first refused order."""
    with sqlite3.connect(f"file:{gate.data / 'gate.db'}?mode=ro", uri=True) as conn:
        (seq,) = conn.execute(
            "SELECT min(seq) FROM audit WHERE event_type = 'order.rejected'"
        ).fetchone()
    conn.close()
    result = subprocess.run(
        [GATE, "rules", "explain", "--db", gate.data / "gate.db", "--seq", str(seq),
         "--rules", rules_dir],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout
