"""`trading-gate audit verify`: the audit chain's verdict as an exit code and text.

Exit codes: 0 the chain verifies; 1 it does not (the text names the first bad row);
2 the database is missing or cannot be read as an audit log.
"""

from pathlib import Path
from typing import Final

from trading_gate.audit import AuditUnavailable, VerifyProblem, VerifyReport, verify_audit

__all__ = ["EXIT_BAD_CHAIN", "EXIT_OK", "EXIT_UNREADABLE", "audit_verify"]

EXIT_OK: Final = 0
EXIT_BAD_CHAIN: Final = 1
EXIT_UNREADABLE: Final = 2

_NO_ANCHOR_WARNING: Final = (
    "warning: no anchor file given; a cut tail or a rebuilt chain would go unnoticed"
)


def audit_verify(db: Path, anchor: Path | None) -> tuple[int, str]:
    """Verify the chain in ``db`` against the anchor file; return (exit code, text)."""
    try:
        report = verify_audit(db, anchor)
    except AuditUnavailable as exc:
        return EXIT_UNREADABLE, f"error: cannot read the audit log: {exc}"
    if report.ok:
        text = (
            f"ok: {report.rows_checked} rows, head seq {report.head_seq}"
            f" hash {report.head_hash}, anchors checked {report.anchors_checked}"
        )
        return EXIT_OK, text if anchor is not None else f"{text}\n{_NO_ANCHOR_WARNING}"
    return EXIT_BAD_CHAIN, _failure_text(report)


def _failure_text(report: VerifyReport) -> str:
    first = report.problems[0]
    headline = (
        f"FAILED: first bad row seq {first.seq}: {first.message}"
        if first.seq is not None
        else f"FAILED: {first.message}"
    )
    lines = [headline, f"{len(report.problems)} problem(s):"]
    lines += [f"  {_describe(problem)}" for problem in report.problems]
    lines.append(
        f"checked {report.rows_checked} rows up to seq {report.head_seq},"
        f" anchors checked {report.anchors_checked}"
    )
    return "\n".join(lines)


def _describe(problem: VerifyProblem) -> str:
    where = f"seq {problem.seq}" if problem.seq is not None else "file"
    return f"{where} [{problem.kind}]: {problem.message}"
