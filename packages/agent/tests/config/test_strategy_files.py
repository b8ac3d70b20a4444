"""The shipped config/strategies files load; the directory loader names every bad file."""

from decimal import Decimal
from pathlib import Path

import pytest

from trading_agent.config import PARAMETERS, StrategyConfigError
from trading_agent.config_files import MAX_STRATEGY_FILE_BYTES, load_strategy_dir

SHIPPED = Path(__file__).resolve().parents[4] / "config" / "strategies"


def test_load_strategy_dir_when_shipped_files_then_every_strategy_loads() -> None:
    """Each declared strategy ships a file that passes strict loading."""
    loaded = load_strategy_dir(SHIPPED)

    assert set(loaded) == set(PARAMETERS)


def test_shipped_sma_cross_when_loaded_then_the_reference_20_50_fixed_size() -> None:
    """The reference is SMA 20/50, pinned by its bounds, with a fixed size."""
    params = load_strategy_dir(SHIPPED)["sma_cross"]

    assert params.values() == {"fast_bars": 20, "slow_bars": 50}
    assert all(spec.min == spec.max == spec.value for spec in params.params.values())
    assert params.sizing.fixed_size_base is not None


def test_shipped_mean_reversion_when_loaded_then_time_stop_is_two_windows() -> None:
    """MR2's default time stop is 2n (LEARNING.md section 4)."""
    values = load_strategy_dir(SHIPPED)["mean_reversion"].values()

    assert values["max_hold_bars"] == 2 * values["window_bars"]


def test_shipped_files_when_loaded_then_risk_is_conservative() -> None:
    """At most 0.5 % of equity per trade and a small notional cap while unproven."""
    for params in load_strategy_dir(SHIPPED).values():
        assert params.sizing.risk_per_trade <= Decimal("0.005")
        assert params.sizing.max_notional_usd <= 1000


def test_load_strategy_dir_when_files_refused_then_every_file_and_problem_listed(
    tmp_path: Path,
) -> None:
    """Two bad files: both named, each problem prefixed by its file."""
    good = (SHIPPED / "momentum.yaml").read_text(encoding="utf-8")
    (tmp_path / "momentum.yaml").write_text(good.replace("value: 20,", "value: 99,"), "utf-8")
    (tmp_path / "sma_cross.yaml").write_text("strategy: sma_cross\n", "utf-8")

    with pytest.raises(StrategyConfigError) as caught:
        load_strategy_dir(tmp_path)

    assert caught.value.problems == (
        "momentum.yaml: params.entry_bars.value: 99 is above max 60",
        "sma_cross.yaml: params: missing",
        "sma_cross.yaml: sizing: missing",
    )


def test_load_strategy_dir_when_file_named_for_another_strategy_then_refused(
    tmp_path: Path,
) -> None:
    """A file holds the strategy it is named after, so two files cannot claim one."""
    (tmp_path / "breakout.yaml").write_bytes((SHIPPED / "momentum.yaml").read_bytes())

    with pytest.raises(StrategyConfigError, match=r"must be in its own file, momentum\.yaml"):
        load_strategy_dir(tmp_path)


def test_load_strategy_dir_when_file_too_large_or_not_utf8_then_refused(tmp_path: Path) -> None:
    """Oversized and undecodable files are refused by name, not read into memory or crashed on."""
    (tmp_path / "momentum.yaml").write_bytes(b"#" * (MAX_STRATEGY_FILE_BYTES + 1))
    (tmp_path / "sma_cross.yaml").write_bytes(b"strategy: \xff\n")

    with pytest.raises(StrategyConfigError) as caught:
        load_strategy_dir(tmp_path)

    first, second = caught.value.problems
    assert first.startswith("momentum.yaml: larger than")
    assert second.startswith("sma_cross.yaml: cannot read")


def test_load_strategy_dir_when_not_a_directory_then_refused(tmp_path: Path) -> None:
    """A missing directory is an error, not an empty set of strategies."""
    with pytest.raises(StrategyConfigError, match="not a directory"):
        load_strategy_dir(tmp_path / "nope")


def test_load_strategy_dir_when_empty_then_no_strategies(tmp_path: Path) -> None:
    """An empty directory configures nothing (the engine decides whether that is fine)."""
    assert load_strategy_dir(tmp_path) == {}
