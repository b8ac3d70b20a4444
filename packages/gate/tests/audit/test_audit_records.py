"""`next_record` remembers event types it has checked, and still refuses bad ones."""

import pytest

from trading_gate.audit import GENESIS_HASH, AuditHead, InvalidAuditInput
from trading_gate.audit.records import _EVENT_TYPE, next_record

GENESIS = AuditHead(0, GENESIS_HASH)


class Name(str):
    """A str subclass: checked by the regex every time, never remembered."""


@pytest.mark.parametrize("event_type", ["order.accepted", "a", "x" * 64, Name("order.fill")])
def test_next_record_when_good_event_type_twice_then_accepted_both_times(
    event_type: str,
) -> None:
    """A valid name passes on first sight and again once remembered."""
    for _ in range(2):
        assert next_record(GENESIS, event_type, {}, 1, 1).event_type == event_type


@pytest.mark.parametrize(
    "event_type", ["", "1abc", "has space", "x" * 65, "order.accepted\n", Name("bad name"), 7]
)
def test_next_record_when_bad_event_type_after_good_ones_then_refused(event_type: object) -> None:
    """Remembering good names never lets a bad one through (the regex is the reference)."""
    next_record(GENESIS, "order.accepted", {}, 1, 1)
    assert not (isinstance(event_type, str) and _EVENT_TYPE.fullmatch(event_type))

    with pytest.raises(InvalidAuditInput, match="event_type"):
        next_record(GENESIS, event_type, {}, 1, 1)  # type: ignore[arg-type]
