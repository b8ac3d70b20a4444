"""The agent and admin servers: framed protocol-v1 sessions on the sockets of ipc_socket.

Agent socket: one agent at a time. The peer's uid is checked before a byte is read; the
first frame must be a compatible Hello; every later frame is decoded strictly and only
valid messages reach the handler. A malformed frame gets an `Error` reply and changes
nothing; after `max_protocol_errors` of them, or any fatal one, the agent gets a fatal
`Error` and the connection closes. A frame must arrive whole within `frame_deadline_s`
of its first byte, and some frame within `idle_timeout_s` of the last.

Admin socket: its own path and allow-list; any number of console connections, each a
sequence of request/reply frames under the same limits; requests reach the handler one
at a time.

Crash-only (STYLE rule 10): the session loops catch only what a peer can cause
(ProtocolError, timeouts, ConnectionError, IncompleteReadError). An exception from a
handler is a gate bug: it ends `serve_forever()` (and with it the composition root's
TaskGroup and the process), and the supervisor restarts the gate, which reconciles
before it serves again. asyncio's own connection tasks would only log it, so every
connection runs in a TaskGroup that `serve_forever()` owns.
"""

import abc
import asyncio
import logging
import math
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, NoReturn, Protocol

import msgspec

from trading_contract import (
    FRAME_HEADER_BYTES,
    AdminAck,
    AdminReply,
    AdminRequest,
    AdminStatusReply,
    CancelAll,
    CancelOrder,
    Error,
    ErrorCode,
    FramingError,
    GateMessage,
    Heartbeat,
    Hello,
    PlaceOrder,
    ProtocolError,
    Query,
    TruncatedFrame,
    Welcome,
    body_length,
    decode_admin_request,
    decode_agent_message,
    decode_hello,
    encode,
    error_message,
    frame,
)
from trading_gate.ipc_socket import (
    PeerCredentials,
    bind_unix_socket,
    peer_credentials,
    prepare_socket_dir,
    socket_inode,
    unlink_if_ours,
)

_log = logging.getLogger(__name__)

_BACKLOG: Final = 8

# What an agent may send once its Hello was welcomed.
SessionMessage = Heartbeat | PlaceOrder | CancelOrder | CancelAll | Query
_Outgoing = GateMessage | AdminReply


@dataclass(frozen=True, kw_only=True)
class ServerConfig:
    """Where a server listens, who may connect, and how long a peer may take."""

    socket_path: Path
    allowed_uids: frozenset[int]
    # Once a frame's first byte arrived, the rest of it must arrive within this.
    frame_deadline_s: float
    # No frame at all for this long ends the connection.
    idle_timeout_s: float
    # A peer that reads nothing for this long while we write is cut off.
    write_timeout_s: float
    max_protocol_errors: int

    def __post_init__(self) -> None:
        for name, value in (
            ("frame_deadline_s", self.frame_deadline_s),
            ("idle_timeout_s", self.idle_timeout_s),
            ("write_timeout_s", self.write_timeout_s),
        ):
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"`{name}` must be a finite number of seconds > 0, got {value}")
        if self.max_protocol_errors < 1:
            raise ValueError(f"`max_protocol_errors` must be >= 1, got {self.max_protocol_errors}")


class AgentHandler(Protocol):
    """What the gate does with an agent session. Exceptions are bugs: they crash the gate."""

    async def on_hello(self, hello: Hello, peer: PeerCredentials) -> Welcome | Error:
        """Accept the session with a Welcome, or refuse it with an Error (sent as fatal).

        `push()` is refused while this runs; pushes from the moment it returns (also from
        tasks it started) follow the Welcome on the wire.
        """
        ...

    async def on_message(self, message: SessionMessage) -> Sequence[GateMessage]:
        """The replies to one valid message, written in order with no push between them."""
        ...

    async def on_disconnect(self, reason: str) -> None:
        """A welcomed session ended (EOF, error, timeout, write stall). Called once per
        welcomed session, after the connection closed; the next agent is refused until it
        returns, so keep it short (latch, then schedule the cancels). Not called when the
        server itself shuts down."""
        ...


class AdminHandler(Protocol):
    """What the gate does with a console request. Exceptions are bugs: they crash the gate."""

    async def on_request(
        self, request: AdminRequest, peer: PeerCredentials
    ) -> AdminAck | AdminStatusReply:
        """The reply to one request; a request that fails (bad reload) is AdminAck(ok=False)."""
        ...


@dataclass(frozen=True, slots=True)
class _Ended:
    reason: str
    # Sent, fatal, before the connection closes.
    error: Error | None = None


def _fatal(code: ErrorCode, message: str) -> Error:
    return Error(code=code, message=message, fatal=True)


class _Connection:
    """One accepted connection: deadline-bounded frame reads, serialised frame writes."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, config: ServerConfig
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._config = config
        self._write_lock = asyncio.Lock()
        self._lost: str | None = None
        self._errors = 0
        self.peer = peer_credentials(writer.get_extra_info("socket"))

    async def read_body(self) -> bytes | _Ended:
        first = await self._first_byte()
        if isinstance(first, _Ended):
            return first
        return await self._rest_of_frame(first)

    async def _first_byte(self) -> bytes | _Ended:
        idle = self._config.idle_timeout_s
        try:
            async with asyncio.timeout(idle):
                first = await self._reader.read(1)
        except TimeoutError:
            return _Ended(f"idle for {idle} s", _fatal(ErrorCode.TIMEOUT, f"no frame for {idle} s"))
        except ConnectionError as exc:
            return _Ended(self._lost or f"connection lost: {exc!r}")
        return first or _Ended(self._lost or "the peer closed the connection")

    async def _rest_of_frame(self, first: bytes) -> bytes | _Ended:
        deadline = self._config.frame_deadline_s
        try:
            async with asyncio.timeout(deadline):
                header = first + await self._reader.readexactly(FRAME_HEADER_BYTES - 1)
                # Refuses an oversize header before a byte of the body is read.
                return await self._reader.readexactly(body_length(header))
        except FramingError as exc:
            return _Ended(str(exc), error_message(exc))
        except asyncio.IncompleteReadError as exc:
            cut = TruncatedFrame(f"stream ended {len(exc.partial)} bytes into a frame's rest")
            return _Ended(str(cut), error_message(cut))
        except TimeoutError:
            text = f"frame not complete within {deadline} s of its first byte"
            return _Ended(text, _fatal(ErrorCode.TIMEOUT, text))
        except ConnectionError as exc:
            return _Ended(self._lost or f"connection lost: {exc!r}")

    async def send(self, messages: Sequence[_Outgoing]) -> bool:
        """Write whole frames; False (and the connection aborted) if the peer stalls or left."""
        data = b"".join(frame(encode(message)) for message in messages)
        timeout = self._config.write_timeout_s
        async with self._write_lock:
            if self._writer.is_closing():
                return False
            self._writer.write(data)
            try:
                async with asyncio.timeout(timeout):
                    await self._writer.drain()
            except TimeoutError:
                self.abort(f"write stalled: the peer read nothing for {timeout} s")
                return False
            except ConnectionError as exc:
                self.abort(f"connection lost while writing: {exc!r}")
                return False
        return True

    async def refuse_frame(self, error: Error) -> _Ended | None:
        """Answer a frame that changed nothing; the connection ends at the K-th."""
        self._errors += 1
        await self.send([error])
        limit = self._config.max_protocol_errors
        if self._errors < limit:
            return None
        text = f"{self._errors} protocol errors on this connection (the limit is {limit})"
        return _Ended(text, _fatal(ErrorCode.TOO_MANY_ERRORS, text))

    async def close(self, error: Error | None = None) -> None:
        """Send `error` (the peer must learn why), then close gracefully, within bounds."""
        if error is not None:
            await self.send([error])
        self._writer.close()
        try:
            async with asyncio.timeout(self._config.write_timeout_s):
                await self._writer.wait_closed()
        except TimeoutError:
            self.abort("close stalled")
        except ConnectionError:
            pass  # already gone: nothing left to close

    def abort(self, reason: str = "aborted") -> None:
        self._lost = self._lost or reason
        self._writer.transport.abort()


class _UnixServer(abc.ABC):
    """Bind, accept into a TaskGroup, clean up: shared by the agent and admin servers."""

    def __init__(self, config: ServerConfig) -> None:
        self._config = config
        self._sock: socket.socket | None = None
        self._inode: tuple[int, int] | None = None

    def bind(self) -> None:
        """Prepare the 0700 directory and bind and listen on the 0600 socket. Idempotent.

        Call it at startup to fail before anything else runs; serve_forever() calls it too.

        Raises:
            SocketSetupError: the directory or the socket path is unsafe (ipc_socket).
        """
        if self._inode is not None:
            return
        path = self._config.socket_path
        prepare_socket_dir(path.parent)
        sock = bind_unix_socket(path)
        self._inode = socket_inode(path)
        self._sock = sock
        sock.listen(_BACKLOG)

    async def serve_forever(self) -> NoReturn:
        """Serve until cancelled; then close every connection and unlink the socket path.

        Raises:
            SocketSetupError: from bind().
            ExceptionGroup: a handler raised (a gate bug): the gate must crash.
        """
        self.bind()
        incoming: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]]
        incoming = asyncio.Queue()
        try:
            async with asyncio.TaskGroup() as tasks:
                listener = await asyncio.start_unix_server(
                    lambda reader, writer: incoming.put_nowait((reader, writer)), sock=self._sock
                )
                # The listener closes the socket from now on.
                self._sock = None
                try:
                    while True:
                        reader, writer = await incoming.get()
                        tasks.create_task(self._run(reader, writer))
                finally:
                    # Unlink while still listening: until then no successor can bind there.
                    self._unlink()
                    listener.close()
                    while not incoming.empty():
                        incoming.get_nowait()[1].transport.abort()
        finally:
            self.close()

    def close(self) -> None:
        """Unlink the path if it is still ours, and close a socket bound but never served."""
        self._unlink()
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def _unlink(self) -> None:
        if self._inode is not None:
            unlink_if_ours(self._config.socket_path, self._inode)
            self._inode = None

    async def _run(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = _Connection(reader, writer, self._config)
        try:
            await self._serve(connection)
        finally:
            connection.abort()

    @abc.abstractmethod
    async def _serve(self, connection: _Connection) -> None: ...

    def _peer_refusal(self, connection: _Connection) -> Error | None:
        peer = connection.peer
        if peer.uid in self._config.allowed_uids:
            return None
        _log.warning(
            "%s: refused peer pid=%d uid=%d gid=%d: uid not allowed",
            self._config.socket_path,
            peer.pid,
            peer.uid,
            peer.gid,
        )
        return _fatal(ErrorCode.PEER_NOT_ALLOWED, f"uid {peer.uid} may not use this socket")


class AgentServer(_UnixServer):
    """The agent socket: exactly one agent session at a time."""

    def __init__(self, config: ServerConfig, handler: AgentHandler) -> None:
        super().__init__(config)
        self._handler = handler
        self._agent: _Connection | None = None
        self._welcomed = False

    @property
    def agent_connected(self) -> bool:
        """Whether a welcomed agent session is open."""
        return self._agent is not None and self._welcomed

    async def push(self, message: GateMessage) -> bool:
        """Send an event (OrderUpdate, Fill, GateState...) to the agent, between frames.

        Returns False, sending nothing, when no welcomed agent is connected, and when the
        write stalls or fails (the connection is then closed and on_disconnect follows).
        """
        agent = self._agent
        if agent is None or not self._welcomed:
            return False
        return await agent.send([message])

    async def _serve(self, connection: _Connection) -> None:
        refusal = self._peer_refusal(connection) or self._slot_refusal(connection)
        if refusal is not None:
            await connection.close(refusal)
            return
        self._agent = connection
        try:
            await self._session(connection)
        finally:
            self._agent = None
            self._welcomed = False

    def _slot_refusal(self, connection: _Connection) -> Error | None:
        if self._agent is None:
            return None
        _log.warning("agent socket: refused pid=%d: an agent is connected", connection.peer.pid)
        return _fatal(ErrorCode.ALREADY_CONNECTED, "another agent is connected")

    async def _session(self, connection: _Connection) -> None:
        refused = await self._handshake(connection)
        if refused is not None:
            _log.warning("agent socket: handshake failed: %s", refused.reason)
            await connection.close(refused.error)
            return
        ended = await self._message_loop(connection)
        self._welcomed = False
        _log.warning("agent session ended: %s", ended.reason)
        await connection.close(ended.error)
        await self._handler.on_disconnect(ended.reason)

    async def _handshake(self, connection: _Connection) -> _Ended | None:
        body = await connection.read_body()
        if isinstance(body, _Ended):
            return body
        try:
            hello = decode_hello(body)
        except ProtocolError as exc:
            # Whatever is wrong with the first frame, there is no session to keep.
            return _Ended(str(exc), msgspec.structs.replace(error_message(exc), fatal=True))
        answer = await self._handler.on_hello(hello, connection.peer)
        if isinstance(answer, Error):
            return _Ended(answer.message, msgspec.structs.replace(answer, fatal=True))
        # Set before the write takes the lock, so that no push can overtake the Welcome.
        self._welcomed = True
        await connection.send([answer])
        return None

    async def _message_loop(self, connection: _Connection) -> _Ended:
        while True:
            body = await connection.read_body()
            if isinstance(body, _Ended):
                return body
            message = _decode_session_message(body)
            if not isinstance(message, Error):
                await connection.send(await self._handler.on_message(message))
            elif (refused := await connection.refuse_frame(message)) is not None:
                return refused


def _decode_session_message(body: bytes) -> SessionMessage | Error:
    try:
        message = decode_agent_message(body)
    except ProtocolError as exc:
        # Only framing errors are fatal, and read_body has handled those.
        return error_message(exc)
    if isinstance(message, Hello):
        return Error(
            code=ErrorCode.UNEXPECTED_MESSAGE,
            message="this session is already welcomed; a second hello changes nothing",
            field="$.type",
            fatal=False,
        )
    return message


class AdminServer(_UnixServer):
    """The admin socket: console connections, their requests handled one at a time."""

    def __init__(self, config: ServerConfig, handler: AdminHandler) -> None:
        super().__init__(config)
        self._handler = handler
        # A halt and a resume from two consoles must not interleave inside the handler.
        self._one_request = asyncio.Lock()

    async def _serve(self, connection: _Connection) -> None:
        refusal = self._peer_refusal(connection)
        if refusal is not None:
            await connection.close(refusal)
            return
        ended = await self._request_loop(connection)
        await connection.close(ended.error)

    async def _request_loop(self, connection: _Connection) -> _Ended:
        while True:
            body = await connection.read_body()
            if isinstance(body, _Ended):
                return body
            request = _decode_request(body)
            if not isinstance(request, Error):
                async with self._one_request:
                    reply = await self._handler.on_request(request, connection.peer)
                await connection.send([reply])
            elif (refused := await connection.refuse_frame(request)) is not None:
                return refused


def _decode_request(body: bytes) -> AdminRequest | Error:
    try:
        return decode_admin_request(body)
    except ProtocolError as exc:
        return error_message(exc)
