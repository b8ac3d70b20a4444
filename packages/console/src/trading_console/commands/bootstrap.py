"""`te bootstrap [DIR]`: create an installation's folders, config and operator docs.

It never overwrites: every file is created with O_EXCL (and without following a
symlink), and a path that already exists is skipped and listed, so a second run creates
only what is missing and changes nothing else. Before creating anything it checks the
whole plan, so a file where a folder belongs (or the reverse) stops it with nothing
half-made.

The config files are the shipped ones, packaged as data in `trading_console/templates`
(a test keeps them identical to the repository's `config/`), so an installed wheel
bootstraps the same files. The docs are templates filled in with this installation's
absolute paths and executables.
"""

import getpass
import os
import string
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Final

import click

__all__ = ["BootstrapConflict", "Outcome", "bootstrap", "bootstrap_tree", "planned_paths"]

# Folders made even when no template file lands in them; data/ is the gate's: 0700.
_DIRECTORIES: Final = (
    ("config", 0o755),
    ("config/strategies", 0o755),
    ("config/rules", 0o755),
    ("config/rules/core", 0o755),
    ("config/rules/active", 0o755),
    ("config/rules/shadow", 0o755),
    ("config/rules/proposed", 0o755),
    ("data", 0o700),
    ("journal", 0o755),
    ("docs", 0o755),
    ("docs/systemd", 0o755),
)
_FILE_MODE: Final = 0o644
_TEMPLATE_ROOT: Final = "templates"
# Only the docs are templates; config files are copied byte for byte.
_SUBSTITUTED: Final = "docs"
_UNKNOWN_KEY_FILE: Final = "(the path named by keys.key_file in safety.yaml)"


class BootstrapConflict(Exception):
    """Something already at a planned path is of the wrong kind; nothing was created."""


@dataclass(frozen=True, slots=True)
class Outcome:
    created: tuple[Path, ...]
    skipped: tuple[Path, ...]


@dataclass(frozen=True, slots=True)
class _Planned:
    relative: str
    content: bytes | None  # None: a directory
    mode: int


def _templates() -> Traversable:
    return resources.files("trading_console").joinpath(_TEMPLATE_ROOT)


def _walk(node: Traversable, prefix: str) -> Iterator[tuple[str, Traversable]]:
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        if child.name.startswith((".", "__")):
            continue
        relative = f"{prefix}{child.name}"
        if child.is_dir():
            yield from _walk(child, relative + "/")
        else:
            yield relative, child


def _values(root: Path) -> dict[str, str]:
    """What the doc templates name: this installation's paths and executables."""
    bin_dir = Path(sys.executable).parent
    config = root / "config"
    key_file = _key_file(config / "safety.yaml")
    return {
        "root": str(root),
        "safety": str(config / "safety.yaml"),
        "strategies": str(config / "strategies"),
        "rules_dir": str(config / "rules"),
        "data": str(root / "data"),
        "journal": str(root / "journal"),
        "docs": str(root / "docs"),
        "gate_db": str(root / "data" / "gate.db"),
        "anchor": str(root / "data" / "audit.anchor"),
        "admin_socket": str(root / "data" / "run" / "admin.sock"),
        "kill_file": str(root / "data" / "KILL"),
        "key_file": key_file,
        "key_dir": str(Path(key_file).parent) if key_file != _UNKNOWN_KEY_FILE else key_file,
        "user": getpass.getuser(),
        "te": str(bin_dir / "te"),
        "trading_gate": str(bin_dir / "trading-gate"),
        "trading_agent": str(bin_dir / "trading-agent"),
    }


def _key_file(existing: Path) -> str:
    """keys.key_file of the safety.yaml this installation will have: the operator's own
    file when there is one (it is never overwritten), else the shipped one."""
    from trading_gate import ConfigError, load_config

    try:
        if os.path.lexists(existing):
            return load_config(existing).config.keys.key_file
        with resources.as_file(_templates().joinpath("config/safety.yaml")) as shipped:
            return load_config(shipped).config.keys.key_file
    except ConfigError:
        return _UNKNOWN_KEY_FILE


def _plan(root: Path) -> list[_Planned]:
    plan = [_Planned(relative, None, mode) for relative, mode in _DIRECTORIES]
    values = _values(root)
    for relative, template in _walk(_templates(), ""):
        data = template.read_bytes()
        if relative.startswith(_SUBSTITUTED + "/"):
            text = string.Template(data.decode("utf-8")).substitute(values)
            data = text.encode("utf-8")
        plan.append(_Planned(relative, data, _FILE_MODE))
    return plan


def planned_paths(root: Path) -> tuple[str, ...]:
    """Every path `bootstrap_tree` makes under root (directories and files), relative."""
    return tuple(p.relative for p in _plan(root.resolve()))


def _conflicts(root: Path, plan: list[_Planned]) -> list[str]:
    problems: list[str] = []
    if os.path.lexists(root) and not root.is_dir():
        return [f"{root} exists and is not a directory"]
    for item in plan:
        path = root / item.relative
        if not os.path.lexists(path):
            continue
        if item.content is None and not path.is_dir():
            problems.append(f"{path} should be a directory, but something else is there")
        elif item.content is not None and path.is_dir():
            problems.append(f"{path} should be a file, but it is a directory")
    return problems


def bootstrap_tree(root: Path) -> Outcome:
    """Create what is missing under `root`; leave everything that exists untouched.

    Raises:
        BootstrapConflict: a planned path exists with the wrong kind (checked first).
        OSError: a folder or file could not be created (e.g. no permission).
    """
    root = root.resolve()
    plan = _plan(root)
    problems = _conflicts(root, plan)
    if problems:
        raise BootstrapConflict("; ".join(problems))
    root.mkdir(parents=True, exist_ok=True)
    created: list[Path] = []
    skipped: list[Path] = []
    for item in plan:
        path = root / item.relative
        made = _make_dir(path, item.mode) if item.content is None else _make_file(path, item)
        (created if made else skipped).append(path)
    return Outcome(created=tuple(created), skipped=tuple(skipped))


def _make_dir(path: Path, mode: int) -> bool:
    try:
        path.mkdir(mode=mode)
    except FileExistsError:
        return False
    return True


def _make_file(path: Path, item: _Planned) -> bool:
    assert item.content is not None  # noqa: S101 - only file items reach here
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    try:
        fd = os.open(path, flags, item.mode)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as out:
        out.write(item.content)
    return True


@click.command()
@click.argument(
    "directory", type=click.Path(file_okay=False, path_type=Path), default=Path("."), required=False
)
def bootstrap(directory: Path) -> None:
    """Create an installation in DIRECTORY (default: here): config/ (safety limits,
    strategies, rules), data/, journal/ and docs/ for this machine.

    Never overwrites a file: run it again to restore what is missing.
    """
    try:
        outcome = bootstrap_tree(directory)
    except BootstrapConflict as exc:
        raise click.ClickException(f"nothing created: {exc}") from exc
    except OSError as exc:
        raise click.ClickException(
            f"cannot create {exc.filename or directory}: {exc.strerror}"
        ) from exc
    root = directory.resolve()
    for path in outcome.created:
        click.echo(f"created  {path}")
    for path in outcome.skipped:
        click.echo(f"skipped  {path} (already there; left unchanged)")
    click.echo(
        f"{len(outcome.created)} created, {len(outcome.skipped)} skipped."
        f" Next: read {root / 'docs' / 'README.md'}, then edit {root / 'config' / 'safety.yaml'}."
    )
