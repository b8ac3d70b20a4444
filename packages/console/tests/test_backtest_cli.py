"""`te backtest` as a person or a script runs it: a real subprocess, real files."""

import json
import os
import subprocess
import sys
from pathlib import Path

TE = Path(sys.executable).parent / "te"
REPO = Path(__file__).resolve().parents[3]


def te(*args: object, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TE, *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200"},
        timeout=120,
    )


def test_backtest_when_json_then_metrics_and_run_figures_and_a_run_folder(tmp_path: Path) -> None:
    """--json prints one JSON object with the metrics and the run's own figures."""
    out = tmp_path / "run"
    done = te("backtest", "--strategy", "mean_reversion", "--product", "BTC-USD", "--out", out,
              "--json")  # fmt: skip

    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    for key in ("trade_count", "final_equity", "bars_processed", "elapsed_s", "sharpe"):
        assert key in summary
    assert summary["bars_processed"] == 1344  # the bundled two weeks of 15-minute bars
    with (out / "trades.csv").open() as trades:
        assert sum(1 for _ in trades) - 1 == summary["trade_count"]
    assert json.loads((out / "metrics.json").read_text()) == summary
    for name in ("gate.db", "agent.db", "report.html", "equity.png", "equity.csv"):
        assert (out / name).is_file(), name


def test_backtest_when_table_then_readable_figures_and_the_report_path(tmp_path: Path) -> None:
    """Without --json: a table for people, dates as dates, and where the report is."""
    out = tmp_path / "run"
    done = te("backtest", "--strategy", "sma_cross", "--product", "ETH-USD", "--out", out)

    assert done.returncode == 0, done.stderr
    assert "final equity" in done.stdout
    assert "UTC" in done.stdout
    assert f"report: {out / 'report.html'}" in done.stdout


def test_backtest_when_data_count_mismatches_products_then_usage_error(tmp_path: Path) -> None:
    """One --data per --product, or a usage error (exit 2) that says so."""
    csv = tmp_path / "x.csv"
    csv.write_text("ts,open,high,low,close,volume\n")
    done = te("backtest", "--strategy", "sma_cross", "--product", "BTC-USD",
              "--product", "ETH-USD", "--data", csv)  # fmt: skip

    assert done.returncode == 2
    assert "one per product" in done.stderr


def test_backtest_when_strategy_unknown_then_error_lists_known_ones(tmp_path: Path) -> None:
    """An unknown strategy exits 1 with the strategies that exist."""
    done = te("backtest", "--strategy", "carry", "--product", "BTC-USD", "--out", tmp_path / "r")

    assert done.returncode == 1
    assert "carry" in done.stderr
    assert "mean_reversion" in done.stderr


def test_backtest_when_data_file_is_malformed_then_error_names_file_and_line(
    tmp_path: Path,
) -> None:
    """A bad row in a candle file: exit 1 and the file and line in the message."""
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "ts,open,high,low,close,volume\n1699999980,1,2,0.5,1.5,10\n1700000040,x,2,1,1,1\n"
    )
    done = te("backtest", "--strategy", "sma_cross", "--product", "BTC-USD", "--data", bad,
              "--out", tmp_path / "r")  # fmt: skip

    assert done.returncode == 1
    assert "bad.csv" in done.stderr
    assert ":3" in done.stderr
