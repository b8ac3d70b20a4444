"""The gate in the caller's process, on a replay clock: for backtests.

The same `Gate` service as `trading-gate run` (every check, the trading states, the
order lifecycle, the hash-chained audit log in a real gate.db) over the paper venue,
minus the sockets, the watchdog and the kill file. The caller drives time: it moves the
`ReplayClock`, announces each bar's open and feeds each bar, and every call returns the
contract messages the gate produced, in order, exactly as an agent would receive them.

Nothing runs in the background: work the gate would start as a task (sending an
approved order, resolving an unknown one) is run to completion inside the call that
caused it, in the order it was started. Same inputs, same messages, same gate.db.
"""

import uuid
from collections.abc import Coroutine
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import trading_sim as sim
from trading_contract import (
    CancelAll,
    CancelOrder,
    GateMessage,
    GateState,
    PlaceOrder,
    ProductId,
    Query,
    QueryReply,
)
from trading_gate import journal
from trading_gate.audit import AuditLog, open_audit_db
from trading_gate.config import LoadedConfig
from trading_gate.core.context import ProductRules
from trading_gate.core.rule_set import RuleSet
from trading_gate.exchange.paper import PaperConfig, PaperExchange
from trading_gate.handlers import query_result
from trading_gate.service import Gate
from trading_gate.watchdog import HaltLatch

__all__ = ["InProcessGate", "ReplayClock"]

# Not the live gate's namespace: a backtest's client order ids never collide with live ones.
BACKTEST_NAMESPACE: Final = uuid.UUID("0b5c9f0e-2a4d-5c1b-8e3f-7d6a5b4c3e21")
BACKTEST_PAGE_SIZE: Final = 16384


class ReplayClock:
    """The one clock of a backtest: moved by the driver, never backwards.

    Wall and monotonic time are the same replayed instant.
    """

    def __init__(self, start_ns: int) -> None:
        self._now_ns = start_ns

    def now_ns(self) -> int:
        return self._now_ns

    def monotonic_ns(self) -> int:
        return self._now_ns

    async def sleep(self, seconds: float) -> None:
        """Waiting in a replay: simulated time passes, no real time does."""
        self._now_ns += max(0, round(seconds * 1e9))

    def advance(self, to_ns: int) -> None:
        """Move to `to_ns` unless simulated waiting has already gone past it."""
        self._now_ns = max(self._now_ns, to_ns)


class InProcessGate:
    """One gate and one paper venue, driven by the caller. Call `start` first."""

    def __init__(
        self,
        *,
        config: LoadedConfig,
        data_dir: Path,
        clock: ReplayClock,
        paper: PaperConfig,
        starting_cash_usd: Decimal,
        rules: RuleSet | None = None,
        live_durability: bool = False,
    ) -> None:
        """`live_durability` makes gate.db as durable as the live gate's (a commit per
        transaction, fsynced anchors). Off (the default here, and never in the live gate),
        the same rows and anchor lines are written, committed every few anchors and at
        `close`, anchors unsynced: a backtest that dies is rerun, not recovered."""
        self._clock = clock
        self.exchange = PaperExchange(clock, paper)
        # Larger pages than SQLite's default: the same rows in fewer page splits.
        self._conn = open_audit_db(data_dir / "gate.db", page_size=BACKTEST_PAGE_SIZE)
        # A backtest's journal is rebuilt by re-running it, so it is not fsynced per
        # commit (the live gate's synchronous=FULL is checked when the file is opened).
        self._conn.execute("PRAGMA synchronous = OFF")
        # One writer, no reader until the run ends: hold the lock for the whole run
        # instead of taking the WAL's shared-memory locks on every transaction.
        self._conn.execute("PRAGMA locking_mode = EXCLUSIVE")
        journal.create_tables(self._conn)
        self._audit = AuditLog(
            self._conn,
            anchor_path=data_dir / "audit.anchor",
            deferred_commit=not live_durability,
            fsync_anchors=live_durability,
        )
        self._work: list[Coroutine[Any, Any, object]] = []
        self._out: list[GateMessage] = []
        self._fills_synced = 0
        self.alerts: list[str] = []
        self.gate = Gate(
            config=config,
            exchange=self.exchange,
            market=self.exchange,
            audit=self._audit,
            conn=self._conn,
            clock=clock,
            namespace=BACKTEST_NAMESPACE,
            latch=HaltLatch(),
            spawn=self._work.append,
            alert=self.alerts.append,
            starting_cash_usd=starting_cash_usd,
            sleep=clock.sleep,
            rules=rules,
        )
        self.gate.push = self._push

    def _push(self, message: GateMessage) -> bool:
        self._out.append(message)
        return True

    async def start(self) -> list[GateMessage]:
        """Reconcile the (empty) venue against the journal; the gate's state follows."""
        problems = await self.gate.reconcile()
        self.gate.rules_loaded()
        self.alerts.extend(f"reconciliation: {p}" for p in problems)
        mode = self.gate.mode
        self._out.append(
            GateState(
                state=mode.state,
                cause=mode.cause.value,
                since_ns=mode.since_ns,
                sent_ns=self._clock.now_ns(),
            )
        )
        return await self._settle()

    def product_rules(self, product_id: str) -> ProductRules | None:
        return self.exchange.product_rules(ProductId(product_id))

    def on_open(self, product_id: str, price: Decimal) -> None:
        """The first trade of a new bar (see `PaperExchange.on_open`)."""
        self.exchange.on_open(ProductId(product_id), price)

    async def on_bar(self, bar: sim.Bar) -> list[GateMessage]:
        """Feed a complete bar to the venue; the gate syncs and reports what changed."""
        self.exchange.on_bar(bar)
        # A sync with no live order and no new fill has nothing to find: skip it (most
        # bars of most backtests), which is the same as running it.
        if self.gate.has_live_orders or self.exchange.fill_count != self._fills_synced:
            return await self.sync()
        return await self._settle()

    async def sync(self) -> list[GateMessage]:
        """The gate's venue sync now, between bars (as a live gate's stream reports a
        fill the moment it happens); what it found, in order."""
        await self.gate.sync()
        self._fills_synced = self.exchange.fill_count
        return await self._settle()

    async def place(self, message: PlaceOrder) -> list[GateMessage]:
        """The Decision, then whatever sending the order caused."""
        return await self._replied(len(self._out), await self.gate.place(message))

    async def query(self, message: Query) -> list[GateMessage]:
        """The same answer the agent socket gives."""
        result = await query_result(self.gate, message.kind)
        reply = QueryReply(
            request_id=message.request_id, result=result, as_of_ns=self._clock.now_ns()
        )
        self._out.append(reply)
        return await self._settle()

    async def cancel(self, message: CancelOrder) -> list[GateMessage]:
        """The Decision first (a reply before its consequences), then the updates."""
        return await self._replied(len(self._out), self.gate.cancel(message))

    async def cancel_all(self, message: CancelAll) -> list[GateMessage]:
        return await self._replied(len(self._out), self.gate.cancel_all(message))

    async def _replied(self, mark: int, reply: GateMessage) -> list[GateMessage]:
        """`reply` ahead of what its call pushed after `mark` (the arguments are
        evaluated in order: the mark first), then the work the call spawned."""
        self._out.insert(mark, reply)
        return await self._settle()

    async def _settle(self) -> list[GateMessage]:
        # The gate's spawned work, run to the end in start order; it may spawn more.
        while self._work:
            await self._work.pop(0)
        out, self._out = self._out, []
        return out

    def close(self) -> None:
        """Write the audit log's closing anchor and close gate.db."""
        self._audit.close(ts_wall_ns=self._clock.now_ns())
        self._conn.close()
