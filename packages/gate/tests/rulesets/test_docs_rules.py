"""docs/rules.md, the language reference: every example in it is a test.

- each `rule` block (optionally `rule core` / `rule shadow`; plain means active) loads;
- each `case` block after it (field = value lines, then `=> fires`, `=> passes` or
  `=> error: fragment`) is evaluated on that rule, with unlisted fields unavailable;
- each `refused` block is refused at load with the following `error` block's text;
- the vocabulary table between the markers is exactly what the code prints.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from trading_gate.rules import Rule, RuleContext, RuleLoadError, Value, evaluate, load_rules
from trading_gate.rules.vocabulary import VOCABULARY, describe

DOC = Path(__file__).resolve().parents[4] / "docs" / "rules.md"
_BLOCK = re.compile(r"^```(\w+)(?: (\w+))?\n(.*?)^```$", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class _Case:
    rule_text: str
    tier: str
    given: str
    line: int


def _blocks() -> Iterator[tuple[str, str, str, int]]:
    text = DOC.read_text()
    for match in _BLOCK.finditer(text):
        kind, arg, body = match.group(1), match.group(2) or "", match.group(3)
        yield kind, arg, body, text.count("\n", 0, match.start()) + 1


def _cases() -> list[_Case]:
    cases: list[_Case] = []
    rule: tuple[str, str] | None = None
    for kind, arg, body, line in _blocks():
        if kind == "rule":
            rule = (body, arg or "active")
        elif kind == "case":
            assert rule is not None, f"docs/rules.md:{line}: a case before any rule"
            cases.append(_Case(rule[0], rule[1], body, line))
    return cases


def _refusals() -> list[tuple[str, str, int]]:
    found: list[tuple[str, str, int]] = []
    pending: tuple[str, int] | None = None
    for kind, _, body, line in _blocks():
        if kind == "refused":
            pending = (body, line)
        elif kind == "error":
            assert pending is not None, f"docs/rules.md:{line}: an error block with no refusal"
            found.append((pending[0], body.strip(), pending[1]))
            pending = None
    return found


def _context(lines: list[str]) -> RuleContext:
    values: dict[str, Value] = {}
    for line in lines:
        name, raw = (part.strip() for part in line.split(" = ", 1))
        if raw.startswith('"'):
            values[name] = raw.strip('"')
        elif raw in ("true", "false"):
            values[name] = raw == "true"
        else:
            values[name] = Decimal(raw)
    missing = {n: "not given in this case" for n in VOCABULARY if n not in values}
    return RuleContext(values, missing)


def _only_rule(text: str, tier: str) -> Rule:
    rules = load_rules(text, source="docs/rules.md", tier=tier)  # type: ignore[arg-type]
    assert len(rules) == 1
    return rules[0]


CASES = _cases()


def test_docs_when_read_then_every_rule_block_has_at_least_one_case() -> None:
    """An example without a case would be an untested claim."""
    with_cases = {c.rule_text for c in CASES}
    rules = [body for kind, _, body, _ in _blocks() if kind == "rule"]
    assert len(rules) >= 8
    assert set(rules) == with_cases


@pytest.mark.parametrize("case", CASES, ids=[f"line{c.line}" for c in CASES])
def test_docs_case_when_evaluated_then_gives_the_stated_outcome(case: _Case) -> None:
    """Each case's stated outcome is what the evaluator gives."""
    *given, expected = [line for line in case.given.splitlines() if line.strip()]
    outcome = evaluate(_only_rule(case.rule_text, case.tier), _context(given))
    if expected == "=> fires":
        assert outcome.fired
        assert outcome.error is None, outcome
    elif expected == "=> passes":
        assert not outcome.fired
        assert outcome.error is None, outcome
    else:
        fragment = expected.removeprefix("=> error:").strip()
        assert expected.startswith("=> error:")
        assert outcome.error is not None, outcome
        assert fragment in outcome.error, outcome.error


@pytest.mark.parametrize("refusal", _refusals(), ids=lambda r: f"line{r[2]}")
def test_docs_refused_when_loaded_then_refused_with_the_stated_message(
    refusal: tuple[str, str, int],
) -> None:
    """Each `refused` example is refused at load, with the message the page shows."""
    text, message, _ = refusal
    with pytest.raises(RuleLoadError) as caught:
        load_rules(text, source="docs/rules.md", tier="active")
    assert message in str(caught.value)


def test_docs_when_read_then_the_vocabulary_table_is_the_codes() -> None:
    """The page's vocabulary is exactly what `trading-gate rules vocabulary` prints."""
    text = DOC.read_text()
    inside = text.split("<!-- vocabulary:start -->\n", 1)[1].split("<!-- vocabulary:end -->")[0]
    assert inside.strip() == describe().strip()


def test_readme_when_read_then_its_rule_example_loads() -> None:
    """The README's example rule is valid rule language too."""
    readme = (DOC.parents[1] / "README.md").read_text()
    fenced = re.compile(r"^```\n(rule .*?)^```$", re.MULTILINE | re.DOTALL)
    examples = [m.group(1) for m in fenced.finditer(readme)]
    assert examples
    for text in examples:
        assert _only_rule(text, "active").id
