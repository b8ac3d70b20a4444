"""`python -m trading_sim.venue` as a real process: the ready line, serving, stopping."""

import asyncio
import re
import select
import signal
import subprocess
import sys
from pathlib import Path

from trading_coinbase import ApiKey, RestClient, Signer
from trading_sim.venue.testing import KEY_NAME, KeyPair

READY = re.compile(
    r"trading-sim venue ready: (http://127\.0\.0\.1:(\d+)) ws://127\.0\.0\.1:\2/ws/market "
    r"ws://127\.0\.0\.1:\2/ws/user"
)


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "trading_sim.venue", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _ready_line(process: subprocess.Popen[str], timeout_s: float = 20.0) -> str:
    assert process.stdout is not None
    readable, _, _ = select.select([process.stdout], [], [], timeout_s)
    assert readable, "no ready line in time"
    return process.stdout.readline().strip()


def test_process_when_started_then_one_ready_line_serves_and_stops_on_sigterm(
    candle_file: Path, key_pair: KeyPair, tmp_path: Path
) -> None:
    """The ready line names a bound port; signed and public calls work; SIGTERM ends it, 0."""
    public = tmp_path / "key.pub.pem"
    public.write_bytes(key_pair.public_pem)
    args = (
        "--port", "0", "--product", "BTC-USD", "--data", str(candle_file),
        "--bar-seconds", "0.05", "--public-key", str(public), "--key-name", KEY_NAME,
        "--balance", "USD=500",
    )  # fmt: skip
    with _start(*args) as process:
        try:
            epoch, usd, can_trade = _exercise(process, key_pair)
        finally:
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=10)
    assert epoch.isdigit()
    assert (usd, can_trade) == ("500", True)
    assert code == 0


def _exercise(process: subprocess.Popen[str], key_pair: KeyPair) -> tuple[str, str, bool]:
    match = READY.fullmatch(_ready_line(process))
    assert match is not None

    async def calls() -> tuple[str, str, bool]:
        signer = Signer(ApiKey(KEY_NAME, key_pair.private_pem))
        async with RestClient(base_url=match[1], signer=signer) as client:
            time = await client.get_server_time()
            accounts = await client.list_accounts()
            permissions = await client.get_key_permissions()
        usd = next(a for a in accounts.accounts if a.currency == "USD")
        return str(time.epoch_seconds), usd.available_balance.value, permissions.can_trade

    return asyncio.run(calls())


def test_process_when_the_public_key_is_garbage_then_exit_2_naming_it(
    candle_file: Path, tmp_path: Path
) -> None:
    """A key file that is no PEM public key stops the venue before it listens."""
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    with _start("--product", "BTC-USD", "--data", str(candle_file), "--public-key", str(bad)) as p:
        _, stderr = p.communicate(timeout=20)
    assert p.returncode == 2
    assert "public key" in stderr
