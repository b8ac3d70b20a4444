"""JWT checks: the verifier alone on crafted tokens, then the served venue with real clients.

Tokens are built with PyJWT directly (an independent encoder) or with the real
`trading_coinbase.Signer`; each refusal is checked against the reason the venue logged,
so a test cannot pass because a different check fired.
"""

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from trading_coinbase import ApiKey, AuthError, Signer, Subscription, TransportError
from trading_coinbase.auth import build_jwt
from trading_sim.venue import (
    AuthRejected,
    JwtVerifier,
    KeyConfigError,
    VenueSettings,
    load_public_key,
)
from trading_sim.venue.testing import KEY_NAME, Harness, KeyPair, harness, new_key_pair

NOW = 1_767_225_600
HOST = "127.0.0.1:8080"
PATH = "/api/v3/brokerage/accounts"


def claims(**changes: Any) -> dict[str, Any]:
    body = {"sub": KEY_NAME, "iss": "cdp", "nbf": NOW, "exp": NOW + 120, "uri": f"GET {HOST}{PATH}"}
    return {k: v for k, v in (body | changes).items() if v is not None}


def token(pair: KeyPair, *, alg: str = "ES256", **changes: Any) -> str:
    headers = {"kid": KEY_NAME, "nonce": "ab" * 32}
    return jwt.encode(claims(**changes), pair.private_pem, algorithm=alg, headers=headers)


def hmac_with_public_key(pair: KeyPair) -> str:
    """The classic algorithm-confusion forgery: HS256 keyed with the public PEM."""

    def part(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    header = part(json.dumps({"alg": "HS256", "typ": "JWT", "kid": KEY_NAME}).encode())
    payload = part(json.dumps(claims()).encode())
    signature = part(hmac.new(pair.public_pem, header + b"." + payload, hashlib.sha256).digest())
    return (header + b"." + payload + b"." + signature).decode()


def verify(pair: KeyPair, bearer: str, *, now_s: int = NOW, name: str | None = KEY_NAME) -> str:
    verifier = JwtVerifier(load_public_key(pair.public_pem), key_name=name, leeway_s=5)
    return verifier.rest(f"Bearer {bearer}", method="GET", host=HOST, path=PATH, now_s=now_s)


def test_verifier_when_token_is_right_then_the_key_name(key_pair: KeyPair) -> None:
    """A token with every claim right names its key, at both ends of its lifetime."""
    assert verify(key_pair, token(key_pair)) == KEY_NAME
    assert verify(key_pair, token(key_pair), now_s=NOW + 119) == KEY_NAME
    assert verify(key_pair, token(key_pair), now_s=NOW - 5) == KEY_NAME


def test_verifier_when_ed25519_key_then_eddsa_tokens_verify() -> None:
    """An Ed25519 public key takes EdDSA tokens."""
    pair = new_key_pair("EdDSA")
    assert verify(pair, token(pair, alg="EdDSA")) == KEY_NAME


@pytest.mark.parametrize(
    ("changes", "now_s", "reason"),
    [
        ({}, NOW + 120, "expired"),
        ({}, NOW - 6, "not valid before"),
        ({"uri": f"GET {HOST}/api/v3/brokerage/orders"}, NOW, "uri claim"),
        ({"uri": f"GET api.coinbase.com{PATH}"}, NOW, "uri claim"),
        ({"uri": f"POST {HOST}{PATH}"}, NOW, "uri claim"),
        ({"uri": f"GET {HOST}{PATH}?limit=5"}, NOW, "uri claim"),
        ({"uri": None}, NOW, "uri claim"),
        ({"iss": "coinbase"}, NOW, "iss"),
        ({"sub": "organizations/x/apiKeys/other"}, NOW, "kid header"),
        ({"exp": NOW + 121}, NOW, "lifetime"),
        ({"exp": None}, NOW, "token refused"),
    ],
)
def test_verifier_when_a_claim_is_wrong_then_refused_naming_it(
    key_pair: KeyPair, changes: dict[str, Any], now_s: int, reason: str
) -> None:
    """Each broken claim is refused, and the reason names that claim."""
    with pytest.raises(AuthRejected, match=reason):
        verify(key_pair, token(key_pair, **changes), now_s=now_s)


def test_verifier_when_signed_by_another_key_or_algorithm_then_refused(key_pair: KeyPair) -> None:
    """Another key's signature, `none`, or HS256 keyed with the public PEM all fail."""
    stranger = new_key_pair("ES256")
    unsigned = jwt.encode(claims(), None, algorithm="none", headers={"kid": KEY_NAME})
    for bad in (token(stranger), unsigned, hmac_with_public_key(key_pair)):
        with pytest.raises(AuthRejected, match="token refused"):
            verify(key_pair, bad)


def test_verifier_when_configured_name_differs_then_refused(key_pair: KeyPair) -> None:
    """A configured key name must be the token's sub (and kid)."""
    with pytest.raises(AuthRejected, match="configured key"):
        verify(key_pair, token(key_pair), name="organizations/o/apiKeys/expected")


def test_load_public_key_when_not_p256_or_ed25519_then_key_config_error() -> None:
    """Garbage, or a P-384 key, is refused at load."""
    p384 = (
        ec.generate_private_key(ec.SECP384R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    for pem in (b"not a key", p384):
        with pytest.raises(KeyConfigError):
            load_public_key(pem)


# ---------------------------------------------------------------- against the server


async def drain(session: AsyncGenerator[Any, None]) -> None:
    async with aclosing(session) as events:
        async for _ in events:
            pass


def served(series: dict[str, Any], key_pair: KeyPair, scenario: Any) -> None:
    async def go() -> None:
        async with harness(
            series, settings=VenueSettings(key_name=KEY_NAME), key_pair=key_pair
        ) as h:
            await scenario(h)

    asyncio.run(go())


def test_venue_when_key_is_wrong_then_401_plain_unauthorized(
    series: dict[str, Any], key_pair: KeyPair
) -> None:
    """A client signing with another key gets 401 (re-signed once, §1), and nothing more."""

    async def scenario(h: Harness) -> None:
        stranger = ApiKey(KEY_NAME, new_key_pair().private_pem)
        async with h.rest(signer=h.signer(stranger)) as client:
            with pytest.raises(AuthError) as refused:
                await client.get_key_permissions()
        assert (refused.value.status, refused.value.message) == (401, "Unauthorized")
        assert len(h.exchange.auth_failures) == 2  # the client re-signs once on 401
        assert all("InvalidSignatureError" in r for r in h.exchange.auth_failures)

    served(series, key_pair, scenario)


def test_venue_when_token_is_expired_then_401(series: dict[str, Any], key_pair: KeyPair) -> None:
    """A signer whose clock is 200 s behind the venue's makes expired tokens."""

    async def scenario(h: Harness) -> None:
        late = Signer(h.key, clock=lambda: h.clock.now_s() - 200)
        async with h.rest(signer=late) as client:
            with pytest.raises(AuthError):
                await client.list_accounts()
        assert "expired" in h.exchange.auth_failures[-1]

    served(series, key_pair, scenario)


def test_venue_when_uri_names_another_path_or_no_token_then_401(
    series: dict[str, Any], key_pair: KeyPair
) -> None:
    """A token minted for /accounts does not open /key_permissions; no token opens nothing."""

    async def scenario(h: Harness) -> None:
        host = f"127.0.0.1:{h.venue.port}"
        minted = build_jwt(
            h.key, now_s=int(h.clock.now_s()), nonce="cd" * 32, uri=f"GET {host}{PATH}"
        )
        async with httpx.AsyncClient(base_url=h.venue.base_url) as raw:
            ok = await raw.get(PATH, headers={"Authorization": f"Bearer {minted}"})
            other = await raw.get(
                "/api/v3/brokerage/key_permissions", headers={"Authorization": f"Bearer {minted}"}
            )
            bare = await raw.get("/api/v3/brokerage/key_permissions")
            public = await raw.get("/api/v3/brokerage/market/products")

        assert ok.status_code == 200
        assert (other.status_code, other.text) == (401, "Unauthorized")
        assert bare.status_code == 401
        assert public.status_code == 200
        assert "uri claim" in h.exchange.auth_failures[0]
        assert "no Bearer token" in h.exchange.auth_failures[1]

    served(series, key_pair, scenario)


def test_venue_when_user_subscribe_has_a_bad_jwt_then_error_frame_and_closed(
    series: dict[str, Any], key_pair: KeyPair
) -> None:
    """The user channel verifies the subscribe's JWT: another key's ends the session."""

    async def scenario(h: Harness) -> None:
        stranger = ApiKey(KEY_NAME, new_key_pair().private_pem)
        feed = h.user_feed(signer=h.signer(stranger))
        with pytest.raises(TransportError, match="authentication failure"):
            await drain(feed.session([Subscription(channel="user")]))
        assert "websocket user subscribe" in h.exchange.auth_failures[-1]

    served(series, key_pair, scenario)
