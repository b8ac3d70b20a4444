"""Malformed input: each case gives exactly its typed error, naming the field."""

import asyncio
import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

import trading_contract as c
from contract_malformed import Case, assert_only_its_error, golden, swap

ORDER = golden("place_order_limit")
HEARTBEAT = b'{"type":"heartbeat","seq":1,"sent_ns":1}'


def _swap(old: bytes, new: bytes, body: bytes = ORDER) -> bytes:
    return swap(old, new, body)


CASES = [
    Case("not json", b"hello", c.MalformedJson, None),
    Case("empty body", b"", c.MalformedJson, None),
    Case("invalid utf-8", _swap(b'"range_low_vol"', b'"range\xff\xfe"'), c.MalformedJson, None),
    Case("lone surrogate escape", _swap(b'"range_low_vol"', b'"\\ud800"'), c.MalformedJson, None),
    Case("NaN literal", b'{"type":"heartbeat","seq":NaN,"sent_ns":1}', c.MalformedJson, None),
    Case("Infinity", b'{"type":"heartbeat","seq":1,"sent_ns":Infinity}', c.MalformedJson, None),
    Case("trailing garbage", HEARTBEAT + b"x", c.MalformedJson, None),
    Case("duplicate key", _swap(b'"size_in"', b'"size":"9","size_in"'), c.DuplicateKey, "$..size"),
    Case(
        "duplicate nested key",
        _swap(b'"note"', b'"regime":"x","note"'),
        c.DuplicateKey,
        "$..regime",
    ),
    Case(
        "unknown field",
        _swap(b'"size_in"', b'"leverage":"5","size_in"'),
        c.UnknownField,
        "$.leverage",
    ),
    Case(
        "unknown nested field",
        _swap(b'"note"', b'"payload":"x","note"'),
        c.UnknownField,
        "$.reason.payload",
    ),
    Case("unknown type tag", b'{"type":"withdraw","amount":"1"}', c.SchemaViolation, "$.type"),
    Case("missing type tag", b'{"seq":1,"sent_ns":1}', c.SchemaViolation, "$.type"),
    Case("missing field", b'{"type":"heartbeat","seq":1}', c.SchemaViolation, "$.sent_ns"),
    Case(
        "string for int", b'{"type":"heartbeat","seq":"1","sent_ns":1}', c.SchemaViolation, "$.seq"
    ),
    Case(
        "float for int", b'{"type":"heartbeat","seq":1.0,"sent_ns":1}', c.SchemaViolation, "$.seq"
    ),
    Case(
        "bool for int", b'{"type":"heartbeat","seq":true,"sent_ns":1}', c.SchemaViolation, "$.seq"
    ),
    Case(
        "int for bool",
        _swap(b'"post_only":true', b'"post_only":1'),
        c.SchemaViolation,
        "$.post_only",
    ),
    Case("null for required", _swap(b'"side":"buy"', b'"side":null'), c.SchemaViolation, "$.side"),
    Case("bad enum value", _swap(b'"side":"buy"', b'"side":"BUY"'), c.SchemaViolation, "$.side"),
    Case(
        "negative timestamp",
        b'{"type":"heartbeat","seq":1,"sent_ns":-1}',
        c.SchemaViolation,
        "$.sent_ns",
    ),
    Case(
        "5,000-digit integer",
        b'{"type":"heartbeat","seq":' + b"9" * 5000 + b',"sent_ns":1}',
        c.NumberOutOfBounds,
        "$.seq",
    ),
    Case(
        "5,000-digit decimal",
        _swap(b'"0.00150000"', b'"' + b"9" * 5000 + b'"'),
        c.NumberOutOfBounds,
        "$.size",
    ),
    Case("huge exponent", _swap(b'"0.00150000"', b'"1e999999"'), c.NumberOutOfBounds, "$.size"),
    Case("3-digit exponent", _swap(b'"0.00150000"', b'"1e100"'), c.NumberOutOfBounds, "$.size"),
    Case("NaN decimal", _swap(b'"0.00150000"', b'"NaN"'), c.NumberOutOfBounds, "$.size"),
    Case("Infinity decimal", _swap(b'"0.00150000"', b'"Infinity"'), c.NumberOutOfBounds, "$.size"),
    Case("underscore decimal", _swap(b'"0.00150000"', b'"1_000"'), c.NumberOutOfBounds, "$.size"),
    Case("decimal as number", _swap(b'"0.00150000"', b"0.0015"), c.SchemaViolation, "$.size"),
    Case(
        "signal as number",
        _swap(b'"zscore":"-2.31"', b'"zscore":-2.31'),
        c.SchemaViolation,
        "$.reason.signals[...]",
    ),
    Case("zero size", _swap(b'"0.00150000"', b'"0"'), c.SchemaViolation, "$.size"),
    Case(
        "negative price", _swap(b'"91234.56"', b'"-91234.56"'), c.SchemaViolation, "$.limit_price"
    ),
    Case(
        "market with limit price",
        _swap(b'"order_type":"limit"', b'"order_type":"market"'),
        c.SchemaViolation,
        "$.time_in_force",
    ),
    Case(
        "gtd without end time",
        _swap(b'"end_time_ns":1764614700000000000', b'"end_time_ns":null'),
        c.SchemaViolation,
        "$.end_time_ns",
    ),
    Case(
        "control character in text",
        _swap(b'"range_low_vol"', b'"range\\u001b[2J"'),
        c.SchemaViolation,
        "$.reason.regime",
    ),
    Case(
        "id too long",
        _swap(b'"req-0001"', b'"' + b"r" * 65 + b'"'),
        c.SchemaViolation,
        "$.request_id",
    ),
    Case(
        "product in lower case",
        _swap(b'"BTC-USD"', b'"btc-usd"'),
        c.SchemaViolation,
        "$.product_id",
    ),
    Case(
        "too many signals",
        _swap(
            b'"signals":{',
            b'"signals":{' + b"".join(b'"s%d":"1",' % i for i in range(16)),
        ),
        c.SchemaViolation,
        "$.reason.signals",
    ),
    Case("deeply nested array", b"[" * 100_000 + b"]" * 100_000, c.SchemaViolation, "$"),
    Case(
        "deeply nested value",
        b'{"type":"heartbeat","seq":' + b"[" * 100_000 + b"]" * 100_000 + b',"sent_ns":1}',
        c.SchemaViolation,
        "$.seq",
    ),
    Case(
        "deeply nested object",
        b'{"type":"heartbeat","seq":1,"sent_ns":1,"x":' + b'{"a":' * 50_000 + b"1" + b"}" * 50_001,
        c.UnknownField,
        "$.x",
    ),
    Case(
        "gate message sent by the agent",
        golden("welcome"),
        c.SchemaViolation,
        "$.type",
    ),
    Case(
        "agent message sent by the gate",
        ORDER,
        c.SchemaViolation,
        "$.type",
        decode=c.decode_gate_message,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_decode_when_malformed_then_only_its_typed_error(case: Case) -> None:
    """Each malformed body raises exactly its error class, naming the field."""
    assert_only_its_error(case)


def test_frame_when_header_announces_too_much_then_body_is_never_read() -> None:
    """An oversize length header is refused after reading 4 bytes, before the body."""
    requested: list[int] = []

    async def readexactly(n: int) -> bytes:
        requested.append(n)
        return (2**31).to_bytes(4, "big")

    with pytest.raises(c.FrameTooLarge):
        asyncio.run(c.read_frame(readexactly))
    assert requested == [4]


def test_frame_when_stream_ends_inside_body_then_truncated() -> None:
    """A frame whose body is cut short raises TruncatedFrame."""
    decoder = c.FrameDecoder()
    assert decoder.feed(c.frame(HEARTBEAT)[:-5]) == []
    with pytest.raises(c.TruncatedFrame):
        decoder.close()


@given(body=st.binary(max_size=300))
def test_decode_when_random_bytes_then_only_protocol_errors(body: bytes) -> None:
    """Arbitrary bytes either decode or raise a ProtocolError; nothing else escapes."""
    for decode in (c.decode_agent_message, c.decode_gate_message, c.decode_hello):
        with contextlib.suppress(c.ProtocolError):
            decode(body)


@given(position=st.integers(min_value=0, max_value=len(ORDER) - 1), value=st.integers(0, 255))
def test_decode_when_one_byte_changed_then_valid_or_protocol_error(
    position: int, value: int
) -> None:
    """A valid order with one byte changed decodes to a valid message or a ProtocolError."""
    mutated = bytearray(ORDER)
    mutated[position] = value
    try:
        message = c.decode_agent_message(bytes(mutated))
    except c.ProtocolError:
        return
    assert c.decode_agent_message(c.encode(message)) == message
