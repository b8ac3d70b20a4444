"""Strategy parameter files: YAML text into frozen, bounded parameters, every problem at once.

Pure: the caller reads the file (`trading_agent.config_files`) and passes its text.
One file per strategy, `config/strategies/<name>.yaml`:

    strategy: mean_reversion
    params:                       # what Loop 2 may re-fit, each with its bounds
      window_bars: {value: 60, min: 20, max: 120}
      entry_z: {value: 2.0, min: 1.0, max: 3.5}
    sizing:                       # risk settings: a human's, never a learner's
      risk_per_trade: 0.005
      ...

Why bounds live next to each value: Loop 2 may only propose values inside them
(`with_values` refuses anything else), so widening a search is a human edit of the same
line. Sizing sits in the same file, in its own unbounded `sizing:` section, because it is
per strategy (the reference `sma_cross` trades a fixed size) but is not Loop 2's to touch.

Which parameters each strategy has, and their kinds, is declared here (`PARAMETERS`), so a
missing or unknown parameter is a load error listed with the rest, not a crash later.

The YAML reader is strict: plain scalars resolve only to `true`/`false`, null, plain
integers and plain decimals (at most 18 digits each side of the point). YAML 1.1's traps
(`no` read as false, `1e3` as text, `0x10`, `010` as octal 8, `1_000`, `1:30`, `.inf`)
therefore arrive as text and are refused where a number or flag is expected. Duplicate
keys, aliases and tags are refused.
"""

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Final

import msgspec
import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

__all__ = [
    "PARAMETERS",
    "ParamKind",
    "ParamSpec",
    "ParamValue",
    "SizingParams",
    "StrategyConfigError",
    "StrategyParams",
    "kind_of",
    "parse_strategy_params",
    "with_values",
]

ParamValue = bool | int | float


class ParamKind(StrEnum):
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"


PARAMETERS: Final[Mapping[str, Mapping[str, ParamKind]]] = MappingProxyType(
    {
        "sma_cross": MappingProxyType({"fast_bars": ParamKind.INT, "slow_bars": ParamKind.INT}),
        "mean_reversion": MappingProxyType(
            {
                "window_bars": ParamKind.INT,
                "entry_z": ParamKind.FLOAT,
                "exit_z": ParamKind.FLOAT,
                "atr_bars": ParamKind.INT,
                "stop_atr": ParamKind.FLOAT,
                "max_hold_bars": ParamKind.INT,
            }
        ),
        "momentum": MappingProxyType(
            {
                "entry_bars": ParamKind.INT,
                "exit_bars": ParamKind.INT,
                "atr_bars": ParamKind.INT,
                "stop_atr": ParamKind.FLOAT,
                "trailing_stop": ParamKind.BOOL,
            }
        ),
        "return_sign": MappingProxyType({"threshold_bps": ParamKind.INT}),
    }
)
"""Every strategy's parameters and their kinds; the registry builds from exactly these."""


class StrategyConfigError(ValueError):
    """A parameter file or change refused; `problems` lists every reason, each with its path."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__("\n".join(f"{source}: {p}" for p in problems))
        self.source = source
        self.problems = tuple(problems)


def kind_of(value: ParamValue) -> ParamKind:
    """The kind a value has (bool first: in Python a bool is also an int)."""
    if isinstance(value, bool):
        return ParamKind.BOOL
    return ParamKind.INT if isinstance(value, int) else ParamKind.FLOAT


class ParamSpec(msgspec.Struct, frozen=True):
    """One parameter's value and the bounds (inclusive) any change must stay within."""

    value: ParamValue
    min: ParamValue
    max: ParamValue

    def __post_init__(self) -> None:
        problems = _spec_problems(self.value, self.min, self.max, "spec")
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def kind(self) -> ParamKind:
        return kind_of(self.value)


def _spec_problems(value: ParamValue, low: ParamValue, high: ParamValue, path: str) -> list[str]:
    kinds = sorted({kind_of(value), kind_of(low), kind_of(high)})
    if len(kinds) != 1:
        return [f"{path}: value, min and max must be of one kind, got {', '.join(kinds)}"]
    for name, v in (("value", value), ("min", low), ("max", high)):
        if not math.isfinite(v):
            return [f"{path}.{name}: {v!r} is not a finite number"]
    if low > high:
        return [f"{path}.min: {low!r} is above max {high!r}"]
    if value < low:
        return [f"{path}.value: {value!r} is below min {low!r}"]
    if value > high:
        return [f"{path}.value: {value!r} is above max {high!r}"]
    return []


class SizingParams(msgspec.Struct, frozen=True, kw_only=True):
    """How a strategy's entries are sized (trading_agent.domain.sizing), from `sizing:`.

    `target_vol` is in the units of the realized volatility the caller passes to sizing
    (the same window and period, e.g. per-bar standard deviation of log returns).
    `fixed_size_base`, when set (it may be absent or null), sizes every entry at exactly
    that many base units (the reference strategy's rule); the cap then only bounds it.
    """

    risk_per_trade: Decimal
    target_vol: Decimal
    m_min: Decimal
    max_notional_usd: Decimal
    fixed_size_base: Decimal | None = None


@dataclass(frozen=True)
class StrategyParams:
    """A validated parameter file: the strategy, its bounded parameters and its sizing."""

    strategy: str
    params: Mapping[str, ParamSpec]
    sizing: SizingParams

    def __post_init__(self) -> None:
        # Read-only view of a private copy: nobody can edit a validated file in place.
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def values(self) -> dict[str, ParamValue]:
        return {name: spec.value for name, spec in self.params.items()}

    def int_value(self, name: str) -> int:
        value = self.params[name].value
        if kind_of(value) is not ParamKind.INT:
            raise TypeError(f"{self.strategy}.{name} is {kind_of(value)}, not int")
        return int(value)

    def float_value(self, name: str) -> float:
        value = self.params[name].value
        if kind_of(value) is not ParamKind.FLOAT:
            raise TypeError(f"{self.strategy}.{name} is {kind_of(value)}, not float")
        return float(value)

    def bool_value(self, name: str) -> bool:
        value = self.params[name].value
        if kind_of(value) is not ParamKind.BOOL:
            raise TypeError(f"{self.strategy}.{name} is {kind_of(value)}, not bool")
        return bool(value)


# ---------------------------------------------------------------- cross-field checks


def _cross_problems(strategy: str, values: Mapping[str, ParamValue]) -> list[str]:
    # Relations no single bound can express; each would make the strategy meaningless.
    if strategy == "sma_cross" and values["fast_bars"] >= values["slow_bars"]:
        return ["params.fast_bars: must be below params.slow_bars"]
    if strategy == "mean_reversion" and values["exit_z"] <= -values["entry_z"]:
        return ["params.exit_z: must be above -entry_z, or every entry would exit at once"]
    return []


# ---------------------------------------------------------------- the strict YAML reader

_INT_TAG: Final = "tag:yaml.org,2002:int"
_DECIMAL_TAG: Final = "tag:trading-agent,2025:decimal"
_BOOL_TAG: Final = "tag:yaml.org,2002:bool"
_NULL_TAG: Final = "tag:yaml.org,2002:null"
_STR_TAG: Final = "tag:yaml.org,2002:str"
_INT_RE: Final = re.compile(r"-?(?:0|[1-9][0-9]{0,17})\Z")
_DECIMAL_RE: Final = re.compile(r"-?(?:0|[1-9][0-9]{0,17})\.[0-9]{1,18}\Z")
_NUMBER_HINT: Final = (
    "write plain digits such as 2, 0.5 or -1.0 (no exponents, .inf/.nan, hex, octal, "
    "_ separators or + signs; at most 18 digits each side of the point)"
)


# In PyYAML's shape: first character (None: any) -> [(tag, pattern)], tried in order.
_RESOLVERS: Final = {
    None: [
        (_NULL_TAG, re.compile(r"(?:~|null|)\Z")),
        (_BOOL_TAG, re.compile(r"(?:true|false)\Z")),
        (_INT_TAG, _INT_RE),
        (_DECIMAL_TAG, _DECIMAL_RE),
    ]
}


class _Loader(yaml.SafeLoader):
    # Our resolvers only, none of YAML 1.1's: anything else plain is text.
    yaml_implicit_resolvers = _RESOLVERS


Plain = None | bool | int | Decimal | str | list["Plain"] | dict[str, "Plain"]


class _Walk:
    def __init__(self) -> None:
        self.problems: list[str] = []
        self.seen: set[int] = set()

    def add(self, path: str, message: str) -> None:
        self.problems.append(f"{path or '<document>'}: {message}")


def _compose(text: str, source: str) -> Node | None:
    try:
        return yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise StrategyConfigError(source, [f"not valid YAML: {exc}"]) from exc


def _plain(node: Node, path: str, walk: _Walk) -> Plain:
    if id(node) in walk.seen:
        walk.add(path, "aliases are not allowed; write the value out")
        return None
    walk.seen.add(id(node))
    if isinstance(node, MappingNode):
        return _mapping(node, path, walk)
    if isinstance(node, SequenceNode):
        return [_plain(item, f"{path}[{i}]", walk) for i, item in enumerate(node.value)]
    if isinstance(node, ScalarNode):
        return _scalar(node, path, walk)
    raise TypeError(f"unexpected YAML node {type(node).__name__}")


def _mapping(node: MappingNode, path: str, walk: _Walk) -> dict[str, Plain]:
    out: dict[str, Plain] = {}
    lines: dict[str, int] = {}
    for key_node, value_node in node.value:
        key = key_node.value if isinstance(key_node, ScalarNode) else None
        if key_node.tag != _STR_TAG or not isinstance(key, str):
            walk.add(path, f"line {key_node.start_mark.line + 1}: keys must be plain text")
            continue
        child = f"{path}.{key}" if path else key
        if key in out:
            walk.add(child, f"duplicate key, first set at line {lines[key]}; remove one")
            continue
        lines[key] = key_node.start_mark.line + 1
        out[key] = _plain(value_node, child, walk)
    return out


def _scalar(node: ScalarNode, path: str, walk: _Walk) -> Plain:
    text: str = node.value
    if node.tag == _STR_TAG:
        return text
    if node.tag == _NULL_TAG and text in ("", "~", "null"):
        return None
    if node.tag == _BOOL_TAG and text in ("true", "false"):
        return text == "true"
    if node.tag == _INT_TAG and _INT_RE.match(text):
        return int(text)
    if node.tag == _DECIMAL_TAG and _DECIMAL_RE.match(text):
        return Decimal(text)
    walk.add(path, f"{text!r} with tag {node.tag} is not allowed; write plain values")
    return None


# ---------------------------------------------------------------- the document's shape


def _describe(raw: Plain) -> str:
    if isinstance(raw, str):
        return f"the text {raw[:60]!r}"
    if isinstance(raw, list):
        return "a list"
    if isinstance(raw, dict):
        return "a mapping"
    if isinstance(raw, bool) or raw is None:
        return {True: "true", False: "false", None: "null"}[raw]
    return f"the number {raw}"


def _keys(
    raw: Plain, path: str, required: set[str], optional: set[str], walk: _Walk
) -> dict[str, Plain] | None:
    if not isinstance(raw, dict):
        walk.add(path, f"must be a mapping, got {_describe(raw)}")
        return None
    for key in sorted(raw.keys() - required - optional):
        known = ", ".join(sorted(required | optional))
        walk.add(f"{path}.{key}" if path else key, f"unknown key (known: {known})")
    for key in sorted(required - raw.keys()):
        walk.add(f"{path}.{key}" if path else key, "missing")
    return raw


def _param_value(raw: Plain, kind: ParamKind, path: str, walk: _Walk) -> ParamValue | None:
    if kind is ParamKind.BOOL:
        if isinstance(raw, bool):
            return raw
        walk.add(path, f"expected true or false, got {_describe(raw)}")
        return None
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw if kind is ParamKind.INT else float(raw)
    if isinstance(raw, Decimal) and kind is ParamKind.FLOAT:
        # At most 18 digits each side, so never infinite; the nearest float is the value.
        return float(raw)
    if isinstance(raw, Decimal):
        walk.add(path, f"expected a whole number, got {raw}")
    else:
        walk.add(path, f"expected a number, got {_describe(raw)}; {_NUMBER_HINT}")
    return None


def _param(raw: Plain, kind: ParamKind, path: str, walk: _Walk) -> ParamSpec | None:
    spec = _keys(raw, path, {"value", "min", "max"}, set(), walk)
    if spec is None:
        return None
    value, low, high = (
        _param_value(spec[k], kind, f"{path}.{k}", walk) if k in spec else None
        for k in ("value", "min", "max")
    )
    if value is None or low is None or high is None:
        return None
    problems = _spec_problems(value, low, high, path)
    walk.problems.extend(problems)
    return None if problems else ParamSpec(value, low, high)


def _params(raw: Plain, strategy: str | None, walk: _Walk) -> dict[str, ParamSpec] | None:
    kinds = PARAMETERS.get(strategy or "")
    if kinds is None:
        return None  # the strategy is already reported; its parameters are unknowable
    given = _keys(raw, "params", set(kinds), set(), walk)
    if given is None:
        return None
    specs = {n: _param(given[n], kinds[n], f"params.{n}", walk) for n in kinds if n in given}
    valid = {name: spec for name, spec in specs.items() if spec is not None}
    return valid if len(valid) == len(kinds) else None


_SIZING_REQUIRED: Final = ("risk_per_trade", "target_vol", "m_min", "max_notional_usd")
_SIZING_HIGHEST: Final = {
    # Each must be above 0; these are also capped. A per-trade risk above 10 % of equity
    # is a typo, not a setting, and m is a fraction of the approved base risk.
    "risk_per_trade": Decimal("0.1"),
    "m_min": Decimal(1),
}


def _sizing_value(raw: Plain, path: str, walk: _Walk) -> Decimal | None:
    if isinstance(raw, bool) or not isinstance(raw, int | Decimal):
        walk.add(path, f"expected a number, got {_describe(raw)}; {_NUMBER_HINT}")
        return None
    value = Decimal(raw)
    highest = _SIZING_HIGHEST.get(path.rsplit(".", 1)[-1])
    if value <= 0:
        walk.add(path, f"{value} must be above 0")
        return None
    if highest is not None and value > highest:
        walk.add(path, f"{value} is above the most allowed, {highest}")
        return None
    return value


def _sizing(raw: Plain, walk: _Walk) -> SizingParams | None:
    given = _keys(raw, "sizing", set(_SIZING_REQUIRED), {"fixed_size_base"}, walk)
    if given is None:
        return None
    required = [
        _sizing_value(given[k], f"sizing.{k}", walk) if k in given else None
        for k in _SIZING_REQUIRED
    ]
    fixed_raw = given.get("fixed_size_base")
    fixed = None if fixed_raw is None else _sizing_value(fixed_raw, "sizing.fixed_size_base", walk)
    risk, vol, m_min, cap = required
    if risk is None or vol is None or m_min is None or cap is None:
        return None
    if fixed is None and fixed_raw is not None:
        return None
    return SizingParams(
        risk_per_trade=risk,
        target_vol=vol,
        m_min=m_min,
        max_notional_usd=cap,
        fixed_size_base=fixed,
    )


def _strategy(raw: Plain, walk: _Walk) -> str | None:
    if isinstance(raw, str) and raw in PARAMETERS:
        return raw
    walk.add("strategy", f"unknown strategy {_describe(raw)}; known: {', '.join(PARAMETERS)}")
    return None


# ---------------------------------------------------------------- entry points


def parse_strategy_params(text: str, source: str) -> StrategyParams:
    """Validate one strategy parameter file's text; `source` names it in errors.

    Raises:
        StrategyConfigError: anything wrong; every problem is listed with its key path.
    """
    node = _compose(text, source)
    walk = _Walk()
    doc = _keys(None if node is None else _plain(node, "", walk), "", _TOP, set(), walk)
    if doc is None:
        raise StrategyConfigError(source, walk.problems)
    strategy = _strategy(doc["strategy"], walk) if "strategy" in doc else None
    params = _params(doc["params"], strategy, walk) if "params" in doc else None
    sizing = _sizing(doc["sizing"], walk) if "sizing" in doc else None
    if strategy is not None and params is not None:
        walk.problems.extend(_cross_problems(strategy, {n: s.value for n, s in params.items()}))
    if walk.problems or strategy is None or params is None or sizing is None:
        raise StrategyConfigError(source, walk.problems)
    return StrategyParams(strategy=strategy, params=params, sizing=sizing)


_TOP: Final = {"strategy", "params", "sizing"}


def with_values(params: StrategyParams, changes: Mapping[str, ParamValue]) -> StrategyParams:
    """`params` with some values changed, each of the same kind and within its bounds.

    An int is accepted for a float parameter; nothing else changes kind.

    Raises:
        StrategyConfigError: an unknown name, a wrong kind, a non-finite or out-of-bounds
            value, or a cross-field relation broken; every problem is listed.
    """
    problems: list[str] = []
    updated = dict(params.params)
    for name, value in changes.items():
        spec = params.params.get(name)
        if spec is None:
            problems.append(f"params.{name}: unknown parameter of {params.strategy}")
            continue
        if spec.kind is ParamKind.FLOAT and kind_of(value) is ParamKind.INT:
            value = float(value)
        if kind_of(value) is not spec.kind:
            problems.append(f"params.{name}.value: {value!r} is not {spec.kind}")
            continue
        found = _spec_problems(value, spec.min, spec.max, f"params.{name}")
        problems.extend(found)
        if not found:
            updated[name] = ParamSpec(value, spec.min, spec.max)
    if not problems:
        problems = _cross_problems(params.strategy, {n: s.value for n, s in updated.items()})
    if problems:
        raise StrategyConfigError(f"{params.strategy} change", problems)
    return StrategyParams(strategy=params.strategy, params=updated, sizing=params.sizing)
