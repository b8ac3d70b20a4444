"""Fixtures for the operator commands: `te` as a real subprocess, and real gate data."""

import shutil
from pathlib import Path

import pytest

from gate_process import AgentClient, running_gate
from operator_stubs import MARKET_BUY, RunTe, Sql, place_until_accepted, read_only_rows, run_te


@pytest.fixture
def te() -> RunTe:
    """Run `te ARGS...` (stdin not a terminal); the CompletedProcess."""
    return run_te


@pytest.fixture
def sql() -> Sql:
    """A read-only query on a database file: the tests' independent view of the data."""
    return read_only_rows


@pytest.fixture(scope="session")
def traded_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stopped gate's data directory (read it; copy it to change it): a market buy
    filled, a resting bid cancelled at stop, the agent gone (so HALTED by the dead man)."""
    root = tmp_path_factory.mktemp("traded")
    with running_gate(root) as gate:
        agent = AgentClient(gate.agent_socket)
        try:
            place_until_accepted(agent, "buy", **MARKET_BUY)
            place_until_accepted(agent, "rest")
            db = gate.data / "gate.db"
            gate.wait_for(lambda: bool(read_only_rows(db, "SELECT 1 FROM fills")), timeout_s=10)
        finally:
            agent.close()
    return root / "data"


@pytest.fixture
def traded_copy(traded_data: Path, tmp_path: Path) -> Path:
    """A private copy of `traded_data` that a test may change."""
    return Path(shutil.copytree(traded_data, tmp_path / "data"))
