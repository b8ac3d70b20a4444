"""The gate's one sequence of effects: decide, journal, send, follow up.

Each request is checked by the pure policy, journaled with its audit rows in one
transaction, and only then sent. Venue outcomes, fills and state changes are
applied through the order lifecycle table and journaled the same way, then pushed to
the agent. Nothing here decides a limit; nothing elsewhere sends an order.
"""

import asyncio
import random
import sqlite3
import uuid
from collections import deque
from collections.abc import Callable, Coroutine, Mapping
from decimal import Context, Decimal
from pathlib import Path
from typing import Any, Final, Protocol

import msgspec

from trading_contract import (
    Accepted,
    CancelAll,
    CancelOrder,
    ClientOrderId,
    Currency,
    Decision,
    Fill,
    GateMessage,
    GateState,
    IntentId,
    OrderStatus,
    OrderUpdate,
    PlaceOrder,
    ProductId,
    RejectCode,
    Rejected,
    RequestId,
    TradingState,
    VenueOrderId,
)
from trading_gate import journal
from trading_gate.audit import AuditLog, AuditWriteFailed
from trading_gate.config import LoadedConfig, Reloaded, reload_config
from trading_gate.core.checks import Rejection, base_size
from trading_gate.core.clock import Clock
from trading_gate.core.context import CheckContext, LiveOrder, RecentOrder, ReferenceMid
from trading_gate.core.identity import client_order_id
from trading_gate.core.ledger import Ledger, apply_fill, mark
from trading_gate.core.order_fsm import (
    FillEvent,
    InvalidTransition,
    StatusEvent,
    Trigger,
    apply,
    is_live,
    new_order,
)
from trading_gate.core.rule_set import RuleSet, empty_rule_set
from trading_gate.core.throttle import SlidingWindow, admit
from trading_gate.core.trading_state import (
    SYSTEM,
    Cause,
    GateMode,
    escalate,
    human_resume,
    on_reconciled,
)
from trading_gate.journal import JournalOrder
from trading_gate.killswitch import KillReport, kill_and_verify
from trading_gate.policy import PolicyDecision, decide, rule_context_record
from trading_gate.ports import (
    ExchangeAuthError,
    ExchangePort,
    MarketView,
    OrderRequest,
    OutcomeUnknown,
    PlaceAccepted,
    TemporaryExchangeError,
    VenueBalance,
    VenueFill,
)
from trading_gate.rule_files import RuleSetError, load_rule_dir

_NS_PER_MS: Final = 1_000_000
_NS_PER_S: Final = 1_000_000_000
_RECENT_ORDERS: Final = 256
_WIRE: Final = Context(prec=80)
# How a submit whose outcome is unknown is settled (RELIABILITY §3, after NT's defaults).
UNKNOWN_FIRST_CHECK_S: Final = 5.0
UNKNOWN_RETRY_S: Final = 2.0
UNKNOWN_CHECKS: Final = 5
KILL_DEADLINE_S: Final = 30.0
# A reconciliation after a stream gap that found problems is tried again this often.
STREAM_RECONCILE_RETRY_S: Final = 5.0
_RETRY_NS: Final = round(STREAM_RECONCILE_RETRY_S * _NS_PER_S)

_VENUE_TRIGGER: Final = {
    OrderStatus.OPEN: Trigger.VENUE_ACK,
    OrderStatus.PARTIALLY_FILLED: Trigger.VENUE_ACK,
    OrderStatus.PENDING_CANCEL: Trigger.VENUE_ACK,
    OrderStatus.CANCELLED: Trigger.VENUE_CANCELLED,
    OrderStatus.EXPIRED: Trigger.VENUE_EXPIRED,
    OrderStatus.REJECTED: Trigger.VENUE_REJECT,
}


class Latch(Protocol):
    """The thread-safe HALT flag the dead man's watchdog trips off the event loop."""

    @property
    def tripped(self) -> bool: ...

    @property
    def cause(self) -> str | None: ...

    def trip(self, cause: str, detail: str, at_ns: int) -> bool: ...

    def reset(self) -> None: ...


class StreamHealth(Protocol):
    """An exchange whose private stream can lose events (Coinbase's user channel).

    While `suspect`, the gate refuses new orders (cancels still pass) and, once the
    stream is back (`reconcile_token()` gives a token), reconciles over REST and says
    so with `reconciled(token)` (RELIABILITY §3 "WebSocket gaps").
    """

    @property
    def suspect(self) -> str | None: ...

    def reconcile_token(self) -> int | None: ...

    def reconciled(self, token: int) -> None: ...


Spawn = Callable[[Coroutine[Any, Any, object]], None]
Push = Callable[[GateMessage], bool]
Alert = Callable[[str], None]


class Gate:
    """The gate's state and every effect on it. One instance per process."""

    def __init__(
        self,
        *,
        config: LoadedConfig,
        exchange: ExchangePort,
        market: MarketView,
        audit: AuditLog,
        conn: sqlite3.Connection,
        clock: Clock,
        namespace: uuid.UUID,
        latch: Latch,
        spawn: Spawn,
        alert: Alert,
        starting_cash_usd: Decimal,
        sleep: Callable[[float], Coroutine[Any, Any, None]] = asyncio.sleep,
        seed: int = 0,
        stream: StreamHealth | None = None,
        rules: RuleSet | None = None,
        rules_dir: Path | None = None,
    ) -> None:
        self._config = config
        self._rules = rules or empty_rule_set()
        self._rules_dir = rules_dir
        self._exchange = exchange
        self._stream = stream
        self._stream_attempt: tuple[int, int] | None = None
        self._market = market
        self._audit = audit
        self._clock = clock
        self._namespace = namespace
        self._latch = latch
        self._spawn = spawn
        self._alert = alert
        self._sleep = sleep
        self._rng = random.Random(seed)  # noqa: S311 - backoff jitter, not secrecy
        self.push: Push = lambda message: False
        snapshot = journal.load(conn)
        self._orders: dict[ClientOrderId, JournalOrder] = dict(snapshot.orders)
        # The live orders, in placement order: decisions read them, so no full scan.
        self._live: dict[ClientOrderId, None] = {
            coid: None for coid, e in snapshot.orders.items() if is_live(e.order.status)
        }
        self._decisions: dict[IntentId, Decision] = dict(snapshot.decisions)
        self._seen_trades = {f.trade_id for f in snapshot.fills}
        self._ledger = Ledger(starting_cash_usd=starting_cash_usd)
        for fill in snapshot.fills:
            self._ledger = apply_fill(
                self._ledger, fill.product_id, fill.side, fill.size, fill.price, fill.fee
            )
        self._fills_cursor_ns = max((f.ts_ns for f in snapshot.fills), default=0)
        now = clock.now_ns()
        # A restart is never trusted blindly: HALTED stays HALTED; otherwise REDUCING until
        # reconciliation proves the book.
        self.mode = snapshot.mode or GateMode(
            state=TradingState.REDUCING, cause=Cause.RECONCILING, since_ns=now, set_by=SYSTEM
        )
        if self.mode.state is not TradingState.HALTED:
            self.mode = escalate(self.mode, TradingState.REDUCING, Cause.RECONCILING, now)
        orders, cancels = config.config.throttles.orders, config.config.throttles.cancels
        self._order_window = SlidingWindow(
            limit=orders.max_per_window, window_ns=orders.window_ms * _NS_PER_MS
        )
        self._cancel_window = SlidingWindow(
            limit=cancels.max_per_window, window_ns=cancels.window_ms * _NS_PER_MS
        )
        self._recent: deque[RecentOrder] = deque(maxlen=_RECENT_ORDERS)
        self._fill_times: deque[int] = deque()
        self.last_heartbeat_ns: int | None = None
        self.last_kill: KillReport | None = None

    # ---------------------------------------------------------------- views

    @property
    def config(self) -> LoadedConfig:
        return self._config

    @property
    def rules(self) -> RuleSet:
        return self._rules

    @property
    def orders(self) -> Mapping[ClientOrderId, JournalOrder]:
        return self._orders

    @property
    def ledger(self) -> Ledger:
        return self._ledger

    @property
    def has_live_orders(self) -> bool:
        return bool(self._live)

    def live_orders(self) -> list[JournalOrder]:
        return [self._orders[coid] for coid in self._live]

    def _store(self, entry: JournalOrder) -> None:
        # Every order change goes through here, so the live index never drifts from it.
        coid = entry.order.client_order_id
        self._orders[coid] = entry
        if is_live(entry.order.status):
            self._live[coid] = None
        else:
            self._live.pop(coid, None)

    def _mids(self) -> dict[ProductId, ReferenceMid]:
        mids = {}
        for product_id in self._config.config.products:
            mid = self._market.reference_mid(ProductId(product_id))
            if mid is not None:
                mids[ProductId(product_id)] = mid
        return mids

    def _context(self, now_ns: int, mono_ns: int) -> CheckContext:
        mids = self._mids()
        self._ledger, account = mark(self._ledger, {p: m.mid for p, m in mids.items()}, now_ns)
        rules = {}
        for product_id in self._config.config.products:
            found = self._market.product_rules(ProductId(product_id))
            if found is not None:
                rules[ProductId(product_id)] = found
        live = tuple(
            LiveOrder(
                product_id=e.order.product_id,
                side=e.order.side,
                remaining_base=e.order.remaining_size,
                limit_price=e.request.limit_price,
            )
            for e in self.live_orders()
        )
        return CheckContext(
            now_ns=now_ns,
            mode=self.mode,
            positions_base=dict(self._ledger.positions_base),
            live_orders=live,
            mids=mids,
            product_rules=rules,
            account=account,
            order_window=self._order_window,
            order_window_now_ns=mono_ns,
            recent_orders=tuple(self._recent),
        )

    # ---------------------------------------------------------------- orders

    async def place(self, message: PlaceOrder) -> Decision:
        """Decide on an intent, journal it, and (if approved) start sending it."""
        prior = self._decisions.get(message.intent_id)
        if prior is not None:
            # Same intent, same answer, no second order (idempotent replay).
            self._audit_event("intent.replayed", {"intent_id": message.intent_id})
            return msgspec.structs.replace(prior, request_id=message.request_id)
        now, mono = self._clock.now_ns(), self._clock.monotonic_ns()
        if self._latch.tripped and self.mode.state is not TradingState.HALTED:
            # The watchdog tripped the latch off the loop; the journal catches up here.
            self._set_mode(escalate(self.mode, TradingState.HALTED, self._latch_cause(), now))
        ctx = self._context(now, mono)
        verdict = decide(message, ctx, self._config.config, self._rules)
        record = _decision_record(verdict, self._rules)
        for latching in verdict.latches:
            self._latch_halt(_latch_cause(latching), latching.message)
        rejection = verdict.rejection
        if rejection is None:
            rejection = self._stream_rejection()
        if rejection is not None:
            return self._reject(message, rejection, record, now)
        return self._accept(message, ctx, record, verdict.order_window, now)

    def _stream_rejection(self) -> Rejection | None:
        # Events may have been lost: no new order until reconciliation proves the book.
        reason = None if self._stream is None else self._stream.suspect
        if reason is None:
            return None
        return Rejection(
            code=RejectCode.NOT_READY,
            message=_printable(f"the exchange stream is suspect ({reason}); reconciling"),
            fired_by="exchange.stream",
        )

    def _reject(
        self, message: PlaceOrder, rejection: Rejection, record: dict[str, Any], now: int
    ) -> Decision:
        decision = Decision(
            request_id=message.request_id,
            intent_id=message.intent_id,
            verdict=Rejected(
                code=rejection.code,
                message=rejection.message[:500],
                fired_by=rejection.fired_by[:64],
            ),
            decided_ns=now,
        )
        payload = self._decision_payload(message, decision, record)
        try:
            with self._audit.transaction() as txn:
                journal.record_decision(txn, decision, None)
                txn.append("order.rejected", payload, ts_wall_ns=now, ts_mono_ns=self._mono())
        except AuditWriteFailed as exc:
            return self._journal_failed(message, exc)
        self._decisions[message.intent_id] = decision
        return decision

    def _accept(
        self,
        message: PlaceOrder,
        ctx: CheckContext,
        record: dict[str, Any],
        window: SlidingWindow,
        now: int,
    ) -> Decision:
        coid = client_order_id(self._namespace, message.intent_id)
        size = base_size(message, ctx)
        assert size is not None  # the policy approved it, so it could be valued  # noqa: S101
        request = OrderRequest(
            client_order_id=coid,
            product_id=message.product_id,
            side=message.side,
            order_type=message.order_type,
            size=message.size,
            size_in=message.size_in,
            limit_price=message.limit_price,
            stop_price=message.stop_price,
            stop_direction=message.stop_direction,
            time_in_force=message.time_in_force,
            end_time_ns=message.end_time_ns,
            post_only=message.post_only,
        )
        order = new_order(
            client_order_id=coid,
            intent_id=message.intent_id,
            product_id=message.product_id,
            side=message.side,
            size=size,
            now_ns=now,
        )
        entry = JournalOrder(request=request, order=order)
        decision = Decision(
            request_id=message.request_id,
            intent_id=message.intent_id,
            verdict=Accepted(client_order_ids=(coid,)),
            decided_ns=now,
        )
        payload = self._decision_payload(message, decision, record)
        try:
            with self._audit.transaction() as txn:
                journal.insert_order(txn, entry)
                journal.record_decision(txn, decision, coid)
                txn.append("order.accepted", payload, ts_wall_ns=now, ts_mono_ns=self._mono())
        except AuditWriteFailed as exc:
            return self._journal_failed(message, exc)
        self._store(entry)
        self._decisions[message.intent_id] = decision
        self._order_window = window
        self._recent.append(
            RecentOrder(
                product_id=message.product_id,
                side=message.side,
                size=message.size,
                limit_price=message.limit_price,
                accepted_ns=now,
            )
        )
        self._spawn(self._submit(coid))
        return decision

    def _decision_payload(
        self, message: PlaceOrder, decision: Decision, record: dict[str, Any]
    ) -> dict[str, object]:
        return {
            "request": msgspec.to_builtins(message),
            "decision": msgspec.to_builtins(decision),
            **record,
            "config_sha256": self._config.sha256,
            "mode": self.mode.state.value,
        }

    def _journal_failed(self, message: PlaceOrder, exc: AuditWriteFailed) -> Decision:
        # A gate that cannot journal must not send: halt, and tell the agent why.
        self._latch_halt(Cause.JOURNAL_FAILURE, str(exc))
        return Decision(
            request_id=message.request_id,
            intent_id=message.intent_id,
            verdict=Rejected(
                code=RejectCode.JOURNAL_FAILURE,
                message="the gate could not journal this order and has halted",
                fired_by="journal",
            ),
            decided_ns=self._clock.now_ns(),
        )

    async def _submit(self, coid: ClientOrderId) -> None:
        entry = self._orders[coid]
        if self._latch.tripped or self.mode.state is TradingState.HALTED:
            # The latch came down between decision and send: never send after a halt.
            self._transition(coid, Trigger.VENUE_REJECT, detail="halted before send")
            return
        try:
            result = await self._exchange.place(entry.request)
        except OutcomeUnknown as exc:
            self._transition(coid, Trigger.SUBMIT_OUTCOME_UNKNOWN, detail=str(exc)[:200])
            self._spawn(self._resolve_unknown(coid))
            return
        except ExchangeAuthError as exc:
            self._transition(coid, Trigger.VENUE_REJECT, detail="key refused")
            self._spawn(self.halt(Cause.EXCHANGE_AUTH, str(exc)[:200]))
            return
        if isinstance(result, PlaceAccepted):
            self._transition(coid, Trigger.VENUE_ACK, venue_order_id=result.venue_order_id)
        else:
            self._transition(coid, Trigger.VENUE_REJECT, detail=result.reason[:200])

    async def _resolve_unknown(self, coid: ClientOrderId) -> None:
        """Look an UNKNOWN order up by client order id until found or proven absent."""
        await self._sleep(UNKNOWN_FIRST_CHECK_S)
        for attempt in range(UNKNOWN_CHECKS):
            try:
                found = await self._exchange.get_order(coid)
            except TemporaryExchangeError:
                found = None
            else:
                if found is not None:
                    self._adopt(coid, found.status, found.venue_order_id)
                    return
            if attempt + 1 < UNKNOWN_CHECKS:
                await self._sleep(UNKNOWN_RETRY_S)
        self._transition(coid, Trigger.LOOKUP_ABSENT_PROVEN, detail="absent after lookups")

    def _adopt(self, coid: ClientOrderId, status: OrderStatus, venue_id: VenueOrderId) -> None:
        entry = self._orders[coid]
        if entry.venue_order_id is None or entry.order.status is OrderStatus.UNKNOWN:
            self._transition(coid, Trigger.VENUE_ACK, venue_order_id=venue_id)
        trigger = _VENUE_TRIGGER.get(status)
        if trigger is not None and trigger is not Trigger.VENUE_ACK:
            self._transition(coid, trigger)

    def _transition(
        self,
        coid: ClientOrderId,
        trigger: Trigger,
        *,
        venue_order_id: VenueOrderId | None = None,
        detail: str = "",
    ) -> None:
        entry = self._orders[coid]
        now = self._clock.now_ns()
        order = apply(entry.order, StatusEvent(trigger=trigger, ts_ns=now))
        updated = msgspec.structs.replace(
            entry, order=order, venue_order_id=venue_order_id or entry.venue_order_id
        )
        if updated == entry:
            return
        self._commit_order(updated, f"order.{trigger.value}", {"detail": detail}, fill=None)
        self._push_update(updated, detail)

    def _commit_order(
        self,
        entry: JournalOrder,
        event_type: str,
        extra: dict[str, object],
        fill: VenueFill | None,
    ) -> None:
        now = self._clock.now_ns()
        payload = {"order": msgspec.to_builtins(entry.order), **extra}
        if entry.venue_order_id is not None:
            payload["venue_order_id"] = entry.venue_order_id
        try:
            with self._audit.transaction() as txn:
                if fill is not None:
                    journal.insert_fill(txn, fill)
                journal.update_order(txn, entry)
                txn.append(event_type, payload, ts_wall_ns=now, ts_mono_ns=self._mono())
        except AuditWriteFailed as exc:
            self._latch_halt(Cause.JOURNAL_FAILURE, str(exc))
        # The venue's truth is applied in memory even when it could not be journaled: the
        # gate has halted, and reconciliation will write it at the next start.
        self._store(entry)

    def _push_update(self, entry: JournalOrder, detail: str = "") -> None:
        order = entry.order
        self.push(
            OrderUpdate(
                client_order_id=order.client_order_id,
                intent_id=order.intent_id,
                product_id=order.product_id,
                status=order.status,
                filled_size=order.filled_size,
                average_fill_price=_quantized(order.average_price),
                venue_order_id=entry.venue_order_id,
                detail=_printable(detail),
                event_ns=order.updated_ns,
            )
        )

    # ---------------------------------------------------------------- cancels

    def cancel(self, message: CancelOrder) -> Decision:
        """Request the cancel of one order; cancels pass in every trading state."""
        now = self._clock.now_ns()
        entry = self._orders.get(message.client_order_id)
        problem = self._cancel_problem(entry)
        if problem is not None:
            return _rejected(message.request_id, problem, now)
        assert entry is not None  # noqa: S101 - _cancel_problem refuses None
        admitted, self._cancel_window = admit(self._cancel_window, self._clock.monotonic_ns())
        if not admitted:
            throttle = self._config.config.throttles.cancels
            return _rejected(
                message.request_id,
                Rejection(
                    code=RejectCode.CANCEL_RATE_LIMIT,
                    message=f"more than {throttle.max_per_window} cancels "
                    f"in {throttle.window_ms} ms",
                    fired_by="throttles.cancels.max_per_window",
                ),
                now,
            )
        self._request_cancels([entry.order.client_order_id])
        return Decision(
            request_id=message.request_id,
            verdict=Accepted(client_order_ids=(entry.order.client_order_id,)),
            decided_ns=now,
        )

    def cancel_all(self, message: CancelAll) -> Decision:
        """Request the cancel of every cancellable live order (of one product)."""
        coids = [
            e.order.client_order_id
            for e in self.live_orders()
            if self._cancel_problem(e) is None
            and (message.product_id is None or e.order.product_id == message.product_id)
        ]
        self._request_cancels(coids)
        return Decision(
            request_id=message.request_id,
            verdict=Accepted(client_order_ids=tuple(coids[:500])),
            decided_ns=self._clock.now_ns(),
        )

    def _cancel_problem(self, entry: JournalOrder | None) -> Rejection | None:
        if entry is None:
            return Rejection(
                code=RejectCode.UNKNOWN_ORDER, message="no such order", fired_by="journal"
            )
        if not is_live(entry.order.status) or entry.venue_order_id is None:
            return Rejection(
                code=RejectCode.UNKNOWN_ORDER,
                message=f"order is {entry.order.status.value}; nothing to cancel yet",
                fired_by="journal",
            )
        if entry.order.status is OrderStatus.PENDING_CANCEL:
            return Rejection(
                code=RejectCode.UNKNOWN_ORDER,
                message="a cancel is already pending",
                fired_by="journal",
            )
        return None

    def _request_cancels(self, coids: list[ClientOrderId]) -> None:
        for coid in coids:
            self._transition(coid, Trigger.CANCEL_REQUESTED)
        if coids:
            self._spawn(self._send_cancels(coids))

    async def _send_cancels(self, coids: list[ClientOrderId]) -> None:
        by_venue = {self._orders[c].venue_order_id: c for c in coids}
        try:
            results = await self._exchange.cancel([v for v in by_venue if v is not None])
        except TemporaryExchangeError as exc:
            for coid in coids:
                self._transition(coid, Trigger.CANCEL_FAILED, detail=str(exc)[:200])
            return
        for result in results:
            coid = by_venue[result.venue_order_id]
            if result.success:
                self._transition(coid, Trigger.VENUE_CANCELLED)
            else:
                self._transition(coid, Trigger.CANCEL_FAILED, detail=result.failure_reason[:200])

    # ---------------------------------------------------------------- venue sync

    async def sync(self) -> None:
        """Settle a suspect stream, apply new fills, then the venue's status of every live
        order. A temporary venue failure skips this pass: the next one asks again."""
        await self._settle_stream()
        try:
            await self.sync_fills()
        except TemporaryExchangeError:
            return
        for entry in self.live_orders():
            if entry.venue_order_id is None:
                continue
            try:
                found = await self._exchange.get_order(entry.order.client_order_id)
            except TemporaryExchangeError:
                continue
            if found is not None and found.status is not entry.order.status:
                self._adopt(entry.order.client_order_id, found.status, found.venue_order_id)

    async def _settle_stream(self) -> None:
        stream = self._stream
        token = None if stream is None else stream.reconcile_token()
        if stream is None or token is None:
            return
        mono = self._clock.monotonic_ns()
        last = self._stream_attempt
        if last is not None and last[0] == token and mono - last[1] < _RETRY_NS:
            return
        self._stream_attempt = (token, mono)
        self._audit_event("exchange.stream_suspect", {"reason": stream.suspect or ""})
        try:
            problems = await self.reconcile(at_start=False)
        except TemporaryExchangeError as exc:
            problems = [f"the venue could not be asked: {exc}"]
        for problem in problems:
            self._alert(f"reconciliation after a stream gap: {problem}")

    async def sync_fills(self) -> None:
        fills = await self._exchange.fills_since(self._fills_cursor_ns)
        for fill in fills:
            if fill.trade_id in self._seen_trades:
                continue
            self._apply_fill(fill)
            self._fills_cursor_ns = max(self._fills_cursor_ns, fill.ts_ns)

    def _apply_fill(self, fill: VenueFill) -> None:
        entry = self._orders.get(fill.client_order_id)
        if entry is None:
            # An order the gate never placed traded: reconciliation's job, and loud.
            self._alert(f"fill {fill.trade_id} for unknown order {fill.client_order_id}")
            self._audit_event("fill.external", msgspec.to_builtins(fill))
            self._seen_trades.add(fill.trade_id)
            return
        event = FillEvent(
            trade_id=fill.trade_id, size=fill.size, price=fill.price, fee=fill.fee, ts_ns=fill.ts_ns
        )
        try:
            order = apply(entry.order, event)
        except InvalidTransition as exc:
            self._alert(f"fill {fill.trade_id} does not fit order {fill.client_order_id}: {exc}")
            raise
        updated = msgspec.structs.replace(entry, order=order)
        self._seen_trades.add(fill.trade_id)
        self._ledger = apply_fill(
            self._ledger, fill.product_id, fill.side, fill.size, fill.price, fill.fee
        )
        self._commit_order(updated, "order.fill", {"fill": msgspec.to_builtins(fill)}, fill=fill)
        self.push(
            Fill(
                client_order_id=order.client_order_id,
                intent_id=order.intent_id,
                trade_id=fill.trade_id,
                product_id=fill.product_id,
                side=fill.side,
                price=fill.price,
                size=fill.size,
                fee=fill.fee,
                fee_currency=Currency("USD"),
                liquidity=fill.liquidity,
                event_ns=fill.ts_ns,
            )
        )
        self._push_update(updated)
        self._count_execution()

    def _count_execution(self) -> None:
        rule = self._config.config.repeated_execution
        now = self._clock.monotonic_ns()
        self._fill_times.append(now)
        while self._fill_times and self._fill_times[0] <= now - rule.window_s * _NS_PER_S:
            self._fill_times.popleft()
        if len(self._fill_times) >= rule.halt_at_fills:
            detail = f"{len(self._fill_times)} fills within {rule.window_s} s"
            self._latch_halt(Cause.REPEATED_EXECUTION, detail)

    # ---------------------------------------------------------------- states

    def _set_mode(self, mode: GateMode) -> None:
        if mode == self.mode:
            return
        self.mode = mode
        now = self._clock.now_ns()
        try:
            with self._audit.transaction() as txn:
                journal.save_mode(txn, mode)
                txn.append(
                    "gate.mode", msgspec.to_builtins(mode), ts_wall_ns=now, ts_mono_ns=self._mono()
                )
        except AuditWriteFailed as exc:
            self._alert(f"could not journal the trading state {mode.state.value}: {exc}")
            if mode.state is not TradingState.HALTED:
                self._latch_halt(Cause.JOURNAL_FAILURE, str(exc))
        self.push(
            GateState(
                state=mode.state,
                cause=_printable(
                    f"{mode.cause.value}: {mode.detail}" if mode.detail else mode.cause.value
                ),
                since_ns=mode.since_ns,
                sent_ns=now,
            )
        )

    def _latch_halt(self, cause: Cause, detail: str) -> None:
        """Latch HALTED now (synchronously), then cancel everything in the background."""
        first = self._latch.trip(cause.value, detail, self._clock.now_ns())
        self._set_mode(
            escalate(
                self.mode, TradingState.HALTED, cause, self._clock.now_ns(), detail=detail[:200]
            )
        )
        if first:
            self._spawn(self._cancel_everything())

    async def halt(self, cause: Cause, detail: str, *, set_by: str = SYSTEM) -> KillReport:
        """The kill switch: latch HALTED, cancel every open order, verify none remain."""

        def latch() -> None:
            self._latch.trip(cause.value, detail, self._clock.now_ns())
            self._set_mode(
                escalate(
                    self.mode,
                    TradingState.HALTED,
                    cause,
                    self._clock.now_ns(),
                    set_by=set_by,
                    detail=detail[:200],
                )
            )

        report = await kill_and_verify(
            self._exchange,
            latch=latch,
            monotonic_ns=self._clock.monotonic_ns,
            sleep=self._sleep,
            deadline_s=KILL_DEADLINE_S,
            rng=self._rng,
            on_alert=self._alert,
        )
        self.last_kill = report
        self._audit_event("kill.report", msgspec.to_builtins(report))
        await self.sync()
        return report

    async def _cancel_everything(self) -> None:
        await self.halt(self.mode.cause, self.mode.detail)

    def resume(self, to: TradingState, operator: str, reason: str) -> str | None:
        """A human lowers the trading state; returns why not, or None when done."""
        if to is TradingState.HALTED:
            return "resume lowers the state; use halt to raise it"
        outcome = human_resume(self.mode, to, operator, reason, self._clock.now_ns())
        if not isinstance(outcome, GateMode):
            return outcome.reason
        self._latch.reset()
        self._set_mode(outcome)
        return None

    async def reconcile(self, *, at_start: bool = True) -> list[str]:
        """Journal against venue, both ways, before the gate serves (RELIABILITY §3), and
        again (`at_start=False`) after a stream gap.

        Journal -> venue: every live order is looked up by client order id; one the venue
        does not have is resolved as proven absent (a pending cancel stays unresolved).
        After start, an order not yet acknowledged is left to its own submit or lookup.
        Venue -> journal: an open order the journal does not know is cancelled
        (cancel-on-connect; never adopted, so an order nobody can explain never counts as
        the agent's), and the venue must hold at least the base the journal's fills
        bought (`_balance_problems`). Returns the unresolved problems; with none, the gate leaves
        REDUCING (if it was there only for reconciling) and the stream is trusted again.
        """
        token = None if self._stream is None else self._stream.reconcile_token()
        problems: list[str] = []
        for entry in self.live_orders():
            coid = entry.order.client_order_id
            if not at_start and entry.venue_order_id is None:
                continue
            found = await self._exchange.get_order(coid)
            if found is not None:
                self._adopt(coid, found.status, found.venue_order_id)
            elif entry.order.status is OrderStatus.PENDING_CANCEL:
                problems.append(f"{coid}: cancel pending and the venue has no such order")
            else:
                self._transition(coid, Trigger.LOOKUP_ABSENT_PROVEN, detail="absent at start")
        await self.sync_fills()
        problems += await self._balance_problems()
        orphans = [
            o
            for o in await self._exchange.list_open_orders()
            if o.client_order_id not in self._orders
        ]
        if orphans:
            results = await self._exchange.cancel([o.venue_order_id for o in orphans])
            self._audit_event(
                "reconcile.orphans_cancelled",
                {"orders": [o.venue_order_id for o in orphans], "ok": [r.success for r in results]},
            )
            problems += [
                f"orphan {r.venue_order_id} not cancelled" for r in results if not r.success
            ]
        self._audit_event("reconcile.done", {"problems": problems})
        if not problems:
            self.reconciled()
            if self._stream is not None and token is not None:
                self._stream.reconciled(token)
        return problems

    async def _balance_problems(self) -> list[str]:
        """The venue must hold at least what the journal's fills say the gate bought.

        Less means fills the journal never saw, or funds moved behind the gate's back:
        either way the gate's picture of its exposure is wrong, so it does not serve
        until a human looks. (More is fine: an account may hold what the gate never
        traded.)"""
        try:
            held = {b.currency: b.available + b.hold for b in await self._exchange.balances()}
        except TemporaryExchangeError as exc:
            return [f"balances could not be read: {exc}"]
        problems = []
        for product, position in sorted(self._ledger.positions_base.items()):
            base = product.split("-", 1)[0]
            if position > 0 and held.get(base, Decimal(0)) < position:
                problems.append(
                    f"the venue holds {held.get(base, Decimal(0))} {base}, but the journal's "
                    f"fills leave the gate with {position} {base} ({product})"
                )
        return problems

    async def shutdown(self) -> KillReport:
        """Stop cleanly: cancel every open order and verify, without latching HALTED in the
        journal (a planned stop is not an incident; the next start reconciles)."""
        return await kill_and_verify(
            self._exchange,
            latch=self._trip_for_shutdown,
            monotonic_ns=self._clock.monotonic_ns,
            sleep=self._sleep,
            deadline_s=KILL_DEADLINE_S,
            rng=self._rng,
            on_alert=self._alert,
        )

    def _latch_cause(self) -> Cause:
        try:
            return Cause(self._latch.cause or Cause.OPERATOR.value)
        except ValueError:
            return Cause.OPERATOR

    def _trip_for_shutdown(self) -> None:
        self._latch.trip("shutdown", "gate stopping", self._clock.now_ns())

    def reconciled(self) -> None:
        """The venue's book matches the journal: clear a REDUCING set for reconciling."""
        self._set_mode(on_reconciled(self.mode, self._clock.now_ns()))

    def reload_config(self) -> tuple[bool, str]:
        """Re-read safety.yaml; a bad file keeps the config in force and says why."""
        outcome = reload_config(self._config, Path(self._config.source))
        if isinstance(outcome, Reloaded):
            previous, self._config = self._config.sha256, outcome.config
            self._audit_event(
                "config.reloaded", {"previous_sha256": previous, "sha256": self._config.sha256}
            )
            return True, outcome.summary()
        self._audit_event(
            "config.reload_refused",
            {"sha256": self._config.sha256, "problems": [str(p) for p in outcome.problems][:50]},
        )
        self._alert(outcome.summary())
        return False, outcome.summary()

    def reload_rules(self) -> tuple[bool, str]:
        """Re-read the rule directory; any problem keeps the set in force and says why."""
        if self._rules_dir is None:
            return False, "this gate was started without a rules directory"
        try:
            new = load_rule_dir(self._rules_dir)
        except RuleSetError as exc:
            self._audit_event(
                "rules.reload_refused",
                {
                    "sha256": self._rules.sha256,
                    "problems": exc.problem_texts()[:50],
                },
            )
            self._alert(exc.render()[:2000])
            return False, exc.render()
        if new.sha256 == self._rules.sha256:
            # Often the file watcher loaded this set a moment before: say what is in
            # force, not "unchanged", which reads as if the operator's edit was missed.
            return True, f"rules already in force: {new.counts_text()}; sha256 {new.sha256[:12]}"
        previous, self._rules = self._rules.sha256, new
        self._audit_event("rules.reloaded", {"previous_sha256": previous, **new.audit_summary()})
        return True, f"rules reloaded: {new.counts_text()}; sha256 {new.sha256[:12]}"

    def rules_loaded(self) -> None:
        """Audit the rule set the gate started with (its hash and every file's)."""
        self._audit_event("rules.loaded", self._rules.audit_summary())

    async def balances(self) -> tuple[VenueBalance, ...]:
        return await self._exchange.balances()

    def clock_now(self) -> int:
        return self._clock.now_ns()

    def audit_event(self, event_type: str, payload: Mapping[str, object]) -> None:
        """Append one audit row outside any order transaction (connections, admin)."""
        self._audit_event(event_type, payload)

    # ---------------------------------------------------------------- helpers

    def _mono(self) -> int:
        return self._clock.monotonic_ns()

    def _audit_event(self, event_type: str, payload: Mapping[str, object]) -> None:
        try:
            self._audit.append(
                event_type, payload, ts_wall_ns=self._clock.now_ns(), ts_mono_ns=self._mono()
            )
        except AuditWriteFailed as exc:
            self._latch_halt(Cause.JOURNAL_FAILURE, str(exc))


def _latch_cause(rejection: Rejection) -> Cause:
    if rejection.code is RejectCode.RULE_DENIED:
        return Cause.RULE_HALT
    return Cause.DAILY_LOSS if rejection.code is RejectCode.DAILY_LOSS_LIMIT else Cause.DRAWDOWN


def _decision_record(verdict: PolicyDecision, rules: RuleSet) -> dict[str, Any]:
    """What the audit row keeps of a decision besides the request and the verdict: every
    check's outcome, every rule evaluated (enforced and shadow) and the rule set's hash."""
    record: dict[str, Any] = {
        # One call per list, not per item: to_builtins of a tuple is the list of its items'.
        "checks": msgspec.to_builtins(verdict.outcomes),
        "rules_sha256": rules.sha256,
    }
    if verdict.rule_context is not None:
        record["rules"] = msgspec.to_builtins(verdict.rules)
        record["shadow_rules"] = msgspec.to_builtins(verdict.shadow)
        record["rule_context"] = rule_context_record(verdict.rule_context)
    return record


def _rejected(request_id: RequestId, rejection: Rejection, now: int) -> Decision:
    return Decision(
        request_id=request_id,
        verdict=Rejected(
            code=rejection.code, message=rejection.message, fired_by=rejection.fired_by
        ),
        decided_ns=now,
    )


def _quantized(value: Decimal | None) -> Decimal | None:
    # An average price can carry many digits; the wire bounds them at 30 + 30.
    if value is None:
        return None
    return _WIRE.normalize(_WIRE.quantize(value, Decimal("1e-18")))


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else "?" for ch in text)[:500]
