"""Peer benchmark: the `sma_cross` rules on NautilusTrader's low-level `BacktestEngine`.

    .bench-venv/bin/python bench/peers/nautilus_sma_cross.py --data FILE [--data F2] --runs 3

Timed region (per run): constructing the `BacktestEngine` (logging bypassed), adding
the venue, the instrument, the data (`add_data`, which validates and sorts) and the
strategy, `engine.run()`, and reading the fills and the account balances back. Untimed:
reading the CSV and building the Nautilus `Bar` and `TradeTick` objects from it.

Setup: a `CurrencyPair` (e.g. BTC/USD, base and quote taken from the file name) on a
simulated venue SIM with a CASH account of 10,000 quote units, NETTING OMS, an L1 book,
maker and taker fee 0.001 (`MakerTakerFeeModel`: fee = notional * rate, charged in the
quote currency). Indicators: `nautilus_trader.indicators.SimpleMovingAverage` (20, 50),
updated in `on_bar` with the close in whole price ticks (`bar.close.raw` divided by the
fixed-point scale, e.g. cents) rather than `bar.close.as_double()`: its mean is a sum
then one division, so with integer inputs a bar where SMA(20) == SMA(50) exactly
compares equal, as in exact arithmetic (see backtestingpy_sma_cross.py). Registering
the indicators for the bars would feed them `as_double()` prices, whose float SMAs can
flip such ties (seen on the Binance ETH/SOL files).

Filling at the next bar's open. Nautilus expects a bar's `ts_init` at its close and,
with `bar_execution=True`, moves its L1 book through Open, High, Low, Close of the bar
before the strategy sees it; a market order sent from `on_bar` is then processed in the
same step and fills at that bar's CLOSE (documented: concepts/backtesting/bar-execution).
To fill at bar t+1's open instead, without changing the decision made at t's close:

1. each bar t+1 is preceded by a synthetic `TradeTick` at its open price, stamped
   `open_ts + 1 ns` (just after bar t's close stamp, which is bar t+1's open time when
   there is no gap) with `trade_execution=True`, so it moves the book to the open;
2. the venue has a `LatencyModel` of 1 ns, so the order sent from `on_bar(t)` reaches
   the matching engine only at the next data timestamp, the open tick, and fills there.

The bar's own Open point then changes nothing (same price), and its H/L/C only move the
book. An order decided at the last bar never reaches the venue (no later data): no fill,
as in the rules. The tick's size is the bar's volume floored at the order size, so the
order never slips a tick for lack of simulated liquidity (the other engines have none).
A fill's `ts_ns` is its `ts_event` minus that 1 ns: the open time of the bar it filled on.

Money: Nautilus keeps balances, notionals and fees at the quote currency's precision
(USD 2 decimals; USDT 8). To compare with float engines, USD is re-registered for this
process with 8 decimals (`Currency.register(..., overwrite=True)`); see README.md.
Final equity = quote balance + base balance * last close.
"""

import re
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import nautilus_trader
from nautilus_trader.backtest.config import BacktestEngineConfig
from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.models import LatencyModel
from nautilus_trader.config import LoggingConfig, StrategyConfig
from nautilus_trader.indicators import SimpleMovingAverage
from nautilus_trader.model.currencies import USD
from nautilus_trader.model.data import Bar, BarType, TradeTick
from nautilus_trader.model.enums import (
    AccountType,
    AggressorSide,
    CurrencyType,
    OmsType,
    OrderSide,
)
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.identifiers import InstrumentId, Symbol, TradeId, TraderId, Venue
from nautilus_trader.model.instruments import CurrencyPair
from nautilus_trader.model.objects import FIXED_PRECISION, Currency, Money, Price, Quantity
from nautilus_trader.trading.strategy import Strategy

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _peers_common import (
    FAST,
    FEE_RATE,
    NS_PER_S,
    SIZE_BASE,
    SLOW,
    START_CASH,
    BarSeries,
    Fill,
    RunResult,
    run_cli,
)

VENUE: Final = Venue("SIM")
OPEN_TICK_OFFSET_NS: Final = 1
ORDER_LATENCY_NS: Final = 1
QUOTE_DECIMALS: Final = 8
PAIR_PATTERNS: Final = (
    re.compile(r"^([A-Z0-9]+)-([A-Z]+)_"),  # Coinbase: BTC-USD_1m_...
    re.compile(r"^([A-Z0-9]+?)(USDT|USDC|USD)_"),  # Binance: BTCUSDT_1m_...
)


def _fine_usd() -> Currency:
    """USD with 8 decimals instead of 2, so cents rounding does not blur the comparison."""
    fine = Currency("USD", QUOTE_DECIMALS, USD.iso4217, USD.name, CurrencyType.FIAT)
    Currency.register(fine, overwrite=True)
    return fine


def _pair_codes(path: str) -> tuple[str, str]:
    name = Path(path).name
    for pattern in PAIR_PATTERNS:
        m = pattern.match(name)
        if m:
            return m.group(1), m.group(2)
    return "BTC", "USD"


def _currency(code: str) -> Currency:
    return _fine_usd() if code == "USD" else Currency.from_str(code)


def _bar_spec(interval_s: int) -> str:
    for unit, seconds in (("DAY", 86_400), ("HOUR", 3_600), ("MINUTE", 60)):
        if interval_s % seconds == 0:
            return f"{interval_s // seconds}-{unit}"
    return f"{interval_s}-SECOND"


class SmaCrossConfig(StrategyConfig, frozen=True):
    instrument_id: InstrumentId
    bar_type: BarType


class SmaCross(Strategy):  # type: ignore[misc]
    """Long/flat on SMA(FAST) vs SMA(SLOW) of the close; 0.001 base units per entry."""

    def __init__(self, config: SmaCrossConfig) -> None:
        super().__init__(config)
        self.fast = SimpleMovingAverage(FAST)
        self.slow = SimpleMovingAverage(SLOW)
        self.was_above: bool | None = None  # fast > slow at the previous (warm) close
        self.fills: list[Fill] = []

    def on_start(self) -> None:
        self.instrument = self.cache.instrument(self.config.instrument_id)
        self.entry_qty = self.instrument.make_qty(SIZE_BASE)
        self.raw_per_tick = 10 ** (FIXED_PRECISION - self.instrument.price_precision)
        self.subscribe_bars(self.config.bar_type)

    def on_bar(self, bar: Bar) -> None:
        close_ticks = float(bar.close.raw // self.raw_per_tick)
        self.fast.update_raw(close_ticks)
        self.slow.update_raw(close_ticks)
        if not self.slow.initialized:
            return
        above = self.fast.value > self.slow.value
        was_above, self.was_above = self.was_above, above
        if was_above is None:
            return
        iid = self.config.instrument_id
        if above and not was_above and self.portfolio.is_flat(iid):
            self._market(OrderSide.BUY, self.entry_qty)
        elif was_above and not above and self.portfolio.is_net_long(iid):
            self._market(OrderSide.SELL, self.instrument.make_qty(self.portfolio.net_position(iid)))

    def _market(self, side: OrderSide, qty: Quantity) -> None:
        order = self.order_factory.market(self.config.instrument_id, side, qty)
        self.submit_order(order)

    def on_order_filled(self, event: OrderFilled) -> None:
        side = "buy" if event.order_side == OrderSide.BUY else "sell"
        # as_decimal, not as_double: the fixed-point raw / 1e16 is not always the nearest float
        px = float(event.last_px.as_decimal())
        self.fills.append((event.ts_event - OPEN_TICK_OFFSET_NS, side, px))


def _instrument(series: BarSeries) -> CurrencyPair:
    base, quote = _pair_codes(series.path)
    symbol = Symbol(f"{base}/{quote}")
    return CurrencyPair(
        instrument_id=InstrumentId(symbol, VENUE),
        raw_symbol=symbol,
        base_currency=_currency(base),
        quote_currency=_currency(quote),
        price_precision=series.price_decimals,
        size_precision=series.size_decimals,
        price_increment=Price(10.0**-series.price_decimals, series.price_decimals),
        size_increment=Quantity(10.0**-series.size_decimals, series.size_decimals),
        ts_event=0,
        ts_init=0,
        maker_fee=Decimal(str(FEE_RATE)),
        taker_fee=Decimal(str(FEE_RATE)),
    )


def prepare(series: BarSeries) -> tuple[CurrencyPair, BarType, list[Any]]:
    """The instrument, the bar type and the data stream: [open tick, bar] per bar."""
    instrument = _instrument(series)
    iid = instrument.id
    bar_type = BarType.from_str(f"{iid}-{_bar_spec(series.interval_s)}-LAST-EXTERNAL")
    pp, sp = series.price_decimals, series.size_decimals
    interval_ns = series.interval_s * NS_PER_S
    data: list[Any] = []
    for i in range(series.bars):
        open_ns = int(series.ts_s[i]) * NS_PER_S
        close_ns = open_ns + interval_ns
        px_open = Price(series.open[i], pp)
        tick_size = Quantity(max(series.volume[i], SIZE_BASE), sp)
        tick_ns = open_ns + OPEN_TICK_OFFSET_NS
        data.append(
            TradeTick(
                iid,
                px_open,
                tick_size,
                AggressorSide.NO_AGGRESSOR,
                TradeId(f"o{i}"),
                tick_ns,
                tick_ns,
            )
        )
        data.append(
            Bar(
                bar_type,
                px_open,
                Price(series.high[i], pp),
                Price(series.low[i], pp),
                Price(series.close[i], pp),
                Quantity(series.volume[i], sp),
                close_ns,
                close_ns,
            )
        )
    return instrument, bar_type, data


def backtest(series: BarSeries, prepared: tuple[CurrencyPair, BarType, list[Any]]) -> RunResult:
    instrument, bar_type, data = prepared
    engine = BacktestEngine(
        BacktestEngineConfig(
            trader_id=TraderId("BENCH-001"),
            logging=LoggingConfig(log_level="ERROR", bypass_logging=True),
        )
    )
    try:
        engine.add_venue(
            venue=VENUE,
            oms_type=OmsType.NETTING,
            account_type=AccountType.CASH,
            starting_balances=[Money(START_CASH, instrument.quote_currency)],
            base_currency=None,
            latency_model=LatencyModel(base_latency_nanos=ORDER_LATENCY_NS),
            bar_execution=True,
            trade_execution=True,
        )
        engine.add_instrument(instrument)
        engine.add_data(data)
        strategy = SmaCross(SmaCrossConfig(instrument_id=instrument.id, bar_type=bar_type))
        engine.add_strategy(strategy)
        engine.run()
        account = engine.cache.account_for_venue(VENUE)
        quote = account.balance_total(instrument.quote_currency)
        base = account.balance_total(instrument.base_currency)
        base_units = 0.0 if base is None else float(base.as_decimal())
        equity = float(quote.as_decimal()) + base_units * float(series.close[-1])
        return RunResult(sorted(strategy.fills), equity)
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(run_cli("nautilus_trader", nautilus_trader.__version__, prepare, backtest))
