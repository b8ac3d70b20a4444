"""Client order ids derived from intent ids, so a replayed intent reuses its order.

UUIDv5(gate namespace, intent id) is deterministic: an intent the agent resends, or the
gate replays after a crash, maps to the same `client_order_id`, and Coinbase returns the
existing order instead of placing a second one (RELIABILITY §3, identity). Never uuid4
in the send path: a fresh id per attempt is exactly how duplicates happen.
"""

import hashlib
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
    return ClientOrderId(_uuid5_text(gate_namespace.bytes, intent_id))


def _uuid5_text(namespace: bytes, name: str) -> str:
    """``str(uuid.uuid5(...))`` without building a `uuid.UUID` (RFC 4122 4.3): the first 16
    bytes of SHA-1(namespace + UTF-8 name), version nibble 5, variant bits 10. Done by
    hand because the gate derives one per order and the UUID object costs more than
    the hash."""
    raw = bytearray(hashlib.sha1(namespace + name.encode(), usedforsecurity=False).digest()[:16])
    raw[6] = (raw[6] & 0x0F) | 0x50
    raw[8] = (raw[8] & 0x3F) | 0x80
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
