"""`trading_console.proposals`: proposals checked, moved atomically and recorded, and
every refusal leaving the files exactly as they were."""

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rule_stubs import rule_text, write_rule
from trading_console import proposals as props
from trading_gate.rule_files import load_rule_dir

NOW = dt.datetime(2026, 12, 2, 9, 30, tzinfo=dt.UTC)
ETH_CAP = rule_text(
    "eth_cap",
    'order.product == "ETH-USD"',
    'deny "ETH exposure capped" if position.notional_after_usd > 20% * account.equity_usd',
)


def evidence(**changes: object) -> dict[str, object]:
    doc: dict[str, object] = {
        "summary": "ETH losses cluster above 20 % exposure",
        "source": "loop3",
        "created": "2026-12-01",
        "metrics": {"trades": "41", "expectancy_bps": "-3.5"},
        "tier": "active",
    }
    return doc | changes


def propose(root: Path, rule_id: str, text: str, doc: dict[str, object] | None = None) -> Path:
    path = write_rule(root, "proposed", f"{rule_id}.rule", text)
    if doc is not None:
        (root / "proposed" / f"{rule_id}.evidence.json").write_text(json.dumps(doc))
    return path


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    root = tmp_path / "rules"
    write_rule(root, "core", "stale.rule", rule_text("stale_mid", effect='deny "stale"'
               ' if market.mid_age > 30s'))  # fmt: skip
    return root


# ---------------------------------------------------------------- approve


def test_approve_when_set_loads_then_moved_recorded_and_hash_is_the_loaders(rules: Path) -> None:
    """The file lands in active/ byte for byte, with its evidence; the ledger line names
    it with the text's sha256; the returned set is what the gate's loader reads."""
    propose(rules, "eth_cap", ETH_CAP, evidence())
    change = props.approve(rules, "eth_cap", operator="alice", reason="looks right", now=NOW)
    assert (rules / "active" / "eth_cap.rule").read_text() == ETH_CAP
    assert (rules / "active" / "eth_cap.evidence.json").exists()
    assert not list((rules / "proposed").iterdir())
    (line,) = (rules / props.LEDGER).read_text().splitlines()
    assert json.loads(line) == {
        "ts": "2026-12-02T09:30:00+00:00", "id": "eth_cap", "decision": "approved",
        "tier": "active", "operator": "alice", "reason": "looks right",
        "sha256": hashlib.sha256(ETH_CAP.encode()).hexdigest(), "file": "active/eth_cap.rule",
    }  # fmt: skip
    assert change.rule_set is not None
    assert change.rule_set.sha256 == load_rule_dir(rules).sha256
    assert [r.id for r in load_rule_dir(rules).active] == ["eth_cap"]


def test_approve_when_evidence_asks_shadow_then_shadow_unless_overridden(rules: Path) -> None:
    """The tier defaults to what the evidence asks for; --to wins over it."""
    propose(rules, "eth_cap", ETH_CAP, evidence(tier="shadow"))
    propose(rules, "btc_cap", rule_text("btc_cap", 'order.product == "BTC-USD"'), evidence(
        tier="shadow"))  # fmt: skip
    props.approve(rules, "eth_cap", operator="alice", reason="watch it first", now=NOW)
    props.approve(rules, "btc_cap", operator="alice", reason="enforce", now=NOW, to="active")
    loaded = load_rule_dir(rules)
    assert ([r.id for r in loaded.shadow], [r.id for r in loaded.active]) == (
        ["eth_cap"],
        ["btc_cap"],
    )


def test_approve_when_id_clashes_with_core_then_refused_with_real_paths_and_nothing_moved(
    rules: Path,
) -> None:
    """A duplicate id across tiers refuses the whole set: the report names the proposal's
    own file, no temporary path, and no file moved or ledger line written."""
    propose(rules, "stale_mid", rule_text("stale_mid", effect='deny "again"'))
    before = tree(rules)
    with pytest.raises(props.SetWouldNotLoad) as refused:
        props.approve(rules, "stale_mid", operator="alice", reason="dup", now=NOW)
    assert "already used in core/stale.rule" in refused.value.problems
    assert "te-rules-" not in refused.value.problems
    assert tree(rules) == before


def test_approve_when_proposal_halts_then_refused_at_its_line(rules: Path) -> None:
    """`halt` is for core rules: the caret report points into the proposal file."""
    path = propose(rules, "stopper", rule_text("stopper", effect='halt "stop"'))
    before = tree(rules)
    with pytest.raises(props.SetWouldNotLoad) as refused:
        props.approve(rules, "stopper", operator="alice", reason="no", now=NOW)
    assert f"{path}:5:" in refused.value.problems
    assert "halt is allowed only in core rules" in refused.value.problems
    assert tree(rules) == before


def test_approve_when_unknown_or_bad_id_then_refused(rules: Path) -> None:
    """An id that is not pending, and one that would step out of the directory."""
    with pytest.raises(props.UnknownRule):
        props.approve(rules, "nothing", operator="alice", reason="r", now=NOW)
    with pytest.raises(props.ProposalError, match="not a rule id"):
        props.approve(rules, "../core/stale", operator="alice", reason="r", now=NOW)


@pytest.mark.parametrize(
    ("reason", "operator", "message"),
    [(" ", "alice", "blank"), ("a\nb", "alice", "control"), ("x" * 501, "alice", "at most"),
     ("ok", "-bad", "operator")],
)  # fmt: skip
def test_approve_when_reason_or_operator_bad_then_refused_before_anything(
    rules: Path, reason: str, operator: str, message: str
) -> None:
    """What the ledger would carry is checked first."""
    propose(rules, "eth_cap", ETH_CAP)
    before = tree(rules)
    with pytest.raises(props.ProposalError, match=message):
        props.approve(rules, "eth_cap", operator=operator, reason=reason, now=NOW)
    assert tree(rules) == before


def test_approve_when_time_is_naive_then_refused(rules: Path) -> None:
    """A ledger time without a zone would be ambiguous."""
    propose(rules, "eth_cap", ETH_CAP)
    with pytest.raises(props.ProposalError, match="time zone"):
        props.approve(rules, "eth_cap", operator="a", reason="r", now=NOW.replace(tzinfo=None))
    assert (rules / "proposed" / "eth_cap.rule").exists()


# ---------------------------------------------------------------- reject, retire


def test_reject_when_twice_for_one_id_then_both_kept_and_recorded(rules: Path) -> None:
    """A second rejection of the same id does not overwrite the first."""
    propose(rules, "eth_cap", ETH_CAP, evidence())
    props.reject(rules, "eth_cap", operator="bob", reason="too tight", now=NOW)
    propose(rules, "eth_cap", ETH_CAP + "\n")
    later = NOW + dt.timedelta(hours=1)
    props.reject(rules, "eth_cap", operator="bob", reason="still", now=later)
    assert sorted(p.name for p in (rules / "rejected").iterdir()) == [
        "eth_cap.20261202T103000.rule", "eth_cap.evidence.json", "eth_cap.rule",
    ]  # fmt: skip
    assert [e.decision for e in props.ledger(rules)] == ["rejected", "rejected"]
    assert load_rule_dir(rules).active == ()


def test_reject_when_proposal_does_not_load_then_still_rejectable(rules: Path) -> None:
    """A broken proposal is listed with its problems and can be rejected."""
    propose(rules, "broken", "rule oops\n")
    (listed,) = props.list_proposals(rules)
    assert listed.problems is not None
    props.reject(rules, "broken", operator="bob", reason="does not parse", now=NOW)
    assert props.list_proposals(rules) == ()


def test_retire_when_active_then_moved_and_core_refused(rules: Path) -> None:
    """An active rule moves to retired/; a core rule is refused with the brief's words."""
    propose(rules, "eth_cap", ETH_CAP)
    props.approve(rules, "eth_cap", operator="a", reason="r", now=NOW)
    change = props.retire(rules, "eth_cap", operator="a", reason="not needed", now=NOW)
    assert change.rule_set is not None
    assert change.rule_set.active == ()
    assert (rules / "retired" / "eth_cap.rule").read_text() == ETH_CAP
    assert [(e.decision, e.tier) for e in props.ledger(rules)] == [
        ("approved", "active"),
        ("retired", "active"),
    ]
    with pytest.raises(props.ProposalError, match="editing config/rules/core"):
        props.retire(rules, "stale_mid", operator="a", reason="r", now=NOW)
    with pytest.raises(props.UnknownRule):
        props.retire(rules, "eth_cap", operator="a", reason="r", now=NOW)


def test_retire_when_file_holds_two_rules_then_refused(rules: Path) -> None:
    """Moving a file would retire its other rule too: refused."""
    write_rule(rules, "shadow", "pair.rule", rule_text("one"), rule_text("two"))
    with pytest.raises(props.ProposalError, match="holds one, two"):
        props.retire(rules, "one", operator="a", reason="r", now=NOW)


# ---------------------------------------------------------------- new, evidence


def test_add_when_valid_then_copied_and_listed_with_evidence(rules: Path, tmp_path: Path) -> None:
    """`new` copies the rule and its evidence in under the rule's own id."""
    source = tmp_path / "mine.rule"
    source.write_text(ETH_CAP)
    doc = tmp_path / "why.json"
    doc.write_text(json.dumps(evidence(tier="shadow")))
    added = props.add_proposal(rules, source, doc)
    assert (added.id, added.asks_for, added.problems) == ("eth_cap", "shadow", None)
    (listed,) = props.list_proposals(rules)
    assert listed == added
    assert listed.evidence is not None
    assert listed.evidence.metrics["expectancy_bps"] == "-3.5"


def test_add_when_id_in_force_or_two_rules_then_refused(rules: Path, tmp_path: Path) -> None:
    """An id the set already uses, or a file with two rules, is not a proposal."""
    taken = tmp_path / "taken.rule"
    taken.write_text(rule_text("stale_mid"))
    with pytest.raises(props.ProposalError, match="already in force"):
        props.add_proposal(rules, taken, None)
    two = tmp_path / "two.rule"
    two.write_text(rule_text("a_one") + "\n" + rule_text("a_two"))
    with pytest.raises(props.ProposalError, match="exactly one rule"):
        props.add_proposal(rules, two, None)
    assert not (rules / "proposed").exists()


def test_rule_of_text_when_id_differs_from_stem_then_refused() -> None:
    """A proposal's file is named for its rule's id."""
    with pytest.raises(props.ProposalError, match="named for 'other'"):
        props.rule_of_text(ETH_CAP, rule_id="other", source="other.rule", tier="active")


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"source": "llm"}, "source"), ({"metrics": {"x": "abc"}}, "not a decimal"),
     ({"metrics": {"x": "NaN"}}, "not a decimal"), ({"created": "yesterday"}, "created"),
     ({"extra": 1}, "extra"), ({"summary": " "}, "blank"), ({"tier": "core"}, "tier")],
)  # fmt: skip
def test_parse_evidence_when_malformed_then_refused_naming_the_field(
    changes: dict[str, object], message: str
) -> None:
    """Strict evidence: each bad field is named."""
    with pytest.raises(props.ProposalError, match=message):
        props.parse_evidence(json.dumps(evidence(**changes)).encode(), where="e.json")


_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40)


@given(reason=_TEXT, operator=st.from_regex(r"[a-z][a-z0-9._@-]{0,20}", fullmatch=True))
def test_ledger_line_when_any_text_then_one_line_that_reads_back(
    reason: str, operator: str
) -> None:
    """Whatever the reason holds, an entry is one JSON line that decodes to itself."""
    entry = props.LedgerEntry(ts="2026-12-02T09:30:00+00:00", id="r", decision="approved",
                              tier="active", operator=operator, reason=reason, sha256="0" * 64,
                              file="active/r.rule")  # fmt: skip
    line = props.ledger_line(entry)
    assert line.endswith("\n")
    assert line.count("\n") == 1
    assert json.loads(line)["reason"] == reason
