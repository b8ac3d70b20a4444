"""The only module that talks to the gate: its Unix socket, protocol v1.

`GateLink` connects, says Hello, heartbeats every `heartbeat_s` (the gate's dead man's
switch halts trading when the beats stop), sends requests and pairs each reply with its
request by `request_id`. Everything the gate pushes unasked (order updates, fills, gate
states, replies nobody waits for) goes to the `on_push` callback, in arrival order.

When the connection drops, every waiting request fails with `GateUnavailable` (the
order's fate is then learned from the gate's pushes and queries, never guessed), and
`run` reconnects with capped exponential backoff. A reconnect re-sends nothing: the
gate derives client order ids from intent ids, so a caller that retries an intent
cannot create a second order, and it is the caller's decision whether to.
"""

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Final

import trading_contract as c

__all__ = ["GateLink", "GateRejectedHello", "GateUnavailable", "Reply", "Request"]

log = logging.getLogger(__name__)

Request = c.PlaceOrder | c.CancelOrder | c.CancelAll | c.Query
Reply = c.Decision | c.QueryReply | c.Error

AGENT_PROTOCOL_VERSION: Final = 1
DEFAULT_REPLY_TIMEOUT_S: Final = 10.0
_BACKOFF_FIRST_S: Final = 0.1
_BACKOFF_MAX_S: Final = 5.0


class GateUnavailable(ConnectionError):
    """The gate cannot be reached, or the connection dropped before the reply came."""


class GateRejectedHello(Exception):
    """The gate answered the Hello with an Error (wrong protocol version, second agent)."""


class GateLink:
    """One agent's connection to the gate, kept alive by `run`."""

    def __init__(
        self,
        socket_path: Path,
        *,
        agent_id: str,
        now_ns: Callable[[], int],
        on_push: Callable[[c.GateMessage], None],
        heartbeat_s: float = 1.0,
        reply_timeout_s: float = DEFAULT_REPLY_TIMEOUT_S,
    ) -> None:
        self._path = socket_path
        self._agent_id = agent_id
        self._now_ns = now_ns
        self._on_push = on_push
        self._heartbeat_s = heartbeat_s
        self._reply_timeout_s = reply_timeout_s
        self._writer: asyncio.StreamWriter | None = None
        self._waiting: dict[str, asyncio.Future[Reply]] = {}
        self._beat_seq = 0
        self.welcome: c.Welcome | None = None
        self.connected = asyncio.Event()

    # ------------------------------------------------------------ requests

    async def request(self, message: Request) -> Reply:
        """Send one request and wait for the gate's reply to it.

        Raises:
            GateUnavailable: not connected, the connection dropped, or no reply in time.
        """
        writer = self._writer
        if writer is None:
            raise GateUnavailable(f"not connected to the gate at {self._path}")
        request_id = message.request_id
        if request_id in self._waiting:
            raise ValueError(f"request_id {request_id!r} is already waiting for a reply")
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        try:
            writer.write(c.frame(c.encode(message)))
            await writer.drain()
            # Not `asyncio.wait_for`: on Python 3.11 it returns the reply when the caller
            # is cancelled in the tick the reply lands, and the cancel is lost
            # (cpython#86296): an agent told to stop would trade on.
            async with asyncio.timeout(self._reply_timeout_s):
                return await future
        except (OSError, ConnectionError) as exc:
            raise GateUnavailable(f"lost the gate while sending {request_id}: {exc}") from exc
        except TimeoutError as exc:
            raise GateUnavailable(
                f"no reply to {request_id} within {self._reply_timeout_s} s"
            ) from exc
        finally:
            self._waiting.pop(request_id, None)

    # ------------------------------------------------------------ the connection

    async def run(self, *, reconnect: bool = True) -> None:
        """Connect and serve until cancelled; reconnect after a drop unless told not to.

        Raises:
            GateRejectedHello: the gate refused the handshake (never retried: a second
                agent or a protocol mismatch does not heal by retrying).
            GateUnavailable: the gate cannot be reached and `reconnect` is False.
        """
        backoff = _BACKOFF_FIRST_S
        while True:
            try:
                await self._session()
                backoff = _BACKOFF_FIRST_S
            except (OSError, GateUnavailable, c.ProtocolError, c.FramingError) as exc:
                if not reconnect:
                    raise GateUnavailable(f"gate at {self._path}: {exc}") from exc
                log.warning("gate link down (%s); retrying in %.1f s", exc, backoff)
            if not reconnect:
                return
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, _BACKOFF_MAX_S)

    async def _session(self) -> None:
        reader, writer = await asyncio.open_unix_connection(str(self._path))
        try:
            self.welcome = await self._handshake(reader, writer)
            self._writer = writer
            self.connected.set()
            self._on_push(
                c.GateState(
                    state=self.welcome.state,
                    cause="connected",
                    since_ns=self.welcome.sent_ns,
                    sent_ns=self.welcome.sent_ns,
                )
            )
            beats = asyncio.create_task(self._heartbeats(writer))
            try:
                await self._read_loop(reader)
            finally:
                beats.cancel()
                # Waited for, not awaited under suppress(CancelledError): that would also
                # swallow a cancel of this task arriving meanwhile, and `run` would
                # reconnect forever instead of stopping.
                await asyncio.wait({beats})
                if not beats.cancelled():
                    beats.exception()  # retrieved: the read loop's failure says why
        finally:
            self._drop(writer)

    async def _handshake(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> c.Welcome:
        hello = c.Hello(
            protocol_version=AGENT_PROTOCOL_VERSION,
            agent_id=c.AgentId(self._agent_id),
            sent_ns=self._now_ns(),
        )
        writer.write(c.frame(c.encode(hello)))
        await writer.drain()
        body = await c.read_frame(reader.readexactly)
        if body is None:
            raise GateUnavailable("the gate closed the connection during the handshake")
        reply = c.decode_gate_message(body)
        if isinstance(reply, c.Error):
            raise GateRejectedHello(f"the gate refused the hello: {reply.code}: {reply.message}")
        if not isinstance(reply, c.Welcome):
            raise GateUnavailable(f"expected a welcome, got {type(reply).__name__}")
        return reply

    async def _heartbeats(self, writer: asyncio.StreamWriter) -> None:
        while True:
            self._beat_seq += 1
            beat = c.Heartbeat(seq=self._beat_seq, sent_ns=self._now_ns())
            writer.write(c.frame(c.encode(beat)))
            await writer.drain()
            await asyncio.sleep(self._heartbeat_s)

    async def _read_loop(self, reader: asyncio.StreamReader) -> None:
        while True:
            try:
                body = await c.read_frame(reader.readexactly)
            except asyncio.IncompleteReadError as exc:
                raise GateUnavailable("the gate closed the connection inside a frame") from exc
            if body is None:
                raise GateUnavailable("the gate closed the connection")
            self._dispatch(c.decode_gate_message(body))

    def _dispatch(self, message: c.GateMessage) -> None:
        request_id = getattr(message, "request_id", None)
        future = self._waiting.get(request_id) if isinstance(request_id, str) else None
        if future is not None and not future.done() and isinstance(message, Reply):
            future.set_result(message)
        elif not isinstance(message, c.Heartbeat):
            self._on_push(message)

    def _drop(self, writer: asyncio.StreamWriter) -> None:
        self._writer = None
        self.connected.clear()
        writer.close()
        for request_id, future in list(self._waiting.items()):
            if not future.done():
                future.set_exception(
                    GateUnavailable(f"the connection dropped before the reply to {request_id}")
                )
