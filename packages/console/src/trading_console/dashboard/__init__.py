"""The local dashboard: the gate's state, P&L, the book, decisions and the agent's
signals, live over server-sent events, with the kill switch and resume.

It reads gate.db and agent.db only through `trading_gate.read` and
`trading_agent.store.read` (read-only), and acts only through the gate's admin socket
(`trading_gate.admin_client`). Everything it serves is local: no CDN, no fonts, the
chart library vendored under static/vendor.
"""

from trading_console.dashboard.app import build_dashboard
from trading_console.dashboard.serve import bind_loopback, serve_dashboard

__all__ = ["bind_loopback", "build_dashboard", "serve_dashboard"]
