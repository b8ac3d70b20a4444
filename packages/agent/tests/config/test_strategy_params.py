"""Strategy parameter files: strict YAML, bounded values, every problem at once."""

import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trading_agent.config import (
    PARAMETERS,
    ParamKind,
    ParamSpec,
    StrategyConfigError,
    StrategyParams,
    parse_strategy_params,
    with_values,
)

SOURCE = "mean_reversion.yaml"
PARAM_LINES = {
    "window_bars": "{value: 60, min: 20, max: 120}",
    "entry_z": "{value: 2.0, min: 1.0, max: 3.5}",
    "exit_z": "{value: 0.0, min: -1.0, max: 1.0}",
    "atr_bars": "{value: 14, min: 5, max: 50}",
    "stop_atr": "{value: 3.0, min: 1.5, max: 6.0}",
    "max_hold_bars": "{value: 120, min: 20, max: 240}",
}
SIZING_LINES = {
    "risk_per_trade": "0.0025",
    "target_vol": "0.01",
    "m_min": "0.25",
    "max_notional_usd": "250",
}


def text(
    params: dict[str, str] | None = None,
    sizing: dict[str, str] | None = None,
    strategy: str = "mean_reversion",
    extra: str = "",
) -> str:
    """A mean_reversion file, with lines replaced (or, given None as a value, removed)."""
    p = {k: v for k, v in (PARAM_LINES | (params or {})).items() if v is not None}
    s = {k: v for k, v in (SIZING_LINES | (sizing or {})).items() if v is not None}
    lines = [f"strategy: {strategy}", "params:"]
    lines += [f"  {k}: {v}" for k, v in p.items()]
    lines += ["sizing:", *(f"  {k}: {v}" for k, v in s.items())]
    return "\n".join(lines) + "\n" + extra


def problems(source_text: str) -> tuple[str, ...]:
    with pytest.raises(StrategyConfigError) as caught:
        parse_strategy_params(source_text, SOURCE)
    assert str(caught.value) == "\n".join(f"{SOURCE}: {p}" for p in caught.value.problems)
    return caught.value.problems


def valid() -> StrategyParams:
    return parse_strategy_params(text(), SOURCE)


# ---------------------------------------------------------------- the good file


def test_parse_when_valid_then_values_bounds_and_kinds_kept() -> None:
    """Values and bounds arrive as written; ints stay ints, decimals become floats."""
    params = valid()

    assert params.strategy == "mean_reversion"
    assert params.params["window_bars"] == ParamSpec(60, 20, 120)
    assert params.params["entry_z"] == ParamSpec(2.0, 1.0, 3.5)
    assert params.params["window_bars"].kind is ParamKind.INT
    assert params.params["entry_z"].kind is ParamKind.FLOAT
    assert params.int_value("window_bars") == 60
    assert params.float_value("entry_z") == 2.0
    assert params.sizing.risk_per_trade == Decimal("0.0025")
    assert params.sizing.max_notional_usd == Decimal(250)
    assert params.sizing.fixed_size_base is None


def test_parse_when_an_int_is_written_for_a_float_param_then_accepted_as_float() -> None:
    """`stop_atr: 3` means 3.0."""
    params = parse_strategy_params(text({"stop_atr": "{value: 3, min: 2, max: 6}"}), SOURCE)

    assert params.params["stop_atr"] == ParamSpec(3.0, 2.0, 6.0)
    assert isinstance(params.params["stop_atr"].value, float)


def test_params_when_validated_then_read_only() -> None:
    """Nobody edits a validated file in place; Loop 2 goes through with_values."""
    params = valid()

    with pytest.raises(TypeError):
        params.params["entry_z"] = ParamSpec(3.0, 1.0, 3.5)  # type: ignore[index]


def test_typed_accessors_when_kind_differs_then_refused() -> None:
    """Reading an int parameter as a float is a builder bug."""
    with pytest.raises(TypeError, match="window_bars is int, not float"):
        valid().float_value("window_bars")


# ---------------------------------------------------------------- each error path


def test_parse_when_value_above_max_then_the_example_message() -> None:
    """The message names file, path, value and bound."""
    found = problems(text({"entry_z": "{value: 4.0, min: 1.0, max: 3.5}"}))

    assert found == ("params.entry_z.value: 4.0 is above max 3.5",)


def test_parse_when_value_below_min_then_refused() -> None:
    """Below the lower bound is refused the same way."""
    found = problems(text({"window_bars": "{value: 10, min: 20, max: 120}"}))

    assert found == ("params.window_bars.value: 10 is below min 20",)


def test_parse_when_min_above_max_then_refused() -> None:
    """Inverted bounds are refused."""
    found = problems(text({"atr_bars": "{value: 14, min: 50, max: 5}"}))

    assert found == ("params.atr_bars.min: 50 is above max 5",)


def test_parse_when_unknown_keys_then_each_refused() -> None:
    """Unknown keys at every level are refused, by path."""
    found = problems(
        text(
            {"entry_z": "{value: 2.0, min: 1.0, max: 3.5, step: 0.1}", "entry_zz": "{value: 1}"},
            {"leverage": "3"},
            extra="notes: hello\n",
        )
    )

    assert {p.split(":")[0] for p in found} == {
        "params.entry_z.step",
        "params.entry_zz",
        "sizing.leverage",
        "notes",
    }
    assert all("unknown key" in p for p in found)


def test_parse_when_param_missing_then_refused() -> None:
    """Every declared parameter must be written out; no silent defaults."""
    found = problems(text({"max_hold_bars": None}))  # type: ignore[dict-item]

    assert found == ("params.max_hold_bars: missing",)


def test_parse_when_bound_missing_then_refused() -> None:
    """A parameter without its bounds is refused: Loop 2 needs them."""
    found = problems(text({"entry_z": "{value: 2.0, min: 1.0}"}))

    assert found == ("params.entry_z.max: missing",)


def test_parse_when_duplicate_key_then_refused_with_first_line() -> None:
    """YAML would keep the last of two equal keys; we refuse and say where the first is."""
    found = problems(text(extra="strategy: momentum\n"))

    assert found == ("strategy: duplicate key, first set at line 1; remove one",)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("'60'", "expected a number, got the text '60'"),
        ("60.5", "expected a whole number, got 60.5"),
        ("60.0", "expected a whole number, got 60.0"),
        ("true", "expected a number, got true"),
        ("null", "expected a number, got null"),
        ("[60]", "expected a number, got a list"),
    ],
)
def test_parse_when_int_param_has_wrong_type_then_refused(written: str, expected: str) -> None:
    """A window is a whole number of bars: text, fractions, flags and lists are refused."""
    found = problems(text({"window_bars": f"{{value: {written}, min: 20, max: 120}}"}))

    assert len(found) == 1
    assert found[0].startswith(f"params.window_bars.value: {expected}")


YAML_1_1_TRAPS = ["no", "yes", "on", "1e3", "1.0e3", "0x10", "010", "1_000", "1:30", ".inf", "+2"]


@pytest.mark.parametrize("trap", [*YAML_1_1_TRAPS, ".nan", "-.inf"])
def test_parse_when_yaml_1_1_trap_then_refused_as_not_a_number(trap: str) -> None:
    """YAML 1.1 numbers and booleans in disguise are text here, and text is no number."""
    found = problems(text({"entry_z": f"{{value: {trap}, min: 1.0, max: 3.5}}"}))

    assert found == (
        f"params.entry_z.value: expected a number, got the text {trap!r}; "
        "write plain digits such as 2, 0.5 or -1.0 (no exponents, .inf/.nan, hex, octal, "
        "_ separators or + signs; at most 18 digits each side of the point)",
    )


def test_parse_when_bool_param_given_a_number_then_refused() -> None:
    """A flag is true or false, not 1 (nor `yes`)."""
    momentum = "\n".join(
        [
            "strategy: momentum",
            "params:",
            "  entry_bars: {value: 20, min: 10, max: 60}",
            "  exit_bars: {value: 10, min: 5, max: 30}",
            "  atr_bars: {value: 14, min: 5, max: 50}",
            "  stop_atr: {value: 3.0, min: 1.5, max: 6.0}",
            "  trailing_stop: {value: 1, min: false, max: yes}",
            "sizing: {risk_per_trade: 0.0025, target_vol: 0.01, m_min: 0.25, max_notional_usd: 9}",
        ]
    )

    found = problems(momentum)

    assert found == (
        "params.trailing_stop.value: expected true or false, got the number 1",
        "params.trailing_stop.max: expected true or false, got the text 'yes'",
    )


def test_parse_when_unknown_strategy_then_refused_with_known_names() -> None:
    """An unknown strategy is named, with the ones that exist."""
    found = problems(text(strategy="martingale"))

    assert found == (
        "strategy: unknown strategy the text 'martingale'; known: " + ", ".join(PARAMETERS),
    )


@pytest.mark.parametrize(
    ("sizing", "expected"),
    [
        ({"risk_per_trade": "0"}, "sizing.risk_per_trade: 0 must be above 0"),
        ({"risk_per_trade": "0.2"}, "sizing.risk_per_trade: 0.2 is above the most allowed, 0.1"),
        ({"m_min": "1.5"}, "sizing.m_min: 1.5 is above the most allowed, 1"),
        ({"max_notional_usd": "-5"}, "sizing.max_notional_usd: -5 must be above 0"),
        ({"target_vol": "1e-2"}, "sizing.target_vol: expected a number, got the text '1e-2'"),
        ({"m_min": None}, "sizing.m_min: missing"),
        ({"fixed_size_base": "0"}, "sizing.fixed_size_base: 0 must be above 0"),
    ],
)
def test_parse_when_sizing_wrong_then_refused(sizing: dict[str, str], expected: str) -> None:
    """Sizing values are positive numbers, risk per trade at most 10 %, m_min at most 1."""
    found = problems(text(sizing=sizing))

    assert len(found) == 1
    assert found[0].startswith(expected)


def test_parse_when_fixed_size_given_then_kept_exact() -> None:
    """The reference strategy's fixed size arrives as an exact Decimal."""
    params = parse_strategy_params(text(sizing={"fixed_size_base": "0.001"}), SOURCE)

    assert params.sizing.fixed_size_base == Decimal("0.001")


@pytest.mark.parametrize(
    ("source_text", "expected"),
    [
        ("", "<document>: must be a mapping, got null"),
        ("- 1\n- 2\n", "<document>: must be a mapping, got a list"),
        ("strategy: [\n", "not valid YAML"),
        ("a: &x 1\nb: *x\n", "b: aliases are not allowed"),
        ("strategy: !!str mean_reversion\nx: !!float 1\n", "x: '1' with tag"),
        ("? [a]\n: 1\n", "<document>: line 1: keys must be plain text"),
    ],
)
def test_parse_when_not_a_plain_mapping_then_refused(source_text: str, expected: str) -> None:
    """Empty files, lists, broken YAML, aliases, tags and complex keys are refused."""
    found = problems(source_text)

    assert any(p.startswith(expected) for p in found), found


def test_parse_when_many_mistakes_then_every_one_listed() -> None:
    """Five mistakes in one file are five problems in one error."""
    found = problems(
        text(
            {
                "entry_z": "{value: 4.0, min: 1.0, max: 3.5}",
                "window_bars": "{value: 1e3, min: 20, max: 120}",
                "atr_bars": "{value: 14, min: 50, max: 5}",
                "max_hold_bars": None,  # type: ignore[dict-item]
            },
            {"m_min": "2"},
        )
    )

    assert len(found) == 5


@pytest.mark.parametrize(
    ("strategy_text", "expected"),
    [
        (
            text(
                {
                    "exit_z": "{value: -1.0, min: -1.0, max: 1.0}",
                    "entry_z": "{value: 1.0, min: 1.0, max: 3.5}",
                }
            ),
            "params.exit_z: must be above -entry_z",
        ),
        (
            "strategy: sma_cross\nparams:\n  fast_bars: {value: 50, min: 5, max: 60}\n"
            "  slow_bars: {value: 50, min: 20, max: 200}\n"
            "sizing: {risk_per_trade: 0.01, target_vol: 0.01, m_min: 0.25, max_notional_usd: 1}\n",
            "params.fast_bars: must be below params.slow_bars",
        ),
    ],
)
def test_parse_when_cross_field_relation_broken_then_refused(
    strategy_text: str, expected: str
) -> None:
    """Relations between parameters are checked too: fast < slow, exit_z > -entry_z."""
    (found,) = problems(strategy_text)

    assert found.startswith(expected)


def test_param_spec_when_built_out_of_bounds_then_refused() -> None:
    """A ParamSpec can never hold a value outside its bounds, nor mixed kinds."""
    with pytest.raises(ValueError, match="above max"):
        ParamSpec(5, 1, 4)
    with pytest.raises(ValueError, match="one kind"):
        ParamSpec(2, 1.0, 3)
    with pytest.raises(ValueError, match="not a finite number"):
        ParamSpec(math.nan, 1.0, 3.0)


# ---------------------------------------------------------------- hypothesis: bounds


@given(
    low=st.integers(-1000, 1000),
    width=st.integers(0, 1000),
    value=st.integers(-3000, 3000),
)
def test_parse_when_any_int_value_then_accepted_iff_within_bounds(
    low: int, width: int, value: int
) -> None:
    """A written int value loads exactly when min <= value <= max."""
    high = low + width
    spec = f"{{value: {value}, min: {low}, max: {high}}}"
    source_text = text({"max_hold_bars": spec, "window_bars": spec, "atr_bars": spec})

    if low <= value <= high:
        params = parse_strategy_params(source_text, SOURCE)
        assert params.params["window_bars"] == ParamSpec(value, low, high)
    else:
        with pytest.raises(StrategyConfigError) as caught:
            parse_strategy_params(source_text, SOURCE)
        assert len(caught.value.problems) == 3  # one per parameter, none lost


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@given(value=st.one_of(finite, st.sampled_from([math.inf, -math.inf, math.nan])))
def test_with_values_when_any_float_then_accepted_iff_finite_and_within_bounds(
    value: float,
) -> None:
    """Loop 2's changes: in bounds accepted as given, anything else refused, nothing changed."""
    params = valid()

    if 1.0 <= value <= 3.5:
        changed = with_values(params, {"entry_z": value})
        assert changed.params["entry_z"] == ParamSpec(value, 1.0, 3.5)
        assert changed.values() == params.values() | {"entry_z": value}
    else:
        with pytest.raises(StrategyConfigError, match=r"params\.entry_z\.value"):
            with_values(params, {"entry_z": value})
    assert params.params["entry_z"].value == 2.0


@given(value=st.integers(-500, 500))
def test_with_values_when_any_int_then_accepted_iff_within_bounds(value: int) -> None:
    """An int parameter takes in-bounds whole numbers only."""
    params = valid()

    if 20 <= value <= 120:
        assert with_values(params, {"window_bars": value}).int_value("window_bars") == value
    else:
        with pytest.raises(StrategyConfigError, match="window_bars"):
            with_values(params, {"window_bars": value})


def test_with_values_when_kind_name_or_relation_wrong_then_every_problem_listed() -> None:
    """A float for an int, an unknown name and a NaN are refused together."""
    with pytest.raises(StrategyConfigError) as caught:
        with_values(valid(), {"window_bars": 60.0, "lookback": 3, "stop_atr": math.nan})

    assert caught.value.problems == (
        "params.window_bars.value: 60.0 is not int",
        "params.lookback: unknown parameter of mean_reversion",
        "params.stop_atr.value: nan is not a finite number",
    )


def test_with_values_when_relation_broken_then_refused() -> None:
    """Each value in bounds, together meaningless: refused."""
    params = with_values(valid(), {"entry_z": 1.0})

    with pytest.raises(StrategyConfigError, match="exit_z: must be above -entry_z"):
        with_values(params, {"exit_z": -1.0})


def test_with_values_when_int_for_float_then_float() -> None:
    """An int change to a float parameter arrives as a float."""
    changed = with_values(valid(), {"entry_z": 3})

    assert changed.params["entry_z"] == ParamSpec(3.0, 1.0, 3.5)
    assert isinstance(changed.params["entry_z"].value, float)
