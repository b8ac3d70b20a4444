"""Exchange adapters: implementations of `trading_gate.ports.ExchangePort`.

`paper` runs the sim package's matching engine in process; `coinbase` speaks Coinbase
Advanced Trade (import it from `trading_gate.exchange.coinbase`, so that importing
paper alone never loads the network clients). Both pass the same contract suite.
"""

from trading_gate.exchange.paper import CANCEL_BATCH, PaperConfig, PaperExchange

__all__ = ["CANCEL_BATCH", "PaperConfig", "PaperExchange"]
