"""`trading-gate rules check | explain | vocabulary`: lint a rule directory, show which
rules fire on one order and why, and print the fields a rule may read.

`explain` takes the order's rule context as JSON: either a plain object of field values
(`{"order.product": "ETH-USD", "position.notional_after_usd": "2500", ...}`; fields not
given are unavailable, so a rule that reads one fails closed, as in the gate), or the
`rule_context` object that the gate's audit row of a decision holds
(`{"values": {...}, "unavailable": {...}}`), or a whole audit payload holding one. With
`--db` and `--seq` it reads that audit row straight from gate.db.
"""

import json
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Final

from trading_gate.core.rule_set import RuleSet
from trading_gate.read import GateDbError, open_gate_db
from trading_gate.rule_files import RuleSetError, load_rule_dir
from trading_gate.rules import VOCABULARY, Expr, Rule, RuleContext, Value, evaluate
from trading_gate.rules.ast import Field, ReduceOnly, Require, children
from trading_gate.rules.limits import LimitExceeded, parse_number
from trading_gate.rules.vocabulary import Kind

__all__ = ["ExplainInputError", "check_dir", "context_from_json", "explain", "rule_fields"]

_MAX_INPUT_BYTES: Final = 256 * 1024


class ExplainInputError(ValueError):
    """The context given to `explain` cannot be read; the message says where."""


def check_dir(root: Path) -> tuple[int, str]:
    """(exit code, report): 0 and a summary if every file loads, 1 and every problem."""
    try:
        rules = load_rule_dir(root)
    except RuleSetError as exc:
        return 1, exc.render()
    lines = [f"{root}: {rules.counts_text()}; sha256 {rules.sha256}"]
    for rule_file in rules.files:
        ids = ", ".join(rule_file.rule_ids)
        lines.append(f"  {rule_file.path}: {len(rule_file.rule_ids)} rule(s): {ids}")
    if not rules.files:
        lines.append("  no rule files (looked in core/, active/ and shadow/)")
    return 0, "\n".join(lines)


def explain(rules: RuleSet, ctx: RuleContext) -> str:
    """Every rule in evaluation order: what it decided on `ctx`, and the values it read."""
    lines: list[str] = []
    tiers = (*rules.enforced, *(("shadow", r) for r in rules.shadow))
    verdict = "approved by the rules"
    for tier, rule in tiers:
        outcome = evaluate(rule, ctx)
        if outcome.error is not None:
            head = f"ERROR (denies): {outcome.error}"
        elif outcome.fired:
            head = f"FIRES {outcome.kind}: {outcome.message}"
        else:
            head = "passes"
        if tier != "shadow" and outcome.blocks and verdict.startswith("approved"):
            verdict = f"denied by {rule.id}"
        shadow = " (shadow: recorded, never enforced)" if tier == "shadow" else ""
        lines.append(f"[{tier}] {rule.id} \u201c{rule.name}\u201d{shadow}: {head}")
        for name in rule_fields(rule):
            lines.append(f"    {name} = {_shown(ctx, name)}")
    if not tiers:
        lines.append("no rules in force")
    lines.append(f"verdict: {verdict}")
    return "\n".join(lines)


def rule_fields(rule: Rule) -> list[str]:
    """The fields `rule` reads, in order of first appearance (walked without recursion)."""
    roots: list[Expr] = [e for e in (rule.when, rule.effect.condition) if e is not None]
    seen: dict[str, None] = {}
    for node in _walk(roots):
        if isinstance(node, Field):
            seen.setdefault(node.name, None)
    # The effects that test the order themselves read one field each.
    match rule.effect:
        case ReduceOnly():
            seen.setdefault("order.reduces_position", None)
        case Require(field=flag):
            seen.setdefault(f"order.{flag}", None)
        case _:
            pass
    return list(seen)


def _walk(roots: list[Expr]) -> Iterator[Expr]:
    stack = list(reversed(roots))
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(children(node)))


def context_from_json(text: str, *, source: str) -> RuleContext:
    """A rule context from the JSON forms the module docstring lists.

    Raises:
        ExplainInputError: not JSON, not an object, an unknown field, or a value of the
            wrong type for its field.
    """
    if len(text.encode()) > _MAX_INPUT_BYTES:
        raise ExplainInputError(f"{source}: larger than {_MAX_INPUT_BYTES} bytes")
    try:
        data = json.loads(text, parse_float=str, parse_int=str)
    except ValueError as exc:
        raise ExplainInputError(f"{source}: not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ExplainInputError(f"{source}: expected a JSON object")
    if isinstance(data.get("rule_context"), dict):
        data = data["rule_context"]
    given_unavailable: Mapping[str, object] = {}
    if isinstance(data.get("values"), dict):
        given_unavailable = data.get("unavailable") or {}
        data = data["values"]
    values: dict[str, Value] = {}
    for name, raw in data.items():
        values[name] = _value(name, raw, source)
    unavailable = {
        name: str(given_unavailable.get(name, "not given"))
        for name in VOCABULARY
        if name not in values
    }
    return RuleContext(values, unavailable)


def context_from_audit(db: Path, seq: int) -> RuleContext:
    """The rule context recorded with the decision at audit row `seq` of gate.db, read
    through the console's read-only opener.

    Raises:
        ExplainInputError: no gate.db there, not a gate journal, no such row, or a row
            with no rule context (no decision, or the gate had no rules then).
    """
    try:
        with open_gate_db(db) as conn:
            row = conn.execute("SELECT payload FROM audit WHERE seq = ?", (seq,)).fetchone()
    except GateDbError as exc:
        raise ExplainInputError(str(exc)) from None
    if row is None:
        raise ExplainInputError(f"{db}: no audit row {seq}")
    payload = json.loads(row[0])
    if not isinstance(payload, dict) or "rule_context" not in payload:
        raise ExplainInputError(
            f"{db}: audit row {seq} holds no rule context (no decision, or no rules then)"
        )
    return context_from_json(json.dumps(payload["rule_context"]), source=f"{db}#{seq}")


def _value(name: str, raw: object, source: str) -> Value:
    spec = VOCABULARY.get(name)
    if spec is None:
        raise ExplainInputError(f"{source}: {name!r} is not a field of the rule vocabulary")
    if spec.kind is Kind.BOOL:
        if raw in ("true", "false", True, False):
            return raw in ("true", True)
        raise ExplainInputError(f"{source}: {name} must be true or false, got {raw!r}")
    if spec.kind in (Kind.DECIMAL, Kind.DURATION):
        text = str(raw)
        try:
            magnitude = parse_number(text.removeprefix("-"))
        except LimitExceeded as exc:
            raise ExplainInputError(f"{source}: {name}: {exc}") from None
        return -magnitude if text.startswith("-") else magnitude
    if not isinstance(raw, str):
        raise ExplainInputError(f"{source}: {name} must be a string, got {raw!r}")
    if spec.kind is Kind.ENUM and raw not in spec.values:
        raise ExplainInputError(
            f"{source}: {name} must be one of {', '.join(spec.values)}, got {raw!r}"
        )
    return raw


def _shown(ctx: RuleContext, name: str) -> str:
    if name in ctx:
        value = ctx[name]
        return str(value).lower() if isinstance(value, bool) else _plain(value)
    return f"unavailable ({ctx.unavailable.get(name, 'not given')})"


def _plain(value: Decimal | str) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value)
