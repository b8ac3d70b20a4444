"""Client order ids derived from intent ids, so a replayed intent reuses its order.

UUIDv5(gate namespace, intent id) is deterministic: an intent the agent resends, or the
gate replays after a crash, maps to the same `client_order_id`, and Coinbase returns the
existing order instead of placing a second one (RELIABILITY §3, identity). Never uuid4
in the send path: a fresh id per attempt is exactly how duplicates happen.
"""

import uuid

from trading_contract import ClientOrderId, IntentId

__all__ = ["client_order_id"]


def client_order_id(gate_namespace: uuid.UUID, intent_id: IntentId) -> ClientOrderId:
    """The client order id of `intent_id` for the gate whose namespace is `gate_namespace`.

    Raises:
        ValueError: `intent_id` is empty (every empty intent would share one order).
    """
    if not intent_id:
        raise ValueError("an intent id must not be empty")
    return ClientOrderId(str(uuid.uuid5(gate_namespace, intent_id)))
