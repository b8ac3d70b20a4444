"""Shared pieces of the malformed-input tables: golden bodies, one-spot mutations, and the
rule every case obeys (exactly its typed error, naming its field)."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

import trading_contract as c

GOLDEN = Path(__file__).parent / "golden" / f"v{c.PROTOCOL_VERSION}"


def golden(name: str) -> bytes:
    """The golden v1 body of one example, without its trailing newline."""
    return (GOLDEN / f"{name}.json").read_bytes().rstrip(b"\n")


def swap(old: bytes, new: bytes, body: bytes) -> bytes:
    """`body` with the first `old` replaced by `new` (which must be there)."""
    assert old in body, old
    return body.replace(old, new, 1)


@dataclass(frozen=True)
class Case:
    id: str
    body: bytes
    error: type[c.ProtocolError]
    field: str | None
    decode: Callable[[bytes], object] = c.decode_agent_message


def assert_only_its_error(case: Case) -> None:
    """Decoding `case.body` raises exactly `case.error`, naming `case.field`."""
    with pytest.raises(c.ProtocolError) as raised:
        case.decode(case.body)
    assert type(raised.value) is case.error, raised.value
    assert raised.value.field == case.field
