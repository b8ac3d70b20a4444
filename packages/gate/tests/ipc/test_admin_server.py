"""The admin socket over real Unix sockets: every request round-trips; bad frames change nothing."""

import os
from pathlib import Path

import pytest

import trading_contract as c
from ipc.ipc_stubs import FakeAdminHandler, config, connected, run, serving
from trading_gate.ipc_server import AdminServer, ServerConfig

REQUESTS: list[c.AdminRequest] = [
    c.AdminStatus(request_id="a1"),
    c.AdminHalt(request_id="a2", operator="alice", reason="venue degraded"),
    c.AdminResume(
        request_id="a3", operator="alice", reason="venue healthy", to=c.TradingState.REDUCING
    ),
    c.AdminReloadConfig(request_id="a4", operator="alice"),
    c.AdminReloadRules(request_id="a5", operator="alice"),
]


def _path(sock_dir: Path) -> Path:
    return sock_dir / "admin.sock"


@pytest.mark.parametrize("request_", REQUESTS, ids=lambda r: type(r).__name__)
def test_admin_server_when_request_then_handler_reply_with_same_request_id(
    sock_dir: Path, request_: c.AdminRequest
) -> None:
    """Each admin request reaches the handler with the peer's uid and its reply comes back."""
    handler = FakeAdminHandler()

    async def scenario() -> c.AdminReply:
        server = AdminServer(config(_path(sock_dir)), handler)
        async with serving(server), connected(_path(sock_dir)) as console:
            await console.send(request_)
            return await console.recv_admin()

    reply = run(scenario)
    expected = c.AdminStatusReply if isinstance(request_, c.AdminStatus) else c.AdminAck
    assert isinstance(reply, expected)
    assert reply.request_id == request_.request_id
    [(seen, peer)] = handler.requests
    assert seen == request_
    assert peer.uid == os.geteuid()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{", c.ErrorCode.MALFORMED_JSON),
        (b'{"type":"admin_status","request_id":"a","x":1}', c.ErrorCode.UNKNOWN_FIELD),
        (b'{"type":"admin_status","request_id":"a","request_id":"b"}', c.ErrorCode.DUPLICATE_KEY),
        (
            b'{"type":"admin_resume","request_id":"a","operator":"o","reason":"r","to":"halted"}',
            c.ErrorCode.SCHEMA_VIOLATION,
        ),
        (b'{"type":"heartbeat","seq":1,"sent_ns":1}', c.ErrorCode.SCHEMA_VIOLATION),
    ],
    ids=["json", "unknown-field", "duplicate-key", "resume-to-halted", "agent-message"],
)
def test_admin_server_when_frame_malformed_then_error_and_connection_kept(
    sock_dir: Path, body: bytes, code: c.ErrorCode
) -> None:
    """A bad admin frame gets the contract's Error, never reaches the handler; the next works."""
    handler = FakeAdminHandler()

    async def scenario() -> c.AdminReply:
        server = AdminServer(config(_path(sock_dir)), handler)
        async with serving(server), connected(_path(sock_dir)) as console:
            await console.send_raw(c.frame(body))
            error = await console.recv_admin()
            assert isinstance(error, c.Error)
            assert (error.code, error.fatal) == (code, False)
            await console.send(REQUESTS[0])
            return await console.recv_admin()

    assert isinstance(run(scenario), c.AdminStatusReply)
    assert [r for r, _ in handler.requests] == [REQUESTS[0]]


def test_admin_server_when_k_protocol_errors_then_too_many_errors_then_closed(
    sock_dir: Path,
) -> None:
    """After K bad frames the console is told TOO_MANY_ERRORS and disconnected."""
    handler = FakeAdminHandler()

    async def scenario() -> None:
        server = AdminServer(config(_path(sock_dir), max_protocol_errors=2), handler)
        async with serving(server), connected(_path(sock_dir)) as console:
            await console.send_raw(c.frame(b"1") * 2)
            await console.recv_error(c.ErrorCode.SCHEMA_VIOLATION, fatal=False)
            await console.recv_error(c.ErrorCode.SCHEMA_VIOLATION, fatal=False)
            await console.recv_error(c.ErrorCode.TOO_MANY_ERRORS, fatal=True)
            await console.expect_closed()

    run(scenario)
    assert handler.requests == []


def test_admin_server_when_peer_uid_not_allowed_then_refused(sock_dir: Path) -> None:
    """The admin socket has its own allow-list; a uid outside it never reaches the handler."""
    handler = FakeAdminHandler()

    async def scenario() -> None:
        allowed = frozenset({os.geteuid() + 1})
        server = AdminServer(config(_path(sock_dir), allowed_uids=allowed), handler)
        async with serving(server), connected(_path(sock_dir)) as console:
            await console.send(REQUESTS[1])
            await console.recv_error(c.ErrorCode.PEER_NOT_ALLOWED, fatal=True)
            await console.expect_closed()

    run(scenario)
    assert handler.requests == []


def test_admin_server_when_a_console_holds_a_connection_then_another_is_served(
    sock_dir: Path,
) -> None:
    """An idle dashboard connection never blocks an operator's halt."""
    handler = FakeAdminHandler()

    async def scenario() -> c.AdminReply:
        server = AdminServer(config(_path(sock_dir)), handler)
        async with serving(server), connected(_path(sock_dir)) as dashboard:
            await dashboard.send(REQUESTS[0])
            await dashboard.recv_admin()
            async with connected(_path(sock_dir)) as operator:
                await operator.send(REQUESTS[1])
                return await operator.recv_admin()

    assert isinstance(run(scenario), c.AdminAck)


def test_admin_server_when_consoles_come_one_after_another_then_each_served(
    sock_dir: Path,
) -> None:
    """Sequential connections each get their replies, several requests per connection."""
    handler = FakeAdminHandler()

    async def scenario() -> None:
        server = AdminServer(config(_path(sock_dir)), handler)
        async with serving(server):
            for _ in range(2):
                async with connected(_path(sock_dir)) as console:
                    for request_ in REQUESTS:
                        await console.send(request_)
                        reply = await console.recv_admin()
                        assert isinstance(reply, c.AdminAck | c.AdminStatusReply)
                        assert reply.request_id == request_.request_id

    run(scenario)
    assert len(handler.requests) == 2 * len(REQUESTS)


def test_admin_server_when_idle_then_timeout_then_closed(sock_dir: Path) -> None:
    """A console that sends nothing is closed after the idle timeout."""

    async def scenario() -> None:
        server = AdminServer(config(_path(sock_dir), idle_timeout_s=0.1), FakeAdminHandler())
        async with serving(server), connected(_path(sock_dir)) as console:
            await console.recv_error(c.ErrorCode.TIMEOUT, fatal=True)
            await console.expect_closed()

    run(scenario)


@pytest.mark.parametrize(
    "overrides",
    [
        {"frame_deadline_s": 0.0},
        {"idle_timeout_s": -1.0},
        {"write_timeout_s": float("inf")},
        {"frame_deadline_s": float("nan")},
        {"max_protocol_errors": 0},
    ],
)
def test_server_config_when_limit_not_positive_then_refused(overrides: dict[str, float]) -> None:
    """Deadlines must be finite and positive, and K at least 1: no 'no limit' value exists."""
    with pytest.raises(ValueError, match=next(iter(overrides))):
        config(Path("/run/te/agent.sock"), **overrides)
    assert isinstance(config(Path("/run/te/agent.sock")), ServerConfig)
