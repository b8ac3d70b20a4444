"""Read the strategy parameter files from disk; the parsing is `trading_agent.config`'s.

The shell half of the strategy config: it lists `<dir>/*.yaml`, reads each as UTF-8 and
hands the text to the pure parser. Every file is read before anything is refused, so
one error lists the problems of all files.
"""

from pathlib import Path
from typing import Final

from trading_agent.config import StrategyConfigError, StrategyParams, parse_strategy_params

__all__ = ["MAX_STRATEGY_FILE_BYTES", "load_strategy_dir"]

MAX_STRATEGY_FILE_BYTES: Final = 64 * 1024  # a parameter file is a page; more is a mistake


def load_strategy_dir(path: Path) -> dict[str, StrategyParams]:
    """Every `*.yaml` in `path` by strategy name; each file is named after its strategy.

    Raises:
        StrategyConfigError: the directory or a file cannot be read, a file is refused,
            or its name is not `<strategy>.yaml`; every problem of every file is listed.
    """
    if not path.is_dir():
        raise StrategyConfigError(str(path), ["not a directory of strategy files"])
    loaded: dict[str, StrategyParams] = {}
    problems: list[str] = []
    for file in sorted(path.glob("*.yaml")):
        try:
            params = parse_strategy_params(_read(file), file.name)
        except StrategyConfigError as exc:
            problems.extend(f"{file.name}: {p}" for p in exc.problems)
            continue
        if params.strategy != file.stem:
            problems.append(
                f"{file.name}: strategy: {params.strategy!r} must be in its own file, "
                f"{params.strategy}.yaml"
            )
            continue
        loaded[params.strategy] = params
    if problems:
        raise StrategyConfigError(str(path), problems)
    return loaded


def _read(file: Path) -> str:
    try:
        if file.stat().st_size > MAX_STRATEGY_FILE_BYTES:
            raise StrategyConfigError(file.name, [f"larger than {MAX_STRATEGY_FILE_BYTES} bytes"])
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StrategyConfigError(file.name, [f"cannot read {file}: {exc}"]) from exc
