"""Account endpoints (§2): accounts, portfolio breakdown, fee tier, key permissions, time.

Accounts are the engine's balances, one per currency the account holds or any listed
product trades, with a stable uuid per (portfolio, currency). The portfolio breakdown
is minimal: identity, totals and spot positions valued at the last close in USD.
"""

from decimal import Decimal
from typing import Final

from starlette.requests import Request
from starlette.responses import Response

from trading_coinbase import schemas as w
from trading_coinbase.translate import format_rfc3339
from trading_sim.matching.model import ZERO, Balance
from trading_sim.venue import wire
from trading_sim.venue.exchange import Exchange
from trading_sim.venue.rest import ApiError, json_response, query_int, query_one

__all__ = [
    "get_account",
    "get_key_permissions",
    "get_portfolio",
    "get_server_time",
    "get_transaction_summary",
    "list_accounts",
]

_CASH: Final = "USD"
_CENT: Final = Decimal("0.01")
_MAX_ACCOUNTS: Final = 250


def _balances(exchange: Exchange) -> list[Balance]:
    held = {b.currency: b for b in exchange.state.balances()}
    for spec in exchange.state.config.products:
        for currency in (spec.base_currency, spec.quote_currency):
            held.setdefault(currency, Balance(currency=currency, total=ZERO, hold=ZERO))
    return [held[c] for c in sorted(held)]


async def list_accounts(exchange: Exchange, request: Request) -> Response:
    """GET /accounts: paged by an offset cursor."""
    limit = query_int(request, "limit", default=49, low=1, high=_MAX_ACCOUNTS)
    cursor = query_one(request, "cursor") or "0"
    if not cursor.isdigit():
        raise ApiError(400, f"bad cursor {cursor!r}")
    start = int(cursor)
    balances = _balances(exchange)
    page = balances[start : start + limit]
    more = start + limit < len(balances)
    portfolio = exchange.settings.portfolio_uuid
    return json_response(
        w.ListAccountsResponse(
            accounts=tuple(wire.account(b, portfolio) for b in page),
            has_next=more,
            cursor=str(start + limit) if more else "",
            size=len(page),
        )
    )


async def get_account(exchange: Exchange, request: Request) -> Response:
    """GET /accounts/{account_uuid}."""
    wanted = request.path_params["account_uuid"]
    portfolio = exchange.settings.portfolio_uuid
    for b in _balances(exchange):
        if wire.account_uuid(portfolio, b.currency) == wanted:
            return json_response(w.GetAccountResponse(account=wire.account(b, portfolio)))
    raise ApiError(404, f"account {wanted} not found")


def _value_usd(exchange: Exchange, b: Balance) -> Decimal:
    if b.currency == _CASH:
        return b.total
    bar = exchange.last_bar(f"{b.currency}-{_CASH}")
    return ZERO if bar is None else (b.total * bar.close).quantize(_CENT)


async def get_portfolio(exchange: Exchange, request: Request) -> Response:
    """GET /portfolios/{portfolio_uuid}: the key's one portfolio."""
    portfolio = exchange.settings.portfolio_uuid
    if request.path_params["portfolio_uuid"] != portfolio:
        raise ApiError(404, f"portfolio {request.path_params['portfolio_uuid']} not found")
    positions = []
    cash = crypto = ZERO
    for b in _balances(exchange):
        value = _value_usd(exchange, b)
        is_cash = b.currency == _CASH
        cash, crypto = (cash + value, crypto) if is_cash else (cash, crypto + value)
        share = ZERO if not b.total else (value * b.available / b.total).quantize(_CENT)
        positions.append(
            w.SpotPosition(
                asset=b.currency,
                account_uuid=wire.account_uuid(portfolio, b.currency),
                total_balance_fiat=value,
                total_balance_crypto=b.total,
                available_to_trade_fiat=share,
                available_to_trade_crypto=b.available,
                is_cash=is_cash,
            )
        )
    balances = w.PortfolioBalances(
        total_balance=w.Amount(value=wire.plain(cash + crypto), currency=_CASH),
        total_cash_equivalent_balance=w.Amount(value=wire.plain(cash), currency=_CASH),
        total_crypto_balance=w.Amount(value=wire.plain(crypto), currency=_CASH),
    )
    breakdown = w.PortfolioBreakdown(
        portfolio=w.Portfolio(uuid=portfolio, name="Default", type="DEFAULT"),
        portfolio_balances=balances,
        spot_positions=tuple(positions),
    )
    return json_response(w.PortfolioBreakdownResponse(breakdown=breakdown))


async def get_transaction_summary(exchange: Exchange, request: Request) -> Response:
    """GET /transaction_summary: the fee tier from the trailing 30-day volume."""
    status = exchange.state.fee_status(exchange.now_ns())
    tier = status.tier
    return json_response(
        w.TransactionSummary(
            fee_tier=w.FeeTier(
                pricing_tier=tier.name,
                usd_from=wire.plain(tier.min_volume_quote),
                usd_to="" if status.next_min_volume is None else wire.plain(status.next_min_volume),
                taker_fee_rate=wire.plain(tier.taker_rate),
                maker_fee_rate=wire.plain(tier.maker_rate),
            ),
            total_volume=status.volume,
            total_fees=status.total_fees,
        )
    )


async def get_key_permissions(exchange: Exchange, request: Request) -> Response:
    """GET /key_permissions: trade yes, transfer no, unless the knobs say otherwise."""
    faults = exchange.faults.current
    return json_response(
        w.KeyPermissions(
            can_view=True,
            can_trade=faults.can_trade,
            can_transfer=faults.can_transfer,
            portfolio_uuid=exchange.settings.portfolio_uuid,
            portfolio_type="DEFAULT",
        )
    )


async def get_server_time(exchange: Exchange, request: Request) -> Response:
    """GET /time: the venue clock (strings for the epochs, as Coinbase sends them)."""
    now_ns = exchange.now_ns()
    millis_ns = now_ns // 1_000_000 * 1_000_000
    return json_response(
        w.ServerTime(
            iso=format_rfc3339(millis_ns),
            epoch_seconds=str(now_ns // 1_000_000_000),
            epoch_millis=str(now_ns // 1_000_000),
        )
    )
