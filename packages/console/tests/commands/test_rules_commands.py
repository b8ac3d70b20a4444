"""`te rules` and `te proposals`: counts against gate.db read independently, approvals
that a real running gate then enforces, and the failure paths (no gate, a stale socket,
a gate that refuses the reload, an unknown id, a proposal that does not load)."""

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import trading_contract as c
from gate_process import AgentClient, GateProcess, running_gate
from operator_stubs import place_until_accepted, read_only_rows, stale_socket
from rule_stubs import rule_text, write_rule
from trading_console.cli import main
from trading_gate.rule_files import load_rule_dir

BIG_BID = rule_text("no_big_btc", 'order.product == "BTC-USD"',
                    'deny "BTC bids over 0.0005 are off" if order.size_base > 0.0005')  # fmt: skip
ALL_BUYS = rule_text("no_buys", effect='deny "would refuse every buy" if order.side == "buy"')
TINY_CAP = rule_text("tiny_cap", 'order.product == "BTC-USD"',
                     'deny "BTC over 0.0002 refused" if order.size_base > 0.0002')  # fmt: skip


def te(*args: object) -> Result:
    # COLUMNS: rich wraps at 80 columns without a terminal; tests match whole lines.
    runner = CliRunner(env={"COLUMNS": "250"})
    return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)


def decisions_by_rule(db: Path, key: str) -> Counter[tuple[str, str]]:
    """(rule id, outcome) counted from the raw audit payloads: the independent view."""
    seen: Counter[tuple[str, str]] = Counter()
    for (payload,) in read_only_rows(
        db, "SELECT payload FROM audit WHERE event_type IN ('order.accepted','order.rejected')"
    ):
        for rule in json.loads(payload).get(key, []):
            seen[(rule["rule_id"], rule["outcome"])] += 1
    return seen


@dataclass
class Ruled:
    gate: GateProcess
    agent: AgentClient  # connected throughout, so the dead man never halts the gate


@pytest.fixture(scope="module")
def ruled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ruled]:
    """A running gate whose rules dir (rules/ next to its config) has a core rule that
    refuses big BTC bids and a shadow rule that would refuse every buy; three orders,
    one refused by the core rule."""
    root = tmp_path_factory.mktemp("ruled")
    write_rule(root / "rules", "core", "big.rule", BIG_BID)
    write_rule(root / "rules", "shadow", "buys.rule", ALL_BUYS)
    with running_gate(root) as running:
        agent = AgentClient(running.agent_socket)
        try:
            place_until_accepted(agent, "small")
            place_until_accepted(agent, "small-again")
            refused = agent.place("big", size=Decimal("0.001"))
            assert isinstance(refused.verdict, c.Rejected)
            assert refused.verdict.code is c.RejectCode.RULE_DENIED
            yield Ruled(gate=running, agent=agent)
        finally:
            agent.close()


@pytest.fixture
def gate(ruled: Ruled) -> GateProcess:
    return ruled.gate


def test_rules_list_when_gate_decided_then_counts_are_the_audit_logs(gate: GateProcess) -> None:
    """Evaluated, fired and would-have-fired per rule equal the audit rows' own lists."""
    db = gate.data / "gate.db"
    enforced, shadow = decisions_by_rule(db, "rules"), decisions_by_rule(db, "shadow_rules")
    done = te("rules", "list", "--json", "--rules", gate.root / "rules", "--data", gate.data)
    assert done.exit_code == 0, done.output
    doc = json.loads(done.output)
    by_id = {r["id"]: r for r in doc["rules"]}
    core, would = by_id["no_big_btc"], by_id["no_buys"]
    assert (core["tier"], would["tier"]) == ("core", "shadow")
    assert core["evaluated"] == sum(n for (i, _), n in enforced.items() if i == "no_big_btc")
    assert core["fired"] == enforced[("no_big_btc", "fired")] == 1
    assert would["fired"] == shadow[("no_buys", "fired")] >= 3
    assert core["last_fired"] is not None
    assert core["counterfactual_pnl_usd"] is None
    assert core["file"] == "core/big.rule"
    assert doc["sha256"] == load_rule_dir(gate.root / "rules").sha256 == gate.status().rules_hash
    assert doc["gate_loaded"]["source"] == str(gate.root / "rules")


def test_rules_list_when_table_then_shows_dash_for_counterfactual(gate: GateProcess) -> None:
    """The people's table: one row per rule, the unpriced P&L as a dash."""
    done = te("rules", "list", "--rules", gate.root / "rules", "--data", gate.data)
    assert done.exit_code == 0, done.output
    row = next(line for line in done.output.splitlines() if "no_big_btc" in line)
    assert "\u2014" in row
    assert "core/big.rule" in row


def test_rules_show_when_known_then_text_and_counts_else_exit_2(gate: GateProcess) -> None:
    """The rule's own text and its counts; an unknown id is a usage error."""
    shown = te("rules", "show", "no_buys", "--rules", gate.root / "rules", "--data", gate.data)
    assert shown.exit_code == 0, shown.output
    assert ALL_BUYS.strip() in shown.output
    missing = te("rules", "show", "nope", "--rules", gate.root / "rules", "--data", gate.data)
    assert missing.exit_code == 2
    assert "no rule 'nope'" in missing.output


def test_approve_when_gate_running_then_in_force_and_enforced(ruled: Ruled, tmp_path: Path) -> None:
    """`new` then `approve --yes`: the file moves, the gate's rules hash becomes the
    files', and an order the rule forbids is refused naming the rule."""
    gate = ruled.gate
    rules = gate.root / "rules"
    source = tmp_path / "tiny.rule"
    source.write_text(TINY_CAP)
    assert te("proposals", "new", source, "--rules", rules).exit_code == 0
    listed = json.loads(te("proposals", "list", "--json", "--rules", rules).output)
    assert [p["id"] for p in listed] == ["tiny_cap"]
    done = te("proposals", "approve", "tiny_cap", "--reason", "cap BTC", "--yes",
              "--rules", rules, "--data", gate.data)  # fmt: skip
    assert done.exit_code == 0, done.output
    on_disk = load_rule_dir(rules)
    assert f"in force:  {on_disk.sha256}" in done.output
    assert gate.status().rules_hash == on_disk.sha256
    refused = ruled.agent.place("over-tiny", size=Decimal("0.0003"))
    assert isinstance(refused.verdict, c.Rejected)
    assert refused.verdict.fired_by == "tiny_cap"
    retired = te("rules", "retire", "tiny_cap", "--reason", "done", "--yes",
                 "--rules", rules, "--data", gate.data)  # fmt: skip
    assert retired.exit_code == 0, retired.output
    assert gate.status().rules_hash == load_rule_dir(rules).sha256 != on_disk.sha256


def _proposed(tmp_path: Path, text: str = TINY_CAP, rule_id: str = "tiny_cap") -> Path:
    rules = tmp_path / "rules"
    write_rule(rules, "core", "big.rule", BIG_BID)
    write_rule(rules, "proposed", f"{rule_id}.rule", text)
    return rules


@pytest.mark.parametrize("socket", ["none", "stale"])
def test_approve_when_gate_not_running_then_exit_0_saying_next_start(
    tmp_path: Path, socket: str
) -> None:
    """No gate, or a stale socket: approved all the same, and the output says when the
    gate will load it."""
    rules, data = _proposed(tmp_path), tmp_path / "data"
    data.mkdir()
    if socket == "stale":
        stale_socket(data / "run" / "admin.sock")
    done = te("proposals", "approve", "tiny_cap", "--reason", "r", "--yes",
              "--rules", rules, "--data", data)  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "it loads the rules at its next start" in done.output
    assert ("stale socket" in done.output) is (socket == "stale")
    assert (rules / "active" / "tiny_cap.rule").exists()


def test_approve_when_set_would_not_load_then_exit_1_with_caret_and_nothing_moved(
    tmp_path: Path,
) -> None:
    """A proposal that reuses a core rule's id: refused with the loader's report."""
    rules = _proposed(tmp_path, rule_text("no_big_btc", effect='deny "x"'), "no_big_btc")
    done = te("proposals", "approve", "no_big_btc", "--reason", "r", "--yes",
              "--rules", rules, "--data", tmp_path)  # fmt: skip
    assert done.exit_code == 1
    assert "refused, nothing moved" in done.output
    assert "already used in core/big.rule" in done.output
    assert (rules / "proposed" / "no_big_btc.rule").exists()
    assert not (rules / "decisions.jsonl").exists()


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [(("approve", "tiny_cap", "--reason", "r"), 2, "not a terminal"),
     (("approve", "ghost", "--reason", "r", "--yes"), 2, "no proposal 'ghost'"),
     (("approve", "tiny_cap", "--reason", " ", "--yes"), 2, "blank"),
     (("approve", "tiny_cap", "--reason", "r", "--yes", "--operator", "-x"), 2, "operator"),
     (("reject", "ghost", "--reason", "r"), 2, "no proposal 'ghost'")],
)  # fmt: skip
def test_proposals_when_bad_use_then_exit_2_and_nothing_moved(
    tmp_path: Path, args: tuple[str, ...], code: int, says: str
) -> None:
    """No confirmation possible, an unknown id, a blank reason, a bad operator name."""
    rules = _proposed(tmp_path)
    done = te("proposals", *args, "--rules", rules)
    assert done.exit_code == code, done.output
    assert says in done.output
    assert (rules / "proposed" / "tiny_cap.rule").exists()


def test_reject_when_pending_then_moved_and_ledger_line(tmp_path: Path) -> None:
    """Reject needs no gate: the file goes to rejected/, the ledger says who and why."""
    rules = _proposed(tmp_path)
    done = te("proposals", "reject", "tiny_cap", "--reason", "too tight", "--operator", "bob",
              "--rules", rules)  # fmt: skip
    assert done.exit_code == 0, done.output
    (line,) = (rules / "decisions.jsonl").read_text().splitlines()
    entry: dict[str, Any] = json.loads(line)
    assert (entry["decision"], entry["operator"], entry["reason"]) == ("rejected", "bob",
                                                                       "too tight")  # fmt: skip
    assert (rules / "rejected" / "tiny_cap.rule").read_text() == TINY_CAP


def test_retire_when_core_then_exit_1_with_the_human_route(tmp_path: Path) -> None:
    """Core rules are not retired from the console."""
    rules = _proposed(tmp_path)
    done = te("rules", "retire", "no_big_btc", "--reason", "r", "--yes", "--rules", rules,
              "--data", tmp_path)  # fmt: skip
    assert done.exit_code == 1
    assert "core rules are retired by a human editing config/rules/core" in done.output
    assert (rules / "core" / "big.rule").exists()


def test_rules_check_when_good_or_bad_then_exit_0_or_1_and_json(tmp_path: Path) -> None:
    """check's verdict and exit code agree, in text and JSON."""
    rules = _proposed(tmp_path)
    ok = json.loads(te("rules", "check", rules, "--json").output)
    assert ok["ok"]
    assert ok["sha256"] == load_rule_dir(rules).sha256
    write_rule(rules, "active", "bad.rule", "rule broken\n")
    bad = te("rules", "check", rules, "--json")
    assert bad.exit_code == 1
    assert json.loads(bad.output)["ok"] is False
    text = te("rules", "check", rules)
    assert text.exit_code == 1
    assert "active/bad.rule:1:" in text.output
    listed = te("rules", "list", "--rules", rules, "--data", tmp_path)
    assert listed.exit_code == 1
    assert "does not load" in listed.output


def test_proposals_new_when_evidence_bad_then_exit_2(tmp_path: Path) -> None:
    """Evidence is checked before anything is copied."""
    source, doc = tmp_path / "r.rule", tmp_path / "e.json"
    source.write_text(TINY_CAP)
    doc.write_text(json.dumps({"summary": "s", "source": "guess", "created": "2026-12-01"}))
    done = te("proposals", "new", source, "--evidence", doc, "--rules", tmp_path / "rules")
    assert done.exit_code == 2
    assert "source" in done.output
    assert not (tmp_path / "rules" / "proposed").exists()


def test_approve_when_gate_does_not_confirm_reload_then_exit_1(tmp_path: Path) -> None:
    """The gate reads a directory with a broken file, so it keeps its set: the approval
    here stands, but the gate refuses the reload (naming the broken file), and te exits
    1 saying so."""
    gate_root = tmp_path / "gate"
    gate_root.mkdir()
    with running_gate(gate_root) as running:
        write_rule(gate_root / "rules", "active", "bad.rule", "rule broken\n")
        rules = _proposed(tmp_path)
        done = te("proposals", "approve", "tiny_cap", "--reason", "r", "--yes",
                  "--rules", rules, "--data", running.data)  # fmt: skip
        assert done.exit_code == 1, done.output
        assert "refused the reload" in done.output
        assert "bad.rule" in done.output
        assert (rules / "active" / "tiny_cap.rule").exists()


def test_rules_vocabulary_when_printed_then_the_gates_own_table() -> None:
    """`te rules vocabulary` prints what the gate's language accepts, from the gate's code."""
    from trading_gate.rules import VOCABULARY, describe_vocabulary

    done = CliRunner().invoke(main, ["rules", "vocabulary"])
    assert done.exit_code == 0
    assert done.output == describe_vocabulary()
    assert all(f"`{name}`" in done.output for name in VOCABULARY)
