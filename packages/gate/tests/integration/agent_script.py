"""A stand-in agent process: handshake, place resting orders, heartbeat until killed.

Usage: python agent_script.py SOCKET N  (prints "placed <coids>" once the orders rest)
"""

import sys
import time
from decimal import Decimal
from pathlib import Path

import trading_contract as c
from gate_process import AgentClient


def main() -> None:
    client = AgentClient(Path(sys.argv[1]), heartbeat_s=0.3)
    placed = []
    for i in range(int(sys.argv[2])):
        # Distinct sizes: the same economic order twice would be a duplicate.
        decision = client.place(f"victim-{i}", size=Decimal("0.0001") + i * Decimal("0.00001"))
        assert isinstance(decision.verdict, c.Accepted), decision
        placed.extend(decision.verdict.client_order_ids)
    print("placed", " ".join(placed), flush=True)  # noqa: T201 - the test waits for this line
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
