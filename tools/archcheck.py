"""Enforce the pure-layer bans of STYLE.md section 4 ("Who may import whom").

import-linter (pyproject.toml) keeps our packages apart, but it cannot ban stdlib
modules, builtins or attribute access such as os.environ; this AST check does.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PURE_PREFIXES = (
    "trading_contract",
    "trading_gate.config",
    "trading_gate.config_schema",
    "trading_gate.strict_yaml",
    "trading_gate.core",
    "trading_gate.rules",
    "trading_gate.policy",
    "trading_coinbase.translate",
    "trading_sim.matching",
    "trading_agent.config",
    "trading_agent.domain",
    "trading_agent.strategies",
    "trading_agent.learning",
    "trading_agent.signals",
    "trading_agent.marketdata.book",
    "trading_agent.marketdata.candles",
    "trading_agent.marketdata.columns",
    "trading_agent.marketdata.synthetic",
    "trading_agent.marketdata.trade_bars",
    "trading_agent.marketdata.source",
    "trading_agent.analytics",
)


def _table(spec: dict[str, str]) -> dict[str, str]:
    return {name: reason for reason, names in spec.items() for name in names.split()}


_CLOCK = "time arrives as an argument"
_RANDOM = "pass a seeded random.Random"
BANNED_MODULES = _table(
    {
        "network I/O": "socket ssl http urllib.request httpx websockets aiohttp requests",
        "concurrency belongs to the shell": "asyncio threading multiprocessing selectors signal",
        _CLOCK: "time",
        "process I/O": "subprocess",
        "storage I/O": "sqlite3",
        "the LLM is I/O": "anthropic",
        "logging is I/O; return results instead": "logging",
    }
)
BANNED_BUILTINS = _table(
    {"output is I/O": "print", "file I/O": "open", "dynamic code": "eval exec compile __import__"}
)
BANNED_ATTRIBUTES = _table(
    {
        "configuration arrives as an argument": "os.environ os.getenv os.putenv",
        "process I/O": "os.system",
    }
)
CLOCK_ATTRIBUTES = {"datetime.now", "datetime.utcnow", "datetime.today", "date.today"}


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    col: int
    module: str
    what: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}:{self.col}"
        return f"{where}: {self.module} {self.what} is banned in a pure layer ({self.reason})"


def is_pure(module: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in PURE_PREFIXES)


def module_name(path: str) -> str:
    """The dotted module of a file path, counted from its last `src` directory if any."""
    parts = list(Path(path).with_suffix("").parts)
    if "src" in parts:
        parts = parts[len(parts) - parts[::-1].index("src") :]
    return ".".join(parts[:-1] if parts[-1] == "__init__" and len(parts) > 1 else parts)


def _random_reason(name: str) -> str | None:
    parts = name.split(".")
    return _RANDOM if len(parts) > 1 and parts[0] == "random" and parts[1] != "Random" else None


def _import_reason(name: str) -> str | None:
    for banned, reason in BANNED_MODULES.items():
        if name == banned or name.startswith(banned + "."):
            return reason
    return BANNED_ATTRIBUTES.get(name) or _random_reason(name)


def _aliases(tree: ast.AST) -> dict[str, str]:
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                head = a.name.split(".")[0]
                aliases[a.asname or head] = a.name if a.asname else head
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            aliases |= {a.asname or a.name: f"{node.module}.{a.name}" for a in node.names}
    return aliases


def _imports(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if node.level or not node.module:
        return []
    if _import_reason(node.module):
        return [node.module]
    return [f"{node.module}.{a.name}" for a in node.names]


def _attribute_reason(node: ast.Attribute, aliases: dict[str, str]) -> tuple[str, str] | None:
    names = [node.attr]
    base = node.value
    while isinstance(base, ast.Attribute):
        names.insert(0, base.attr)
        base = base.value
    if not isinstance(base, ast.Name):
        return None
    dotted = ".".join([aliases.get(base.id, base.id), *names])
    if ".".join(dotted.split(".")[-2:]) in CLOCK_ATTRIBUTES:
        return dotted, _CLOCK
    reason = BANNED_ATTRIBUTES.get(dotted) or (base.id in aliases and _random_reason(dotted))
    return (dotted, reason) if reason else None


def _violations(tree: ast.AST) -> Iterator[tuple[ast.expr | ast.stmt, str, str]]:
    aliases = _aliases(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield from (
                (node, f"importing {n}", r) for n in _imports(node) if (r := _import_reason(n))
            )
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in BANNED_BUILTINS and node.func.id not in aliases:
                yield node, f"calling {node.func.id}()", BANNED_BUILTINS[node.func.id]
        elif isinstance(node, ast.Attribute) and (hit := _attribute_reason(node, aliases)):
            yield node, f"using {hit[0]}", hit[1]


def check_source(source: str, path: str) -> list[Finding]:
    """The findings in `source`, treated as the pure-layer module at `path`, in line order."""
    module, tree = module_name(path), ast.parse(source, filename=path)
    found = [
        Finding(path, n.lineno, n.col_offset + 1, module, w, r) for n, w, r in _violations(tree)
    ]
    return sorted(found, key=lambda f: (f.line, f.col))


def pure_files(root: Path) -> list[Path]:
    """The existing pure-layer modules under root/packages/*/src."""
    files = root.glob("packages/*/src/**/*.py")
    return sorted(p for p in files if is_pure(module_name(p.relative_to(root).as_posix())))


def check_tree(root: Path) -> list[Finding]:
    """The findings of every pure-layer module under `root`, with paths relative to it."""
    findings: list[Finding] = []
    for path in pure_files(root):
        relative = path.relative_to(root).as_posix()
        findings += check_source(path.read_text(encoding="utf-8"), relative)
    return findings


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parents[1]
    findings = check_tree(root)
    for finding in findings:
        print(finding)
    if not findings:
        print(f"archcheck: {len(pure_files(root))} pure-layer modules clean")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
