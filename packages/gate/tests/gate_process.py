"""A real gate process for integration tests, and a real agent client for it.

`GateProcess` runs `trading-gate run` as a subprocess on a copy of the shipped config
(with overrides) in a temporary data directory, and waits for its ready line.
`AgentClient` speaks protocol v1 over the gate's real Unix socket.
"""

import os
import select
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import yaml

import trading_contract as c
import trading_sim as sim

REPO = Path(__file__).resolve().parents[3]
GATE_BIN = Path(sys.executable).parent / "trading-gate"
BTC_OPEN = sim.read_bars(sim.bundled_bars_path("BTC-USD"), "BTC-USD")[0].close


def write_config(path: Path, **overrides: Any) -> Path:
    """The shipped safety.yaml with nested overrides, e.g. products={"BTC-USD": {...}}."""
    data = yaml.safe_load((REPO / "config" / "safety.yaml").read_text())
    _merge(data, overrides)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _merge(target: dict[str, Any], overrides: dict[str, Any]) -> None:
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


# Wider limits than the shipped ones, so tests choose which limit they exercise.
TEST_LIMITS: dict[str, Any] = {
    "products": {
        "BTC-USD": {
            "max_order_size_base": "0.01",
            "max_order_notional_usd": "1000.00",
            "max_position_usd": "10000.00",
            "price_collar_bps": 300,
        }
    },
    "account": {
        "max_order_notional_usd": "1000.00",
        "max_gross_exposure_usd": "20000.00",
        "max_open_orders": 50,
    },
    "throttles": {"orders": {"max_per_window": 5, "window_ms": 1000}},
    "duplicate_intent_window_s": 1,
}


class GateProcess:
    def __init__(self, root: Path, *, config: Path, env: dict[str, str] | None = None) -> None:
        self.root = root
        self.data = root / "data"
        self.config = config
        self.env = env
        self.proc: subprocess.Popen[str] | None = None
        self.stderr_path = root / "gate.stderr"
        self.stdout_path = root / "gate.stdout"

    @property
    def agent_socket(self) -> Path:
        return self.data / "run" / "agent.sock"

    @property
    def admin_socket(self) -> Path:
        return self.data / "run" / "admin.sock"

    def start(self, *extra: str) -> "GateProcess":
        argv = [
            str(GATE_BIN), "run", "--config", str(self.config), "--data", str(self.data),
            "--bar-seconds", "1.0", *extra,
        ]  # fmt: skip
        env = self.env if self.env is not None else dict(os.environ)
        with self.stderr_path.open("a") as stderr:
            self.proc = subprocess.Popen(
                argv, stdout=subprocess.PIPE, stderr=stderr, text=True, env=env
            )
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], 20)
        line = self.proc.stdout.readline() if ready else ""
        if "ready" not in line:
            self.stop()
            raise AssertionError(f"gate did not start: {line!r}\n{self.stderr_path.read_text()}")
        self.ready_line = line
        return self

    def stop(self) -> int:
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        out = self.proc.stdout.read() if self.proc.stdout else ""
        with self.stdout_path.open("a") as stdout:
            stdout.write(getattr(self, "ready_line", "") + out)
        if self.proc.stdout:
            self.proc.stdout.close()
        code = self.proc.returncode
        self.proc = None
        return code

    def admin(self, message: c.AdminRequest) -> c.AdminReply:
        from trading_gate.admin_client import request

        return request(self.admin_socket, message)

    def status(self) -> c.AdminStatusReply:
        reply = self.admin(c.AdminStatus(request_id="t-status"))
        assert isinstance(reply, c.AdminStatusReply), reply
        return reply

    def audit_rows(self, event_type: str) -> list[dict[str, Any]]:
        """Audit payloads of one event type, read as the console would: read-only."""
        uri = f"file:{self.data / 'gate.db'}?mode=ro"
        with sqlite3.connect(uri, uri=True) as conn:
            rows = conn.execute(
                "SELECT payload FROM audit WHERE event_type = ? ORDER BY seq", (event_type,)
            ).fetchall()
        conn.close()
        return [msgspec.json.decode(row[0]) for row in rows]

    def wait_for(self, predicate: Callable[[], bool], timeout_s: float = 10.0) -> float:
        """Poll until `predicate()`; returns the seconds it took."""
        start = time.monotonic()
        while time.monotonic() - start < timeout_s:
            if predicate():
                return time.monotonic() - start
            time.sleep(0.02)
        raise AssertionError(f"condition not met within {timeout_s} s")


@contextmanager
def running_gate(
    root: Path, *extra: str, env: dict[str, str] | None = None, **limits: Any
) -> Iterator[GateProcess]:
    config = write_config(root / "safety.yaml", **(TEST_LIMITS | limits))
    gate = GateProcess(root, config=config, env=env).start(*extra)
    try:
        yield gate
    finally:
        gate.stop()


class AgentClient:
    """A protocol v1 agent over the real socket; events pushed by the gate are kept."""

    def __init__(self, path: Path, *, heartbeat_s: float | None = 0.5) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(str(path))
        self.events: list[c.GateMessage] = []
        self._lock = threading.Lock()
        self._seq = 0
        self._stop = threading.Event()
        self.welcome = self._hello()
        self._heartbeats: threading.Thread | None = None
        if heartbeat_s is not None:
            self._heartbeats = threading.Thread(target=self._beat, args=(heartbeat_s,), daemon=True)
            self._heartbeats.start()

    def _hello(self) -> c.Welcome:
        self.send(c.Hello(protocol_version=1, agent_id="test-agent", sent_ns=time.time_ns()))
        reply = self.read()
        assert isinstance(reply, c.Welcome), reply
        return reply

    def _beat(self, every_s: float) -> None:
        while not self._stop.wait(every_s):
            self._seq += 1
            try:
                self.send(c.Heartbeat(seq=self._seq, sent_ns=time.time_ns()))
            except OSError:
                return

    def send(self, message: c.AgentMessage) -> None:
        with self._lock:
            self.sock.sendall(c.frame(c.encode(message)))

    def send_raw(self, data: bytes) -> None:
        with self._lock:
            self.sock.sendall(data)

    def read(self) -> c.GateMessage:
        try:
            body = c.recv_frame(self.sock.recv)
        except c.TruncatedFrame as exc:
            raise EOFError("gate closed the connection inside a frame") from exc
        if body is None:
            raise EOFError("gate closed the connection")
        return c.decode_gate_message(body)

    def await_reply(self, kind: type[Any], request_id: str | None = None) -> Any:
        """Read until a message of `kind` (for `request_id`) arrives; keep the rest."""
        while True:
            message = self.read()
            if isinstance(message, kind) and (
                request_id is None or getattr(message, "request_id", None) == request_id
            ):
                return message
            self.events.append(message)

    def place(self, intent: str, **overrides: Any) -> c.Decision:
        fields: dict[str, Any] = {
            "request_id": f"r-{intent}",
            "intent_id": intent,
            "product_id": "BTC-USD",
            "side": c.Side.BUY,
            "order_type": c.OrderType.LIMIT,
            "size": Decimal("0.0001"),
            "size_in": c.SizeUnit.BASE,
            "limit_price": resting_bid(),
            "time_in_force": c.TimeInForce.GTC,
            "strategy_id": "test",
            "reason": c.Reason(regime="test"),
            "sent_ns": time.time_ns(),
        }
        message = c.PlaceOrder(**(fields | overrides))
        self.send(message)
        decision: c.Decision = self.await_reply(c.Decision, message.request_id)
        return decision

    def close(self) -> None:
        self._stop.set()
        if self._heartbeats is not None:
            self._heartbeats.join(timeout=2)
        self.sock.close()


def resting_bid() -> Decimal:
    """A BTC bid 2 % under the first bundled close: inside the tests' 300 bps collar, and
    below every low of the sample's first hour, so it rests."""
    return (BTC_OPEN * Decimal("0.98")).quantize(Decimal("0.01"))
