"""trading-gate: the only process that holds exchange keys and lets orders through.

The enforcement core (limits, trading states, kill switch, dead man's switch, IPC
server, audit log, paper exchange) arrives with the gate-core issue.
"""

__all__: list[str] = []
