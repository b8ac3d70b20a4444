"""The audit log's errors (the bases live in `trading_gate.errors`).

    OperatorActionRequired          halt: send nothing, wait for an operator
    ├── AuditWriteFailed            a row or an anchor was not made durable; nothing half-applied
    └── AuditUnavailable            the log cannot be opened or read (missing, locked, unreadable)
        ├── AuditCorrupt            not a database, quick_check fails, or the head row is bad
        └── AuditSchemaMismatch     the file's schema is not one this code knows
    GateBug                         crash: a caller broke the log's contract (a nested or
    │                               finished transaction, a write after close)
    └── InvalidAuditInput           a float, a bad key, event type or time (also a ValueError)

Tampering is not an exception: `verify_audit` returns a `VerifyReport` naming the first
bad row.
"""

from __future__ import annotations

from trading_gate.errors import GateBug, OperatorActionRequired

__all__ = [
    "AuditCorrupt",
    "AuditSchemaMismatch",
    "AuditUnavailable",
    "AuditWriteFailed",
    "InvalidAuditInput",
]


class AuditWriteFailed(OperatorActionRequired):
    """A row or an anchor could not be made durable (disk full, locked, I/O error, corrupt).

    Nothing was half-applied: the log's head is the last committed row. The gate halts and
    sends nothing whose journal row this write carried.
    """


class AuditUnavailable(OperatorActionRequired):
    """The audit database cannot be opened or read (missing, locked, unreadable)."""


class AuditCorrupt(AuditUnavailable):
    """The file is not a database, fails ``PRAGMA quick_check``, or its head row is bad."""


class AuditSchemaMismatch(AuditUnavailable):
    """The file's ``user_version`` or tables are not a schema this code knows."""


class InvalidAuditInput(GateBug, ValueError):
    """A payload, event type or time the log refuses; the caller has a bug."""
