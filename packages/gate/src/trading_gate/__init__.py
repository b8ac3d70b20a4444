"""trading-gate: the only process that holds exchange keys and lets orders through.

The public face, for the console and the backtest harness: the safety config loader,
the audit verifier, and the in-process gate that runs the real checks and lifecycle
over the paper venue on a replay clock.
"""

from trading_gate.audit import verify_audit
from trading_gate.config import ConfigError, LoadedConfig, load_config
from trading_gate.core.context import ProductRules
from trading_gate.exchange.paper import PaperConfig
from trading_gate.inprocess import InProcessGate, ReplayClock

__all__ = [
    "ConfigError",
    "InProcessGate",
    "LoadedConfig",
    "PaperConfig",
    "ProductRules",
    "ReplayClock",
    "load_config",
    "verify_audit",
]
