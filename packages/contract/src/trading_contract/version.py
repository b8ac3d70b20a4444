"""The protocol version and the limits both sides agree on.

Bump PROTOCOL_VERSION on any change to the wire: a field, a tag, an enum value, a bound.
"""

from typing import Final

PROTOCOL_VERSION: Final = 1

# Checked against the length header before a single byte of the body is read.
MAX_FRAME_BYTES: Final = 64 * 1024
FRAME_HEADER_BYTES: Final = 4
