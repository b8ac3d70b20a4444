"""`trading-gate rules check | explain | vocabulary`: through click, with real files."""

import json
from pathlib import Path

from click.testing import CliRunner

from gate_stubs import config, context, order
from rule_stubs import rule_text, write_rule
from trading_gate.cli import main
from trading_gate.policy import decide, rule_context_record
from trading_gate.rule_files import load_rule_dir

ETH_CAP = rule_text(
    "eth_cap",
    'order.product == "ETH-USD"',
    'deny "ETH capped at 20% of equity" if position.notional_after_usd > 20% * account.equity_usd',
)
NIGHT = rule_text("no_night_entries", "time.hour between 0 and 5 and not order.reduces_position")


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["rules", *args])
    return result.exit_code, result.output


def test_check_when_clean_then_exit_0_listing_files_and_ids(tmp_path: Path) -> None:
    """A clean directory: its counts, its hash, and each file with its rule ids."""
    write_rule(tmp_path, "active", "eth.rule", ETH_CAP)
    write_rule(tmp_path, "shadow", "night.rule", NIGHT)
    code, out = _run("check", str(tmp_path))
    assert code == 0
    assert f"0 core, 1 active, 1 shadow; sha256 {load_rule_dir(tmp_path).sha256}" in out
    assert "active/eth.rule: 1 rule(s): eth_cap" in out


def test_check_when_a_problem_then_exit_1_with_a_caret(tmp_path: Path) -> None:
    """The lint shows file:line:col, the line itself and a caret under the spot."""
    bad = write_rule(tmp_path, "core", "bad.rule", rule_text("bad", 'regime.volatility == "hihg"'))
    code, out = _run("check", str(tmp_path))
    assert code == 1
    lines = out.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith(f"{bad}:5:"))
    assert '"hihg"' in lines[head]
    assert "high" in lines[head]
    caret_column = lines[head + 2].index("^")
    assert lines[head + 1][caret_column:].startswith('"hihg"')


def test_explain_when_field_values_then_each_rule_with_the_values_it_read(tmp_path: Path) -> None:
    """A plain object of field values: the firing rule, its message and its inputs."""
    write_rule(tmp_path, "active", "eth.rule", ETH_CAP)
    write_rule(tmp_path, "shadow", "night.rule", NIGHT)
    given = tmp_path / "order.json"
    given.write_text(json.dumps({
        "order.product": "ETH-USD", "position.notional_after_usd": "2500",
        "account.equity_usd": 10000, "time.hour": 3, "order.reduces_position": False,
    }))  # fmt: skip
    code, out = _run("explain", str(given), "--rules", str(tmp_path))
    assert code == 0, out
    assert "[active] eth_cap" in out
    assert "FIRES deny: ETH capped at 20% of equity" in out
    assert "position.notional_after_usd = 2500" in out
    assert "[shadow] no_night_entries" in out
    assert "never enforced" in out
    assert out.rstrip().endswith("verdict: denied by eth_cap")


def test_explain_when_a_field_is_missing_then_the_rule_fails_closed(tmp_path: Path) -> None:
    """As in the gate: a field with no value makes the rule deny, and explain says why."""
    write_rule(tmp_path, "active", "eth.rule", ETH_CAP)
    given = tmp_path / "order.json"
    given.write_text(json.dumps({"order.product": "ETH-USD"}))
    code, out = _run("explain", str(given), "--rules", str(tmp_path))
    assert code == 0
    assert "ERROR (denies)" in out
    assert "position.notional_after_usd = unavailable" in out
    assert "verdict: denied by eth_cap" in out


def test_explain_when_an_audit_rule_context_then_it_is_read_back(tmp_path: Path) -> None:
    """The `rule_context` the gate records with a decision explains that decision."""
    write_rule(tmp_path, "active", "night.rule", NIGHT)
    verdict = decide(order(), context(), config(), load_rule_dir(tmp_path))
    assert verdict.rule_context is not None
    given = tmp_path / "row.json"
    given.write_text(json.dumps({"rule_context": rule_context_record(verdict.rule_context)}))
    code, out = _run("explain", str(given), "--rules", str(tmp_path))
    assert code == 0, out
    assert "time.hour = 18" in out  # the mothers' clock: 2025-12-01 18:40 UTC


def test_explain_when_the_input_is_wrong_then_exit_2_naming_it(tmp_path: Path) -> None:
    """Unknown fields, wrong types and bad JSON are named, with the file."""
    given = tmp_path / "order.json"
    for text, expected in (
        ('{"order.prodcut": "x"}', "'order.prodcut' is not a field"),
        ('{"order.reduces_position": "maybe"}', "must be true or false"),
        ('{"order.side": "hold"}', "must be one of buy, sell"),
        ('{"order.size_base": "1e999999"}', "exponent"),
        ("[1, 2]", "expected a JSON object"),
        ("{", "not JSON"),
    ):
        given.write_text(text)
        code, out = _run("explain", str(given), "--rules", str(tmp_path))
        assert code == 2
        assert expected in out
        assert str(given) in out, (text, out)


def test_vocabulary_when_printed_then_lists_every_field_with_its_type() -> None:
    """The vocabulary prints itself, so docs and `te rules` never drift from the code."""
    code, out = _run("vocabulary")
    assert code == 0
    assert "order.notional_usd" in out
    assert "market.mid_age" in out
    assert "decimal usd" in out


def test_explain_when_the_db_is_missing_or_not_a_journal_then_exit_2_naming_it(
    tmp_path: Path,
) -> None:
    """--db on a missing file or a file that is no database: a one-line error, no trace."""
    junk = tmp_path / "junk.db"
    junk.write_text("not sqlite")
    for db, expected in ((tmp_path / "none.db", "no gate.db at"), (junk, "not a database")):
        code, out = _run("explain", "--db", str(db), "--seq", "1", "--rules", str(tmp_path))
        assert code == 2, out
        assert expected in out
        assert str(db) in out
        assert "Traceback" not in out
