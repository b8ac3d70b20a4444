"""Loading safety.yaml: the shipped file, messages, hashes, files, and hot reload."""

import hashlib
from decimal import Decimal
from pathlib import Path

import pytest

from trading_contract import ProductId
from trading_gate.config import (
    ConfigError,
    ConfigProblem,
    ConfigUnreadable,
    LoadedConfig,
    Reloaded,
    ReloadRefused,
    load_config,
    parse_config,
    reload_config,
    settings_table,
)

SHIPPED = Path(__file__).resolve().parents[4] / "config" / "safety.yaml"
SHIPPED_TEXT = SHIPPED.read_text(encoding="utf-8")


def shipped_with(*edits: tuple[str, str]) -> str:
    """The shipped file's text with each (old, new) edit applied exactly once."""
    text = SHIPPED_TEXT
    for old, new in edits:
        assert text.count(old) >= 1, old
        text = text.replace(old, new, 1)
    return text


def refusal(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as refused:
        parse_config(text.encode(), "test")
    return refused.value


def line_of(fragment: str, text: str = SHIPPED_TEXT) -> int:
    return text[: text.index(fragment)].count("\n") + 1


# ---------------------------------------------------------------- the shipped file


def test_load_config_when_shipped_file_then_three_conservative_products() -> None:
    """config/safety.yaml loads, allows BTC, ETH and SOL, and caps orders at 100 USD."""
    loaded = load_config(SHIPPED)

    config = loaded.config
    assert list(config.products) == ["BTC-USD", "ETH-USD", "SOL-USD"]
    assert all(p.max_order_notional_usd == Decimal(100) for p in config.products.values())
    assert config.account.max_order_notional_usd == Decimal("100.00")
    assert config.on_halt.cancel_all is True
    assert config.on_halt.flatten is False


def test_load_config_when_shipped_file_then_hash_of_its_bytes_and_source() -> None:
    """The recorded hash is the SHA-256 of the file's bytes, and the source is its path."""
    loaded = load_config(SHIPPED)

    assert loaded.sha256 == hashlib.sha256(SHIPPED.read_bytes()).hexdigest()
    assert loaded.source == str(SHIPPED)


def test_parse_config_when_only_a_comment_changes_then_same_config_new_hash() -> None:
    """The hash identifies the file exactly, even when the limits are unchanged."""
    before = parse_config(SHIPPED_TEXT.encode(), "a")

    after = parse_config((SHIPPED_TEXT + "# reviewed\n").encode(), "b")

    assert after.config == before.config
    assert after.sha256 != before.sha256


def test_parse_config_when_money_plain_or_quoted_then_same_decimal() -> None:
    """100, 100.00 and "100.00" all load as the Decimal 100, never a float."""
    for written in ("100", "100.00", '"100.00"'):
        text = shipped_with(
            ('max_order_notional_usd: "100.00"', f"max_order_notional_usd: {written}")
        )

        value = parse_config(text.encode(), written).config.products[ProductId("BTC-USD")]

        assert value.max_order_notional_usd == Decimal(100)
        assert type(value.max_order_notional_usd) is Decimal


def test_gate_config_when_assigned_then_frozen() -> None:
    """A loaded config cannot be changed in place."""
    config = load_config(SHIPPED).config

    with pytest.raises(AttributeError):
        config.dead_man = config.dead_man  # type: ignore[misc]


def test_settings_table_when_shipped_then_every_setting_once_as_written() -> None:
    """The table lists each setting once, with its value as written in the file."""
    rows = dict(settings_table(load_config(SHIPPED).config))

    assert len(rows) == len(settings_table(load_config(SHIPPED).config))
    assert rows["products.BTC-USD.max_order_size_base"] == "0.002"
    assert rows["account.max_drawdown_pct"] == "5.0"
    assert rows["on_halt.cancel_all"] == "true"
    assert rows["keys.key_file"] == "/etc/trading-gate/coinbase-key.json"


def test_settings_table_when_tiny_decimal_then_plain_digits_not_exponent() -> None:
    """A lot size of 0.00000001 is shown as written, never as the refused 1E-8."""
    text = shipped_with(('max_order_size_base: "0.002"', 'max_order_size_base: "0.00000001"'))

    rows = dict(settings_table(parse_config(text.encode(), "tiny").config))

    assert rows["products.BTC-USD.max_order_size_base"] == "0.00000001"


# ---------------------------------------------------------------- every problem at once


def test_parse_config_when_five_independent_problems_then_all_five_listed() -> None:
    """A file with five mistakes in five sections reports five problems, in file order."""
    text = shipped_with(
        ('max_order_size_base: "0.002"', "max_order_size_base: 0"),
        ("max_open_orders: 6", "max_open_orders: yes"),
        ("max_age_ms: 2000", "max_age_ms: 1e3"),
        ("heartbeat_timeout_s: 3", "heartbeat_timeout_s: 3\n  heartbeat_timeout_ms: 3000"),
        ("cancel_all: true", "cancel_all: false"),
    )

    error = refusal(text)

    assert [problem.path for problem in error.problems] == [
        "products.BTC-USD.max_order_size_base",
        "account.max_open_orders",
        "reference_price.max_age_ms",
        "dead_man.heartbeat_timeout_ms",
        "on_halt.cancel_all",
    ]
    assert str(error).splitlines() == [str(problem) for problem in error.problems]


def test_parse_config_when_problem_then_line_is_that_of_the_key() -> None:
    """Each problem names the line the offending key is written on."""
    text = shipped_with(("window_s: 60", "window_s: -60"))

    (problem,) = refusal(text).problems

    assert problem.path == "repeated_execution.window_s"
    assert problem.line == line_of("window_s: -60", text)


def test_parse_config_when_key_missing_then_problem_says_no_default() -> None:
    """A missing limit is refused as missing, never filled in."""
    text = shipped_with(('  daily_loss_limit_usd: "25.00"\n', ""))

    (problem,) = refusal(text).problems

    assert problem.path == "account.daily_loss_limit_usd"
    assert "missing" in problem.message
    assert "none has a default" in problem.message


COUNT = ("account.max_open_orders", "max_open_orders: 6")
MONEY = ("account.daily_loss_limit_usd", 'daily_loss_limit_usd: "25.00"')


@pytest.mark.parametrize(
    ("field", "written", "explained"),
    [
        (COUNT, "yes", "write true or false"),
        (COUNT, "Off", "write true or false"),
        (COUNT, "1e3", "exponent notation"),
        (MONEY, '"1e3"', "no exponent"),
        (COUNT, "1_000", "digit separators"),
        (COUNT, "0x10", "hexadecimal"),
        (COUNT, "010", "octal"),
        (COUNT, "1:30", "base-60"),
        (COUNT, ".inf", "finite"),
        (MONEY, '"NaN"', "no exponent, NaN, Infinity"),
        (MONEY, '"-25.00"', "above 0"),
        (MONEY, '"0.0000000000000000001"', "18 after it"),
        (COUNT, "2024-01-01", "dates"),
        (COUNT, "&limit 5", "anchor"),
        (COUNT, "!!int 5", "tag"),
        (COUNT, "1" * 31, "at most 30 digits"),
        (COUNT, "0", "a whole number from 1 to 1000"),
    ],
)
def test_parse_config_when_yaml_trap_then_message_says_what_to_write(
    field: tuple[str, str], written: str, explained: str
) -> None:
    """Refusals explain themselves, so the operator can fix the file in one go."""
    path, line = field
    key = line.split(":")[0]
    text = shipped_with((line, f"{key}: {written}"))

    (problem,) = refusal(text).problems

    assert problem.path == path
    assert explained in problem.message


def test_parse_config_when_duplicate_key_then_both_lines_named() -> None:
    """A duplicate key is refused at its second line, naming the first."""
    text = shipped_with(("  max_open_orders: 6\n", "  max_open_orders: 6\n  max_open_orders: 9\n"))

    (problem,) = refusal(text).problems

    first = line_of("max_open_orders: 6", text)
    assert problem.line == first + 1
    assert f"first set at line {first}" in problem.message


def test_parse_config_when_key_misspelt_then_suggests_the_real_one() -> None:
    """An unknown key next to a missing one points at the likely intended name."""
    text = shipped_with(("max_gross_exposure_usd:", "max_gros_exposure_usd:"))

    problems = {problem.path: problem.message for problem in refusal(text).problems}

    assert "did you mean max_gross_exposure_usd?" in problems["account.max_gros_exposure_usd"]
    assert "missing" in problems["account.max_gross_exposure_usd"]


def test_parse_config_when_control_characters_in_key_then_path_is_escaped() -> None:
    """File text never reaches an operator's terminal raw."""
    text = shipped_with(("  max_open_orders: 6\n", '  max_open_orders: 6\n  "evil\\e[2J": 1\n'))

    (problem,) = refusal(text).problems

    assert problem.path == "account.evil\\x1b[2J"
    assert problem.path.isprintable()


def test_config_error_when_no_problems_then_value_error() -> None:
    """A ConfigError always carries at least one problem."""
    with pytest.raises(ValueError, match="at least one problem"):
        ConfigError(())


def test_config_problem_when_str_then_path_line_and_message() -> None:
    """A problem prints as `path (line N): message`, or without a line when unknown."""
    with_line = ConfigProblem(path="account.max_open_orders", line=7, message="bad")
    without = ConfigProblem(path="<file>", line=None, message="gone")

    assert str(with_line) == "account.max_open_orders (line 7): bad"
    assert str(without) == "<file>: gone"


# ---------------------------------------------------------------- files


def test_load_config_when_file_missing_then_unreadable(tmp_path: Path) -> None:
    """A missing file is ConfigUnreadable (a ConfigError) naming the path."""
    missing = tmp_path / "safety.yaml"

    with pytest.raises(ConfigUnreadable) as refused:
        load_config(missing)

    (problem,) = refused.value.problems
    assert problem.path == "<file>"
    assert str(missing) in problem.message


def test_load_config_when_directory_then_unreadable(tmp_path: Path) -> None:
    """A directory is not a config file, and is never read."""
    with pytest.raises(ConfigUnreadable, match="not a regular file"):
        load_config(tmp_path)


def test_load_config_when_file_too_large_then_refused_unread(tmp_path: Path) -> None:
    """A file over the size cap is refused from its size alone."""
    huge = tmp_path / "safety.yaml"
    huge.write_bytes(b"#" * (300 * 1024))

    with pytest.raises(ConfigError, match="byte limit") as refused:
        load_config(huge)

    assert not isinstance(refused.value, ConfigUnreadable)


# ---------------------------------------------------------------- hot reload


@pytest.fixture
def live(tmp_path: Path) -> tuple[Path, LoadedConfig]:
    path = tmp_path / "safety.yaml"
    path.write_text(SHIPPED_TEXT, encoding="utf-8")
    return path, load_config(path)


def test_reload_config_when_bad_file_then_keeps_old_config_and_says_why(
    live: tuple[Path, LoadedConfig],
) -> None:
    """A bad reload leaves the old config in force and lists the problems."""
    path, current = live
    path.write_text(shipped_with(("max_open_orders: 6", "max_open_orders: -6")), encoding="utf-8")

    outcome = reload_config(current, path)

    assert isinstance(outcome, ReloadRefused)
    assert outcome.config is current
    assert [problem.path for problem in outcome.problems] == ["account.max_open_orders"]
    summary = outcome.summary()
    assert summary.startswith(f"kept old config (sha256 {current.sha256}) because {path}")
    assert "account.max_open_orders" in summary


def test_reload_config_when_good_file_then_new_config_and_new_hash(
    live: tuple[Path, LoadedConfig],
) -> None:
    """A valid reload switches to the new limits, under the new file's hash."""
    path, current = live
    path.write_text(shipped_with(("max_open_orders: 6", "max_open_orders: 4")), encoding="utf-8")

    outcome = reload_config(current, path)

    assert isinstance(outcome, Reloaded)
    assert outcome.config.config.account.max_open_orders == 4
    assert outcome.changed
    assert outcome.config.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert outcome.config.sha256 != current.sha256
    assert outcome.summary().startswith(f"new config (sha256 {outcome.config.sha256})")


def test_reload_config_when_file_unchanged_then_reloaded_but_not_changed(
    live: tuple[Path, LoadedConfig],
) -> None:
    """Reloading the same bytes is a no-op that says so."""
    path, current = live

    outcome = reload_config(current, path)

    assert isinstance(outcome, Reloaded)
    assert not outcome.changed
    assert outcome.summary().startswith("config unchanged")


def test_reload_config_when_file_deleted_then_keeps_old_config(
    live: tuple[Path, LoadedConfig],
) -> None:
    """A reload never raises: a missing file keeps the old config too."""
    path, current = live
    path.unlink()

    outcome = reload_config(current, path)

    assert isinstance(outcome, ReloadRefused)
    assert outcome.config is current
    assert "cannot read" in outcome.summary()


def test_reload_config_when_key_file_changes_then_refused(
    live: tuple[Path, LoadedConfig],
) -> None:
    """The key is read once at start, so a reload may not point elsewhere."""
    path, current = live
    moved = shipped_with(("/etc/trading-gate/coinbase-key.json", "/etc/trading-gate/other.json"))
    path.write_text(moved, encoding="utf-8")

    outcome = reload_config(current, path)

    assert isinstance(outcome, ReloadRefused)
    assert [problem.path for problem in outcome.problems] == ["keys.key_file"]
    assert "restart" in outcome.summary()
