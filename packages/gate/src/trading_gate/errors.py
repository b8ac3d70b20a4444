"""The gate's error tree. Each class names what happens next, not what went wrong.

    GateBug                      a broken invariant in the gate itself: crash, restart,
    │                            reconcile (crash-only; never caught to carry on)
    ├── InvalidTransition        an order event the lifecycle table does not allow
    └── InvalidAuditInput        (audit) a float, bad key, event type or time was passed
    OperatorActionRequired       the gate halts and a human must act before it trades
    ├── AuditWriteFailed         (audit) the journal could not be written: send nothing
    ├── AuditUnavailable         (audit) the log cannot be opened or read
    │   ├── AuditCorrupt         not a database, quick_check fails, or the head row is bad
    │   └── AuditSchemaMismatch  the file's schema is not one this code knows
    └── KeyFileError             (secrets.py) the key file is missing or unsafe

Refused orders are not errors: they are `Rejected` values, audited with their code.
"""


class GateBug(Exception):
    """The gate broke one of its own invariants."""


class OperatorActionRequired(Exception):
    """Trading stops until a human has looked: the message says what to check."""
