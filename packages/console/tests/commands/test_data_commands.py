"""`te data fetch` against the loopback venue as a real process, and `te data import`."""

import os
import select
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow.parquet as pq

import trading_sim as sim
from trading_agent.marketdata.replay import read_candle_parquet
from trading_sim.venue.testing import new_key_pair

TE = Path(sys.executable).parent / "te"
SHARED = Path(__file__).resolve().parents[5] / "shared" / "data"
MINUTES = SHARED / "coinbase" / "BTC-USD_1m_20201122-20201212.csv.gz"
HISTORY = 3_200  # bars the venue has already traded: the range below lies inside them


@contextmanager
def venue(tmp_path: Path) -> Iterator[str]:
    key = tmp_path / "venue.pub.pem"
    key.write_bytes(new_key_pair().public_pem)
    argv = [sys.executable, "-m", "trading_sim.venue", "--port", "0", "--product", "BTC-USD",
            "--data", str(MINUTES), "--bar-seconds", "3600", "--history-bars", str(HISTORY),
            "--public-key", str(key)]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 20)
        line = proc.stdout.readline() if ready else ""
        assert "ready" in line, line
        yield line.split()[3]  # http://127.0.0.1:PORT
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def te(*args: object, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TE, *map(str, args)], capture_output=True, text=True, check=False, cwd=cwd,
        env={**os.environ, "COLUMNS": "200"}, timeout=120,
    )  # fmt: skip


def test_fetch_when_range_spans_a_gap_then_exact_candles_a_gap_report_and_a_resume(
    tmp_path: Path,
) -> None:
    """Paged REST fetch into Parquet: the recorded candles exactly, the file's one gap
    (2020-11-24 21:09) reported, and a second run fetching nothing new."""
    out = tmp_path / "btc.parquet"
    args = ("data", "fetch", "--product", "BTC-USD", "--granularity", "1m",
            "--start", "2020-11-24T12:00", "--end", "2020-11-25T00:00", "--out", out)  # fmt: skip
    with venue(tmp_path) as url:
        first = te(*args, "--venue-url", url, cwd=tmp_path)
        second = te(*args, "--venue-url", url, cwd=tmp_path)

    assert first.returncode == 0, first.stderr
    got = read_candle_parquet(out, "BTC-USD")
    start, end = 1606219200 * 10**9, 1606262400 * 10**9
    recorded = [b for b in sim.read_bars(MINUTES, "BTC-USD") if start <= b.open_ns < end]
    assert [(c.start_ns, c.open, c.high, c.low, c.close, c.volume) for c in got] == [
        (b.open_ns, b.open, b.high, b.low, b.close, b.volume) for b in recorded
    ]
    assert len(got) == 719  # 12 hours of minutes, one missing
    assert "1 gaps (1 buckets missing)" in first.stdout
    assert "2020-11-24 21:09" in first.stdout
    assert "requests" in first.stdout
    assert second.returncode == 0, second.stderr
    assert "fetched 0 new candles" in second.stdout
    assert "resumed after" in second.stdout
    assert pq.read_table(out).num_rows == 719


def test_fetch_when_venue_unreachable_then_error_and_exit_1(tmp_path: Path) -> None:
    """No venue listening: a clear error, exit 1."""
    done = te("data", "fetch", "--product", "BTC-USD", "--start", "2020-11-24",
              "--end", "2020-11-25", "--venue-url", "http://127.0.0.1:9", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 1
    assert "Error" in done.stderr


def test_import_when_shared_csv_then_parquet_and_its_gap(tmp_path: Path) -> None:
    """The shared CSV into Parquet, every row, and the gap the data README names."""
    done = te("data", "import", "--product", "BTC-USD", MINUTES, cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    out = tmp_path / "data" / "history" / "BTC-USD_1m_20201122-20201212.parquet"
    assert pq.read_table(out).num_rows == 27_950
    assert "27950 candles, 1 gaps" in done.stdout
