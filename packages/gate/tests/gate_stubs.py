"""Object mothers for gate tests: the shipped config, a calm market, a plain order."""

from decimal import Decimal
from pathlib import Path
from typing import Any

from trading_contract import (
    OrderType,
    PlaceOrder,
    Reason,
    Side,
    SizeUnit,
    TimeInForce,
    TradingState,
)
from trading_gate.config import GateConfig, LoadedConfig, load_config
from trading_gate.core.context import (
    AccountState,
    CheckContext,
    ProductRules,
    ReferenceMid,
)
from trading_gate.core.throttle import SlidingWindow
from trading_gate.core.trading_state import Cause, GateMode

REPO = Path(__file__).resolve().parents[3]
SAFETY_YAML = REPO / "config" / "safety.yaml"
NOW = 1_764_614_400_000_000_000
MONO = 5_000_000_000_000

MIDS = {"BTC-USD": Decimal("50000.00"), "ETH-USD": Decimal("2500.00"), "SOL-USD": Decimal("100.00")}


def loaded_config() -> LoadedConfig:
    return load_config(SAFETY_YAML)


def config() -> GateConfig:
    return loaded_config().config


def rules(**overrides: Any) -> ProductRules:
    fields: dict[str, Any] = {
        "base_increment": Decimal("0.00000001"),
        "quote_increment": Decimal("0.01"),
        "price_increment": Decimal("0.01"),
        "base_min_size": Decimal("0.00000001"),
        "base_max_size": Decimal("3400"),
    }
    return ProductRules(**(fields | overrides))


def mode(state: TradingState = TradingState.ACTIVE, cause: Cause = Cause.RECONCILED) -> GateMode:
    return GateMode(state=state, cause=cause, since_ns=NOW - 1, set_by="gate")


def context(**overrides: Any) -> CheckContext:
    cfg = config()
    fields: dict[str, Any] = {
        "now_ns": NOW,
        "mode": mode(),
        "positions_base": {},
        "live_orders": (),
        "mids": {p: ReferenceMid(mid=m, observed_ns=NOW - 1_000_000) for p, m in MIDS.items()},
        "product_rules": {p: rules() for p in MIDS},
        "account": AccountState(
            equity_usd=Decimal("10000"),
            equity_peak_usd=Decimal("10000"),
            day_start_equity_usd=Decimal("10000"),
        ),
        "order_window": SlidingWindow(
            limit=cfg.throttles.orders.max_per_window,
            window_ns=cfg.throttles.orders.window_ms * 1_000_000,
        ),
        "order_window_now_ns": MONO,
    }
    return CheckContext(**(fields | overrides))


def order(**overrides: Any) -> PlaceOrder:
    """A limit buy of 0.001 BTC at the mid: 50 USD, inside every shipped limit."""
    fields: dict[str, Any] = {
        "request_id": "req-1",
        "intent_id": "intent-1",
        "product_id": "BTC-USD",
        "side": Side.BUY,
        "order_type": OrderType.LIMIT,
        "size": Decimal("0.001"),
        "size_in": SizeUnit.BASE,
        "limit_price": Decimal("50000.00"),
        "time_in_force": TimeInForce.GTC,
        "strategy_id": "mean_reversion",
        "reason": Reason(regime="range_low_vol"),
        "sent_ns": NOW,
    }
    return PlaceOrder(**(fields | overrides))
