"""What a rule file can be refused for, as values that show where.

    ValueError
      RuleLoadError      the file is refused; carries every RuleProblem found

A `RuleProblem` keeps the text of the line it points at, so `render()` can show it
with a caret long after the source is gone (in an alert, in `te rules check`).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

__all__ = ["RuleLoadError", "RuleProblem", "line_text", "position_of"]

# A caret line for a line of 100 KB is useless; the shown line is cut around the column.
_SHOWN: Final = 120


@dataclass(frozen=True, kw_only=True, slots=True)
class RuleProblem:
    """One problem at a 1-based line and column of a rule file."""

    source: str
    line: int
    column: int
    message: str
    line_text: str = ""

    def render(self) -> str:
        """`file:line:col: error: message`, then the line, then a caret under the column."""
        head = f"{self.source}:{self.line}:{self.column}: error: {self.message}"
        if not self.line_text:
            return head
        shown, caret_at = _window(self.line_text, max(self.column - 1, 0))
        return f"{head}\n  {shown}\n  {' ' * caret_at}^"


def _window(text: str, index: int) -> tuple[str, int]:
    if len(text) <= _SHOWN:
        return text, min(index, len(text))
    start = max(0, min(index - _SHOWN // 2, len(text) - _SHOWN))
    return text[start : start + _SHOWN], min(index - start, _SHOWN)


class RuleLoadError(ValueError):
    """A rule file that cannot be loaded; `problems` lists every problem found."""

    def __init__(self, problems: Iterable[RuleProblem]) -> None:
        self.problems: tuple[RuleProblem, ...] = tuple(problems)
        super().__init__("\n".join(p.render() for p in self.problems))


def line_text(text: str, line: int) -> str:
    """The text of the 1-based `line` of `text` (empty past the end), without control
    characters that would garble a terminal."""
    start = 0
    for _ in range(line - 1):
        found = text.find("\n", start)
        if found < 0:
            return ""
        start = found + 1
    end = text.find("\n", start)
    raw = text[start:] if end < 0 else text[start:end]
    return "".join(c if c.isprintable() else " " for c in raw)


def position_of(text: str, offset: int) -> tuple[int, int]:
    """The 1-based (line, column) of a character offset."""
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column
