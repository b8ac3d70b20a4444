"""The verifier's verdict: what kinds of problem it finds, each finding, and the report."""

from __future__ import annotations

import enum

import msgspec

__all__ = ["ProblemKind", "VerifyProblem", "VerifyReport"]


class ProblemKind(enum.StrEnum):
    """What `verify_audit` found wrong, and what it means."""

    HASH_MISMATCH = "hash_mismatch"  # the row's content was altered
    BROKEN_LINK = "broken_link"  # rows reordered, inserted or replaced
    GAP = "gap"  # rows deleted
    MALFORMED = "malformed"  # a column holds the wrong type
    ANCHOR_MISMATCH = "anchor_mismatch"  # the chain was rebuilt since that anchor
    TRUNCATED = "truncated"  # the tail after the chain's end was cut
    BAD_ANCHOR_FILE = "bad_anchor_file"  # the anchor file is missing or garbled
    CORRUPT_DATABASE = "corrupt_database"  # SQLite itself reports damage


class VerifyProblem(msgspec.Struct, frozen=True):
    """One finding; ``seq`` is the first row it concerns, None for the anchor file."""

    seq: int | None
    kind: ProblemKind
    message: str


class VerifyReport(msgspec.Struct, frozen=True, kw_only=True):
    """The verdict on a chain; ``problems`` are in seq order, the first bad row first."""

    rows_checked: int
    head_seq: int
    head_hash: str
    anchors_checked: int
    problems: tuple[VerifyProblem, ...]

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems
