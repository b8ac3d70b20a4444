"""Account payloads (§2): accounts, portfolio breakdown, fee tier, key permissions, time."""

from decimal import Decimal

from trading_coinbase.schemas.base import Response

__all__ = [
    "Account",
    "Amount",
    "FeeTier",
    "GetAccountResponse",
    "KeyPermissions",
    "ListAccountsResponse",
    "Portfolio",
    "PortfolioBalances",
    "PortfolioBreakdown",
    "PortfolioBreakdownResponse",
    "ServerTime",
    "SpotPosition",
    "TransactionSummary",
]


# ---------------------------------------------------------------- accounts, portfolios


class Amount(Response, frozen=True, kw_only=True):
    """A balance: `value` as a decimal string and its currency."""

    value: str
    currency: str


class Account(Response, frozen=True, kw_only=True):
    """One currency wallet of the key's portfolio."""

    uuid: str
    currency: str
    available_balance: Amount
    name: str = ""
    hold: Amount | None = None
    default: bool = False
    active: bool = False
    ready: bool = False
    type: str = ""
    retail_portfolio_id: str = ""


class ListAccountsResponse(Response, frozen=True, kw_only=True):
    """GET /accounts: one page."""

    accounts: tuple[Account, ...] = ()
    has_next: bool = False
    cursor: str = ""
    size: int = 0


class GetAccountResponse(Response, frozen=True, kw_only=True):
    """GET /accounts/{uuid}."""

    account: Account


class Portfolio(Response, frozen=True, kw_only=True):
    """A portfolio's identity."""

    uuid: str
    name: str = ""
    type: str = ""
    deleted: bool = False


class PortfolioBalances(Response, frozen=True, kw_only=True):
    """Aggregate balances of a portfolio."""

    total_balance: Amount | None = None
    total_cash_equivalent_balance: Amount | None = None
    total_crypto_balance: Amount | None = None


class SpotPosition(Response, frozen=True, kw_only=True):
    """A spot holding; the venue sends these amounts as JSON numbers (see module doc)."""

    asset: str
    account_uuid: str = ""
    total_balance_fiat: Decimal = Decimal(0)
    total_balance_crypto: Decimal = Decimal(0)
    available_to_trade_fiat: Decimal = Decimal(0)
    available_to_trade_crypto: Decimal = Decimal(0)
    is_cash: bool = False


class PortfolioBreakdown(Response, frozen=True, kw_only=True):
    """The fields of a breakdown we use: identity, balances, spot positions."""

    portfolio: Portfolio
    portfolio_balances: PortfolioBalances | None = None
    spot_positions: tuple[SpotPosition, ...] = ()


class PortfolioBreakdownResponse(Response, frozen=True, kw_only=True):
    """GET /portfolios/{portfolio_uuid}."""

    breakdown: PortfolioBreakdown


class FeeTier(Response, frozen=True, kw_only=True):
    """The key's fee tier: rates are fractions as decimal strings ("0.006")."""

    taker_fee_rate: str
    maker_fee_rate: str
    pricing_tier: str = ""
    usd_from: str = ""
    usd_to: str = ""


class TransactionSummary(Response, frozen=True, kw_only=True):
    """GET /transaction_summary; volumes and fees arrive as JSON numbers."""

    fee_tier: FeeTier
    total_volume: Decimal = Decimal(0)
    total_fees: Decimal = Decimal(0)


class KeyPermissions(Response, frozen=True, kw_only=True):
    """GET /key_permissions: what the key may do, and its one portfolio."""

    can_view: bool
    can_trade: bool
    can_transfer: bool
    portfolio_uuid: str = ""
    portfolio_type: str = ""


class ServerTime(Response, frozen=True, kw_only=True, rename="camel"):
    """GET /time: `iso`, `epochSeconds`, `epochMillis` (numbers or strings ⚠ §2)."""

    iso: str
    epoch_seconds: int | str
    epoch_millis: int | str = ""
