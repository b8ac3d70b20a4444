"""The gate's error tree. Each class names what happens next, not what went wrong.

    GateBug                      a broken invariant in the gate itself: crash, restart,
    │                            reconcile (crash-only; never caught to carry on)
    └── InvalidTransition        an order event the lifecycle table does not allow
    OperatorActionRequired       the gate halts and a human must act before it trades
    ├── AuditWriteFailed         the journal could not be written: send nothing
    └── KeyFileError             (secrets.py) the key file is missing or unsafe

Refused orders are not errors: they are `Rejected` values, audited with their code.
"""


class GateBug(Exception):
    """The gate broke one of its own invariants."""


class OperatorActionRequired(Exception):
    """Trading stops until a human has looked: the message says what to check."""
