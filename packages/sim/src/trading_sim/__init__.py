"""The exchange as the outside world: matching engine, market replay, loopback server.

The engine and the loopback Coinbase-protocol server arrive with their issues; this
package exists now so the import rules and the workspace hold.
"""

__all__: list[str] = []
