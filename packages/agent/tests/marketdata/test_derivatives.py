"""Derivatives readings from Coinbase's product endpoint, over the real recorded reply."""

import asyncio
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from trading_agent.marketdata.derivatives import DerivativesPoller
from trading_coinbase.rest import RestClient

RECORDED = (
    Path(__file__).resolve().parents[4].parent
    / "shared/data/coinbase_rest/advanced_trade/products_future.json"
)


def _client(replies: dict[str, object]) -> RestClient:
    def handle(request: httpx.Request) -> httpx.Response:
        product = request.url.path.rsplit("/", 1)[-1]
        if product not in replies:
            return httpx.Response(404, json={"error": "NOT_FOUND", "message": "no product"})
        return httpx.Response(200, json=replies[product])

    return RestClient(transport=httpx.MockTransport(handle))


def test_read_when_a_recorded_perp_then_its_terms_exactly() -> None:
    """A recorded CFM perpetual: the terms the venue gave, empty ones None."""
    product = json.loads(RECORDED.read_text())["products"][0]
    details = product["future_product_details"]

    async def scenario() -> object:
        async with _client({product["product_id"]: product}) as rest:
            poller = DerivativesPoller(rest, [product["product_id"]], now_ns=lambda: 7)
            return await poller.read(product["product_id"])

    reading = asyncio.run(scenario())

    assert reading is not None
    funding_time = dt.datetime.fromisoformat(details["funding_time"].replace("Z", "+00:00"))
    assert reading.open_interest == Decimal(details["open_interest"])
    assert reading.funding_rate == Decimal(details["funding_rate"])
    assert reading.funding_time_ns == int(funding_time.timestamp()) * 10**9
    assert reading.funding_interval_s == int(details["funding_interval"].removesuffix("s"))
    assert reading.index_price == Decimal(details["index_price"])
    assert reading.observed_ns == 7
    assert reading.product_id == product["product_id"]


def test_poll_when_a_product_fails_then_skipped_and_counted() -> None:
    """A failing product is counted and skipped; the others keep coming."""
    product = json.loads(RECORDED.read_text())["products"][0]

    async def scenario() -> tuple[list[object], int]:
        async with _client({product["product_id"]: product}) as rest:
            poller = DerivativesPoller(rest, ["NOPE-PERP", product["product_id"]], poll_s=0.01)
            got = []
            async for reading in poller:
                got.append(reading)
                if len(got) == 2:
                    break
            return got, poller.failures

    got, failures = asyncio.run(scenario())

    assert len(got) == 2
    assert failures >= 1


def test_poller_when_no_products_then_refused() -> None:
    """An empty product list is a configuration mistake, said so."""
    with pytest.raises(ValueError, match="at least one product"):
        DerivativesPoller(RestClient(), [])
