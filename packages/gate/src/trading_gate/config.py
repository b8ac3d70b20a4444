"""safety.yaml into a frozen GateConfig: strict YAML, typed limits, every problem at once.

The pipeline, one stage per function:

1. `strict_yaml.compose`: text into a YAML node tree, refusing anchors, aliases, tags,
   deep nesting and every YAML 1.1 trap (`yes`, `no`, `1e3`, `0x10`, `1_000`, `1:30`,
   `.inf`, dates); see trading_gate.strict_yaml.
2. `strict_yaml.plain`: nodes into plain values (None, bool, int, Decimal, str, list,
   dict), refusing duplicate and merge keys and recording the line of every key.
3. `_check`: a walk of the plain values against msgspec's view of the schema
   (trading_gate.config_schema). Every unknown, missing or ill-typed key and every
   out-of-range limit becomes one ConfigProblem, so a file with five mistakes reports five.
4. `msgspec.convert(strict=True)` into GateConfig, the final authority.

No ordering between two limits is enforced (say a product's position cap above the
account's gross exposure cap): the tighter one binds anyway, and refusing such a file
would refuse an operator who lowers one limit in a hurry by hot reload.
"""

import difflib
import hashlib
import re
import stat
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Final

import msgspec
import msgspec.inspect as mi

from trading_gate.config_schema import (
    AccountLimits,
    ConfigError,
    ConfigProblem,
    ConfigUnreadable,
    DeadMan,
    GateConfig,
    Keys,
    LoadedConfig,
    OnHalt,
    ProductLimits,
    ReferencePrice,
    Reloaded,
    ReloadOutcome,
    ReloadRefused,
    RepeatedExecution,
    Throttle,
    Throttles,
)
from trading_gate.strict_yaml import (
    DIGITS,
    MAX_FRACTION_DIGITS,
    MAX_INTEGER_DIGITS,
    REFUSED,
    Raw,
    Refused,
    Walk,
    YamlSyntaxError,
    compose,
    describe,
    join,
    plain,
)

__all__ = [
    "MAX_CONFIG_BYTES",
    "AccountLimits",
    "ConfigError",
    "ConfigProblem",
    "ConfigUnreadable",
    "DeadMan",
    "GateConfig",
    "Keys",
    "LoadedConfig",
    "OnHalt",
    "ProductLimits",
    "ReferencePrice",
    "ReloadOutcome",
    "ReloadRefused",
    "Reloaded",
    "RepeatedExecution",
    "Throttle",
    "Throttles",
    "load_config",
    "parse_config",
    "reload_config",
    "settings_table",
]

MAX_CONFIG_BYTES: Final = 256 * 1024

# ---------------------------------------------------------------- entry points

_FILE: Final = "<file>"
_DOCUMENT: Final = "<document>"


def load_config(path: Path) -> LoadedConfig:
    """Read and validate the safety config at `path`.

    Raises:
        ConfigUnreadable: the file is missing, not a regular file, or not readable.
        ConfigError: the file is readable but refused; every problem is listed.
    """
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise ConfigUnreadable((_problem(_FILE, None, f"{path} is not a regular file"),))
        if info.st_size > MAX_CONFIG_BYTES:
            raise ConfigError((_too_large(info.st_size),))
        data = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigUnreadable((_problem(_FILE, None, f"cannot read {path}: {reason}"),)) from exc
    return parse_config(data, str(path))


def parse_config(text: bytes, source: str) -> LoadedConfig:
    """Validate config file contents; `source` names them in the result.

    Raises:
        ConfigError: the contents are refused; every problem found is listed.
    """
    if len(text) > MAX_CONFIG_BYTES:
        raise ConfigError((_too_large(len(text)),))
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = text.count(b"\n", 0, exc.start) + 1
        raise ConfigError((_problem(_FILE, line, "not UTF-8 text"),)) from exc
    raw, walk = _document(decoded)
    _check(_SCHEMA, raw, "", walk, {})
    if walk.problems:
        problems = [_problem(p.path, p.line, p.message) for p in walk.problems]
        # In file order; problems with no line of their own (missing keys) go last.
        ordered = sorted(problems, key=lambda p: (p.line is None, p.line or 0))
        raise ConfigError(tuple(ordered))
    try:
        config = msgspec.convert(raw, GateConfig, strict=True)
    except msgspec.ValidationError as exc:
        # The walk should have caught this first; if it did not, refusing is still right.
        raise ConfigError((_problem(_DOCUMENT, None, str(exc)),)) from exc
    return LoadedConfig(config=config, sha256=hashlib.sha256(text).hexdigest(), source=source)


def reload_config(current: LoadedConfig, path: Path) -> ReloadOutcome:
    """Read `path` again: the new config if valid, else the current one and why not.

    Never raises for a bad or unreadable file; the key file cannot change without a
    restart, because the keys are read once at start.
    """
    try:
        new = load_config(path)
    except ConfigError as exc:
        return ReloadRefused(config=current, source=str(path), problems=exc.problems)
    if new.config.keys.key_file != current.config.keys.key_file:
        problem = _problem(
            "keys.key_file", None, "the key file cannot change on a hot reload; restart the gate"
        )
        return ReloadRefused(config=current, source=str(path), problems=(problem,))
    return Reloaded(config=new, previous_sha256=current.sha256)


def settings_table(config: GateConfig) -> tuple[tuple[str, str], ...]:
    """Every setting as (dotted path, value as written in YAML), in schema order."""
    rows: list[tuple[str, str]] = []
    _flatten(msgspec.to_builtins(config, builtin_types=(Decimal,)), "", rows)
    return tuple(rows)


def _flatten(value: object, path: str, rows: list[tuple[str, str]]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(item, join(path, str(key)), rows)
    elif isinstance(value, bool):
        rows.append((path, "true" if value else "false"))
    elif isinstance(value, Decimal):
        # str() would print 1E-8, which this loader refuses; show what may be written.
        rows.append((path, f"{value:f}"))
    else:
        rows.append((path, str(value)))


def _problem(path: str, line: int | None, message: str) -> ConfigProblem:
    return ConfigProblem(path=path or _DOCUMENT, line=line, message=message)


def _too_large(size: int) -> ConfigProblem:
    return _problem(_FILE, None, f"{size} bytes is over the {MAX_CONFIG_BYTES}-byte limit")


def _document(text: str) -> tuple[Raw, Walk]:
    """Stages 1 and 2: the plain values of `text`, and the walk holding their problems."""
    try:
        root, refused = compose(text)
    except YamlSyntaxError as exc:
        raise ConfigError((_problem(_DOCUMENT, exc.line, exc.message),)) from exc
    walk = Walk(refused)
    if root is None:
        walk.add("", None, "the file is empty; a config must set every limit")
        return REFUSED, walk
    return plain(root, "", walk), walk


# ---------------------------------------------------------------- stage 3: the schema walk

_SCHEMA: Final = mi.type_info(GateConfig)
_DECIMAL_TEXT: Final = re.compile(
    rf"-?[0-9]{{1,{MAX_INTEGER_DIGITS}}}(?:\.[0-9]{{1,{MAX_FRACTION_DIGITS}}})?"
)


def _check(kind: mi.Type, raw: Raw, path: str, walk: Walk, extra: Mapping[str, object]) -> None:
    if isinstance(raw, Refused):
        return
    match kind:
        case mi.Metadata():
            _check(kind.type, raw, path, walk, kind.extra or {})
        case mi.StructType():
            _check_struct(kind, raw, path, walk)
        case mi.DictType():
            _check_dict(kind, raw, path, walk, extra)
        case mi.DecimalType():
            _check_decimal(raw, path, walk, extra)
        case _ if not _fits(kind, raw):
            walk.at(path, f"expected {_expect(kind, extra)}, got {describe(raw)}")


def _fits(kind: mi.Type, raw: Raw) -> bool:
    match kind:
        case mi.IntType():
            return isinstance(raw, int) and not isinstance(raw, bool) and _in_range(kind, raw)
        case mi.BoolType():
            return isinstance(raw, bool)
        case mi.StrType():
            return isinstance(raw, str) and _str_fits(kind, raw)
        case mi.LiteralType():
            # Exact type too: in Python, 1 == True.
            return any(type(raw) is type(value) and raw == value for value in kind.values)
        case _:
            raise TypeError(f"the config schema uses a type the loader cannot check: {kind}")


def _check_struct(kind: mi.StructType, raw: Raw, path: str, walk: Walk) -> None:
    if not isinstance(raw, dict):
        walk.at(path, f"expected {_expect(kind, {})}, got {describe(raw)}")
        return
    names = [field.encode_name for field in kind.fields]
    for key in raw:
        if key not in names:
            near = difflib.get_close_matches(key, names, n=1)
            hint = f"did you mean {near[0]}? " if near else ""
            walk.at(join(path, key), f"unknown key; {hint}expected one of: {', '.join(names)}")
    for field in kind.fields:
        child = join(path, field.encode_name)
        if field.encode_name in raw:
            _check(field.type, raw[field.encode_name], child, walk, {})
        else:
            walk.add(
                child,
                walk.lines.get(path),
                f"missing; every setting must be given (none has a default): "
                f"expected {_expect(field.type, {})}",
            )


def _check_dict(
    kind: mi.DictType, raw: Raw, path: str, walk: Walk, extra: Mapping[str, object]
) -> None:
    if not isinstance(raw, dict):
        walk.at(path, f"expected {_expect(kind, extra)}, got {describe(raw)}")
        return
    if kind.min_length is not None and len(raw) < kind.min_length:
        expect = _expect(kind, extra)
        walk.at(path, f"has {len(raw)} entries, at least {kind.min_length} needed: {expect}")
    if kind.max_length is not None and len(raw) > kind.max_length:
        walk.at(path, f"has {len(raw)} entries, at most {kind.max_length} allowed")
    for key, value in raw.items():
        child = join(path, key)
        _check(kind.key_type, key, child, walk, {})
        _check(kind.value_type, value, child, walk, {})


def _check_decimal(raw: Raw, path: str, walk: Walk, extra: Mapping[str, object]) -> None:
    expect = _expect(mi.DecimalType(), extra)
    if isinstance(raw, str) and not _DECIMAL_TEXT.fullmatch(raw):
        walk.at(
            path,
            f"expected {expect}, got {describe(raw)}: decimal text is plain digits with an "
            f"optional point (no exponent, NaN, Infinity, spaces or +); {DIGITS}",
        )
        return
    if isinstance(raw, bool) or not isinstance(raw, Decimal | int | str):
        walk.at(path, f"expected {expect}, got {describe(raw)}")
        return
    # Bounded: text matched _DECIMAL_TEXT, and plain numbers were bounded in _scalar.
    value = Decimal(raw)
    ceiling = extra.get("max")
    if not value > 0 or (isinstance(ceiling, Decimal) and value > ceiling):
        walk.at(path, f"expected {expect}, got {describe(raw)}")


def _in_range(kind: mi.IntType, value: int) -> bool:
    # The schema bounds every integer with ge and le only (see the value types).
    return (kind.ge is None or value >= kind.ge) and (kind.le is None or value <= kind.le)


def _str_fits(kind: mi.StrType, value: str) -> bool:
    # The same test msgspec applies (re.search), so the walk is never more lenient.
    return (
        (kind.min_length is None or len(value) >= kind.min_length)
        and (kind.max_length is None or len(value) <= kind.max_length)
        and (kind.pattern is None or re.search(kind.pattern, value) is not None)
    )


def _expect(kind: mi.Type, extra: Mapping[str, object]) -> str:
    said = extra.get("expect")
    if isinstance(said, str):
        return said
    match kind:
        case mi.Metadata():
            return _expect(kind.type, kind.extra or {})
        case mi.IntType(ge=int() as low, le=int() as high):
            return f"a whole number from {low} to {high}"
        case mi.BoolType():
            return "true or false"
        case mi.StructType():
            return "a mapping with the keys " + ", ".join(f.encode_name for f in kind.fields)
        case _:
            return str(kind)
