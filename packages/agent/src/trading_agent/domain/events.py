"""The engine's record of what happened: one `EngineEvent` per signal, skip, order,
decision, update and fill, in order. The store appends them; nothing edits them."""

import msgspec

__all__ = ["EngineEvent"]


class EngineEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One thing that happened at `ts_ns` (the injected clock), of one `kind`."""

    ts_ns: int
    kind: str
    body: dict[str, object]
