"""`trading-gate check-config PATH`: validate a safety config without starting the gate."""

from pathlib import Path
from typing import Final

from trading_gate.config import ConfigError, ConfigUnreadable, load_config, settings_table

__all__ = ["EXIT_INVALID", "EXIT_OK", "EXIT_UNREADABLE", "check_config"]

EXIT_OK: Final = 0
EXIT_INVALID: Final = 1
EXIT_UNREADABLE: Final = 2


def check_config(path: Path) -> tuple[int, str]:
    """Validate the config at `path`; return (exit code, text for the operator).

    EXIT_OK with a summary (products, hash, every setting) when it is valid,
    EXIT_INVALID with every problem when it is refused, EXIT_UNREADABLE when the file
    cannot be read at all. Never raises for a bad or missing file.
    """
    try:
        loaded = load_config(path)
    except ConfigUnreadable as exc:
        return EXIT_UNREADABLE, f"cannot check {path}:\n{_indented(exc)}"
    except ConfigError as exc:
        count = len(exc.problems)
        header = f"{path}: refused, {count} problem{'' if count == 1 else 's'}:"
        return EXIT_INVALID, f"{header}\n{_indented(exc)}"
    rows = settings_table(loaded.config)
    width = max(len(name) for name, _ in rows)
    lines = [
        f"{path}: valid",
        f"sha256: {loaded.sha256}",
        f"products: {', '.join(loaded.config.products)}",
        "settings:",
        *(f"  {name.ljust(width)}  {value}" for name, value in rows),
    ]
    return EXIT_OK, "\n".join(lines)


def _indented(error: ConfigError) -> str:
    return "\n".join(f"  {problem}" for problem in error.problems)
