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
    TruncatedFrame,
    decode_admin_reply,
    encode,
    frame,
    recv_frame,
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
            body = recv_frame(sock.recv)
        except TruncatedFrame as exc:
            raise GateUnreachable("the gate closed the connection before replying") from exc
        except TimeoutError as exc:
            raise GateUnreachable(f"the gate did not answer within {timeout_s:.0f} s") from exc
        except (ConnectionResetError, BrokenPipeError) as exc:
            raise GateUnreachable("the gate closed the connection") from exc
    if body is None:
        raise GateUnreachable("the gate closed the connection before replying")
    return decode_admin_reply(body)


__all__ = ["DEFAULT_TIMEOUT_S", "GateUnreachable", "ProtocolError", "request"]
