"""Everything CI checks, in order: format, lint, types, import rules, tests.

Run it through the README's test command; it stops at nothing: every step runs, and the
exit status is non-zero if any failed, with a summary of which.
"""

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PACKAGE_SOURCES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "packages").glob("*/src"))

STEPS: list[tuple[str, list[str]]] = [
    ("format", [str(BIN / "ruff"), "format", "--check", "."]),
    ("lint", [str(BIN / "ruff"), "check", "."]),
    # Strict everywhere it holds: every package's source and the tools.
    ("types", [str(BIN / "mypy"), *PACKAGE_SOURCES, "tools"]),
    ("imports", [str(BIN / "lint-imports"), "--no-cache"]),
    ("pure layers", [sys.executable, "tools/archcheck.py"]),
    (
        "tests",
        [
            sys.executable,
            "-m",
            "pytest",
            "--cov",
            "--cov-report=term",
            "-p",
            "no:cacheprovider",
        ],
    ),
    # The contract is what both processes trust: every line and branch is tested.
    (
        "contract coverage",
        [
            str(BIN / "coverage"),
            "report",
            "--include=packages/contract/src/*",
            "--fail-under=100",
        ],
    ),
]


def main() -> int:
    results: list[tuple[str, int, float]] = []
    for name, argv in STEPS:
        print(f"\n=== {name}: {' '.join(Path(a).name if a.startswith('/') else a for a in argv)}")
        started = time.monotonic()
        code = subprocess.call(argv, cwd=ROOT)
        results.append((name, code, time.monotonic() - started))
    print("\n=== summary")
    for name, code, seconds in results:
        print(f"{'ok  ' if code == 0 else 'FAIL'} {name:18} {seconds:6.1f}s")
    return 0 if all(code == 0 for _, code, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
