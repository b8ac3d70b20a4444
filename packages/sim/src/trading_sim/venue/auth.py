"""JWT verification, the venue's half of EXCHANGE_AND_LLM_APIS.md §1.

A token must be signed by the configured PUBLIC key, with `alg` matching the key's
type (ES256 for EC P-256, EdDSA for Ed25519: never "none" and never another algorithm,
which would let a forger choose how the signature is checked). Its header carries
`kid` = the key name; its claims `iss` "cdp", `sub` = the key name, `nbf` and `exp` in
whole seconds with a lifetime of at most 120 s, and for REST `uri` =
"<METHOD> <host><path>" exactly (no scheme, no query string; host as the client
addressed it). Time is checked against the venue clock (not PyJWT's), with a small
leeway for skew on `nbf` only: an expired token is expired.

A refusal raises `AuthRejected` with a reason for the venue's own log; the client only
ever sees Coinbase's bare 401 `Unauthorized` (§1), as a real venue tells a forger
nothing.
"""

from collections.abc import Mapping
from typing import Final

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

__all__ = [
    "MAX_LIFETIME_S",
    "AuthRejected",
    "JwtVerifier",
    "KeyConfigError",
    "load_public_key",
]

MAX_LIFETIME_S: Final = 120
PublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey


class KeyConfigError(ValueError):
    """The configured public key is not an EC P-256 or Ed25519 public key."""


class AuthRejected(Exception):
    """A request's credentials were refused; `reason` is for the venue's log only."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def load_public_key(pem: bytes) -> PublicKey:
    """A SubjectPublicKeyInfo PEM (`BEGIN PUBLIC KEY`), EC P-256 or Ed25519.

    Raises:
        KeyConfigError: unreadable, or another key type or curve.
    """
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise KeyConfigError(f"the public key PEM is not readable: {exc}") from None
    if isinstance(key, ed25519.Ed25519PublicKey):
        return key
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return key
    raise KeyConfigError(f"unsupported public key {type(key).__name__}: need EC P-256 or Ed25519")


class JwtVerifier:
    """Checks CDP JWTs against one public key (and its name, when configured)."""

    def __init__(
        self, public_key: PublicKey, *, key_name: str | None = None, leeway_s: int = 5
    ) -> None:
        if leeway_s < 0:
            raise ValueError("the JWT leeway must not be negative")
        self._key = public_key
        self._algorithm = "ES256" if isinstance(public_key, ec.EllipticCurvePublicKey) else "EdDSA"
        self._name = key_name
        self._leeway_s = leeway_s

    def rest(
        self, authorization: str | None, *, method: str, host: str, path: str, now_s: int
    ) -> str:
        """The key name of a REST request's `Authorization: Bearer <jwt>`.

        Raises:
            AuthRejected: missing, malformed, badly signed, expired or for another uri.
        """
        if authorization is None or not authorization.startswith("Bearer "):
            raise AuthRejected("no Bearer token")
        claims = self._claims(authorization.removeprefix("Bearer "), now_s)
        expected = f"{method.upper()} {host}{path}"
        if claims.get("uri") != expected:
            raise AuthRejected(f"uri claim {claims.get('uri')!r} is not {expected!r}")
        return str(claims["sub"])

    def websocket(self, token: str | None, *, now_s: int) -> str:
        """The key name of a websocket subscribe's `jwt` (same claims, no `uri`).

        Raises:
            AuthRejected: as `rest`, apart from the uri.
        """
        if not token:
            raise AuthRejected("no jwt in the subscribe message")
        return str(self._claims(token, now_s)["sub"])

    def _claims(self, token: str, now_s: int) -> Mapping[str, object]:
        try:
            header = jwt.get_unverified_header(token)
            claims: dict[str, object] = jwt.decode(
                token,
                self._key,
                algorithms=[self._algorithm],
                # Times are checked below on the venue clock, not PyJWT's wall clock.
                options={
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "verify_aud": False,
                    "require": ["sub", "iss", "nbf", "exp"],
                },
            )
        except jwt.PyJWTError as exc:
            raise AuthRejected(f"token refused: {type(exc).__name__}: {exc}") from None
        self._check_identity(header, claims)
        self._check_times(claims, now_s)
        return claims

    def _check_identity(self, header: Mapping[str, object], claims: Mapping[str, object]) -> None:
        if claims.get("iss") != "cdp":
            raise AuthRejected(f"iss {claims.get('iss')!r} is not 'cdp'")
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub:
            raise AuthRejected("sub is not a key name")
        if header.get("kid") != sub:
            raise AuthRejected("the kid header is not the sub claim")
        if self._name is not None and sub != self._name:
            raise AuthRejected(f"sub {sub!r} is not the configured key")

    def _check_times(self, claims: Mapping[str, object], now_s: int) -> None:
        nbf, exp = claims.get("nbf"), claims.get("exp")
        if not isinstance(nbf, int) or not isinstance(exp, int):
            raise AuthRejected("nbf and exp must be integer seconds")
        if exp - nbf > MAX_LIFETIME_S or exp <= nbf:
            raise AuthRejected(f"lifetime {exp - nbf} s is not in (0, {MAX_LIFETIME_S}]")
        if now_s >= exp:
            raise AuthRejected(f"expired at {exp}, now {now_s}")
        if now_s + self._leeway_s < nbf:
            raise AuthRejected(f"not valid before {nbf}, now {now_s}")
