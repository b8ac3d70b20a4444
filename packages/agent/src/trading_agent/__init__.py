"""trading-agent: market data, regimes, strategies, sizing and the learning loops.

Holds no keys; talks to the exchange only through the gate. The engine arrives with
the agent issue.
"""

__all__: list[str] = []
