"""The engine's record of what happened: one `EngineEvent` per signal, skip, order,
decision, update and fill, in order. The store appends them; nothing edits them."""

import msgspec

__all__ = ["EngineEvent", "EventBody"]

EventBody = dict[str, object] | msgspec.Struct
"""What an event says: a dict, or the struct it is about (a fill, an order, a signal),
which the store encodes as it would the struct's builtins (`msgspec.to_builtins`), so
the struct is encoded once, not first to builtins and then to JSON."""


class EngineEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One thing that happened at `ts_ns` (the injected clock), of one `kind`."""

    ts_ns: int
    kind: str
    body: EventBody
