"""The README's two commands stay true: CI runs exactly the second one."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```bash\n(.+?)\n```", text)


def test_readme_when_opened_then_two_setup_commands_come_first() -> None:
    """The README opens with exactly two commands: run the system, run the tests."""
    commands = _readme_commands()
    assert len(commands) >= 2
    run, test = commands[:2]
    assert run.endswith("te up")
    assert test.endswith("python scripts/check.py")
    first_block = (ROOT / "README.md").read_text().index("```bash")
    assert "## " not in (ROOT / "README.md").read_text()[:first_block]


def test_ci_when_read_then_runs_exactly_the_readme_test_command() -> None:
    """.ci/run's last command is the README's test command, character for character."""
    lines = [
        line
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert lines[-1] == _readme_commands()[1]
