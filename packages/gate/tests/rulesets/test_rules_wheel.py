"""The grammar ships: the built wheel holds grammar.lark, byte for byte the one in the tree
(the parser reads it through importlib.resources, so a wheel without it cannot start)."""

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[4]
GRAMMAR = REPO / "packages" / "gate" / "src" / "trading_gate" / "rules" / "grammar.lark"


def test_wheel_when_built_then_it_holds_the_grammar(tmp_path: Path) -> None:
    """Build the gate's wheel with uv (the one running this suite: `uv run` names itself
    in $UV) and find the grammar in it, unchanged."""
    uv = os.environ.get("UV") or shutil.which("uv")
    assert uv is not None, "run the suite with `uv run` (README), which provides uv"
    subprocess.run(
        [uv, "build", "--package", "trading-gate", "--wheel", "-o", str(tmp_path), "-q"],
        cwd=REPO, check=True, timeout=120, capture_output=True,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("trading_gate-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = archive.read("trading_gate/rules/grammar.lark")
    assert shipped == GRAMMAR.read_bytes()
