"""Coinbase Advanced Trade JWTs: one fresh token per subscribe message.

A WebSocket JWT (``docs/venues/coinbase.md``, "Authentication") is a JWS in
compact form, ``base64url(header) . base64url(claims) . base64url(signature)``:

- header: ``{"alg": "ES256" | "EdDSA", "kid": <key name>, "nonce": <random hex>, "typ": "JWT"}``;
- claims: ``{"sub": <key name>, "iss": "cdp", "nbf": now, "exp": now + 120}``
  (whole seconds; no ``uri`` claim: WebSocket tokens are not tied to a path);
- ES256 for a CDP key that is an EC P-256 private key in PEM form (the
  signature is the 64-byte ``r || s`` of RFC 7518 section 3.4, not DER);
  EdDSA for an Ed25519 key, given as base64 of 32 or 64 raw bytes (the
  first 32 are the private key) or as PEM.

A token expires 2 minutes after ``nbf``: after that Coinbase treats the
connection's requests as unauthenticated, so the core builds one per
subscribe message. Time is an argument (``now``, seconds since the epoch);
nothing here reads a clock.

The private key never appears in ``repr``/``str``, and a signer refuses to
be pickled. Tokens are bearer credentials for two minutes: they are not
logged either.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import secrets
from typing import Any, Final, Literal, NoReturn

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

__all__ = [
    "JWT_ISSUER",
    "JWT_LIFETIME",
    "CoinbaseJwtSigner",
    "JwtError",
    "verify_jwt",
]

#: The ``iss`` claim of CDP API keys.
JWT_ISSUER: Final = "cdp"
#: Seconds from ``nbf`` to ``exp``: "JWTs expire after 2 minutes".
JWT_LIFETIME: Final = 120

Algorithm = Literal["ES256", "EdDSA"]

_P256_BYTES: Final = 32


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _json(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), sort_keys=False).encode("utf-8")


def _bad_key(what: str) -> NoReturn:
    # Never include the key text: the message may end up in a log.
    raise ValueError(
        f"unrecognised Coinbase private key ({what}): expected an EC P-256 private key in "
        "PEM form or an Ed25519 key as base64 of 32 or 64 bytes"
    )


def _load_key(
    private_key: str | bytes | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey,
) -> ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey:
    if isinstance(private_key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        key: Any = private_key
    else:
        text = private_key.decode("utf-8") if isinstance(private_key, bytes) else private_key
        if not isinstance(text, str):
            raise TypeError("the private key must be a str, bytes or a cryptography private key")
        # Keys pasted from JSON often carry literal "\n" escapes.
        text = text.strip().replace("\\n", "\n")
        if text.startswith("-----BEGIN"):
            try:
                key = serialization.load_pem_private_key(text.encode("ascii"), password=None)
            except (ValueError, TypeError):
                _bad_key("the PEM could not be read")
        else:
            try:
                raw = base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                _bad_key("neither PEM nor base64")
            if len(raw) not in (32, 64):
                _bad_key(f"base64 of {len(raw)} bytes")
            key = ed25519.Ed25519PrivateKey.from_private_bytes(raw[:32])
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if not isinstance(key.curve, ec.SECP256R1):
            _bad_key(f"an EC key on {key.curve.name}, not P-256")
        return key
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key
    _bad_key(f"a {type(key).__name__}")


class CoinbaseJwtSigner:
    """Builds Coinbase WebSocket JWTs with one CDP API key.

    Args:
        key_name: the key's name, ``organizations/{org}/apiKeys/{id}`` (the
            ``kid`` header and ``sub`` claim).
        private_key: the key's secret: an EC P-256 PEM (ES256), an Ed25519
            key as base64 of 32 or 64 bytes or PEM (EdDSA), or a loaded
            ``cryptography`` private key.

    Raises:
        ValueError: an empty key name, or a key of another kind or curve
            (the message never contains the key).
    """

    __slots__ = ("_key", "_key_name", "algorithm")

    def __init__(
        self,
        key_name: str,
        private_key: str | bytes | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey,
    ) -> None:
        if not isinstance(key_name, str) or not key_name:
            raise ValueError("key_name must be a non-empty str")
        self._key_name = key_name
        self._key = _load_key(private_key)
        #: ``"ES256"`` or ``"EdDSA"``, from the key's type
        self.algorithm: Algorithm = (
            "ES256" if isinstance(self._key, ec.EllipticCurvePrivateKey) else "EdDSA"
        )

    @property
    def key_name(self) -> str:
        """The key name (``kid`` and ``sub``)."""
        return self._key_name

    def public_key(self) -> ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey:
        """The public half, to verify tokens with (:func:`verify_jwt`)."""
        return self._key.public_key()

    def token(self, now: float, nonce: str | None = None) -> str:
        """A JWT valid from ``floor(now)`` for :data:`JWT_LIFETIME` seconds.

        Args:
            now: seconds since the epoch (the caller's wall clock).
            nonce: the ``nonce`` header; a fresh 32-hex-digit random value by default.
        """
        if not math.isfinite(now) or now < 0:
            raise ValueError(f"now must be a finite number of seconds since the epoch, not {now}")
        nbf = int(now)
        header = {
            "alg": self.algorithm,
            "kid": self._key_name,
            "nonce": nonce if nonce is not None else secrets.token_hex(16),
            "typ": "JWT",
        }
        claims = {"sub": self._key_name, "iss": JWT_ISSUER, "nbf": nbf, "exp": nbf + JWT_LIFETIME}
        signing_input = f"{_b64url(_json(header))}.{_b64url(_json(claims))}"
        data = signing_input.encode("ascii")
        if isinstance(self._key, ec.EllipticCurvePrivateKey):
            r, s = decode_dss_signature(self._key.sign(data, ec.ECDSA(hashes.SHA256())))
            signature = r.to_bytes(_P256_BYTES, "big") + s.to_bytes(_P256_BYTES, "big")
        else:
            signature = self._key.sign(data)
        return f"{signing_input}.{_b64url(signature)}"

    def __repr__(self) -> str:
        return f"CoinbaseJwtSigner(key_name={self._key_name!r}, algorithm={self.algorithm!r})"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("a CoinbaseJwtSigner holds a private key and cannot be pickled")


class JwtError(ValueError):
    """A token failed :func:`verify_jwt`: malformed, badly signed, or not valid at ``now``."""


def verify_jwt(
    token: str,
    public_key: ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey,
    *,
    now: float | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Check a Coinbase WebSocket JWT's form and signature; return ``(header, claims)``.

    The fake Coinbase checks each subscribe with this; tests use it to check
    what the signer built.

    Args:
        token: the compact JWS.
        public_key: the key to check the signature with.
        now: when given, also require ``nbf <= now < exp``.

    Raises:
        JwtError: what is wrong, never echoing the token.
    """
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 3:
        raise JwtError("not a compact JWS (three base64url parts)")
    try:
        header = json.loads(_b64url_decode(parts[0]))
        claims = json.loads(_b64url_decode(parts[1]))
        signature = _b64url_decode(parts[2])
    except (ValueError, binascii.Error) as exc:
        raise JwtError(f"undecodable token part ({type(exc).__name__})") from None
    if type(header) is not dict or type(claims) is not dict:
        raise JwtError("header and claims must be JSON objects")
    data = f"{parts[0]}.{parts[1]}".encode("ascii")
    alg = header.get("alg")
    try:
        if alg == "ES256" and isinstance(public_key, ec.EllipticCurvePublicKey):
            if len(signature) != 2 * _P256_BYTES:
                raise JwtError("an ES256 signature is 64 bytes")
            der = encode_dss_signature(
                int.from_bytes(signature[:_P256_BYTES], "big"),
                int.from_bytes(signature[_P256_BYTES:], "big"),
            )
            public_key.verify(der, data, ec.ECDSA(hashes.SHA256()))
        elif alg == "EdDSA" and isinstance(public_key, ed25519.Ed25519PublicKey):
            public_key.verify(signature, data)
        else:
            raise JwtError(f"algorithm {alg!r} does not match the key")
    except InvalidSignature:
        raise JwtError("bad signature") from None
    for name in ("kid", "nonce"):
        if type(header.get(name)) is not str or not header[name]:
            raise JwtError(f"header {name!r} missing")
    if claims.get("iss") != JWT_ISSUER or claims.get("sub") != header["kid"]:
        raise JwtError("claims 'iss' must be 'cdp' and 'sub' the key name")
    nbf, exp = claims.get("nbf"), claims.get("exp")
    if type(nbf) is not int or type(exp) is not int:
        raise JwtError("claims 'nbf' and 'exp' must be integers")
    if now is not None and not nbf <= now < exp:
        raise JwtError("the token is not valid at this time (expired or not yet valid)")
    return header, claims
