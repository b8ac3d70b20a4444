"""Fakes and clients for the IPC server tests: recording handlers, a framed socket client."""

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, Protocol, TypeVar

import trading_contract as c
from trading_gate.ipc_server import AgentServer, ServerConfig, SessionMessage
from trading_gate.ipc_socket import PeerCredentials


class Servable(Protocol):
    def bind(self) -> None: ...
    async def serve_forever(self) -> NoReturn: ...


S = TypeVar("S", bound=Servable)
ScenarioResult = TypeVar("ScenarioResult")

HELLO = c.Hello(protocol_version=c.PROTOCOL_VERSION, agent_id="agent-1", sent_ns=1)
WELCOME = c.Welcome(
    protocol_version=c.PROTOCOL_VERSION,
    gate_id="gate-1",
    session_id="s-1",
    heartbeat_interval_ms=1000,
    heartbeat_timeout_ms=3000,
    max_frame_bytes=c.MAX_FRAME_BYTES,
    state=c.TradingState.ACTIVE,
    sent_ns=2,
)
HASH = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def run(scenario: Callable[[], Awaitable[ScenarioResult]], *, within_s: float = 5.0) -> Any:
    """Run one async scenario to completion, bounded so a hang fails instead of stalling."""

    async def bounded() -> ScenarioResult:
        async with asyncio.timeout(within_s):
            return await scenario()

    return asyncio.run(bounded())


def config(path: Path, **overrides: Any) -> ServerConfig:
    fields: dict[str, Any] = {
        "socket_path": path,
        "allowed_uids": frozenset({os.geteuid()}),
        "frame_deadline_s": 0.5,
        "idle_timeout_s": 3.0,
        "write_timeout_s": 0.3,
        "max_protocol_errors": 5,
    }
    return ServerConfig(**(fields | overrides))


class FakeAgentHandler:
    """Records every call; answers a Hello with WELCOME and a Heartbeat with its echo."""

    def __init__(self, *, refuse_with: c.Error | None = None) -> None:
        self.refuse_with = refuse_with
        self.hellos: list[tuple[c.Hello, PeerCredentials]] = []
        self.messages: list[SessionMessage] = []
        self.disconnects: list[str] = []
        self.disconnected = asyncio.Event()
        self.fail_on_message: Exception | None = None

    async def on_hello(self, hello: c.Hello, peer: PeerCredentials) -> c.Welcome | c.Error:
        self.hellos.append((hello, peer))
        return self.refuse_with or WELCOME

    async def on_message(self, message: SessionMessage) -> Sequence[c.GateMessage]:
        self.messages.append(message)
        if self.fail_on_message is not None:
            raise self.fail_on_message
        if isinstance(message, c.Heartbeat):
            return [c.Heartbeat(seq=message.seq, sent_ns=message.sent_ns + 1)]
        return []

    async def on_disconnect(self, reason: str) -> None:
        self.disconnects.append(reason)
        self.disconnected.set()


class FakeAdminHandler:
    """Records every request; answers status with a fixed reply and the rest with an ack."""

    def __init__(self) -> None:
        self.requests: list[tuple[c.AdminRequest, PeerCredentials]] = []

    async def on_request(
        self, request: c.AdminRequest, peer: PeerCredentials
    ) -> c.AdminAck | c.AdminStatusReply:
        self.requests.append((request, peer))
        if isinstance(request, c.AdminStatus):
            return c.AdminStatusReply(
                request_id=request.request_id,
                state=c.TradingState.ACTIVE,
                cause="started",
                since_ns=1,
                agent_connected=False,
                open_orders=0,
                unknown_orders=0,
                config_hash=HASH,
                rules_hash=HASH,
                as_of_ns=2,
            )
        return c.AdminAck(request_id=request.request_id, ok=True, message=type(request).__name__)


@contextlib.asynccontextmanager
async def serving(server: S) -> AsyncIterator[S]:
    """Run `server.serve_forever()` for the block; then stop it as a shutdown would."""
    server.bind()
    task = asyncio.create_task(server.serve_forever())
    try:
        yield server
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class Client:
    """A peer on a socket, speaking frames."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, path: Path) -> "Client":
        reader, writer = await asyncio.open_unix_connection(str(path))
        return cls(reader, writer)

    async def send(self, message: c.AgentMessage | c.AdminRequest) -> None:
        await self.send_raw(c.frame(c.encode(message)))

    async def send_raw(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def recv_body(self) -> bytes | None:
        """The next frame body, or None once the gate has closed the connection."""
        try:
            return await c.read_frame(self.reader.readexactly)
        except ConnectionError:
            # The gate closed with bytes of ours unread (Linux reports a reset, not EOF),
            # or a write of ours hit the closed socket (a broken pipe).
            return None

    async def recv(self) -> c.GateMessage:
        body = await self.recv_body()
        assert body is not None, "the gate closed the connection"
        return c.decode_gate_message(body)

    async def recv_admin(self) -> c.AdminReply:
        body = await self.recv_body()
        assert body is not None, "the gate closed the connection"
        return c.decode_admin_reply(body)

    async def recv_error(self, code: c.ErrorCode, *, fatal: bool) -> c.Error:
        message = await self.recv()
        assert isinstance(message, c.Error), message
        assert (message.code, message.fatal) == (code, fatal), message
        return message

    async def expect_closed(self) -> None:
        assert await self.recv_body() is None

    async def handshake(self) -> None:
        await self.send(HELLO)
        assert await self.recv() == WELCOME

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


@contextlib.asynccontextmanager
async def connected(path: Path) -> AsyncIterator[Client]:
    client = await Client.connect(path)
    try:
        yield client
    finally:
        await client.close()


@contextlib.asynccontextmanager
async def agent(path: Path) -> AsyncIterator[Client]:
    """A connected client that has completed the handshake."""
    async with connected(path) as client:
        await client.handshake()
        yield client


def agent_server(path: Path, handler: FakeAgentHandler, **overrides: Any) -> AgentServer:
    return AgentServer(config(path, **overrides), handler)
