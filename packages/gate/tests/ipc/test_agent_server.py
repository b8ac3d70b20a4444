"""The agent socket over real Unix sockets: admission, handshake, bad frames, deadlines."""

import asyncio
import os
import signal
import socket
import sys
import time
from pathlib import Path

import pytest

import trading_contract as c
from ipc.ipc_stubs import (
    HELLO,
    WELCOME,
    FakeAgentHandler,
    agent,
    agent_server,
    connected,
    run,
    serving,
)

HEARTBEAT = c.Heartbeat(seq=7, sent_ns=100)
ECHO = c.Heartbeat(seq=7, sent_ns=101)
VALID_HEARTBEAT = b'{"type":"heartbeat","seq":1,"sent_ns":1}'
GATE_STATE = c.GateState(state=c.TradingState.HALTED, cause="kill switch", since_ns=5, sent_ns=5)


def _path(sock_dir: Path) -> Path:
    return sock_dir / "agent.sock"


def test_agent_server_when_hello_v1_then_welcome_and_handler_sees_peer(sock_dir: Path) -> None:
    """A compatible Hello reaches the handler with the peer's credentials; Welcome comes back."""
    handler = FakeAgentHandler()

    async def scenario() -> None:
        async with serving(agent_server(_path(sock_dir), handler)), agent(_path(sock_dir)):
            pass

    run(scenario)
    [(hello, peer)] = handler.hellos
    assert hello == HELLO
    assert (peer.pid, peer.uid, peer.gid) == (os.getpid(), os.geteuid(), os.getegid())


def test_agent_server_when_hello_v2_then_version_mismatch_then_closed(sock_dir: Path) -> None:
    """Another protocol version gets a clear fatal error, then the connection closes."""
    handler = FakeAgentHandler()

    async def scenario() -> c.Error:
        server = agent_server(_path(sock_dir), handler)
        async with serving(server), connected(_path(sock_dir)) as client:
            await client.send(c.Hello(protocol_version=2, agent_id="agent-1", sent_ns=1))
            error = await client.recv_error(c.ErrorCode.VERSION_MISMATCH, fatal=True)
            await client.expect_closed()
            return error

    error = run(scenario)
    assert "speaks protocol v1" in error.message
    assert handler.hellos == []
    assert handler.disconnects == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (c.encode(HEARTBEAT), c.ErrorCode.HANDSHAKE_REQUIRED),
        (b"{not json", c.ErrorCode.MALFORMED_JSON),
    ],
    ids=["heartbeat", "garbage"],
)
def test_agent_server_when_first_frame_is_not_hello_then_fatal_error_then_closed(
    sock_dir: Path, body: bytes, code: c.ErrorCode
) -> None:
    """Whatever is wrong with the first frame, the error is fatal; the handler never hears."""
    handler = FakeAgentHandler()

    async def scenario() -> None:
        server = agent_server(_path(sock_dir), handler)
        async with serving(server), connected(_path(sock_dir)) as client:
            await client.send_raw(c.frame(body))
            await client.recv_error(code, fatal=True)
            await client.expect_closed()

    run(scenario)
    assert (handler.hellos, handler.messages, handler.disconnects) == ([], [], [])


def test_agent_server_when_client_leaves_before_hello_then_no_session(sock_dir: Path) -> None:
    """A connection that closes without a frame never reaches the handler, and frees the slot."""
    handler = FakeAgentHandler()

    async def scenario() -> None:
        async with serving(agent_server(_path(sock_dir), handler)):
            async with connected(_path(sock_dir)):
                pass
            async with agent(_path(sock_dir)):
                pass
            await asyncio.wait_for(handler.disconnected.wait(), 1)

    run(scenario)
    assert len(handler.hellos) == 1


def test_agent_server_when_peer_uid_not_allowed_then_refused_unread(sock_dir: Path) -> None:
    """A uid outside the allow-list is refused before its frames are read."""
    handler = FakeAgentHandler()
    server = agent_server(_path(sock_dir), handler, allowed_uids=frozenset({os.geteuid() + 1}))

    async def scenario() -> None:
        async with serving(server), connected(_path(sock_dir)) as client:
            await client.send(HELLO)
            await client.recv_error(c.ErrorCode.PEER_NOT_ALLOWED, fatal=True)
            await client.expect_closed()

    run(scenario)
    assert handler.hellos == []


def test_agent_server_when_hello_refused_by_handler_then_error_is_fatal(sock_dir: Path) -> None:
    """An Error from on_hello is sent as fatal, the connection closes, no session starts."""
    refusal = c.Error(code=c.ErrorCode.UNEXPECTED_MESSAGE, message="agent id unknown", fatal=False)
    handler = FakeAgentHandler(refuse_with=refusal)

    async def scenario() -> None:
        async with serving(agent_server(_path(sock_dir), handler)) as server:
            async with connected(_path(sock_dir)) as client:
                await client.send(HELLO)
                error = await client.recv_error(c.ErrorCode.UNEXPECTED_MESSAGE, fatal=True)
                assert error.message == "agent id unknown"
                await client.expect_closed()
            assert not server.agent_connected

    run(scenario)
    assert handler.disconnects == []


def test_agent_server_when_second_agent_connects_then_refused_and_first_unaffected(
    sock_dir: Path,
) -> None:
    """One agent at a time: the second gets ALREADY_CONNECTED; the first keeps its session."""
    handler = FakeAgentHandler()

    async def scenario() -> None:
        async with serving(agent_server(_path(sock_dir), handler)), agent(_path(sock_dir)) as first:
            async with connected(_path(sock_dir)) as second:
                await second.send(HELLO)
                await second.recv_error(c.ErrorCode.ALREADY_CONNECTED, fatal=True)
                await second.expect_closed()
            await first.send(HEARTBEAT)
            assert await first.recv() == ECHO

    run(scenario)
    assert len(handler.hellos) == 1
    assert handler.messages == [HEARTBEAT]
    assert handler.disconnects == []


MALFORMED = [
    (b"{not json", c.ErrorCode.MALFORMED_JSON),
    (b'{"type":"heartbeat","seq":1,"sent_ns":1,"x":1}', c.ErrorCode.UNKNOWN_FIELD),
    (b'{"type":"heartbeat","seq":1,"seq":2,"sent_ns":1}', c.ErrorCode.DUPLICATE_KEY),
    (b'{"type":"heartbeat","seq":NaN,"sent_ns":1}', c.ErrorCode.MALFORMED_JSON),
    (b'{"type":"heartbeat","seq":-1,"sent_ns":1}', c.ErrorCode.SCHEMA_VIOLATION),
    (c.encode(WELCOME), c.ErrorCode.SCHEMA_VIOLATION),
    (c.encode(HELLO), c.ErrorCode.UNEXPECTED_MESSAGE),
]


@pytest.mark.parametrize(("body", "code"), MALFORMED, ids=lambda v: getattr(v, "value", None))
def test_agent_server_when_frame_malformed_then_error_reply_and_session_continues(
    sock_dir: Path, body: bytes, code: c.ErrorCode
) -> None:
    """A bad frame gets a non-fatal Error, never reaches the handler, and the session goes on."""
    handler = FakeAgentHandler()

    async def scenario() -> None:
        async with (
            serving(agent_server(_path(sock_dir), handler)),
            agent(_path(sock_dir)) as client,
        ):
            await client.send_raw(c.frame(body))
            await client.recv_error(code, fatal=False)
            await client.send(HEARTBEAT)
            assert await client.recv() == ECHO

    run(scenario)
    assert handler.messages == [HEARTBEAT]
    assert len(handler.hellos) == 1


def test_agent_server_when_k_protocol_errors_then_too_many_errors_then_closed(
    sock_dir: Path,
) -> None:
    """The K-th bad frame is answered, then TOO_MANY_ERRORS, then the connection closes."""
    handler = FakeAgentHandler()

    async def scenario() -> None:
        server = agent_server(_path(sock_dir), handler, max_protocol_errors=3)
        async with serving(server), agent(_path(sock_dir)) as client:
            for _ in range(3):
                await client.send_raw(c.frame(b"[]"))
            for _ in range(3):
                await client.recv_error(c.ErrorCode.SCHEMA_VIOLATION, fatal=False)
            await client.recv_error(c.ErrorCode.TOO_MANY_ERRORS, fatal=True)
            await client.expect_closed()
            await asyncio.wait_for(handler.disconnected.wait(), 1)

    run(scenario)
    assert handler.messages == []
    [reason] = handler.disconnects
    assert "3 protocol errors" in reason


def test_agent_server_when_header_announces_2_31_then_frame_too_large_without_body(
    sock_dir: Path,
) -> None:
    """An oversize header is refused at once: the reply comes though no body byte was sent."""
    handler = FakeAgentHandler()

    async def scenario() -> None:
        async with (
            serving(agent_server(_path(sock_dir), handler)),
            agent(_path(sock_dir)) as client,
        ):
            await client.send_raw((2**31).to_bytes(4, "big"))
            await client.recv_error(c.ErrorCode.FRAME_TOO_LARGE, fatal=True)
            await client.expect_closed()

    run(scenario, within_s=2)
    assert handler.messages == []


def test_agent_server_when_stream_ends_inside_a_frame_then_truncated_and_disconnect(
    sock_dir: Path,
) -> None:
    """Half a frame then a half-close: TRUNCATED_FRAME is still sent; the session ends."""
    handler = FakeAgentHandler()

    async def scenario() -> None:
        async with (
            serving(agent_server(_path(sock_dir), handler)),
            agent(_path(sock_dir)) as client,
        ):
            await client.send_raw(c.frame(VALID_HEARTBEAT)[:10])
            client.writer.write_eof()
            await client.recv_error(c.ErrorCode.TRUNCATED_FRAME, fatal=True)
            await client.expect_closed()
            await asyncio.wait_for(handler.disconnected.wait(), 1)

    run(scenario)
    assert handler.messages == []


def test_agent_server_when_slowloris_then_timeout_and_next_agent_accepted(sock_dir: Path) -> None:
    """A frame trickled a byte per 50 ms misses a 0.2 s deadline; the slot is then free again."""
    handler = FakeAgentHandler()

    async def trickle(client_writer: asyncio.StreamWriter, data: bytes) -> None:
        for byte in data:
            client_writer.write(bytes([byte]))
            await asyncio.sleep(0.05)

    async def scenario() -> float:
        server = agent_server(_path(sock_dir), handler, frame_deadline_s=0.2)
        async with serving(server), agent(_path(sock_dir)) as slow:
            feeder = asyncio.create_task(trickle(slow.writer, c.frame(VALID_HEARTBEAT)))
            started = time.monotonic()
            await slow.recv_error(c.ErrorCode.TIMEOUT, fatal=True)
            elapsed = time.monotonic() - started
            feeder.cancel()
            await slow.expect_closed()
            await asyncio.wait_for(handler.disconnected.wait(), 1)
            async with agent(_path(sock_dir)) as next_agent:
                await next_agent.send(HEARTBEAT)
                assert await next_agent.recv() == ECHO
        return elapsed

    elapsed = run(scenario)
    assert 0.2 <= elapsed < 0.6
    assert handler.messages == [HEARTBEAT]
    assert "0.2 s" in handler.disconnects[0]


def test_agent_server_when_idle_then_timeout_then_closed_and_disconnect(sock_dir: Path) -> None:
    """No frame within the idle timeout: a fatal TIMEOUT, then on_disconnect."""
    handler = FakeAgentHandler()

    async def scenario() -> None:
        server = agent_server(_path(sock_dir), handler, idle_timeout_s=0.2)
        async with serving(server), agent(_path(sock_dir)) as client:
            await client.recv_error(c.ErrorCode.TIMEOUT, fatal=True)
            await client.expect_closed()
            await asyncio.wait_for(handler.disconnected.wait(), 1)

    run(scenario)
    [reason] = handler.disconnects
    assert "idle" in reason


def test_agent_server_when_agent_closes_then_on_disconnect_once(sock_dir: Path) -> None:
    """A clean EOF ends the session: on_disconnect is called once, with a reason."""
    handler = FakeAgentHandler()

    async def scenario() -> bool:
        async with serving(agent_server(_path(sock_dir), handler)) as server:
            async with agent(_path(sock_dir)):
                connected_during = server.agent_connected
            await asyncio.wait_for(handler.disconnected.wait(), 1)
            return connected_during and not server.agent_connected

    assert run(scenario)
    assert handler.disconnects == ["the peer closed the connection"]


def test_agent_server_when_agent_resets_with_unread_events_then_on_disconnect(
    sock_dir: Path,
) -> None:
    """An agent that vanishes with pushes unread (a reset, not an EOF) still ends the session."""
    handler = FakeAgentHandler()

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        async with serving(agent_server(_path(sock_dir), handler)) as server:
            # A raw socket reads only what it is asked to, so the push stays in its queue.
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as raw:
                raw.setblocking(False)
                await loop.sock_connect(raw, str(_path(sock_dir)))
                await loop.sock_sendall(raw, c.frame(c.encode(HELLO)))
                welcome = c.frame(c.encode(WELCOME))
                while welcome:
                    welcome = welcome[len(await loop.sock_recv(raw, len(welcome))) :]
                assert await server.push(GATE_STATE)
                await asyncio.sleep(0.05)
            await asyncio.wait_for(handler.disconnected.wait(), 1)

    run(scenario)
    [reason] = handler.disconnects
    assert "connection lost" in reason


_KILLED_AGENT = """
import socket, sys
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.connect(sys.argv[1])
sock.sendall(bytes.fromhex(sys.argv[2]))
header = sock.recv(4, socket.MSG_WAITALL)
sock.recv(int.from_bytes(header, "big"), socket.MSG_WAITALL)
print("welcomed", flush=True)
sock.recv(1)
"""


def test_agent_server_when_agent_process_sigkilled_then_on_disconnect_within_half_second(
    sock_dir: Path,
) -> None:
    """A real agent process killed with SIGKILL is noticed through EOF at once."""
    handler = FakeAgentHandler()

    async def scenario() -> float:
        async with serving(agent_server(_path(sock_dir), handler)):
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                _KILLED_AGENT,
                str(_path(sock_dir)),
                c.frame(c.encode(HELLO)).hex(),
                stdout=asyncio.subprocess.PIPE,
            )
            assert process.stdout is not None
            assert await process.stdout.readline() == b"welcomed\n"
            os.kill(process.pid, signal.SIGKILL)
            killed = time.monotonic()
            await asyncio.wait_for(handler.disconnected.wait(), 0.5)
            noticed = time.monotonic() - killed
            await process.communicate()
            return noticed

    assert run(scenario, within_s=10) < 0.5
    assert len(handler.disconnects) == 1


def test_agent_server_push_when_connected_then_delivered(sock_dir: Path) -> None:
    """An event pushed during a session arrives as a whole frame."""
    handler = FakeAgentHandler()

    async def scenario() -> None:
        server = agent_server(_path(sock_dir), handler)
        async with serving(server), agent(_path(sock_dir)) as client:
            assert await server.push(GATE_STATE)
            assert await client.recv() == GATE_STATE

    run(scenario)


def test_agent_server_push_when_no_session_then_false(sock_dir: Path) -> None:
    """Nothing is pushed with no agent, nor to one that has not been welcomed yet."""
    handler = FakeAgentHandler()

    async def scenario() -> list[bool]:
        async with serving(agent_server(_path(sock_dir), handler)) as server:
            pushed = [await server.push(GATE_STATE)]
            async with connected(_path(sock_dir)):
                await asyncio.sleep(0.05)
                pushed.append(await server.push(GATE_STATE))
            return pushed

    assert run(scenario) == [False, False]


def test_agent_server_push_when_agent_reads_nothing_then_cut_off_not_blocked(
    sock_dir: Path,
) -> None:
    """A reader that stalls makes push return False within the write timeout, and ends."""
    handler = FakeAgentHandler()
    big = c.GateState(state=c.TradingState.ACTIVE, cause="x" * 500, since_ns=1, sent_ns=1)

    async def scenario() -> int:
        server = agent_server(_path(sock_dir), handler, write_timeout_s=0.2)
        async with serving(server), agent(_path(sock_dir)):
            pushes = 0
            while await server.push(big):
                pushes += 1
            await asyncio.wait_for(handler.disconnected.wait(), 1)
            return pushes

    assert run(scenario) > 0
    [reason] = handler.disconnects
    assert "write stalled" in reason


def test_agent_server_when_handler_raises_then_serve_forever_fails_and_path_removed(
    sock_dir: Path,
) -> None:
    """Crash-only: a handler exception is not swallowed; it ends the server, which cleans up."""
    handler = FakeAgentHandler()
    handler.fail_on_message = RuntimeError("bug in the gate")
    server = agent_server(_path(sock_dir), handler)

    async def scenario() -> None:
        server.bind()
        task = asyncio.create_task(server.serve_forever())
        async with agent(_path(sock_dir)) as client:
            await client.send(HEARTBEAT)
            await client.expect_closed()
        await asyncio.wait([task], timeout=1)
        with pytest.raises(ExceptionGroup) as raised:
            task.result()
        assert raised.group_contains(RuntimeError, match="bug in the gate")

    run(scenario)
    assert not _path(sock_dir).exists()
    assert handler.disconnects == []


def test_agent_server_when_bound_but_never_served_then_close_removes_path(
    sock_dir: Path,
) -> None:
    """A server that fails to start still leaves no socket behind."""
    server = agent_server(_path(sock_dir), FakeAgentHandler())
    server.bind()
    server.bind()
    assert _path(sock_dir).exists()
    server.close()
    assert not _path(sock_dir).exists()


def test_agent_server_when_shut_down_then_agent_sees_eof_and_path_removed(sock_dir: Path) -> None:
    """Cancelling serve_forever closes the session and unlinks the socket path."""
    handler = FakeAgentHandler()

    async def scenario() -> None:
        server = agent_server(_path(sock_dir), handler)
        server.bind()
        task = asyncio.create_task(server.serve_forever())
        async with agent(_path(sock_dir)) as client:
            task.cancel()
            await asyncio.wait([task], timeout=1)
            assert task.cancelled()
            await client.expect_closed()

    run(scenario)
    assert not _path(sock_dir).exists()
    assert handler.disconnects == []
