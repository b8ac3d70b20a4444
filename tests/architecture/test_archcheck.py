"""tools/archcheck.py: the pure-layer bans that import-linter cannot express."""

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECKER = ROOT / "tools" / "archcheck.py"
FRAMING = "packages/contract/src/trading_contract/framing.py"
PURE_PATH = "packages/contract/src/trading_contract/example.py"
HEADER = '"""A pure-layer module."""\n\n'


def _load_checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("archcheck", CHECKER)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


archcheck = _load_checker()


@pytest.fixture
def violating_tree(tmp_path: Path) -> tuple[Path, int]:
    """A copy of every packages/*/src with `import socket` appended to framing.py."""
    for src in ROOT.glob("packages/*/src"):
        ignore = shutil.ignore_patterns("__pycache__")
        shutil.copytree(src, tmp_path / src.relative_to(ROOT), ignore=ignore)
    framing = tmp_path / FRAMING
    original = framing.read_text(encoding="utf-8")
    assert original.endswith("\n")
    framing.write_text(original + "import socket\n", encoding="utf-8")
    return tmp_path, len(original.splitlines()) + 1


def test_check_tree_when_real_tree_then_clean() -> None:
    """The repository's pure layers have no findings."""
    assert [str(finding) for finding in archcheck.check_tree(ROOT)] == []


def test_pure_files_when_real_tree_then_pure_modules_only() -> None:
    """The whole contract package is checked; shells such as the gate CLI are not."""
    checked = {path.relative_to(ROOT).as_posix() for path in archcheck.pure_files(ROOT)}
    contract = {p.relative_to(ROOT).as_posix() for p in ROOT.glob("packages/contract/src/**/*.py")}
    assert FRAMING in contract
    assert checked >= contract
    assert "packages/gate/src/trading_gate/cli.py" not in checked


@pytest.mark.parametrize(
    ("module", "pure"),
    [
        ("trading_contract", True),
        ("trading_contract.codec", True),
        ("trading_gate.core", True),
        ("trading_gate.core.limits", True),
        ("trading_gate.corex", False),
        ("trading_gate", False),
        ("trading_gate.cli", False),
        ("trading_agent.strategies.momentum", True),
        ("trading_agent.engine", False),
    ],
)
def test_is_pure_when_module_given_then_matches_prefix_or_submodule(
    module: str, pure: bool
) -> None:
    """A pure prefix covers the module itself and its submodules, not name-alikes."""
    assert archcheck.is_pure(module) is pure


@pytest.mark.parametrize(
    ("path", "module"),
    [
        ("packages/gate/src/trading_gate/core.py", "trading_gate.core"),
        ("packages/gate/src/trading_gate/core/__init__.py", "trading_gate.core"),
        ("packages/gate/src/trading_gate/core/x.py", "trading_gate.core.x"),
    ],
)
def test_module_name_when_path_under_src_then_dotted_module(path: str, module: str) -> None:
    """Module names count from the src directory; a package's __init__ is the package."""
    assert archcheck.module_name(path) == module


BANNED = [
    ("import asyncio", 3, "importing asyncio"),
    ("from time import monotonic", 3, "importing time"),
    ("import time", 3, "importing time"),
    ('print("x")', 3, "calling print()"),
    ('open("f")', 3, "calling open()"),
    ('import os\n\nos.environ["X"]', 5, "using os.environ"),
    ("from os import environ", 3, "importing os.environ"),
    ("datetime.now()", 3, "using datetime.now"),
    ("import datetime\n\ndatetime.datetime.utcnow()", 5, "using datetime.datetime.utcnow"),
    ("from datetime import date\n\ndate.today()", 5, "using datetime.date.today"),
    ("import random\n\nrandom.random()", 5, "using random.random"),
    ("from random import choice", 3, "importing random.choice"),
    ("import logging", 3, "importing logging"),
    ("import sqlite3", 3, "importing sqlite3"),
    ("import httpx", 3, "importing httpx"),
    ("from urllib import request", 3, "importing urllib.request"),
    ('eval("1")', 3, "calling eval()"),
]


@pytest.mark.parametrize(("source", "line", "what"), BANNED, ids=[case[0] for case in BANNED])
def test_check_source_when_banned_then_one_finding_at_file_line(
    source: str, line: int, what: str
) -> None:
    """Each banned category is reported once, at its own file:line."""
    findings = [str(finding) for finding in archcheck.check_source(HEADER + source, PURE_PATH)]
    assert len(findings) == 1
    assert findings[0].startswith(f"{PURE_PATH}:{line}:1: trading_contract.example {what} ")
    assert "is banned in a pure layer (" in findings[0]


ALLOWED = [
    "from random import Random",
    "import random\n\nrandom.Random(3)",
    "from random import Random\n\n"
    "def roll(random: Random) -> int:\n    return random.choice([1, 2, 3])",
    'import os.path\n\nos.path.join("a", "b")',
    "from decimal import Decimal",
    "import msgspec",
    "from datetime import datetime, time, timedelta",
    "import urllib.parse",
    "async def read() -> None: ...",
]


@pytest.mark.parametrize("source", ALLOWED)
def test_check_source_when_allowed_then_no_findings(source: str) -> None:
    """Seeded randomness, pure stdlib, msgspec and async syntax pass."""
    assert archcheck.check_source(HEADER + source, PURE_PATH) == []


def test_check_tree_when_copy_has_violation_then_reports_it(
    violating_tree: tuple[Path, int],
) -> None:
    """A socket import appended to a copy of framing.py is the one finding, at its line."""
    root, line = violating_tree
    findings = [str(finding) for finding in archcheck.check_tree(root)]
    assert len(findings) == 1
    assert findings[0].startswith(f"{FRAMING}:{line}:1: trading_contract.framing importing socket")


def test_cli_when_copy_has_violation_then_exits_1_with_file_line(
    violating_tree: tuple[Path, int],
) -> None:
    """The command line fails on the violating copy and names file:line."""
    root, line = violating_tree
    done = subprocess.run(
        [sys.executable, str(CHECKER), str(root)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 1
    assert f"{FRAMING}:{line}:1: trading_contract.framing importing socket" in done.stdout


def test_cli_when_real_tree_then_exits_0_and_counts_modules() -> None:
    """The command line passes on the repository and says how many modules it checked."""
    done = subprocess.run(
        [sys.executable, str(CHECKER)], capture_output=True, text=True, check=False
    )
    count = len(archcheck.pure_files(ROOT))
    assert (done.returncode, done.stdout) == (0, f"archcheck: {count} pure-layer modules clean\n")
