"""Version negotiation on the first frame of a connection."""

import pytest

import trading_contract as c
from contract_stubs import EXAMPLES

HELLO = c.encode(EXAMPLES["hello"])


def test_decode_hello_when_v1_then_hello() -> None:
    """A v1 Hello decodes to the Hello it encodes."""
    assert c.decode_hello(HELLO) == EXAMPLES["hello"]


@pytest.mark.parametrize("version", [0, 2, 65535])
def test_decode_hello_when_other_version_then_version_mismatch(version: int) -> None:
    """Another version is named as such, even when that version's fields differ."""
    body = HELLO.replace(
        b'"protocol_version":1', b'"protocol_version":%d,"compression":"zstd"' % version
    )
    with pytest.raises(c.VersionMismatch) as raised:
        c.decode_hello(body)
    assert raised.value.field == "$.protocol_version"
    assert f"v{version}" in str(raised.value)
    assert raised.value.fatal


def test_decode_hello_when_first_frame_is_an_order_then_handshake_required() -> None:
    """Any message but Hello as the first frame is refused, fatally."""
    with pytest.raises(c.HandshakeRequired) as raised:
        c.decode_hello(c.encode(EXAMPLES["place_order_limit"]))
    assert raised.value.fatal


def test_decode_hello_when_v1_hello_is_malformed_then_schema_error() -> None:
    """A v1 Hello with a bad field gets the schema error naming it."""
    with pytest.raises(c.SchemaViolation) as raised:
        c.decode_hello(HELLO.replace(b'"agent-1"', b'"agent 1"'))
    assert raised.value.field == "$.agent_id"


def test_error_message_when_version_mismatch_then_fatal_error_frame() -> None:
    """The error sent to an incompatible agent is fatal, clear and itself valid v1."""
    with pytest.raises(c.VersionMismatch) as raised:
        c.decode_hello(HELLO.replace(b'"protocol_version":1', b'"protocol_version":2'))
    error = c.error_message(raised.value)
    assert error.code is c.ErrorCode.VERSION_MISMATCH
    assert error.fatal
    assert "speaks protocol v1" in error.message
    assert c.decode_gate_message(c.encode(error)) == error


def test_error_message_when_field_has_control_characters_then_sanitised() -> None:
    """Hostile field names cannot inject control characters or overlong text into replies."""
    body = b'{"type":"heartbeat","seq":1,"sent_ns":1,"\\u001b[31m' + b"x" * 900 + b'":1}'
    with pytest.raises(c.UnknownField) as raised:
        c.decode_agent_message(body)
    error = c.error_message(raised.value)
    assert "\x1b" not in error.message
    assert error.field is not None
    assert len(error.message) <= 500
    assert len(error.field) <= 500
    assert c.decode_gate_message(c.encode(error)) == error
