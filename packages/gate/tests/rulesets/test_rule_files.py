"""Rule directories into rule sets: tiers by location, all or nothing, hashes that name a set."""

import os
from pathlib import Path

import pytest

from rule_stubs import rule_text, write_rule
from trading_gate.core.rule_set import EMPTY_RULES_SHA256
from trading_gate.rule_files import (
    MAX_RULE_FILE_BYTES,
    RuleSetError,
    load_rule_dir,
    rule_dir_fingerprint,
)

ETH_CAP = rule_text(
    "eth_cap",
    'order.product == "ETH-USD"',
    'deny "ETH capped" if position.notional_after_usd > 20% * account.equity_usd',
)


def test_load_when_directory_missing_then_empty_set_with_the_empty_hash(tmp_path: Path) -> None:
    """No rules directory is no rules, not an error: the gate runs on safety.yaml alone."""
    rules = load_rule_dir(tmp_path / "absent")
    assert (rules.core, rules.active, rules.shadow) == ((), (), ())
    assert rules.sha256 == EMPTY_RULES_SHA256
    assert not rules.any


def test_load_when_files_in_each_tier_then_tier_comes_from_the_directory(tmp_path: Path) -> None:
    """The tier is where the file lives; files load in name order within a tier."""
    write_rule(tmp_path, "core", "b.rule", rule_text("core_b", "order.size_base > 5"))
    write_rule(tmp_path, "core", "a.rule", rule_text("core_a", "order.size_base > 9"))
    write_rule(tmp_path, "active", "eth.rule", ETH_CAP)
    write_rule(tmp_path, "shadow", "s.rule", rule_text("shadow_1", "time.hour == 3"))
    (tmp_path / "active" / "README.md").write_text("not a rule file: ignored")
    rules = load_rule_dir(tmp_path)
    assert [r.id for r in rules.core] == ["core_a", "core_b"]
    assert [r.id for r in rules.active] == ["eth_cap"]
    assert [r.id for r in rules.shadow] == ["shadow_1"]
    assert [(t, r.id) for t, r in rules.enforced] == [
        ("core", "core_a"), ("core", "core_b"), ("active", "eth_cap"),
    ]  # fmt: skip
    assert [f.path for f in rules.files] == [
        "core/a.rule", "core/b.rule", "active/eth.rule", "shadow/s.rule",
    ]  # fmt: skip


def test_load_when_one_file_is_bad_then_nothing_loads_and_every_problem_is_named(
    tmp_path: Path,
) -> None:
    """All or nothing: one bad file refuses the set, and the report shows file:line:col."""
    write_rule(tmp_path, "active", "good.rule", ETH_CAP)
    bad = write_rule(tmp_path, "active", "typo.rule", rule_text("typo", "order.prodcut == 1"))
    write_rule(tmp_path, "shadow", "halt.rule", rule_text("h", "time.hour == 1", 'halt "x"'))
    with pytest.raises(RuleSetError) as caught:
        load_rule_dir(tmp_path)
    text = caught.value.render()
    assert f"{bad}:5:" in text
    assert "order.product" in text  # the did-you-mean
    assert "halt" in text  # halt outside the core tier is the second problem
    assert "no rule was loaded" in text


def test_load_when_an_id_repeats_across_tiers_then_refused(tmp_path: Path) -> None:
    """Ids name rules in decisions and counterfactuals, so they are unique over the set."""
    write_rule(tmp_path, "core", "a.rule", rule_text("same", "order.size_base > 1"))
    write_rule(tmp_path, "shadow", "b.rule", rule_text("same", "order.size_base > 2"))
    with pytest.raises(RuleSetError, match=r"shadow/b.rule: rule id 'same' is already used"):
        load_rule_dir(tmp_path)


def test_load_when_file_too_large_or_a_symlink_then_refused(tmp_path: Path) -> None:
    """Size is checked before reading; a symlink could point anywhere, so it is refused."""
    big = tmp_path / "core" / "big.rule"
    big.parent.mkdir(parents=True)
    big.write_text("#" * (MAX_RULE_FILE_BYTES + 1))
    os.symlink(big, tmp_path / "core" / "link.rule")
    with pytest.raises(RuleSetError) as caught:
        load_rule_dir(tmp_path)
    assert "big.rule" in str(caught.value)
    assert "at most 65536" in str(caught.value)
    assert "link.rule: not a regular file" in str(caught.value)


def test_load_when_not_utf8_then_refused_with_the_byte(tmp_path: Path) -> None:
    """Undecodable bytes are a clear problem, not a crash."""
    path = tmp_path / "active" / "x.rule"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"rule \xff")
    with pytest.raises(RuleSetError, match="not UTF-8"):
        load_rule_dir(tmp_path)


def test_hash_when_a_byte_changes_or_a_file_moves_then_the_hash_changes(tmp_path: Path) -> None:
    """The set's hash covers every file's path and content: edits and moves are visible."""
    path = write_rule(tmp_path, "shadow", "eth.rule", ETH_CAP)
    first = load_rule_dir(tmp_path).sha256
    assert load_rule_dir(tmp_path).sha256 == first  # same files, same hash
    path.write_text(ETH_CAP.replace("20%", "25%"))
    edited = load_rule_dir(tmp_path).sha256
    (tmp_path / "active").mkdir()
    path.rename(tmp_path / "active" / "eth.rule")
    moved = load_rule_dir(tmp_path).sha256
    assert len({first, edited, moved}) == 3


def test_fingerprint_when_a_file_changes_then_it_differs(tmp_path: Path) -> None:
    """The gate polls this to reload: adding or editing a file changes it."""
    before = rule_dir_fingerprint(tmp_path)
    path = write_rule(tmp_path, "active", "eth.rule", ETH_CAP)
    added = rule_dir_fingerprint(tmp_path)
    path.write_text(ETH_CAP + "\n# edited, longer\n")
    assert before == ()
    assert added != before
    assert rule_dir_fingerprint(tmp_path) != added


def test_audit_summary_when_loaded_then_names_every_file_hash(tmp_path: Path) -> None:
    """What the audit log keeps of a load: the set's hash and each file's."""
    write_rule(tmp_path, "active", "eth.rule", ETH_CAP)
    rules = load_rule_dir(tmp_path)
    summary = rules.audit_summary()
    assert summary["sha256"] == rules.sha256
    assert summary["counts"] == {"core": 0, "active": 1, "shadow": 0}
    files = summary["files"]
    assert isinstance(files, list)
    assert files[0]["rule_ids"] == ["eth_cap"]
