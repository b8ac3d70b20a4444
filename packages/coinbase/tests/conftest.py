"""Shared fixtures: the recorded Coinbase responses and throwaway signing keys."""

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

# The repo is /work/main (parents[3] of this file); the shared data sits beside it.
SHARED_DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
ADVANCED_TRADE = SHARED_DATA / "coinbase_rest" / "advanced_trade"


@pytest.fixture(scope="session")
def advanced_trade() -> Path:
    """The directory of real Advanced Trade REST responses; fails (never skips) if gone."""
    if not ADVANCED_TRADE.is_dir():
        pytest.fail(f"recorded Coinbase responses not found at {ADVANCED_TRADE}: see shared/data")
    return ADVANCED_TRADE


@pytest.fixture(scope="session")
def ec_private_key() -> ec.EllipticCurvePrivateKey:
    """A fresh EC P-256 key for this test session."""
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="session")
def ec_pem(ec_private_key: ec.EllipticCurvePrivateKey) -> str:
    """The key as the CDP portal issues it: SEC1 `BEGIN EC PRIVATE KEY` PEM."""
    return ec_private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
