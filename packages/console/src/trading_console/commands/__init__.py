"""The operator's `te` subcommands, one module per command group.

    bootstrap  create an installation: config, data, journal, docs (never overwriting)
    status     the gate's state, heartbeat, positions, orders, P&L and anomalies
    control    kill and resume, through the gate's admin socket (or the kill file)
    audit      verify the gate's hash-chained audit log
    journal    the agent's daily journal page and its equity plot

Exit codes are shared; see `common`.
"""
