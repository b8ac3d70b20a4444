"""Coinbase Advanced Trade: wire schemas, JWT signing, REST and websocket clients.

Holds no keys: callers pass them in. The schemas, auth and clients arrive with the
Coinbase issue; this package exists now so the import rules and the workspace hold.
"""

__all__: list[str] = []
