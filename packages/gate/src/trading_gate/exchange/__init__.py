"""Exchange adapters: implementations of `trading_gate.ports.ExchangePort`.

`paper` runs the sim package's matching engine in process; the Coinbase adapter
arrives with its own issue and passes the same contract suite.
"""

from trading_gate.exchange.paper import CANCEL_BATCH, PaperConfig, PaperExchange

__all__ = ["CANCEL_BATCH", "PaperConfig", "PaperExchange"]
