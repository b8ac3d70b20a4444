"""Databases for the dashboard tests, written by the real writers: a short backtest (the
real gate service, policy and engine) and a journal built with the gate's own writers."""

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest
import uvicorn
from starlette.types import ASGIApp

import trading_contract as c
import trading_sim as sim
from browser_support import browser, page  # noqa: F401 - the browser tests' fixtures
from trading_console.backtest import BacktestResult, BacktestSpec, run_backtest
from trading_console.dashboard import bind_loopback
from trading_gate import journal
from trading_gate.audit import AuditLog, open_audit_db
from trading_gate.core.order_fsm import FillEvent, Order, StatusEvent, Trigger, apply, new_order
from trading_gate.core.trading_state import GateMode
from trading_gate.journal import JournalOrder
from trading_gate.ports import OrderRequest, VenueFill

REPO = Path(__file__).resolve().parents[4]


@pytest.fixture(scope="session")
def backtest(tmp_path_factory: pytest.TempPathFactory) -> BacktestResult:
    """Two strategies on BTC and ETH under the shipped limits: fills, closed trades, and a
    drawdown halt at the end (so a rejection with a refusing check, too)."""
    spec = BacktestSpec(
        strategies=("mean_reversion", "momentum"),
        data={p: sim.bundled_bars_path(p) for p in ("BTC-USD", "ETH-USD")},
        strategy_dir=REPO / "config" / "strategies",
        safety_config=REPO / "config" / "safety.yaml",
        run_dir=tmp_path_factory.mktemp("backtest") / "run",
        starting_cash_usd=Decimal(1000),
    )
    return asyncio.run(run_backtest(spec))


class Journal:
    """A gate.db written through `trading_gate.journal` and the audit log, as the gate does."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / "gate.db"
        self._conn = open_audit_db(self.path)
        journal.create_tables(self._conn)
        self._audit = AuditLog(self._conn, anchor_path=data_dir / "audit.anchor")
        self._now = 1_700_000_000_000_000_000
        self._trade = 0
        self._requests: dict[c.ClientOrderId, OrderRequest] = {}

    def order(
        self,
        name: str,
        triggers: tuple[Trigger | str, ...],
        *,
        side: c.Side = c.Side.BUY,
        size: str = "0.01",
        limit_price: str = "50000",
        product: str = "BTC-USD",
    ) -> Order:
        """An approved limit order moved through `triggers`; "fill:<size>@<price>" fills it."""
        self._now += 1_000_000
        coid = c.ClientOrderId(f"coid-{name}")
        order = new_order(
            client_order_id=coid,
            intent_id=c.IntentId(f"intent-{name}"),
            product_id=c.ProductId(product),
            side=side,
            size=Decimal(size),
            now_ns=self._now,
        )
        request = OrderRequest(
            client_order_id=coid,
            product_id=c.ProductId(product),
            side=side,
            order_type=c.OrderType.LIMIT,
            size=Decimal(size),
            size_in=c.SizeUnit.BASE,
            limit_price=Decimal(limit_price),
            time_in_force=c.TimeInForce.GTC,
        )
        self._requests[coid] = request
        with self._audit.transaction() as txn:
            journal.insert_order(txn, JournalOrder(request=request, order=order))
        for trigger in triggers:
            order = self._step(order, trigger)
        return order

    def _step(self, order: Order, trigger: Trigger | str) -> Order:
        self._now += 1_000_000
        fill = None
        if isinstance(trigger, Trigger):
            order = apply(order, StatusEvent(trigger=trigger, ts_ns=self._now))
        else:
            size, price = trigger.removeprefix("fill:").split("@")
            self._trade += 1
            fill = VenueFill(
                trade_id=c.TradeId(f"trade-{self._trade}"),
                venue_order_id=c.VenueOrderId(f"venue-{order.client_order_id}"),
                client_order_id=order.client_order_id,
                product_id=order.product_id,
                side=order.side,
                price=Decimal(price),
                size=Decimal(size),
                fee=Decimal("0.10"),
                liquidity=c.Liquidity.MAKER,
                ts_ns=self._now,
            )
            order = apply(
                order,
                FillEvent(
                    trade_id=fill.trade_id,
                    size=fill.size,
                    price=fill.price,
                    fee=fill.fee,
                    ts_ns=self._now,
                ),
            )
        entry = JournalOrder(
            request=self._requests[order.client_order_id],
            order=order,
            venue_order_id=c.VenueOrderId(f"venue-{order.client_order_id}"),
        )
        with self._audit.transaction() as txn:
            if fill is not None:
                journal.insert_fill(txn, fill)
            journal.update_order(txn, entry)
        return order

    def mode(self, mode: GateMode) -> None:
        with self._audit.transaction() as txn:
            journal.save_mode(txn, mode)
            txn.append(
                "gate.mode",
                msgspec.to_builtins(mode),
                ts_wall_ns=mode.since_ns,
                ts_mono_ns=mode.since_ns,
            )

    def close(self) -> None:
        self._audit.close(ts_wall_ns=self._now)
        self._conn.close()


@pytest.fixture
def gate_journal(tmp_path: Path) -> Iterator[Journal]:
    written = Journal(tmp_path / "data")
    yield written
    written.close()


@contextmanager
def _served(app: ASGIApp) -> Iterator[str]:
    sock = bind_loopback()
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the dashboard did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="session")
def serve() -> Callable[[ASGIApp], AbstractContextManager[str]]:
    """Serve an app on 127.0.0.1 in a thread (real HTTP); the context yields its URL."""
    return _served
