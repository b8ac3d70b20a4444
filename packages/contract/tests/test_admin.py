"""The admin protocol: its rules, and malformed input giving exactly its typed error."""

import contextlib
import functools

import pytest
from hypothesis import given
from hypothesis import strategies as st

import trading_contract as c
from contract_malformed import Case as MalformedCase
from contract_malformed import assert_only_its_error, golden, swap

RESUME = golden("admin_resume")
HALT = golden("admin_halt")


# The admin table's rows decode as admin requests.
Case = functools.partial(MalformedCase, decode=c.decode_admin_request)


def _swap(old: bytes, new: bytes, body: bytes = RESUME) -> bytes:
    return swap(old, new, body)


CASES = [
    Case("not json", b"status", c.MalformedJson, None),
    Case("NaN literal", b'{"type":"admin_status","request_id":NaN}', c.MalformedJson, None),
    Case(
        "duplicate key",
        _swap(b'"to"', b'"operator":"mallory","to"'),
        c.DuplicateKey,
        "$..operator",
    ),
    Case("unknown field", _swap(b'"to"', b'"force":true,"to"'), c.UnknownField, "$.force"),
    Case(
        "missing operator",
        b'{"type":"admin_reload_rules","request_id":"r"}',
        c.SchemaViolation,
        "$.operator",
    ),
    Case("resume to halted", _swap(b'"reducing"', b'"halted"'), c.SchemaViolation, "$.to"),
    Case(
        "resume without reason",
        _swap(b'"venue healthy again; book verified empty"', b'""'),
        c.SchemaViolation,
        "$.reason",
    ),
    Case(
        "resume with blank reason",
        _swap(b'"venue healthy again; book verified empty"', b'"   "'),
        c.SchemaViolation,
        "$.reason",
    ),
    Case(
        "operator with a space",
        _swap(b'"alice"', b'"alice smith"', HALT),
        c.SchemaViolation,
        "$.operator",
    ),
    Case(
        "reason with escape codes",
        _swap(b'"exchange', b'"\\u001b[2J', HALT),
        c.SchemaViolation,
        "$.reason",
    ),
    Case(
        "agent message on the admin socket",
        golden("heartbeat"),
        c.SchemaViolation,
        "$.type",
    ),
    Case(
        "admin request on the agent socket",
        HALT,
        c.SchemaViolation,
        "$.type",
        decode=c.decode_agent_message,
    ),
    Case(
        "request decoded as a reply", HALT, c.SchemaViolation, "$.type", decode=c.decode_admin_reply
    ),
    Case(
        "bad config hash",
        golden("admin_status_reply").replace(b'"9f86', b'"XX86'),
        c.SchemaViolation,
        "$.config_hash",
        decode=c.decode_admin_reply,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_decode_admin_when_malformed_then_only_its_typed_error(case: MalformedCase) -> None:
    """Each malformed admin body raises exactly its error class, naming the field."""
    assert_only_its_error(case)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [({"to": c.TradingState.HALTED}, "to"), ({"reason": " \t "}, "reason")],
)
def test_admin_resume_when_built_invalid_then_refused_naming_field(
    overrides: dict[str, object], field: str
) -> None:
    """A resume into HALTED, or one that does not say why, cannot even be built."""
    fields: dict[str, object] = {
        "request_id": "r",
        "operator": "alice",
        "reason": "checked",
        "to": c.TradingState.ACTIVE,
    }
    with pytest.raises(ValueError, match=f"`{field}`"):
        c.AdminResume(**(fields | overrides))  # type: ignore[arg-type]


def test_admin_halt_when_no_reason_then_valid() -> None:
    """The kill switch is never refused for want of an explanation."""
    halt = c.AdminHalt(request_id="r", operator="alice")
    assert c.decode_admin_request(c.encode(halt)) == halt


def test_decode_admin_reply_when_protocol_error_then_error_message_decodes() -> None:
    """The gate answers an undecodable admin frame with the contract's Error."""
    with pytest.raises(c.ProtocolError) as raised:
        c.decode_admin_request(b"{")
    error = c.error_message(raised.value)
    assert c.decode_admin_reply(c.encode(error)) == error


@given(body=st.binary(max_size=300))
def test_decode_admin_when_random_bytes_then_only_protocol_errors(body: bytes) -> None:
    """Arbitrary bytes either decode or raise a ProtocolError; nothing else escapes."""
    for decode in (c.decode_admin_request, c.decode_admin_reply):
        with contextlib.suppress(c.ProtocolError):
            decode(body)
