"""Rule files on disk into the `RuleSet` the gate enforces: read, hash, load, all or nothing.

Layout, one directory per tier (the tier is where a file lives, never what it says):

    <rules dir>/core/*.rule     written by a human; no loop ever retires one; may halt
    <rules dir>/active/*.rule   approved proposals, enforced
    <rules dir>/shadow/*.rule   candidates: evaluated on every order, recorded as
                                would-have outcomes, never enforced

A missing directory is an empty tier. Files are read in name order, so the order of
evaluation is the order of the listing. Anything wrong in any file (a syntax or type
error, a duplicate id across tiers, an unreadable file) refuses the whole set: the
caller keeps the set it had (on a reload) or does not start (at start).
"""

import hashlib
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from trading_gate.core.rule_set import TIERS, RuleFile, RuleSet, Tier, set_hash
from trading_gate.rules import Rule, RuleLoadError, RuleProblem, load_rules

__all__ = [
    "MAX_RULE_FILES",
    "MAX_RULE_FILE_BYTES",
    "RuleSetError",
    "load_rule_dir",
    "rule_dir_fingerprint",
]

MAX_RULE_FILE_BYTES: Final = 64 * 1024
MAX_RULE_FILES: Final = 256


class RuleSetError(Exception):
    """The rule files cannot all be loaded; `problems` says where and why, each one."""

    def __init__(self, source: str, problems: Iterable[RuleProblem | str]) -> None:
        self.source = source
        self.problems = tuple(problems)
        super().__init__(self.render())

    def problem_texts(self) -> list[str]:
        """Each problem as text (a RuleProblem with its line and caret)."""
        return [p if isinstance(p, str) else p.render() for p in self.problems]

    def render(self) -> str:
        head = f"{self.source}: {len(self.problems)} problem(s); no rule was loaded"
        return "\n".join([head, *self.problem_texts()])


def load_rule_dir(root: Path) -> RuleSet:
    """Every rule file under `root`, checked, as one RuleSet.

    Raises:
        RuleSetError: any file is unreadable, too large, not a regular file, or has
            any problem, or two rules anywhere share an id. Lists every problem found.
    """
    problems: list[RuleProblem | str] = []
    loaded: dict[Tier, list[Rule]] = {tier: [] for tier in TIERS}
    files: list[RuleFile] = []
    for tier, path in _rule_paths(root, problems):
        text = _read(path, problems)
        if text is None:
            continue
        relative = f"{tier}/{path.name}"
        try:
            rules = load_rules(text, source=str(path), tier=tier)
        except RuleLoadError as exc:
            problems.extend(exc.problems)
            continue
        loaded[tier].extend(rules)
        digest = hashlib.sha256(text.encode()).hexdigest()
        files.append(
            RuleFile(path=relative, tier=tier, sha256=digest, rule_ids=tuple(r.id for r in rules))
        )
    problems.extend(_duplicate_ids(files))
    if problems:
        raise RuleSetError(str(root), problems)
    return RuleSet(
        core=tuple(loaded["core"]),
        active=tuple(loaded["active"]),
        shadow=tuple(loaded["shadow"]),
        files=tuple(files),
        source=str(root),
        sha256=set_hash(files),
    )


def rule_dir_fingerprint(root: Path) -> tuple[tuple[str, int, int], ...]:
    """(relative path, size, mtime_ns) of every rule file: cheap to poll for changes."""
    found: list[tuple[str, int, int]] = []
    for tier, path in _listed(root):
        try:
            info = path.lstat()
        except OSError:
            continue
        found.append((f"{tier}/{path.name}", info.st_size, info.st_mtime_ns))
    return tuple(found)


def _listed(root: Path) -> list[tuple[Tier, Path]]:
    """Every `*.rule` under the tier directories of `root`, tier by tier, in name order."""
    found: list[tuple[Tier, Path]] = []
    for tier in TIERS:
        directory = root / tier
        if directory.is_dir():
            found.extend((tier, p) for p in sorted(directory.glob("*.rule")))
    return found


def _rule_paths(root: Path, problems: list[RuleProblem | str]) -> list[tuple[Tier, Path]]:
    if root.exists() and not root.is_dir():
        problems.append(f"{root}: not a directory")
        return []
    found = _listed(root)
    if len(found) > MAX_RULE_FILES:
        problems.append(f"{root}: {len(found)} rule files; at most {MAX_RULE_FILES} are read")
        return []
    return found


def _read(path: Path, problems: list[RuleProblem | str]) -> str | None:
    try:
        info = path.lstat()
        if not stat.S_ISREG(info.st_mode):
            problems.append(f"{path}: not a regular file (symlinks are refused)")
            return None
        if info.st_size > MAX_RULE_FILE_BYTES:
            problems.append(
                f"{path}: {info.st_size} bytes; a rule file holds at most {MAX_RULE_FILE_BYTES}"
            )
            return None
        data = path.read_bytes()
    except OSError as exc:
        problems.append(f"{path}: cannot be read ({exc.strerror or exc})")
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append(f"{path}: not UTF-8 (byte {exc.start})")
        return None


def _duplicate_ids(files: Iterable[RuleFile]) -> list[str]:
    first: dict[str, str] = {}
    problems: list[str] = []
    for rule_file in files:
        for rule_id in rule_file.rule_ids:
            if rule_id in first and first[rule_id] != rule_file.path:
                problems.append(
                    f"{rule_file.path}: rule id {rule_id!r} is already used in {first[rule_id]}"
                )
            first.setdefault(rule_id, rule_file.path)
    return problems
