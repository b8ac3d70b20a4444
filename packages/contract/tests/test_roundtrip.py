"""Property tests: every message survives encode -> frame -> decode unchanged."""

from collections.abc import Callable

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

import trading_contract as c
from contract_strategies import (
    ADMIN_REPLY_TYPES,
    ADMIN_REQUEST_TYPES,
    AGENT_MESSAGE_TYPES,
    GATE_MESSAGE_TYPES,
    structs,
)


def _tag(cls: type[msgspec.Struct]) -> str:
    return str(cls.__struct_config__.tag)


DIRECTIONS = (
    [(cls, c.decode_agent_message) for cls in AGENT_MESSAGE_TYPES]
    + [(cls, c.decode_gate_message) for cls in GATE_MESSAGE_TYPES]
    + [(cls, c.decode_admin_request) for cls in ADMIN_REQUEST_TYPES]
    + [(cls, c.decode_admin_reply) for cls in ADMIN_REPLY_TYPES]
)


@pytest.mark.parametrize(
    ("cls", "decode"),
    DIRECTIONS,
    ids=[f"{d.__name__.removeprefix('decode_')}-{_tag(cls)}" for cls, d in DIRECTIONS],
)
@given(data=st.data())
def test_message_when_encoded_and_decoded_then_equal(
    cls: type[msgspec.Struct], decode: Callable[[bytes], msgspec.Struct], data: st.DataObject
) -> None:
    """Any valid message decodes to an equal value through a frame, and re-encodes the same."""
    message = data.draw(structs(cls))
    [body] = c.FrameDecoder().feed(c.frame(c.encode(message)))
    decoded = decode(body)
    assert decoded == message
    assert c.encode(decoded) == body


def test_tags_when_listed_then_match_the_unions() -> None:
    """The published tag lists are exactly the members of each direction's union."""
    assert tuple(_tag(t) for t in AGENT_MESSAGE_TYPES) == c.AGENT_MESSAGE_TAGS
    assert tuple(_tag(t) for t in GATE_MESSAGE_TYPES) == c.GATE_MESSAGE_TAGS
    assert set(AGENT_MESSAGE_TYPES) == set(c.AgentMessage.__args__)
    assert set(GATE_MESSAGE_TYPES) == set(c.GateMessage.__args__)
    assert tuple(_tag(t) for t in ADMIN_REQUEST_TYPES) == c.ADMIN_REQUEST_TAGS
    assert tuple(_tag(t) for t in ADMIN_REPLY_TYPES) == c.ADMIN_REPLY_TAGS
    assert set(ADMIN_REQUEST_TYPES) == set(c.AdminRequest.__args__)
    assert set(ADMIN_REPLY_TYPES) == set(c.AdminReply.__args__)


def test_tags_when_both_protocols_listed_then_only_error_is_shared() -> None:
    """An agent frame on the admin socket (or the reverse) can never decode as valid."""
    agent = set(c.AGENT_MESSAGE_TAGS) | set(c.GATE_MESSAGE_TAGS)
    admin = set(c.ADMIN_REQUEST_TAGS) | set(c.ADMIN_REPLY_TAGS)
    assert agent & admin == {"error"}
