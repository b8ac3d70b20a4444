"""Client order ids: UUIDv5 of the intent, the same on every replay, distinct per intent."""

import uuid

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from trading_contract import IntentId
from trading_contract.types import WireClientOrderId
from trading_gate.core.identity import client_order_id

NAMESPACE = uuid.UUID("8f14e45f-ceea-467f-a0e6-3a6f6a1d0b2c")
intent_ids = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._:\-]{0,63}\Z").map(IntentId)
namespaces = st.uuids()


def test_client_order_id_when_known_intent_then_pinned_uuid5() -> None:
    """The derivation is UUIDv5 and never changes: a change would duplicate orders."""
    derived = client_order_id(NAMESPACE, IntentId("mr.BTC-USD.1764614400.1"))

    assert derived == "a579f0d1-5b8d-507f-b0df-12f5666aed9c"
    assert uuid.UUID(derived).version == 5


@given(namespaces, st.one_of(intent_ids, st.text(min_size=1)))
def test_client_order_id_when_any_intent_then_same_as_stdlib_uuid5(
    namespace: uuid.UUID, intent: str
) -> None:
    """The hand-rolled derivation is the standard library's uuid5, for any text."""
    assert client_order_id(namespace, IntentId(intent)) == str(uuid.uuid5(namespace, intent))


@given(namespaces, intent_ids)
def test_client_order_id_when_replayed_then_same_id(namespace: uuid.UUID, intent: IntentId) -> None:
    """Deriving twice from the same namespace and intent gives the same id."""
    first = client_order_id(namespace, intent)

    again = client_order_id(uuid.UUID(str(namespace)), IntentId(str(intent)))

    assert again == first


@given(namespaces, st.lists(intent_ids, min_size=2, max_size=50, unique=True))
def test_client_order_id_when_intents_differ_then_ids_differ(
    namespace: uuid.UUID, intents: list[IntentId]
) -> None:
    """Distinct intents of one gate never share a client order id."""
    ids = {client_order_id(namespace, intent) for intent in intents}

    assert len(ids) == len(intents)


@given(st.lists(namespaces, min_size=2, max_size=10, unique=True), intent_ids)
def test_client_order_id_when_gates_differ_then_ids_differ(
    gate_namespaces: list[uuid.UUID], intent: IntentId
) -> None:
    """The same intent id under two gates' namespaces gives two ids."""
    ids = {client_order_id(namespace, intent) for namespace in gate_namespaces}

    assert len(ids) == len(gate_namespaces)


@given(namespaces, intent_ids)
def test_client_order_id_when_derived_then_valid_on_the_wire(
    namespace: uuid.UUID, intent: IntentId
) -> None:
    """Every derived id passes the contract's client order id pattern."""
    derived = client_order_id(namespace, intent)

    assert msgspec.convert(derived, WireClientOrderId) == derived


def test_client_order_id_when_intent_empty_then_value_error() -> None:
    """An empty intent id is refused: every empty intent would map to one order."""
    with pytest.raises(ValueError, match="must not be empty"):
        client_order_id(NAMESPACE, IntentId(""))
