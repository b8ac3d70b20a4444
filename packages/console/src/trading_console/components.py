"""The processes `te up` supervises, and whether this installation has them yet."""

import importlib.util
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Component:
    name: str
    role: str
    # The module whose presence means the component can run; absent until built.
    entry_module: str
    built_by: str

    @property
    def available(self) -> bool:
        try:
            return importlib.util.find_spec(self.entry_module) is not None
        except ModuleNotFoundError:
            return False


# Start order; `te down` stops them in reverse (agent first, exchange last).
COMPONENTS: tuple[Component, ...] = (
    Component(
        "exchange-sim",
        "loopback Coinbase-protocol server replaying real candles",
        "trading_sim.venue",
        "issue #5 (Coinbase)",
    ),
    Component(
        "gate",
        "limits, rules, order lifecycle, audit log, kill and dead man's switches",
        "trading_gate.app",
        "issue #3 (gate core)",
    ),
    Component(
        "agent",
        "market data, regimes, strategies, sizing, learning loops",
        "trading_agent.app",
        "issue #6 (agent)",
    ),
    Component(
        "dashboard",
        "local web console on 127.0.0.1",
        "trading_console.dashboard.app",
        "issue #7 (console)",
    ),
)
