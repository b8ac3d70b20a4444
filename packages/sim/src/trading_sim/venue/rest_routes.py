"""Every REST endpoint the venue serves, in one table (paths below /api/v3/brokerage).

Order matters where Starlette matches in order: the fixed `/orders/historical/batch`
and `/fills` come before `/orders/historical/{order_id}`. `/time` and `/market/...`
need no key (§2); everything else needs a JWT.
"""

from typing import Final

from trading_sim.venue import rest_account as account
from trading_sim.venue import rest_market as market
from trading_sim.venue import rest_orders as orders
from trading_sim.venue.rest import Endpoint

__all__ = ["ENDPOINTS"]

_PRIVATE, _PUBLIC = True, False

ENDPOINTS: Final = (
    Endpoint("POST", "/orders", _PRIVATE, orders.create_order),
    Endpoint("POST", "/orders/preview", _PRIVATE, orders.preview_order),
    Endpoint("POST", "/orders/batch_cancel", _PRIVATE, orders.batch_cancel),
    Endpoint("POST", "/orders/edit", _PRIVATE, orders.edit_order),
    Endpoint("GET", "/orders/historical/batch", _PRIVATE, orders.list_orders),
    Endpoint("GET", "/orders/historical/fills", _PRIVATE, orders.list_fills),
    Endpoint("GET", "/orders/historical/{order_id}", _PRIVATE, orders.get_order),
    Endpoint("GET", "/accounts", _PRIVATE, account.list_accounts),
    Endpoint("GET", "/accounts/{account_uuid}", _PRIVATE, account.get_account),
    Endpoint("GET", "/portfolios/{portfolio_uuid}", _PRIVATE, account.get_portfolio),
    Endpoint("GET", "/transaction_summary", _PRIVATE, account.get_transaction_summary),
    Endpoint("GET", "/key_permissions", _PRIVATE, account.get_key_permissions),
    Endpoint("GET", "/products", _PRIVATE, market.list_products),
    Endpoint("GET", "/products/{product_id}", _PRIVATE, market.get_product),
    Endpoint("GET", "/products/{product_id}/candles", _PRIVATE, market.get_candles),
    Endpoint("GET", "/products/{product_id}/ticker", _PRIVATE, market.get_ticker),
    Endpoint("GET", "/product_book", _PRIVATE, market.get_product_book),
    Endpoint("GET", "/best_bid_ask", _PRIVATE, market.best_bid_ask),
    Endpoint("GET", "/time", _PUBLIC, account.get_server_time),
    Endpoint("GET", "/market/products", _PUBLIC, market.list_products),
    Endpoint("GET", "/market/products/{product_id}", _PUBLIC, market.get_product),
    Endpoint("GET", "/market/products/{product_id}/candles", _PUBLIC, market.get_candles),
    Endpoint("GET", "/market/products/{product_id}/ticker", _PUBLIC, market.get_ticker),
    Endpoint("GET", "/market/product_book", _PUBLIC, market.get_product_book),
)
