"""Length-prefixed frames: a 4-byte big-endian body length, then the body.

The length is checked against MAX_FRAME_BYTES before any of the body is read, so a
hostile header can never make a reader allocate or wait for more than the cap.
"""

from collections.abc import Awaitable, Callable

from trading_contract.errors import FrameTooLarge, TruncatedFrame
from trading_contract.version import FRAME_HEADER_BYTES, MAX_FRAME_BYTES


def frame(body: bytes) -> bytes:
    """Prefix `body` with its length.

    Raises:
        FrameTooLarge: the body is longer than MAX_FRAME_BYTES.
    """
    if len(body) > MAX_FRAME_BYTES:
        raise FrameTooLarge(f"body of {len(body)} bytes exceeds the {MAX_FRAME_BYTES}-byte cap")
    return len(body).to_bytes(FRAME_HEADER_BYTES, "big") + body


def body_length(header: bytes) -> int:
    """The body length a frame header announces.

    Raises:
        TruncatedFrame: fewer than 4 header bytes.
        FrameTooLarge: the announced length exceeds MAX_FRAME_BYTES.
    """
    if len(header) != FRAME_HEADER_BYTES:
        raise TruncatedFrame(f"frame header has {len(header)} of {FRAME_HEADER_BYTES} bytes")
    length = int.from_bytes(header, "big")
    if length > MAX_FRAME_BYTES:
        raise FrameTooLarge(f"header announces {length} bytes; the cap is {MAX_FRAME_BYTES}")
    return length


async def read_frame(readexactly: Callable[[int], Awaitable[bytes]]) -> bytes | None:
    """Read one frame body through `readexactly` (e.g. asyncio.StreamReader.readexactly).

    Returns None when the stream ends cleanly between frames. `readexactly` must raise
    EOFError (asyncio.IncompleteReadError is one) when the stream ends early.

    Raises:
        TruncatedFrame: the stream ended inside a header or a body.
        FrameTooLarge: the header announces more than MAX_FRAME_BYTES; the body is not read.
    """
    try:
        header = await readexactly(FRAME_HEADER_BYTES)
    except EOFError as exc:
        partial: bytes = getattr(exc, "partial", b"")
        if not partial:
            return None
        raise TruncatedFrame(f"stream ended after {len(partial)} header bytes") from exc
    length = body_length(header)
    try:
        return await readexactly(length)
    except EOFError as exc:
        got = len(getattr(exc, "partial", b""))
        raise TruncatedFrame(f"stream ended after {got} of {length} body bytes") from exc


def recv_frame(recv: Callable[[int], bytes]) -> bytes | None:
    """Read one frame body through a blocking `recv` (e.g. socket.socket.recv).

    `recv(n)` returns up to n bytes, or b"" at the end of the stream. Returns None when
    the stream ends cleanly between frames.

    Raises:
        TruncatedFrame: the stream ended inside a header or a body.
        FrameTooLarge: the header announces more than MAX_FRAME_BYTES; the body is not read.
    """
    header = _recv_exactly(recv, FRAME_HEADER_BYTES)
    if not header:
        return None
    if len(header) < FRAME_HEADER_BYTES:
        raise TruncatedFrame(f"stream ended after {len(header)} header bytes")
    length = body_length(header)
    body = _recv_exactly(recv, length)
    if len(body) < length:
        raise TruncatedFrame(f"stream ended after {len(body)} of {length} body bytes")
    return body


def _recv_exactly(recv: Callable[[int], bytes], count: int) -> bytes:
    # Fewer than `count` bytes back means the stream ended.
    data = bytearray()
    while len(data) < count:
        chunk = recv(count - len(data))
        if not chunk:
            break
        data += chunk
    return bytes(data)


class FrameDecoder:
    """Splits a byte stream into frame bodies, for callers that receive arbitrary chunks.

    It never holds more than one header and one capped body.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._expected: int | None = None

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; return every frame body they complete, in order.

        Raises:
            FrameTooLarge: a header announces more than MAX_FRAME_BYTES. The decoder is
                then unusable: the stream has lost its framing.
        """
        self._buffer += data
        bodies: list[bytes] = []
        while True:
            if self._expected is None:
                if len(self._buffer) < FRAME_HEADER_BYTES:
                    return bodies
                self._expected = body_length(bytes(self._buffer[:FRAME_HEADER_BYTES]))
                del self._buffer[:FRAME_HEADER_BYTES]
            if len(self._buffer) < self._expected:
                return bodies
            bodies.append(bytes(self._buffer[: self._expected]))
            del self._buffer[: self._expected]
            self._expected = None

    def close(self) -> None:
        """Declare the end of the stream.

        Raises:
            TruncatedFrame: the stream ended inside a frame.
        """
        if self._expected is not None or self._buffer:
            expected = "header" if self._expected is None else f"{self._expected}-byte body"
            raise TruncatedFrame(f"stream ended with {len(self._buffer)} bytes of a {expected}")
