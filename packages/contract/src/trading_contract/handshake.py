"""Version negotiation: the first frame of a connection must be a compatible Hello.

The version is read leniently before the strict decode, so an agent speaking another
version hears "version mismatch" rather than a confusing schema error about fields that
version added or removed.
"""

from typing import Final

import msgspec

from trading_contract.codec import decode_agent_message
from trading_contract.errors import HandshakeRequired, VersionMismatch
from trading_contract.messages import Hello
from trading_contract.version import PROTOCOL_VERSION


class _VersionProbe(msgspec.Struct, tag_field="type", tag="hello"):
    protocol_version: int


_probe: Final = msgspec.json.Decoder(_VersionProbe)


def decode_hello(body: bytes) -> Hello:
    """Decode the first frame of a connection.

    Raises:
        VersionMismatch: the agent speaks another protocol version (fatal: disconnect).
        HandshakeRequired: the frame is a valid message, but not a Hello (fatal).
        ProtocolError: the frame is not a valid v1 Hello.
    """
    try:
        probe = _probe.decode(body)
    except (msgspec.ValidationError, msgspec.DecodeError):
        pass  # not a recognisable Hello: the strict decode below names the problem
    else:
        if probe.protocol_version != PROTOCOL_VERSION:
            raise VersionMismatch(
                f"the gate speaks protocol v{PROTOCOL_VERSION}; "
                f"the agent sent v{probe.protocol_version}",
                field="$.protocol_version",
            )
    message = decode_agent_message(body)
    if not isinstance(message, Hello):
        raise HandshakeRequired(
            f"the first frame must be a hello, got {type(message).__name__}", field="$.type"
        )
    return message
