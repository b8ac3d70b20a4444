"""Runs the system's processes as children, each with its own log, and stops them in order.

It runs the loopback Coinbase venue, the gate (through its Coinbase adapter), the agent
(on the venue's public market data) and the dashboard; or, with `--exchange paper`, the
gate's in-process paper exchange instead of the venue. Stopping sends SIGTERM and waits: the gate
cancels every open order before it exits.
"""

import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Final

READY_TIMEOUT_S: Final = 30.0
STOP_TIMEOUT_S: Final = 40.0


class SupervisorError(Exception):
    """A child did not start; the message says which and where its log is."""


@dataclass
class Child:
    name: str
    argv: list[str]
    log_path: Path
    process: subprocess.Popen[str] | None = None
    ready_line: str = ""
    _log: IO[str] | None = field(default=None, repr=False)

    def start(self, env: dict[str, str]) -> str:
        """Start the child and wait for its line containing "ready"; return that line."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("a")
        self.process = subprocess.Popen(  # noqa: S603 - argv is built by te, not a shell string
            self.argv, stdout=subprocess.PIPE, stderr=self._log, text=True, env=env
        )
        assert self.process.stdout is not None  # noqa: S101 - stdout=PIPE above
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.process.stdout], [], [], 0.2)
            if ready:
                line = self.process.stdout.readline()
                if "ready" in line:
                    self.ready_line = line.strip()
                    return self.ready_line
            if self.process.poll() is not None:
                break
        self.stop()
        raise SupervisorError(f"{self.name} did not start; see {self.log_path}")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> int | None:
        """SIGTERM, wait, then SIGKILL if it will not stop; the exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        if self._log is not None:
            self._log.close()
        return self.process.returncode


@dataclass(frozen=True)
class VenueUrls:
    """Where the loopback venue listens, from its ready line."""

    rest: str
    market_ws: str
    user_ws: str

    @classmethod
    def parse(cls, ready_line: str) -> "VenueUrls":
        """Raises SupervisorError if the line is not the venue's ready line."""
        parts = ready_line.split()
        if len(parts) != 6 or parts[:3] != ["trading-sim", "venue", "ready:"]:
            raise SupervisorError(f"unexpected ready line from the venue: {ready_line!r}")
        return cls(rest=parts[3], market_ws=parts[4], user_ws=parts[5])


def venue_child(data: Path, bar_seconds: float, public_key: Path, key_name: str) -> Child:
    """The loopback Coinbase venue, replaying the bundled candles with some history."""
    argv = [
        sys.executable, "-m", "trading_sim.venue", "--port", "0",
        "--bar-seconds", str(bar_seconds), "--public-key", str(public_key),
        "--key-name", key_name, "--balance", "USD=10000", "--history-bars", "200",
    ]  # fmt: skip
    return Child(name="exchange-sim", argv=argv, log_path=data / "logs" / "exchange-sim.log")


def gate_child(
    config: Path,
    data: Path,
    bar_seconds: float,
    venue: VenueUrls | None = None,
    rules: Path | None = None,
) -> Child:
    """The gate: on the loopback venue through its Coinbase adapter, or (without a
    venue) on its in-process paper exchange; `rules` is its rule directory (default:
    rules/ next to `config`)."""
    gate = Path(sys.executable).parent / "trading-gate"
    argv = [str(gate), "run", "--config", str(config), "--data", str(data)]
    if rules is not None:
        argv += ["--rules", str(rules)]
    if venue is None:
        argv += ["--exchange", "paper", "--bar-seconds", str(bar_seconds)]
    else:
        argv += [
            "--exchange", "coinbase", "--venue-url", venue.rest,
            "--venue-ws-url", venue.market_ws, "--venue-user-ws-url", venue.user_ws,
        ]  # fmt: skip
    return Child(name="gate", argv=argv, log_path=data / "logs" / "gate.log")


def agent_child(
    data: Path,
    strategy_dir: Path,
    venue: VenueUrls | None = None,
    products: tuple[str, ...] = (),
    *,
    granularity: str = "FIFTEEN_MINUTE",
    rules: Path | None = None,
) -> Child:
    agent = Path(sys.executable).parent / "trading-agent"
    argv = [str(agent), "run", "--data", str(data), "--strategies-dir", str(strategy_dir),
            "--journal", str(data.parent / "journal")]  # fmt: skip
    if rules is not None:
        argv += ["--rules", str(rules)]
    if venue is not None:
        argv += ["--venue-url", venue.rest, "--venue-ws-url", venue.market_ws,
                 "--granularity", granularity]  # fmt: skip
        for product in products:
            argv += ["--product", product]
    return Child(name="agent", argv=argv, log_path=data / "logs" / "agent.log")


def dashboard_child(data: Path, rules: Path | None = None) -> Child:
    argv = [sys.executable, "-m", "trading_console.dashboard", "--data", str(data)]
    if rules is not None:
        argv += ["--rules", str(rules)]
    return Child(name="dashboard", argv=argv, log_path=data / "logs" / "dashboard.log")


def minimal_env() -> dict[str, str]:
    """The environment children get: only what they need, never credentials."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "USER", "LOGNAME")
    return {k: v for k, v in os.environ.items() if k in keep}
