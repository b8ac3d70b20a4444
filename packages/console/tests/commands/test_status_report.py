"""`te status`'s pure core: the gate's P&L from fills, and which findings are anomalies."""

from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from trading_console.commands.status_report import (
    AuditSummary,
    GateRecord,
    build_report,
    gate_pnl,
)
from trading_contract import AdminStatusReply, Side, TradingState
from trading_gate.read import FillView, ModeView

NOW_NS = 1_800_000_000_000_000_000
HASH = "0" * 64


def fill(product: str, side: Side, size: str, price: str, fee: str, n: int = 0) -> FillView:
    return FillView(
        trade_id=f"t{n}",
        client_order_id=f"c{n}",
        venue_order_id=f"v{n}",
        product_id=product,
        side=side,
        price=Decimal(price),
        size=Decimal(size),
        fee=Decimal(fee),
        liquidity="taker",
        ts_ns=n,
    )


def reply(**overrides: Any) -> AdminStatusReply:
    fields: dict[str, Any] = {
        "request_id": "r",
        "state": TradingState.ACTIVE,
        "cause": "reconciled",
        "since_ns": NOW_NS - 60 * 10**9,
        "agent_connected": True,
        "last_heartbeat_ns": NOW_NS - 10**9,
        "open_orders": 0,
        "unknown_orders": 0,
        "config_hash": HASH,
        "rules_hash": HASH,
        "as_of_ns": NOW_NS,
    }
    return AdminStatusReply(**(fields | overrides))


def report(
    live: AdminStatusReply | None = None,
    mode: ModeView | None = None,
    audit: AuditSummary | None = None,
    timeout_s: float | None = 3.0,
) -> Any:
    record = None if mode is None else GateRecord(mode=mode, open_orders=(), positions=(), fills=())
    return build_report(
        data_dir="/d",
        now_ns=NOW_NS,
        live=live,
        unreachable=None if live is not None else "gate not running: no admin socket",
        record=record,
        agent=None,
        audit=audit,
        heartbeat_timeout_s=timeout_s,
    )


def _exact(fills: list[FillView]) -> tuple[Fraction, Fraction]:
    """(cash flow, P&L at last fill) in exact rationals, from the definitions."""
    flow = Fraction(0)
    base: dict[str, Fraction] = {}
    last: dict[str, Fraction] = {}
    for f in fills:
        notional = Fraction(f.size) * Fraction(f.price)
        sign = 1 if f.side is Side.BUY else -1
        flow += -sign * notional - Fraction(f.fee)
        base[f.product_id] = base.get(f.product_id, Fraction(0)) + sign * Fraction(f.size)
        last[f.product_id] = Fraction(f.price)
    return flow, flow + sum((base[p] * last[p] for p in base), Fraction(0))


def test_gate_pnl_when_round_trip_and_open_short_then_closed_form() -> None:
    """Buy 0.5@100 and 0.25@120, sell 0.5@110 (fees 0.1, 0.05, 0.1), short 1 SOL@10:
    flow = 55 + 10 - 50 - 30 - 0.25 = -15.25; held at the last fills = 0.25*110 - 1*10
    = 17.5; P&L 2.25."""
    fills = [
        fill("BTC-USD", Side.BUY, "0.5", "100", "0.1", 1),
        fill("BTC-USD", Side.BUY, "0.25", "120", "0.05", 2),
        fill("BTC-USD", Side.SELL, "0.5", "110", "0.1", 3),
        fill("SOL-USD", Side.SELL, "1", "10", "0", 4),
    ]
    pnl = gate_pnl(fills)
    assert (pnl.fills, pnl.fees_usd) == (4, Decimal("0.25"))
    assert pnl.cash_flow_usd == Decimal("-15.25")
    assert pnl.pnl_at_last_fill_usd == Decimal("2.25")


_DECIMALS = st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal("100000"), places=8)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["BTC-USD", "ETH-USD"]),
            st.sampled_from(list(Side)),
            _DECIMALS,
            _DECIMALS,
            _DECIMALS,
        ),
        max_size=30,
    )
)
def test_gate_pnl_when_any_fills_then_equals_exact_rational_arithmetic(
    rows: list[tuple[str, Side, Decimal, Decimal, Decimal]],
) -> None:
    """Cash flow and P&L at last fill equal the same sums over Fractions: no rounding."""
    fills = [
        fill(p, s, str(size), str(price), str(fee), i)
        for i, (p, s, size, price, fee) in enumerate(rows)
    ]
    flow, total = _exact(fills)
    pnl = gate_pnl(fills)
    assert Fraction(pnl.cash_flow_usd) == flow
    assert Fraction(pnl.pnl_at_last_fill_usd) == total


def test_report_when_heartbeat_older_than_timeout_then_anomaly_else_none() -> None:
    """A heartbeat 4 s old against a 3 s timeout is an anomaly; 1 s old is not."""
    stale = report(reply(last_heartbeat_ns=NOW_NS - 4 * 10**9))
    fresh = report(reply())
    assert stale.gate.heartbeat_age_s == 4.0
    assert stale.anomalies == ("no agent heartbeat for 4.0 s (dead man's timeout 3 s)",)
    assert fresh.anomalies == ()


def test_report_when_no_timeout_known_or_no_heartbeat_yet_then_no_heartbeat_anomaly() -> None:
    """Without a timeout (no config) or before any heartbeat there is nothing to compare."""
    assert report(reply(last_heartbeat_ns=NOW_NS - 100 * 10**9), timeout_s=None).anomalies == ()
    assert report(reply(last_heartbeat_ns=None)).anomalies == ()


def test_report_when_reducing_or_halted_then_anomaly_with_the_cause() -> None:
    """REDUCING and HALTED are anomalies that carry the gate's cause; ACTIVE is not."""
    reducing = report(reply(state=TradingState.REDUCING, cause="reconciling"))
    halted = report(reply(state=TradingState.HALTED, cause="kill_switch: drill"))
    assert reducing.anomalies == ("gate REDUCING: reconciling",)
    assert halted.anomalies == ("gate HALTED: kill_switch: drill",)


def test_report_when_gate_down_then_recorded_state_is_marked_as_recorded() -> None:
    """Not running: the state comes from gate.db and the anomaly says so."""
    mode = ModeView(
        state=TradingState.HALTED,
        cause="dead_man",
        detail="agent silent",
        since_ns=NOW_NS - 90 * 10**9,
        set_by="gate",
        later_causes=(),
    )
    down = report(mode=mode)
    assert (down.gate.running, down.gate.source, down.gate.since_age_s) == (False, "gate.db", 90.0)
    assert down.anomalies == ("gate HALTED (as gate.db last recorded it): dead_man: agent silent",)


def test_report_when_audit_fails_then_anomaly_names_the_first_problem() -> None:
    """A chain that does not verify is an anomaly quoting the verifier's first finding."""
    audit = AuditSummary(ok=False, rows_checked=9, head_seq=9, first_problem="seq 3: altered")
    assert report(reply(), audit=audit).anomalies == (
        "audit chain does not verify: seq 3: altered",
    )
