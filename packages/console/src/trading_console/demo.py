"""What `te up` needs to run the whole system on the loopback Coinbase venue: a key
pair of its own and a copy of the safety config that points the gate at that key.

The demo key is made once per installation under data/demo/ (a 0700 directory, the
private half 0600, in Coinbase's CDP key-file shape) and only ever trades on the
loopback venue, which is given the public half. It is not a Coinbase key.
"""

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from trading_sim.venue.testing import KEY_NAME, new_key_pair

__all__ = ["DemoSetup", "prepare_demo"]

_KEY_FILE_LINE: Final = re.compile(r'^(\s*key_file:\s*)"[^"\n]*"', re.MULTILINE)


@dataclass(frozen=True)
class DemoSetup:
    key_name: str
    private_key_file: Path
    public_key_file: Path
    safety_config: Path


def prepare_demo(data_dir: Path, safety_config: Path) -> DemoSetup:
    """The demo key pair (made if missing) and the demo safety config (rewritten).

    Raises:
        ValueError: the safety config has no `key_file:` line to point at the demo key.
    """
    demo = data_dir / "demo"
    demo.mkdir(mode=0o700, parents=True, exist_ok=True)
    demo.chmod(0o700)
    private, public = demo / "cdp_api_key.json", demo / "venue.pub.pem"
    if not (private.is_file() and public.is_file()):
        pair = new_key_pair()
        private.write_text(json.dumps({"name": KEY_NAME, "privateKey": pair.private_pem}))
        private.chmod(0o600)
        public.write_bytes(pair.public_pem)
    text = safety_config.read_text()
    if not _KEY_FILE_LINE.search(text):
        raise ValueError(f"{safety_config} has no keys.key_file line to point at the demo key")
    # The same limits, comments and all; only the key's location differs.
    demo_config = demo / "safety.yaml"
    demo_config.write_text(_KEY_FILE_LINE.sub(rf'\g<1>"{private}"', text, count=1))
    return DemoSetup(KEY_NAME, private, public, demo_config)
