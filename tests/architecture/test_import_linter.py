"""The import-linter contracts in pyproject.toml pass on the tree and fail on a violation."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint_imports(cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    argv = [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(ROOT / "pyproject.toml")]
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)


def test_lint_imports_when_real_tree_then_all_contracts_kept() -> None:
    """Every contract is kept on the repository as it stands."""
    done = _lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(
    ("package", "violation", "contract"),
    [
        ("trading_gate", "import trading_agent", "gate never imports agent or console"),
        ("trading_agent", "import trading_sim", "agent never imports gate, sim or console"),
        ("trading_contract", "import trading_gate", "contract imports nothing of ours"),
        (
            "trading_coinbase",
            "import trading_contract",
            "coinbase (the venue's wire format) imports nothing of ours",
        ),
        (
            "trading_sim",
            "import trading_gate",
            "sim never imports gate, agent, console or the contract",
        ),
    ],
)
def test_lint_imports_when_copy_has_violation_then_contract_broken(
    tmp_path: Path, package: str, violation: str, contract: str
) -> None:
    """A forbidden import appended to a copy shadowing the editable install breaks its contract."""
    for tree in ROOT.glob("packages/*/src/trading_*"):
        shutil.copytree(tree, tmp_path / tree.name, ignore=shutil.ignore_patterns("__pycache__"))
    init = tmp_path / package / "__init__.py"
    original = init.read_text(encoding="utf-8")
    init.write_text(f"{original}{violation}  # violation\n", encoding="utf-8")
    line = len(original.splitlines()) + 1

    done = _lint_imports(tmp_path, env={**os.environ, "PYTHONPATH": str(tmp_path)})

    assert done.returncode != 0
    assert f"{contract} BROKEN" in done.stdout
    assert f"{package} -> {violation.removeprefix('import ')} (l.{line})" in done.stdout
