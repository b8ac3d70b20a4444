"""A blocking client for the gate's admin socket: what `trading-gate halt` and `te` use.

One request, one reply, over the same strict framing and codec as the gate. Failures
to reach the gate are `GateUnreachable` with what to check; they never look like a
refusal by the gate.
"""

import socket
from pathlib import Path
from typing import Final

from trading_contract import (
    AdminReply,
    AdminRequest,
    ProtocolError,
    body_length,
    decode_admin_reply,
    encode,
    frame,
)

DEFAULT_TIMEOUT_S: Final = 35.0  # a halt waits for the book to be verified empty


class GateUnreachable(Exception):
    """The admin socket is missing, stale, or not ours to use; the message says which."""


def request(
    socket_path: Path, message: AdminRequest, timeout_s: float = DEFAULT_TIMEOUT_S
) -> AdminReply:
    """Send one admin request and return the gate's reply.

    Raises:
        GateUnreachable: no gate listens at `socket_path`, or it hung up.
        ProtocolError: the reply is not a valid admin reply.
    """
    if not socket_path.exists():
        raise GateUnreachable(f"gate not running: no admin socket at {socket_path}")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout_s)
        try:
            sock.connect(str(socket_path))
        except ConnectionRefusedError as exc:
            raise GateUnreachable(
                f"gate not running: {socket_path} is a stale socket (nobody listens)"
            ) from exc
        except PermissionError as exc:
            raise GateUnreachable(f"not allowed to use {socket_path}: {exc.strerror}") from exc
        try:
            sock.sendall(frame(encode(message)))
            header = _read_exactly(sock, 4)
            return decode_admin_reply(_read_exactly(sock, body_length(header)))
        except TimeoutError as exc:
            raise GateUnreachable(f"the gate did not answer within {timeout_s:.0f} s") from exc
        except (ConnectionResetError, BrokenPipeError) as exc:
            raise GateUnreachable("the gate closed the connection") from exc


def _read_exactly(sock: socket.socket, count: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < count:
        chunk = sock.recv(count - len(chunks))
        if not chunk:
            raise GateUnreachable("the gate closed the connection before replying")
        chunks += chunk
    return bytes(chunks)


__all__ = ["DEFAULT_TIMEOUT_S", "GateUnreachable", "ProtocolError", "request"]
