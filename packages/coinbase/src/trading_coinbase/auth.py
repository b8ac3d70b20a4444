"""CDP API key JWTs: one fresh token per REST request and per websocket subscribe.

Facts (EXCHANGE_AND_LLM_APIS.md §1): header `alg` (ES256 for an EC P-256 key, EdDSA
for Ed25519), `typ` JWT, `kid` = key name, `nonce` = random hex new per token; claims
`iss` "cdp", `sub` = key name, `nbf` = now in whole seconds, `exp` = nbf + 120, and for
REST only `uri` = "<METHOD> <host><path>" (no scheme, no query string). No `aud`.

The library holds no keys: the caller (the gate) passes the secret in once, as text,
and `ApiKey` keeps only the parsed key object. Nothing here logs, and neither the
secret nor a token appears in a repr, str or exception message. `build_jwt` is pure
given its key (clock and nonce injected); `Signer` adds the system clock and
`secrets.token_hex` at the edge.
"""

import base64
import binascii
import re
import secrets
import time
from collections.abc import Callable
from typing import Final, NoReturn

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from trading_coinbase.errors import KeyFormatError

__all__ = ["JWT_LIFETIME_S", "ApiKey", "Signer", "build_jwt", "rest_uri"]

JWT_LIFETIME_S: Final = 120
_NONCE: Final = re.compile(r"[0-9a-f]+")
_NONCE_BYTES: Final = 32  # 64 hex characters, as the official SDKs send

PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


class ApiKey:
    """A CDP API key: its name (the JWT `kid` and `sub`) and its parsed private key.

    `secret` may be a SEC1 or PKCS8 PEM (EC P-256 or Ed25519; `\\n` escapes are
    restored) or the base64 of an Ed25519 seed (32 bytes) or seed+public key (64).

    Raises:
        KeyFormatError: the secret is none of these; the message never quotes it.
    """

    __slots__ = ("_algorithm", "_name", "_private")

    def __init__(self, name: str, secret: str) -> None:
        if not name:
            raise KeyFormatError("the API key name must not be empty")
        self._name = name
        self._private = _load_private_key(secret)
        self._algorithm = (
            "ES256" if isinstance(self._private, ec.EllipticCurvePrivateKey) else "EdDSA"
        )

    @property
    def name(self) -> str:
        """The key name, `organizations/{org_id}/apiKeys/{key_id}` (not secret)."""
        return self._name

    @property
    def algorithm(self) -> str:
        """The JWT `alg` this key signs with: ES256 or EdDSA."""
        return self._algorithm

    def sign(self, claims: dict[str, object], headers: dict[str, object]) -> str:
        """`claims` signed into a compact JWT with this key and `headers`."""
        return jwt.encode(claims, self._private, algorithm=self._algorithm, headers=headers)

    def __repr__(self) -> str:
        return f"ApiKey(name={self._name!r}, algorithm={self._algorithm!r}, secret=***)"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        # A key must not travel by serialisation.
        raise TypeError("ApiKey cannot be pickled")


def _load_private_key(secret: str) -> PrivateKey:
    text = secret.strip().replace("\\n", "\n")
    if text.startswith("-----BEGIN"):
        return _from_pem(text)
    return _from_base64_ed25519(text)


def _from_pem(text: str) -> PrivateKey:
    try:
        key = serialization.load_pem_private_key(text.encode("ascii"), password=None)
    except (ValueError, TypeError, UnicodeEncodeError):
        # `from None`: the parser's message might echo part of the secret.
        raise KeyFormatError("the PEM secret is not a readable private key") from None
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        return key
    raise KeyFormatError(f"unsupported key type {type(key).__name__}: need EC P-256 or Ed25519")


def _from_base64_ed25519(text: str) -> PrivateKey:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise KeyFormatError("the secret is neither PEM nor base64") from None
    if len(raw) not in (32, 64):
        raise KeyFormatError(f"an Ed25519 secret decodes to 32 or 64 bytes, got {len(raw)}")
    key = ed25519.Ed25519PrivateKey.from_private_bytes(raw[:32])
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    if len(raw) == 64 and raw[32:] != public:
        raise KeyFormatError("the Ed25519 secret's public half does not match its seed")
    return key


def rest_uri(method: str, host: str, path: str) -> str:
    """The `uri` claim: "GET api.coinbase.com/api/v3/brokerage/accounts" (query dropped)."""
    return f"{method.upper()} {host}{path.split('?', 1)[0]}"


def build_jwt(key: ApiKey, *, now_s: int, nonce: str, uri: str | None) -> str:
    """A JWT for one REST request (`uri` given) or one websocket message (`uri` None).

    Raises:
        ValueError: `nonce` is not lowercase hex.
    """
    if not _NONCE.fullmatch(nonce):
        raise ValueError("the JWT nonce must be lowercase hex")
    claims: dict[str, object] = {
        "sub": key.name,
        "iss": "cdp",
        "nbf": now_s,
        "exp": now_s + JWT_LIFETIME_S,
    }
    if uri is not None:
        claims["uri"] = uri
    return key.sign(claims, {"kid": key.name, "nonce": nonce})


class Signer:
    """Fresh JWTs from a key, on the system clock with a random nonce per token."""

    __slots__ = ("_clock", "_key", "_nonce")

    def __init__(
        self,
        key: ApiKey,
        *,
        clock: Callable[[], float] = time.time,
        nonce: Callable[[], str] = lambda: secrets.token_hex(_NONCE_BYTES),
    ) -> None:
        self._key = key
        self._clock = clock
        self._nonce = nonce

    def rest_jwt(self, method: str, host: str, path: str) -> str:
        """A token for one REST request to `host` + `path`."""
        return build_jwt(
            self._key,
            now_s=int(self._clock()),
            nonce=self._nonce(),
            uri=rest_uri(method, host, path),
        )

    def websocket_jwt(self) -> str:
        """A token for one websocket (un)subscribe message (no `uri`)."""
        return build_jwt(self._key, now_s=int(self._clock()), nonce=self._nonce(), uri=None)

    def __repr__(self) -> str:
        return f"Signer({self._key!r})"
