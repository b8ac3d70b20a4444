"""The shared ExchangePort contract, run against the Coinbase adapter and the loopback
venue over the real protocol (signed REST, the user and market websockets).

Twice: with the user stream trusted (orders answered from the stream, fills fetched
only for what it reports) and over REST alone (the stream never subscribed: the path
the adapter takes while the stream is suspect). Both must keep the same contract.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import exchange_port_suite as suite
from coinbase_venue import port_session


class TestCoinbaseExchangeContract(suite.ExchangePortContract):
    @asynccontextmanager
    async def session(self) -> AsyncIterator[suite.PortSession]:
        async with port_session(streams=True) as session:
            yield session


class TestCoinbaseExchangeRestOnlyContract(suite.ExchangePortContract):
    @asynccontextmanager
    async def session(self) -> AsyncIterator[suite.PortSession]:
        async with port_session(streams=False) as session:
            yield session
