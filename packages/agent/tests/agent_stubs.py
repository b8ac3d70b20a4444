"""Object mothers for the agent's tests: candles and contexts with sane defaults."""

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from trading_agent.domain.market import NS_PER_S, Candle
from trading_agent.domain.regime import UNKNOWN_REGIME, Regime
from trading_agent.strategies.base import Position, StrategyContext

T0_NS = 1_700_000_000 * NS_PER_S  # 2023-11-14 22:13:20 UTC


def candle(**overrides: Any) -> Candle:
    """A calm 1-minute BTC-USD candle around 50,000."""
    fields: dict[str, Any] = {
        "product_id": "BTC-USD",
        "start_ns": T0_NS,
        "granularity_s": 60,
        "open": Decimal("50000.00"),
        "high": Decimal("50010.00"),
        "low": Decimal("49990.00"),
        "close": Decimal("50005.00"),
        "volume": Decimal("12.5"),
    }
    return Candle(**(fields | overrides))


def candles_from_closes(
    closes: Iterable[float | str | Decimal], *, product_id: str = "BTC-USD", granularity_s: int = 60
) -> list[Candle]:
    """One candle per close: open at the previous close, high/low 0.1 % around both."""
    out: list[Candle] = []
    previous: Decimal | None = None
    for i, raw in enumerate(closes):
        close = Decimal(str(raw))
        open_ = previous if previous is not None else close
        band = max(open_, close) * Decimal("0.001")
        out.append(
            Candle(
                product_id=product_id,
                start_ns=T0_NS + i * granularity_s * NS_PER_S,
                granularity_s=granularity_s,
                open=open_,
                high=max(open_, close) + band,
                low=min(open_, close) - band,
                close=close,
                volume=Decimal("10"),
            )
        )
        previous = close
    return out


def context(
    c: Candle, position: Position | None = None, regime: Regime = UNKNOWN_REGIME
) -> StrategyContext:
    return StrategyContext(candle=c, position=position or Position(), regime=regime)


def closes(candles: Sequence[Candle]) -> list[float]:
    return [float(c.close) for c in candles]
