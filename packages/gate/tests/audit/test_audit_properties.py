"""Properties: any payloads append and verify; any one changed payload byte names its row."""

import sqlite3
import string
import tempfile
from pathlib import Path

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from trading_gate.audit import (
    AuditLog,
    ProblemKind,
    canonical_json,
    open_audit_db,
    verify_audit,
)

T0 = 1_700_000_000_000_000_000

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.text(max_size=12)
    | st.decimals(allow_nan=False, allow_infinity=False)
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3), max_leaves=6)
# Precomposed letters only, so no two generated keys collide after NFC.
keys = st.text(alphabet=string.ascii_letters + "_éü€", min_size=1, max_size=8)
payloads = st.dictionaries(keys, values, max_size=4)


@settings(max_examples=60)
@given(batch=st.lists(payloads, min_size=1, max_size=6), data=st.data())
def test_verify_when_one_payload_byte_changes_then_exactly_that_seq_named(
    batch: list[dict[str, object]], data: st.DataObject
) -> None:
    """Appended payloads verify; changing any one byte of one payload names only its seq."""
    with tempfile.TemporaryDirectory() as tmp:
        db_path, anchor_path = Path(tmp) / "gate.db", Path(tmp) / "audit.anchor"
        conn = open_audit_db(db_path)
        try:
            log = AuditLog(conn, anchor_path=anchor_path, anchor_every=4)
            for i, payload in enumerate(batch, start=1):
                log.append("order.event", payload, ts_wall_ns=T0 + i, ts_mono_ns=i)
            log.close(ts_wall_ns=T0)
        finally:
            conn.close()
        assert verify_audit(db_path, anchor_path).ok

        seq = data.draw(st.integers(min_value=1, max_value=len(batch)), label="seq")
        attacker = sqlite3.connect(db_path, isolation_level=None)
        try:
            attacker.execute("DROP TRIGGER audit_append_only_update")
            query = "SELECT CAST(payload AS BLOB) FROM audit WHERE seq = ?"
            (stored,) = attacker.execute(query, (seq,)).fetchone()
            index = data.draw(st.integers(min_value=0, max_value=len(stored) - 1), label="byte")
            mask = data.draw(st.integers(min_value=1, max_value=255), label="xor")
            changed = stored[:index] + bytes([stored[index] ^ mask]) + stored[index + 1 :]
            update = "UPDATE audit SET payload = CAST(? AS TEXT) WHERE seq = ?"
            attacker.execute(update, (changed, seq))
        finally:
            attacker.close()

        report = verify_audit(db_path, anchor_path)
        assert [(p.seq, p.kind) for p in report.problems] == [(seq, ProblemKind.HASH_MISMATCH)]


@given(payload=payloads)
def test_canonical_json_when_reordered_or_reencoded_then_same_bytes(
    payload: dict[str, object],
) -> None:
    """Key order never matters, and encoding the decoded output changes nothing."""
    encoded = canonical_json(payload)
    assert canonical_json(dict(reversed(payload.items()))) == encoded
    assert canonical_json(msgspec.json.decode(encoded)) == encoded
