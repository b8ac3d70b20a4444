"""Helpers for the console's tests: limits that never bind, and read-only queries."""

import sqlite3
from pathlib import Path
from typing import Any

WIDE = "1000000.00"

# Limits far above what the reference strategy reaches: the comparison is about fills.
WIDE_LIMITS: dict[str, Any] = {
    "products": {
        p: {
            "max_order_size_base": "1000",
            "max_order_notional_usd": WIDE,
            "max_position_usd": WIDE,
            "price_collar_bps": 1000,
        }
        for p in ("BTC-USD", "ETH-USD", "SOL-USD")
    },
    "account": {
        "max_order_notional_usd": WIDE,
        "max_gross_exposure_usd": WIDE,
        "max_open_orders": 50,
        "daily_loss_limit_usd": WIDE,
        "max_drawdown_pct": "99.0",
    },
}


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()
