"""Golden encodings pin protocol v1 byte for byte."""

from pathlib import Path

import msgspec
import pytest

import trading_contract as c
from contract_strategies import (
    ADMIN_REPLY_TYPES,
    ADMIN_REQUEST_TYPES,
    AGENT_MESSAGE_TYPES,
    GATE_MESSAGE_TYPES,
)
from contract_stubs import EXAMPLES, is_admin_reply, is_admin_request, is_agent_message

GOLDEN = Path(__file__).parent / "golden" / f"v{c.PROTOCOL_VERSION}"


def _decode(message: msgspec.Struct, body: bytes) -> msgspec.Struct:
    if is_agent_message(message):
        return c.decode_agent_message(body)
    if is_admin_request(message):
        return c.decode_admin_request(body)
    if is_admin_reply(message):
        return c.decode_admin_reply(body)
    return c.decode_gate_message(body)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_encode_when_example_then_matches_golden_bytes(name: str) -> None:
    """Encoding each example yields exactly the bytes recorded for protocol v1."""
    golden = (GOLDEN / f"{name}.json").read_bytes()
    assert c.encode(EXAMPLES[name]) + b"\n" == golden


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_decode_when_golden_bytes_then_equals_example(name: str) -> None:
    """Decoding each golden file gives back the example it was written from."""
    body = (GOLDEN / f"{name}.json").read_bytes().rstrip(b"\n")
    assert _decode(EXAMPLES[name], body) == EXAMPLES[name]


def test_golden_when_listed_then_every_file_has_an_example() -> None:
    """No golden file is stale: each one belongs to an example."""
    assert sorted(p.stem for p in GOLDEN.glob("*.json")) == sorted(EXAMPLES)


def test_golden_when_listed_then_every_message_type_is_covered() -> None:
    """Every message of both protocols and directions, and every query result, has one."""
    covered = {type(m) for m in EXAMPLES.values()}
    results = {type(m.result) for m in EXAMPLES.values() if isinstance(m, c.QueryReply)}
    verdicts = {type(m.verdict) for m in EXAMPLES.values() if isinstance(m, c.Decision)}
    assert set(AGENT_MESSAGE_TYPES) | set(GATE_MESSAGE_TYPES) <= covered
    assert set(ADMIN_REQUEST_TYPES) | set(ADMIN_REPLY_TYPES) <= covered
    assert results == {
        c.PositionsResult,
        c.BalancesResult,
        c.OpenOrdersResult,
        c.GateStateResult,
        c.LimitsResult,
    }
    assert verdicts == {c.Accepted, c.Rejected}


def test_frame_when_golden_body_then_header_is_big_endian_length() -> None:
    """A frame is the 4-byte big-endian body length followed by the body."""
    body = (GOLDEN / "heartbeat.json").read_bytes().rstrip(b"\n")
    framed = c.frame(body)
    assert framed[:4] == bytes([0, 0, 0, len(body)])
    assert framed[4:] == body
