"""A short socket directory per test: sun_path allows 107 bytes, pytest's tmp_path is long."""

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def sock_dir() -> Iterator[Path]:
    """A path under /tmp for the servers to create (mode 0700); removed afterwards."""
    parent = Path(tempfile.mkdtemp(dir="/tmp", prefix="ipc-"))
    yield parent / "run"
    shutil.rmtree(parent)
