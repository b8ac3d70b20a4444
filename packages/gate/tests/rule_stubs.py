"""Rule files for tests: text in the rule language, written where the gate looks."""

from pathlib import Path


def rule_text(
    rule_id: str,
    when: str | None = None,
    effect: str = 'deny "denied by a test rule"',
    *,
    name: str | None = None,
) -> str:
    """One rule with its metadata; `when` and `effect` are the language's own clauses."""
    lines = [
        f'rule "{name or rule_id.replace("_", " ")}"',
        f"  id {rule_id}",
        '  author "human:test"',
        "  created 2026-12-01",
    ]
    if when is not None:
        lines.append(f"  when {when}")
    lines.append(f"  {effect}")
    return "\n".join(lines) + "\n"


def write_rule(root: Path, tier: str, file_name: str, *texts: str) -> Path:
    """`texts` as one file `root/tier/file_name`; returns its path."""
    path = root / tier / file_name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(texts))
    return path
