"""The shared ExchangePort contract, run against the in-process paper exchange."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal

import exchange_port_suite as suite
import trading_sim as sim
from trading_gate.exchange import PaperConfig, PaperExchange

T0 = 1_764_614_400 * 10**9  # 2025-12-01T18:40:00Z, on a minute boundary
MINUTE = 60 * 10**9


class PaperMarket:
    """Makes the paper venue trade: one minute bar per call, the clock moved to its close."""

    def __init__(self, exchange: PaperExchange, clock: suite.FakeClock, product_id: str) -> None:
        self._exchange, self._clock, self._product_id = exchange, clock, product_id

    async def trade(
        self, *, open: Decimal, high: Decimal, low: Decimal, close: Decimal, volume: Decimal
    ) -> None:
        start = self._clock.now_ns()
        bar = sim.Bar(
            product_id=self._product_id,
            open_ns=start,
            close_ns=start + MINUTE,
            open=open,
            high=high,
            low=low,
            close=close,
            volume=volume,
        )
        self._clock.advance(MINUTE)
        self._exchange.on_bar(bar)


class TestPaperExchangeContract(suite.ExchangePortContract):
    @asynccontextmanager
    async def session(self) -> AsyncIterator[suite.PortSession]:
        clock = suite.FakeClock(T0)
        exchange = PaperExchange(clock, PaperConfig(starting_balances={"USD": Decimal(100_000)}))
        yield suite.PortSession(
            exchange=exchange, market=PaperMarket(exchange, clock, self.product_id)
        )
