"""JWT signing: every header field and claim, both key types, and no leaked secrets."""

import base64
import pickle
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from trading_coinbase.auth import ApiKey, Signer, build_jwt, rest_uri
from trading_coinbase.errors import KeyFormatError

KEY_NAME = "organizations/org-1/apiKeys/key-1"
NOW = 1_712_188_800
NONCE = "0123456789abcdef" * 4
URI = "GET api.coinbase.com/api/v3/brokerage/accounts"


def _verify(token: str, public: Any, algorithm: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(
        token,
        public,
        algorithms=[algorithm],
        issuer="cdp",
        options={"verify_exp": False, "verify_nbf": False, "require": ["exp", "nbf"]},
    )
    return claims


def test_build_jwt_when_ec_key_then_header_and_claims_as_documented(
    ec_pem: str, ec_private_key: ec.EllipticCurvePrivateKey
) -> None:
    """ES256: kid and nonce in the header; sub, iss, nbf, exp = nbf + 120, uri."""
    token = build_jwt(ApiKey(KEY_NAME, ec_pem), now_s=NOW, nonce=NONCE, uri=URI)

    header = jwt.get_unverified_header(token)
    claims = _verify(token, ec_private_key.public_key(), "ES256")

    assert header == {"alg": "ES256", "typ": "JWT", "kid": KEY_NAME, "nonce": NONCE}
    assert claims == {"sub": KEY_NAME, "iss": "cdp", "nbf": NOW, "exp": NOW + 120, "uri": URI}


def test_build_jwt_when_websocket_then_no_uri_claim(
    ec_pem: str, ec_private_key: ec.EllipticCurvePrivateKey
) -> None:
    """The websocket token has the same claims without `uri` (§1)."""
    token = build_jwt(ApiKey(KEY_NAME, ec_pem), now_s=NOW, nonce=NONCE, uri=None)

    assert "uri" not in _verify(token, ec_private_key.public_key(), "ES256")


def test_api_key_when_pem_newlines_escaped_then_same_key(
    ec_pem: str, ec_private_key: ec.EllipticCurvePrivateKey
) -> None:
    """A PEM with literal \\n (as pasted from JSON/env) is restored and verifies."""
    escaped = ec_pem.replace("\n", "\\n")

    token = build_jwt(ApiKey(KEY_NAME, escaped), now_s=NOW, nonce=NONCE, uri=URI)

    assert _verify(token, ec_private_key.public_key(), "ES256")["sub"] == KEY_NAME


def test_api_key_when_pkcs8_ec_pem_then_es256(ec_private_key: ec.EllipticCurvePrivateKey) -> None:
    """A PKCS8 `BEGIN PRIVATE KEY` EC key works too."""
    pem = ec_private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()

    assert ApiKey(KEY_NAME, pem).algorithm == "ES256"


def _ed25519() -> tuple[ed25519.Ed25519PrivateKey, bytes, bytes]:
    key = ed25519.Ed25519PrivateKey.generate()
    seed = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return key, seed, public


@pytest.mark.parametrize("form", ["seed+public", "seed", "pkcs8"])
def test_build_jwt_when_ed25519_key_then_eddsa_verifies(form: str) -> None:
    """Ed25519 as base64 of 64 or 32 bytes, or PKCS8 PEM: EdDSA tokens that verify."""
    key, seed, public = _ed25519()
    secret = {
        "seed+public": base64.b64encode(seed + public).decode(),
        "seed": base64.b64encode(seed).decode(),
        "pkcs8": key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
    }[form]

    token = build_jwt(ApiKey(KEY_NAME, secret), now_s=NOW, nonce=NONCE, uri=URI)

    assert jwt.get_unverified_header(token)["alg"] == "EdDSA"
    assert _verify(token, key.public_key(), "EdDSA")["uri"] == URI


def test_jwt_when_checked_with_another_key_then_signature_fails(ec_pem: str) -> None:
    """A token does not verify under a different public key."""
    token = build_jwt(ApiKey(KEY_NAME, ec_pem), now_s=NOW, nonce=NONCE, uri=URI)
    stranger = ec.generate_private_key(ec.SECP256R1()).public_key()

    with pytest.raises(jwt.InvalidSignatureError):
        _verify(token, stranger, "ES256")


def test_api_key_when_shown_then_secret_never_appears(ec_pem: str) -> None:
    """repr, str and the signer's repr name the key, never its secret."""
    key = ApiKey(KEY_NAME, ec_pem)
    body = "".join(ec_pem.splitlines()[1:-1])

    for shown in (repr(key), str(key), repr(Signer(key)), f"{key}"):
        assert KEY_NAME in shown
        assert body[:16] not in shown
        assert "BEGIN" not in shown


def test_api_key_when_pickled_then_refused(ec_pem: str) -> None:
    """A key must not travel by serialisation."""
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(ApiKey(KEY_NAME, ec_pem))


@pytest.mark.parametrize(
    "secret",
    [
        "-----BEGIN EC PRIVATE KEY-----\nQUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\n"
        "-----END EC PRIVATE KEY-----",
        "c2VjcmV0LXNlY3JldC1zZWNyZXQ=",  # base64 of 21 bytes
        "not base64 at all!",
    ],
)
def test_api_key_when_secret_unreadable_then_error_never_quotes_it(secret: str) -> None:
    """A bad secret is a KeyFormatError whose message and context omit the secret."""
    with pytest.raises(KeyFormatError) as caught:
        ApiKey(KEY_NAME, secret)

    shown = str(caught.value) + repr(caught.value)
    assert secret not in shown
    assert "QUJDREVG" not in shown
    assert "c2VjcmV0" not in shown
    assert caught.value.__context__ is None or caught.value.__suppress_context__


def test_api_key_when_curve_is_p384_then_refused() -> None:
    """Only P-256 signs ES256."""
    pem = (
        ec.generate_private_key(ec.SECP384R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
        .decode()
    )

    with pytest.raises(KeyFormatError, match="P-256"):
        ApiKey(KEY_NAME, pem)


def test_signer_when_clock_and_nonce_injected_then_used(
    ec_pem: str, ec_private_key: ec.EllipticCurvePrivateKey
) -> None:
    """Signer reads its clock (whole seconds) and nonce source per token."""
    signer = Signer(ApiKey(KEY_NAME, ec_pem), clock=lambda: NOW + 0.9, nonce=lambda: NONCE)

    token = signer.rest_jwt("post", "api.coinbase.com", "/api/v3/brokerage/orders?x=1")

    claims = _verify(token, ec_private_key.public_key(), "ES256")
    assert claims["nbf"] == NOW
    assert claims["uri"] == "POST api.coinbase.com/api/v3/brokerage/orders"
    assert jwt.get_unverified_header(token)["nonce"] == NONCE


def test_signer_when_default_nonce_then_64_hex_and_fresh(ec_pem: str) -> None:
    """The default nonce is 64 random hex characters, new per token."""
    signer = Signer(ApiKey(KEY_NAME, ec_pem))

    nonces = {jwt.get_unverified_header(signer.websocket_jwt())["nonce"] for _ in range(3)}

    assert len(nonces) == 3
    assert all(len(n) == 64 and int(n, 16) >= 0 for n in nonces)


def test_rest_uri_when_query_present_then_dropped() -> None:
    """The uri claim has no scheme and no query string (§1)."""
    assert rest_uri("get", "api.coinbase.com", "/api/v3/brokerage/orders/historical/batch?a=b") == (
        "GET api.coinbase.com/api/v3/brokerage/orders/historical/batch"
    )


def test_build_jwt_when_nonce_not_hex_then_value_error(ec_pem: str) -> None:
    """The nonce must be hex."""
    with pytest.raises(ValueError, match="hex"):
        build_jwt(ApiKey(KEY_NAME, ec_pem), now_s=NOW, nonce="xyz", uri=None)
