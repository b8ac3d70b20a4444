"""Supplementary derivatives data (funding rate, open interest) from Coinbase's public
product endpoint: optional, off unless asked for (`DerivativesPoller`).

Coinbase's CFM perpetuals (e.g. `BIP-20DEC30-CDE`) publish `future_product_details`
(open interest, funding rate and time, index price) on `GET /products/{id}`, with no
websocket feed and no history (EXCHANGE_AND_LLM_APIS.md section 5): so this polls, about
every 15 s, and each reading carries the time it was observed. Values the venue leaves
empty stay None; nothing is invented or carried forward silently.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from decimal import Decimal
from typing import Final

import msgspec

from trading_coinbase.errors import CoinbaseError
from trading_coinbase.rest import RestClient
from trading_coinbase.translate import product_rules

__all__ = ["DEFAULT_POLL_S", "DerivativesPoller", "DerivativesReading"]

DEFAULT_POLL_S: Final = 15.0


class DerivativesReading(msgspec.Struct, frozen=True, kw_only=True):
    """One product's derivative terms as observed at `observed_ns` (our clock)."""

    product_id: str
    observed_ns: int
    open_interest: Decimal | None
    funding_rate: Decimal | None
    funding_time_ns: int | None
    funding_interval_s: int | None
    index_price: Decimal | None


class DerivativesPoller:
    """Readings of `products` every `poll_s`; a failed poll is skipped, not fatal."""

    def __init__(
        self,
        rest: RestClient,
        products: Sequence[str],
        *,
        poll_s: float = DEFAULT_POLL_S,
        now_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        if not products:
            raise ValueError("DerivativesPoller needs at least one product")
        if poll_s <= 0:
            raise ValueError(f"poll_s must be positive, got {poll_s}")
        self._rest, self._products, self._poll_s, self._now_ns = rest, products, poll_s, now_ns
        self.failures = 0

    async def read(self, product_id: str) -> DerivativesReading | None:
        """One reading now; None if the product has no derivative terms (spot).

        Raises:
            CoinbaseError: the venue refused or failed.
        """
        rules = product_rules(await self._rest.get_product(product_id))
        terms = rules.future
        if terms is None:
            return None
        return DerivativesReading(
            product_id=product_id,
            observed_ns=self._now_ns(),
            open_interest=terms.open_interest,
            funding_rate=terms.funding_rate,
            funding_time_ns=terms.funding_time_ns,
            funding_interval_s=terms.funding_interval_s,
            index_price=terms.index_price,
        )

    def __aiter__(self) -> AsyncIterator[DerivativesReading]:
        return self._readings()

    async def _readings(self) -> AsyncIterator[DerivativesReading]:
        while True:
            for product in self._products:
                try:
                    reading = await self.read(product)
                except CoinbaseError:
                    self.failures += 1
                    continue
                if reading is not None:
                    yield reading
            await asyncio.sleep(self._poll_s)
