"""The gate's log filter: no JWT and no private key survives into a log line."""

import io
import logging

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given
from hypothesis import strategies as st

from trading_coinbase.auth import ApiKey, build_jwt
from trading_gate.log_redaction import RedactingFilter, redact


def _pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


def _logger() -> tuple[logging.Logger, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger(f"test-redaction-{id(out)}")
    logger.propagate = False
    logger.addHandler(handler)
    return logger, out


def test_log_when_a_real_jwt_and_key_appear_then_neither_is_written() -> None:
    """A signed Coinbase JWT and the PEM it was signed with are masked, args included."""
    pem = _pem()
    token = build_jwt(ApiKey("organizations/o/apiKeys/k", pem), now_s=1, nonce="ab" * 8, uri=None)
    logger, out = _logger()

    logger.warning("Authorization: Bearer %s", token)
    logger.warning("loaded %s", pem)

    written = out.getvalue()
    assert token not in written
    assert "PRIVATE KEY" not in written.replace("[redacted private key]", "")
    assert written.count("[redacted jwt]") == 1
    assert written.count("[redacted private key]") == 1


def test_log_when_an_exception_quotes_a_token_then_the_traceback_is_masked() -> None:
    """A traceback that carries a token is redacted too."""
    token = build_jwt(
        ApiKey("organizations/o/apiKeys/k", _pem()), now_s=1, nonce="cd" * 8, uri=None
    )
    logger, out = _logger()

    try:
        raise RuntimeError(f"request failed with header {token}")
    except RuntimeError:
        logger.exception("venue call failed")

    assert token not in out.getvalue()
    assert "[redacted jwt]" in out.getvalue()


@given(st.text().filter(lambda t: "eyJ" not in t and "-----BEGIN" not in t))
def test_redact_when_no_secret_shape_then_text_unchanged(text: str) -> None:
    """Ordinary messages pass through exactly."""
    assert redact(text) == text
