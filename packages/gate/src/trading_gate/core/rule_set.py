"""The rule set the gate enforces, by tier, and the hash that names it (pure: no I/O).

`trading_gate.rule_files` reads one from disk; the policy evaluates it.
"""

import hashlib
from collections.abc import Iterable
from typing import Final

import msgspec

from trading_gate.rules import Rule, Tier

__all__ = [
    "EMPTY_RULES_SHA256",
    "TIERS",
    "RuleFile",
    "RuleSet",
    "Tier",
    "empty_rule_set",
    "set_hash",
]

TIERS: Final[tuple[Tier, ...]] = ("core", "active", "shadow")
EMPTY_RULES_SHA256: Final = hashlib.sha256(b"").hexdigest()


class RuleFile(msgspec.Struct, frozen=True, kw_only=True):
    """One loaded file: where it lives, its tier, its content hash and its rule ids."""

    path: str  # relative to the rules directory, e.g. "active/eth_cap.rule"
    tier: Tier
    sha256: str
    rule_ids: tuple[str, ...]


class RuleSet(msgspec.Struct, frozen=True, kw_only=True):
    """The rules in force, by tier, and the hash that names this exact set.

    `sha256` covers every file's relative path and content hash, so renaming a file,
    moving it between tiers or editing one byte gives another hash; the empty set's
    hash is sha256 of nothing.
    """

    core: tuple[Rule, ...] = ()
    active: tuple[Rule, ...] = ()
    shadow: tuple[Rule, ...] = ()
    files: tuple[RuleFile, ...] = ()
    source: str = ""
    sha256: str = EMPTY_RULES_SHA256

    @property
    def enforced(self) -> tuple[tuple[Tier, Rule], ...]:
        """Core rules first, then active ones, each in file and source order."""
        return tuple(("core", r) for r in self.core) + tuple(("active", r) for r in self.active)

    @property
    def any(self) -> bool:
        """Whether there is any rule to evaluate, enforced or shadow."""
        return bool(self.core or self.active or self.shadow)

    def counts(self) -> dict[str, int]:
        return {"core": len(self.core), "active": len(self.active), "shadow": len(self.shadow)}

    def counts_text(self) -> str:
        """`1 core, 2 active, 0 shadow`, for messages."""
        return ", ".join(f"{n} {tier}" for tier, n in self.counts().items())

    def audit_summary(self) -> dict[str, object]:
        """What the audit log keeps of a load: the set's hash and every file's."""
        return {
            "sha256": self.sha256,
            "source": self.source,
            "counts": self.counts(),
            "files": [msgspec.to_builtins(f) | {"rule_ids": list(f.rule_ids)} for f in self.files],
        }


def empty_rule_set(source: str = "") -> RuleSet:
    return RuleSet(source=source)


def set_hash(files: Iterable[RuleFile]) -> str:
    """sha256 over every file's relative path and content hash, in load order."""
    listing = "".join(f"{f.path}\0{f.sha256}\n" for f in files)
    return hashlib.sha256(listing.encode()).hexdigest() if listing else EMPTY_RULES_SHA256
