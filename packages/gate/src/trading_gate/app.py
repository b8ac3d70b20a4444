"""The gate's composition root: files, secrets, the live clock, servers, one TaskGroup.

Start-up, in order: scrub credential variables from the environment; load and check
safety.yaml; read and check the key file (required for Coinbase); verify the audit
chain against its anchor (refuse to start on a broken chain); open gate.db; build the
exchange (Coinbase: its self-checks, clock skew and key scope, refuse to start on
failure); bind the sockets; open the exchange's streams; reconcile; then serve.
Every long-lived task runs in one TaskGroup, so a dead task ends the process (crash-only;
a supervisor restarts it and the next start reconciles).
"""

import asyncio
import contextlib
import itertools
import logging
import os
import signal
import sqlite3
import sys
import time
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import msgspec

import trading_sim as sim
from trading_contract import GateMessage, ProductId
from trading_gate import journal, log_redaction
from trading_gate.audit import AuditLog, open_audit_db, verify_audit
from trading_gate.config import ConfigError, LoadedConfig, load_config
from trading_gate.core.deadman import DeadManAction
from trading_gate.core.rule_set import RuleSet
from trading_gate.core.trading_state import Cause
from trading_gate.exchange import PaperConfig, PaperExchange
from trading_gate.exchange.coinbase import (
    CoinbaseEndpoints,
    CoinbaseExchange,
    VenueCheckFailed,
    connect,
)
from trading_gate.handlers import AgentSession, ConsoleSession
from trading_gate.ipc_server import AdminServer, AgentServer, ServerConfig
from trading_gate.ports import ExchangeAuthError, ExchangeError
from trading_gate.rule_files import RuleSetError, load_rule_dir, rule_dir_fingerprint
from trading_gate.secrets import ExchangeKey, KeyFileError, read_key_file, scrub_environment
from trading_gate.service import Gate
from trading_gate.watchdog import DeadMansWatchdog, HaltLatch

log = logging.getLogger("trading_gate")

# The gate's UUIDv5 namespace for client order ids (fixed: replays must map the same).
GATE_NAMESPACE: Final = uuid.UUID("6f1d7d3c-4b0e-5f7a-9a51-3c2d1e0f9b84")
SYNC_INTERVAL_S: Final = 0.25
KILL_FILE: Final = "KILL"
MARKET_SCHEDULE: Final = "market.json"
# How long a Coinbase start waits for its websocket streams before reconciling anyway
# (the gate then refuses orders until the user stream is up and reconciled).
STREAMS_TIMEOUT_S: Final = 10.0


class ScheduledProduct(msgspec.Struct, frozen=True, kw_only=True):
    file: str
    lap_shift_ns: int
    base_increment: str
    base_min_size: str


class MarketSchedule(msgspec.Struct, frozen=True, kw_only=True):
    """When the paper market shows which bar: bar i of each file (looped, each lap
    shifted by `lap_shift_ns`) becomes the market at start_wall_ns + i x bar_seconds."""

    start_wall_ns: int
    bar_seconds: float
    bars_per_lap: int
    products: dict[str, ScheduledProduct]


class SystemClock:
    """The one live clock of the process."""

    def now_ns(self) -> int:
        return time.time_ns()

    def monotonic_ns(self) -> int:
        return time.monotonic_ns()


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    config_path: Path
    data_dir: Path
    exchange: str = "paper"
    bar_seconds: float = 1.0  # wall seconds per replayed bar (paper)
    starting_usd: Decimal = Decimal("10000")
    duration_s: float | None = None
    frame_deadline_s: float = 2.0
    idle_timeout_s: float = 30.0
    # Coinbase: where the venue is (defaults: Coinbase itself). The user channel goes to
    # `venue_user_ws_url`, else to `venue_ws_url` when that is given (a market endpoint
    # serves the user channel too, §3), else to Coinbase's user endpoint.
    venue_url: str | None = None
    venue_ws_url: str | None = None
    venue_user_ws_url: str | None = None
    # The rule files (core/, active/, shadow/); None: `rules/` next to the config file.
    rules_dir: Path | None = None
    rules_poll_s: float = 2.0

    @property
    def rules_path(self) -> Path:
        return self.rules_dir if self.rules_dir is not None else self.config_path.parent / "rules"


class StartupError(Exception):
    """The gate refuses to start; the message says what to fix."""


def run(options: RunOptions) -> int:
    """Run the gate until SIGINT/SIGTERM (or `duration_s`); the process's exit code."""
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    log_redaction.install()
    removed = scrub_environment(os.environ)
    if removed:
        log.warning("removed credential variables from the environment: %s", ", ".join(removed))
    try:
        return asyncio.run(_serve(options))
    except StartupError as exc:
        print(f"trading-gate: not started: {exc}", file=sys.stderr)  # noqa: T201
        return 1


async def _serve(options: RunOptions) -> int:
    try:
        loaded = load_config(options.config_path)
    except ConfigError as exc:
        raise StartupError(f"{options.config_path} is not valid:\n{exc}") from None
    if options.exchange not in ("paper", "coinbase"):
        raise StartupError(f"exchange {options.exchange!r} is unknown; use paper or coinbase")
    key = _check_key(Path(loaded.config.keys.key_file), required=options.exchange != "paper")
    try:
        rules = load_rule_dir(options.rules_path)
    except RuleSetError as exc:
        raise StartupError(exc.render()) from None
    data = options.data_dir
    data.mkdir(mode=0o700, parents=True, exist_ok=True)
    db_path, anchor_path = data / "gate.db", data / "audit.anchor"
    if db_path.exists():
        report = verify_audit(db_path, anchor_path if anchor_path.exists() else None)
        if not report.ok:
            problems = "\n".join(p.message for p in report.problems[:10])
            raise StartupError(f"the audit chain in {db_path} does not verify:\n{problems}")
    clock = SystemClock()
    conn = open_audit_db(db_path)
    journal.create_tables(conn)
    audit = AuditLog(conn, anchor_path=anchor_path)
    latch = HaltLatch()
    try:
        exchange = await _exchange(options, loaded, key, clock)
        try:
            async with asyncio.TaskGroup() as tasks:
                process = GateProcess(
                    options, loaded, rules, exchange, audit, conn, clock, latch, tasks
                )
                await process.run(tasks)
        finally:
            if isinstance(exchange, CoinbaseExchange):
                await exchange.aclose()
    finally:
        audit.close(ts_wall_ns=clock.now_ns())
        conn.close()
    return 0


def _check_key(path: Path, *, required: bool) -> ExchangeKey | None:
    """Read and check the key file: required for a real venue; on paper, checked only if
    one is configured and present, so an unsafe key is found before it is ever needed.
    The key stays in a masked Secret; paper drops it, since paper never signs."""
    if not required and not path.exists():
        return None
    try:
        key = read_key_file(path)
    except KeyFileError as exc:
        raise StartupError(str(exc)) from None
    return key if required else None


async def _exchange(
    options: RunOptions, loaded: LoadedConfig, key: ExchangeKey | None, clock: "SystemClock"
) -> "PaperExchange | CoinbaseExchange":
    """The exchange `options` name; Coinbase's passes its self-checks first."""
    if options.exchange == "paper" or key is None:
        return PaperExchange(clock, PaperConfig(starting_balances={"USD": options.starting_usd}))
    try:
        endpoints = CoinbaseEndpoints(**_venue_urls(options))
        exchange = connect(
            key,
            clock=clock,
            products=[ProductId(p) for p in loaded.config.products],
            endpoints=endpoints,
        )
    except (ValueError, ExchangeAuthError) as exc:
        raise StartupError(str(exc)) from None
    try:
        await exchange.start()
    except (VenueCheckFailed, ExchangeAuthError) as exc:
        await exchange.aclose()
        raise StartupError(f"the Coinbase self-check failed: {exc}") from None
    except ExchangeError as exc:
        await exchange.aclose()
        raise StartupError(f"the venue at {endpoints.rest_url} cannot be asked: {exc}") from None
    log.info("coinbase: %s, products %s", endpoints.rest_url, ", ".join(exchange.listed_products))
    return exchange


def _venue_urls(options: RunOptions) -> dict[str, str]:
    urls = {
        "rest_url": options.venue_url,
        "market_ws_url": options.venue_ws_url,
        "user_ws_url": options.venue_user_ws_url or options.venue_ws_url,
    }
    return {name: url for name, url in urls.items() if url}


class GateProcess:
    """Wires the Gate to its sockets, its watchdog, its market replay and its signals."""

    def __init__(
        self,
        options: RunOptions,
        loaded: LoadedConfig,
        rules: RuleSet,
        exchange: PaperExchange | CoinbaseExchange,
        audit: AuditLog,
        conn: sqlite3.Connection,
        clock: SystemClock,
        latch: HaltLatch,
        tasks: asyncio.TaskGroup,
    ) -> None:
        self._options = options
        self._exchange = exchange
        self._clock = clock
        self._latch = latch
        self._tasks = tasks
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._outbox: asyncio.Queue[GateMessage] = asyncio.Queue()
        self.gate = Gate(
            config=loaded,
            exchange=exchange,
            market=exchange,
            audit=audit,
            conn=conn,
            clock=clock,
            namespace=GATE_NAMESPACE,
            latch=latch,
            spawn=self._spawn,
            alert=self._alert,
            starting_cash_usd=options.starting_usd,
            stream=exchange if isinstance(exchange, CoinbaseExchange) else None,
            rules=rules,
            rules_dir=options.rules_path,
        )
        self.gate.push = self._enqueue
        timeout_s = float(loaded.config.dead_man.heartbeat_timeout_s)
        self.watchdog = DeadMansWatchdog(timeout_s=timeout_s, on_fire=self._dead_man_fired)
        self.agent = AgentSession(self.gate, self.watchdog, gate_id="gate-1")
        run_dir = options.data_dir / "run"
        self.agent_server = AgentServer(_server_config(options, run_dir / "agent.sock"), self.agent)
        self.admin_server = AdminServer(
            _server_config(options, run_dir / "admin.sock"), ConsoleSession(self.gate, self.agent)
        )

    def _spawn(self, coroutine: Coroutine[Any, Any, object]) -> None:
        self._tasks.create_task(coroutine)

    def _enqueue(self, message: GateMessage) -> bool:
        self._outbox.put_nowait(message)
        return True

    def _alert(self, message: str) -> None:
        log.critical("ALERT: %s", message)

    def _dead_man_fired(self, actions: tuple[DeadManAction, ...]) -> None:
        # Runs on the watchdog thread: trip the latch first, so no order passes even while
        # the event loop is busy, then let the loop run the kill switch.
        detail = "; ".join(
            str(getattr(a, "detail", "") or getattr(a, "reason", "")) for a in actions
        )
        self._latch.trip(Cause.DEAD_MAN.value, detail, self._clock.now_ns())
        self._loop.call_soon_threadsafe(self._spawn, self.gate.halt(Cause.DEAD_MAN, detail))

    async def run(self, tasks: asyncio.TaskGroup) -> None:
        self.agent_server.bind()
        self.admin_server.bind()
        exchange = self._exchange
        if isinstance(exchange, CoinbaseExchange):
            market = await self._open_streams(exchange, tasks)
            problems = await self.gate.reconcile()
        else:
            problems = await self.gate.reconcile()
            market = tasks.create_task(self._replay_market(exchange))
        for problem in problems:
            self._alert(f"reconciliation: {problem}")
        self.gate.rules_loaded()
        self.watchdog.start()
        serving = [
            market,
            tasks.create_task(self.agent_server.serve_forever()),
            tasks.create_task(self.admin_server.serve_forever()),
            tasks.create_task(self._pump_outbox()),
            tasks.create_task(self._sync_forever()),
            tasks.create_task(self._watch_kill_file()),
            tasks.create_task(self._watch_rule_files()),
        ]
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._loop.add_signal_handler(signum, self._stop.set)
        if self._options.duration_s is not None:
            self._loop.call_later(self._options.duration_s, self._stop.set)
        print(  # noqa: T201 - the supervisor waits for this line
            f"trading-gate ready: state {self.gate.mode.state.value}; "
            f"agent socket {self.agent_server_path}; admin socket {self.admin_server_path}",
            flush=True,
        )
        await self._stop.wait()
        log.info("stopping: cancelling every open order first")
        report = await self.gate.shutdown()
        log.info("open orders cancelled: verified empty = %s", report.verified_empty)
        self.watchdog.stop()
        for task in serving:
            task.cancel()

    async def _open_streams(
        self, exchange: CoinbaseExchange, tasks: asyncio.TaskGroup
    ) -> "asyncio.Task[None]":
        """Coinbase's websockets, subscribed (or timed out) before the gate reconciles, so
        nothing can fall between the REST reading and the stream."""
        streams = tasks.create_task(exchange.run())
        if not await exchange.wait_streams(STREAMS_TIMEOUT_S):
            self._alert(f"coinbase streams not subscribed within {STREAMS_TIMEOUT_S} s")
        return streams

    @property
    def agent_server_path(self) -> Path:
        return self._options.data_dir / "run" / "agent.sock"

    @property
    def admin_server_path(self) -> Path:
        return self._options.data_dir / "run" / "admin.sock"

    async def _pump_outbox(self) -> None:
        # One sender keeps pushed events in the order the gate produced them.
        while True:
            message = await self._outbox.get()
            await self.agent_server.push(message)

    async def _sync_forever(self) -> None:
        while True:
            await asyncio.sleep(SYNC_INTERVAL_S)
            await self.gate.sync()

    async def _watch_kill_file(self) -> None:
        kill_file = self._options.data_dir / KILL_FILE
        while True:
            await asyncio.sleep(0.2)
            if kill_file.exists():
                with contextlib.suppress(FileNotFoundError):
                    kill_file.unlink()
                await self.gate.halt(
                    Cause.KILL_SWITCH, f"kill file {kill_file}", set_by="kill-file"
                )

    async def _watch_rule_files(self) -> None:
        """Reload the rules when a rule file appears, changes or goes; a bad edit keeps
        the set in force (audited and alerted by `reload_rules`)."""
        root = self._options.rules_path
        seen = rule_dir_fingerprint(root)
        while True:
            await asyncio.sleep(self._options.rules_poll_s)
            now = rule_dir_fingerprint(root)
            if now != seen:
                seen = now
                ok, summary = self.gate.reload_rules()
                log.info("rule files changed: %s", summary.splitlines()[0] if ok else "refused")

    async def _replay_market(self, exchange: PaperExchange) -> None:
        """Paper mode: the bundled real candles as the market, bar i fed at
        start + i x bar_seconds (an absolute schedule, so it does not drift).

        The schedule is published in data/run/market.json (`MarketSchedule`), so that a
        paper agent replays the same candles at the same moments: until the loopback
        Coinbase server exists, that file is the shared market.
        """
        series = {p: sim.read_bars(sim.bundled_bars_path(p), p) for p in sim.BUNDLED_PRODUCTS}
        length = min(len(bars) for bars in series.values())
        # Looping the sample: each lap shifts time by the span replayed, so bars stay in order.
        spans = {
            p: bars[length - 1].open_ns - bars[0].open_ns + (bars[1].open_ns - bars[0].open_ns)
            for p, bars in series.items()
        }
        start_ns = time.time_ns()
        schedule = MarketSchedule(
            start_wall_ns=start_ns,
            bar_seconds=self._options.bar_seconds,
            bars_per_lap=length,
            products={
                p: ScheduledProduct(
                    file=str(sim.bundled_bars_path(p)),
                    lap_shift_ns=spans[p],
                    base_increment=str(spec.base_increment),
                    base_min_size=str(spec.base_increment),
                )
                for p, spec in ((p, self._spec(p)) for p in series)
            },
        )
        path = self._options.data_dir / "run" / MARKET_SCHEDULE
        path.write_bytes(msgspec.json.encode(schedule))
        step_ns = round(self._options.bar_seconds * 1e9)
        for index in itertools.count():
            due_ns = start_ns + index * step_ns
            await asyncio.sleep(max(0.0, (due_ns - time.time_ns()) / 1e9))
            position = index % length
            for bars in series.values():
                # Stamped on the gate's clock: the venue compares a bar's times with its
                # orders' (wall-clock) times, e.g. a resting limit fills only on bars
                # that opened after it arrived.
                exchange.on_bar(_restamped(bars[position], due_ns - step_ns, due_ns))
            await self.gate.sync()

    def _spec(self, product_id: str) -> sim.ProductSpec:
        spec = sim.EngineConfig().product(product_id)
        assert spec is not None  # every bundled product is listed  # noqa: S101
        return spec


def _server_config(options: RunOptions, path: Path) -> ServerConfig:
    # Only the gate's own uid may connect: the socket is 0600 in a 0700 directory.
    return ServerConfig(
        socket_path=path,
        allowed_uids=frozenset({os.getuid()}),
        frame_deadline_s=options.frame_deadline_s,
        idle_timeout_s=options.idle_timeout_s,
        write_timeout_s=2.0,
        max_protocol_errors=5,
    )


def _restamped(bar: sim.Bar, open_ns: int, close_ns: int) -> sim.Bar:
    return msgspec.structs.replace(bar, open_ns=open_ns, close_ns=close_ns)
