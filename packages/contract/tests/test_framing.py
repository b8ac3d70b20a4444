"""Length-prefixed framing over chunked buffers and a real Unix socket pair."""

import asyncio
import itertools
import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

import trading_contract as c


def test_frame_when_body_at_cap_then_framed() -> None:
    """A body of exactly MAX_FRAME_BYTES is accepted; one byte more is refused."""
    assert len(c.frame(b"x" * c.MAX_FRAME_BYTES)) == c.MAX_FRAME_BYTES + 4
    with pytest.raises(c.FrameTooLarge):
        c.frame(b"x" * (c.MAX_FRAME_BYTES + 1))


def test_body_length_when_header_at_cap_then_accepted_and_past_cap_refused() -> None:
    """The length check is inclusive at the cap and refuses one past it."""
    assert c.body_length(c.MAX_FRAME_BYTES.to_bytes(4, "big")) == c.MAX_FRAME_BYTES
    with pytest.raises(c.FrameTooLarge):
        c.body_length((c.MAX_FRAME_BYTES + 1).to_bytes(4, "big"))
    with pytest.raises(c.TruncatedFrame):
        c.body_length(b"\x00\x00")


@given(
    bodies=st.lists(st.binary(max_size=200), max_size=8),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=10),
)
def test_frame_decoder_when_stream_split_anywhere_then_same_bodies(
    bodies: list[bytes], cuts: list[int]
) -> None:
    """However the byte stream is chunked, the decoder yields the same bodies in order."""
    stream = b"".join(c.frame(b) for b in bodies)
    points = sorted({min(cut, len(stream)) for cut in cuts} | {0, len(stream)})
    decoder = c.FrameDecoder()
    out: list[bytes] = []
    for start, end in itertools.pairwise(points):
        out += decoder.feed(stream[start:end])
    decoder.close()
    assert out == bodies


def test_frame_decoder_when_header_oversize_then_refused_at_once() -> None:
    """An oversize header is refused as soon as its 4 bytes arrive."""
    with pytest.raises(c.FrameTooLarge):
        c.FrameDecoder().feed(b"\x7f\xff\xff\xff")


def test_frame_decoder_when_stream_ends_inside_header_then_truncated() -> None:
    """Two bytes of a header at the end of the stream raise TruncatedFrame."""
    decoder = c.FrameDecoder()
    decoder.feed(b"\x00\x00")
    with pytest.raises(c.TruncatedFrame):
        decoder.close()


async def _read_all(data: bytes, *, close: bool = True) -> list[bytes | None]:
    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with left, right:
        reader, writer = await asyncio.open_unix_connection(sock=right)
        left.sendall(data)
        if close:
            left.shutdown(socket.SHUT_WR)
        frames: list[bytes | None] = []
        try:
            while (body := await c.read_frame(reader.readexactly)) is not None:
                frames.append(body)
            frames.append(None)
        finally:
            writer.close()
        return frames


def test_read_frame_when_unix_socket_carries_frames_then_bodies_then_clean_end() -> None:
    """Frames written to a real Unix socket are read back, then a clean EOF gives None."""
    bodies = [b'{"a":1}', b"", b"x" * c.MAX_FRAME_BYTES]
    assert asyncio.run(_read_all(b"".join(c.frame(b) for b in bodies))) == [*bodies, None]


def test_read_frame_when_socket_closes_inside_body_then_truncated() -> None:
    """A peer that hangs up mid-body produces TruncatedFrame, not a short body."""
    with pytest.raises(c.TruncatedFrame, match="3 of 10 body bytes"):
        asyncio.run(_read_all(b"\x00\x00\x00\x0aabc"))


def test_read_frame_when_socket_closes_inside_header_then_truncated() -> None:
    """A peer that hangs up mid-header produces TruncatedFrame."""
    with pytest.raises(c.TruncatedFrame, match="2 header bytes"):
        asyncio.run(_read_all(b"\x00\x00"))


def test_frame_decoder_when_body_arrives_in_two_chunks_then_one_body() -> None:
    """A header and half a body, then the other half, give exactly one body."""
    framed = c.frame(b"0123456789")
    decoder = c.FrameDecoder()
    assert decoder.feed(framed[:7]) == []
    assert decoder.feed(framed[7:]) == [b"0123456789"]
    decoder.close()


def _recv_all(data: bytes) -> list[bytes | None]:
    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with left, right:
        left.sendall(data)
        left.shutdown(socket.SHUT_WR)
        frames: list[bytes | None] = []
        while (body := c.recv_frame(right.recv)) is not None:
            frames.append(body)
        frames.append(None)
        return frames


def test_recv_frame_when_blocking_socket_carries_frames_then_bodies_then_clean_end() -> None:
    """A blocking socket gives back each body, then None at a clean end."""
    bodies = [b'{"a":1}', b"", b"y" * 30_000]
    assert _recv_all(b"".join(c.frame(b) for b in bodies)) == [*bodies, None]


def test_recv_frame_when_stream_ends_inside_header_or_body_then_truncated() -> None:
    """A stream cut inside a header or a body is TruncatedFrame, never a short body."""
    with pytest.raises(c.TruncatedFrame, match="2 header bytes"):
        _recv_all(b"\x00\x00")
    with pytest.raises(c.TruncatedFrame, match="3 of 10 body bytes"):
        _recv_all(b"\x00\x00\x00\x0aabc")


def test_recv_frame_when_header_oversize_then_body_never_requested() -> None:
    """An oversize header is refused after 4 bytes; recv is not asked for the body."""
    asked: list[int] = []

    def recv(n: int) -> bytes:
        asked.append(n)
        return b"\x7f\xff\xff\xff"[:n]

    with pytest.raises(c.FrameTooLarge):
        c.recv_frame(recv)
    assert asked == [4]
