"""The hash-chained audit log in gate.db, its external anchor file, and the verifier.

Every row commits to the one before it: ``hash = SHA-256(tag, seq, times, event_type,
prev_hash, payload)`` over a length-prefixed encoding, from a genesis ``prev_hash`` of 64
zeros. Whoever can write gate.db can still cut its tail or rebuild the whole chain, so the
head ``(seq, hash)`` is also appended to an anchor file outside the database
(RELIABILITY.md section 1, finding 10); `verify_audit` checks the chain against it.

Modules: `encoding` (canonical JSON, the row hash), `records` (row values), `database`
(opening, schema, error translation), `anchors` (the anchor file), `log` (the writer),
`report` and `verify` (the verifier). Their errors, drawn as a tree, are in `errors`.
"""

from trading_gate.audit.anchors import Anchor, write_anchor
from trading_gate.audit.database import (
    DEFAULT_BUSY_TIMEOUT_MS,
    SCHEMA_VERSION,
    open_audit_db,
)
from trading_gate.audit.encoding import DOMAIN_TAG, GENESIS_HASH, canonical_json, row_hash
from trading_gate.audit.errors import (
    AuditCorrupt,
    AuditSchemaMismatch,
    AuditUnavailable,
    AuditWriteFailed,
    InvalidAuditInput,
)
from trading_gate.audit.log import DEFAULT_ANCHOR_EVERY, AuditLog, AuditTransaction
from trading_gate.audit.records import AuditHead, AuditRecord
from trading_gate.audit.report import ProblemKind, VerifyProblem, VerifyReport
from trading_gate.audit.verify import verify_audit

__all__ = [
    "DEFAULT_ANCHOR_EVERY",
    "DEFAULT_BUSY_TIMEOUT_MS",
    "DOMAIN_TAG",
    "GENESIS_HASH",
    "SCHEMA_VERSION",
    "Anchor",
    "AuditCorrupt",
    "AuditHead",
    "AuditLog",
    "AuditRecord",
    "AuditSchemaMismatch",
    "AuditTransaction",
    "AuditUnavailable",
    "AuditWriteFailed",
    "InvalidAuditInput",
    "ProblemKind",
    "VerifyProblem",
    "VerifyReport",
    "canonical_json",
    "open_audit_db",
    "row_hash",
    "verify_audit",
    "write_anchor",
]
