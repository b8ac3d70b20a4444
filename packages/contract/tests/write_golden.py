"""Write golden encodings for a new protocol version: `python write_golden.py`.

Golden files pin the wire format. They are written once per protocol version and
never regenerated for an existing one: a test failing against them means the wire
changed, which needs a PROTOCOL_VERSION bump and a new golden directory.
"""

import sys
from pathlib import Path

import trading_contract as c
from contract_stubs import EXAMPLES


def main() -> int:
    target = Path(__file__).parent / "golden" / f"v{c.PROTOCOL_VERSION}"
    target.mkdir(parents=True, exist_ok=True)
    written = 0
    for name, message in EXAMPLES.items():
        path = target / f"{name}.json"
        if path.exists():
            continue
        path.write_bytes(c.encode(message) + b"\n")
        written += 1
    print(f"wrote {written} new golden files to {target}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
