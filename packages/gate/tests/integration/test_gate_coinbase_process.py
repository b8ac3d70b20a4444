"""`trading-gate run --exchange coinbase` as a real process against `python -m
trading_sim.venue` as a real process: signed REST and websockets over loopback, with a
key pair made here (the private half in a 0600 key file in a 0700 directory).

The venue replays a made-up BTC-USD tape: flat at 50,000, and every fourth bar dips to
49,000, so a bid at 49,500 fills at the next dip and one at 48,600 never does. Its
`stale` fault freezes the tape, which is how the test decides when that dip happens.
"""

import gzip
import json
import re
import select
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import msgspec

import trading_contract as c
from gate_process import TEST_LIMITS, AgentClient, GateProcess, write_config
from trading_sim.venue.testing import KEY_NAME, KeyPair, new_key_pair

D = Decimal
BAR_S = 0.25
DIP_EVERY = 4
READY = re.compile(r"trading-sim venue ready: (\S+) (\S+) (\S+)")


def _tape(path: Path) -> Path:
    rows = ["ts,open,high,low,close,volume"]
    for i in range(40):
        low = "49000.00" if i % DIP_EVERY == DIP_EVERY - 1 else "49990.00"
        rows.append(f"{1_767_225_600 + 60 * i},50000.00,50010.00,{low},50000.00,10")
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("\n".join(rows) + "\n")
    return path


class Venue:
    """The loopback venue process and its admin endpoints."""

    def __init__(self, root: Path, keys: KeyPair, faults: dict[str, Any]) -> None:
        public = root / "venue.pub.pem"
        public.write_bytes(keys.public_pem)
        argv = [
            sys.executable, "-m", "trading_sim.venue", "--port", "0",
            "--product", "BTC-USD", "--data", str(_tape(root / "btc.csv.gz")),
            "--bar-seconds", str(BAR_S), "--public-key", str(public),
            "--key-name", KEY_NAME, "--balance", "USD=100000", "--faults", json.dumps(faults),
        ]  # fmt: skip
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], 20)
        line = self.proc.stdout.readline() if ready else ""
        match = READY.fullmatch(line.strip())
        assert match, f"venue did not start: {line!r}"
        self.rest_url, self.market_ws_url, self.user_ws_url = match.groups()

    def faults(self, **knobs: Any) -> None:
        reply = httpx.post(f"{self.rest_url}/__sim/faults", json=knobs, timeout=5)
        reply.raise_for_status()

    def state(self) -> dict[str, Any]:
        reply = httpx.get(f"{self.rest_url}/__sim/state", timeout=5)
        reply.raise_for_status()
        state: dict[str, Any] = reply.json()
        return state

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@contextmanager
def venue(root: Path, keys: KeyPair, **faults: Any) -> Iterator[Venue]:
    running = Venue(root, keys, faults)
    try:
        yield running
    finally:
        running.stop()


def _key_file(root: Path, keys: KeyPair) -> Path:
    directory = root / "keys"
    directory.mkdir(mode=0o700)
    directory.chmod(0o700)
    path = directory / "cdp_api_key.json"
    path.write_text(json.dumps({"name": KEY_NAME, "privateKey": keys.private_pem}))
    path.chmod(0o600)
    return path


def _gate(root: Path, config: Path, where: Venue) -> GateProcess:
    return GateProcess(root, config=config).start(
        "--exchange", "coinbase", "--venue-url", where.rest_url,
        "--venue-ws-url", where.market_ws_url, "--venue-user-ws-url", where.user_ws_url,
    )  # fmt: skip


def _rows(gate: GateProcess) -> list[tuple[int, str, dict[str, Any]]]:
    uri = f"file:{gate.data / 'gate.db'}?mode=ro"
    with sqlite3.connect(uri, uri=True) as conn:
        rows = conn.execute("SELECT seq, event_type, payload FROM audit ORDER BY seq").fetchall()
    conn.close()
    return [(seq, kind, msgspec.json.decode(payload)) for seq, kind, payload in rows]


def _fill_rows(gate: GateProcess, coid: str) -> list[int]:
    return [
        seq
        for seq, kind, payload in _rows(gate)
        if kind == "order.fill" and payload["fill"]["client_order_id"] == coid
    ]


def _until_event(agent: AgentClient, kind: type[Any], coid: str) -> Any:
    def seen() -> Any:
        return next(
            (e for e in agent.events if isinstance(e, kind) and e.client_order_id == coid), None
        )

    deadline = time.monotonic() + 10
    while (found := seen()) is None:
        assert time.monotonic() < deadline, f"no {kind.__name__} for {coid}"
        # A heartbeat reply comes at least every 0.5 s, so this read never blocks long.
        agent.events.append(agent.read())
    return found


def _place(agent: AgentClient, name: str, price: str) -> str:
    decision = agent.place(name, size=D("0.001"), limit_price=D(price))
    assert isinstance(decision.verdict, c.Accepted), decision
    return decision.verdict.client_order_ids[0]


def test_gate_on_coinbase_when_orders_placed_then_filled_and_a_restart_reconciles_first(
    tmp_path: Path,
) -> None:
    """An order is acknowledged and filled over the real protocol; a gate killed with one
    bid resting and one about to fill comes back, adopts the open one and journals the
    missed fill exactly once, all before it serves; the key shows in no artefact."""
    keys = new_key_pair()
    config = write_config(tmp_path / "safety.yaml", **TEST_LIMITS, keys={
        "key_file": str(_key_file(tmp_path, keys))
    })  # fmt: skip
    with venue(tmp_path, keys) as where:
        gate = _gate(tmp_path, config, where)
        try:
            agent = AgentClient(gate.agent_socket)
            taken = _place(agent, "take-now", "50050.00")
            ack = _until_event(agent, c.OrderUpdate, taken)
            fill = _until_event(agent, c.Fill, taken)
            resting = _place(agent, "rest-far", "48600.00")
            gate.wait_for(lambda: len(gate.audit_rows("order.venue_ack")) == 2)
            where.faults(stale=True)  # from here the tape waits for the test
            missed = _place(agent, "fill-while-down", "49500.00")
            gate.wait_for(lambda: len(gate.audit_rows("order.venue_ack")) == 3)
            assert gate.proc is not None
            gate.proc.kill()  # no shutdown: the orders stay at the venue
            gate.proc.wait()
            agent.close()
        finally:
            gate.stop()
        time.sleep((DIP_EVERY + 1) * BAR_S)  # a dip is now due on the schedule
        where.faults(stale=False)
        gate.wait_for(lambda: where.state()["fills"] == 2)

        again = _gate(tmp_path, config, where)
        try:
            rows = _rows(again)  # as of the ready line: reconciled, not yet serving
            status = again.status()
        finally:
            again.stop()

    assert ack.venue_order_id
    assert (fill.size, fill.liquidity) == (D("0.001"), c.Liquidity.TAKER)
    restart = max(seq for seq, kind, _ in rows if kind == "reconcile.done")
    [missed_fill] = _fill_rows(again, missed)
    assert missed_fill < restart
    assert len(_fill_rows(again, taken)) == 1
    assert [p["problems"] for _, kind, p in rows if kind == "reconcile.done"] == [[], []]
    assert (status.state, status.open_orders) == (c.TradingState.ACTIVE, 1)
    adopted = [p for _, kind, p in rows if p.get("order", {}).get("client_order_id") == resting]
    assert adopted[-1]["order"]["status"] == "open"
    secrets = [line for line in keys.private_pem.splitlines() if not line.startswith("-----")]
    # The key file aside, and the venue's public key, which shares its last lines.
    artefacts = [
        p
        for p in tmp_path.rglob("*")
        if p.is_file() and p.parent.name != "keys" and not p.name.endswith(".pub.pem")
    ]
    assert {"gate.db", "gate.stderr", "gate.stdout"} <= {p.name for p in artefacts}
    for path in artefacts:
        data = path.read_bytes()
        for secret in [*secrets, "eyJ"]:
            assert secret.encode() not in data, (path, secret)


def test_gate_on_coinbase_when_the_key_may_transfer_then_it_refuses_to_start(
    tmp_path: Path,
) -> None:
    """The key-scope self-check runs before anything is served: exit 1, the reason, and
    no sockets; the key itself is not in the message."""
    keys = new_key_pair()
    config = write_config(tmp_path / "safety.yaml", keys={
        "key_file": str(_key_file(tmp_path, keys))
    })  # fmt: skip
    with venue(tmp_path, keys, can_transfer=True) as where:
        try:
            _gate(tmp_path, config, where)
        except AssertionError as refused:
            reason = str(refused)
        else:  # pragma: no cover - the gate must not start
            raise AssertionError("the gate started with a key that may transfer funds")

    assert "may transfer funds" in reason
    assert not (tmp_path / "data" / "run" / "agent.sock").exists()
    body = keys.private_pem.splitlines()[1]
    assert body not in reason
