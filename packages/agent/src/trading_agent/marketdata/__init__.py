"""Market data: candle series with visible gaps, bars from trades, the L2 book, sources.

The pure parts are re-exported here. File I/O (the shared CSV files, Parquet and the
`ReplaySource`) lives in `trading_agent.marketdata.replay`, the shell, and is not
imported by this package so that pure code never drags pyarrow in. Synthetic
generators live in `trading_agent.marketdata.synthetic`.
"""

from trading_agent.marketdata.book import (
    BookError,
    BookSide,
    LevelChange,
    OrderBook,
    UpdateResult,
)
from trading_agent.marketdata.candles import (
    CandleSeries,
    CandleSeriesError,
    Gap,
    MisalignedCandleError,
    OutOfOrderCandleError,
    WrongSeriesError,
    resample,
)
from trading_agent.marketdata.source import (
    AsyncCandleSource,
    CandleOrderError,
    CandleSource,
    as_async,
    completion_key,
    merge_by_completion,
)
from trading_agent.marketdata.trade_bars import BarBuilder, BarStats, Trade

__all__ = [
    "AsyncCandleSource",
    "BarBuilder",
    "BarStats",
    "BookError",
    "BookSide",
    "CandleOrderError",
    "CandleSeries",
    "CandleSeriesError",
    "CandleSource",
    "Gap",
    "LevelChange",
    "MisalignedCandleError",
    "OrderBook",
    "OutOfOrderCandleError",
    "Trade",
    "UpdateResult",
    "WrongSeriesError",
    "as_async",
    "completion_key",
    "merge_by_completion",
    "resample",
]
