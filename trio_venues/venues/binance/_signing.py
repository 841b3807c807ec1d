"""Signing Binance WebSocket-API requests: HMAC-SHA256, Ed25519 and RSA keys.

The signed payload [BN-A "SIGNED request security"; ``docs/venues/binance.md``
section 7]: take every request parameter except ``signature`` (``apiKey`` and
``timestamp`` included), sort by name, join ``name=value`` with ``&``, with no
percent-encoding, and encode as UTF-8. Then:

- HMAC: hex(HMAC-SHA256(secret, payload)) (Binance compares it case-insensitively);
- RSA: base64(RSASSA-PKCS1-v1_5 with SHA-256);
- Ed25519: base64(Ed25519 signature). ``session.logon`` takes Ed25519 keys only.

Values are written as they are sent in the JSON request: ``str`` as is,
``int`` in decimal, ``bool`` as ``true``/``false``, ``Decimal`` in positional
notation (and sent as that string). Other types (floats, lists, None) are
refused, because their text form on the server is not ours to guess.

Credentials never appear in ``repr``/``str``: signers show the first four
characters of the API key only, and keep the secret in a private slot.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, NoReturn, Protocol, Self

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from ..._codec import decimal_to_wire
from ...credentials import Credentials

__all__ = [
    "Ed25519Signer",
    "HmacSigner",
    "RsaSigner",
    "Signer",
    "sign_params",
    "signature_payload",
    "signer_from_credentials",
]

#: Binance's largest ``recvWindow``, in milliseconds [BN-A "Timing security"].
MAX_RECV_WINDOW_MS = 60_000


class Signer(Protocol):
    """Signs Binance request payloads with one API key."""

    @property
    def api_key(self) -> str:
        """The API key sent as ``apiKey`` (public, but still shown abbreviated)."""
        ...

    def sign(self, payload: bytes) -> str:
        """The ``signature`` parameter for ``payload``."""
        ...


def _masked(api_key: str) -> str:
    return f"{api_key[:4]}..." if len(api_key) > 4 else "..."


def _check_api_key(api_key: str) -> str:
    if not isinstance(api_key, str) or not api_key:
        raise ValueError("api_key must be a non-empty str")
    return api_key


def _key_bytes(key: str | bytes) -> bytes:
    return key.encode() if isinstance(key, str) else bytes(key)


class _NoPickle:
    """Signers hold secrets: pickling one (a process pool, a cache, a crash dump) must fail.

    ``copy.copy``/``deepcopy`` return the signer itself (it is immutable), so
    only serialisation is refused.
    """

    __slots__ = ()

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        raise TypeError(
            f"{type(self).__name__} holds a secret key and cannot be pickled; "
            "build a new signer from your key store in the other process"
        )

    def __reduce__(self) -> NoReturn:
        self.__reduce_ex__(2)

    def __copy__(self) -> Self:
        return self

    def __deepcopy__(self, memo: Any) -> Self:
        return self


class HmacSigner(_NoPickle):
    """HMAC-SHA256 signing with an API key and its secret key.

    Args:
        api_key: the API key.
        secret: the secret key (``str`` is used as its ASCII/UTF-8 bytes).
    """

    __slots__ = ("_api_key", "_secret")

    def __init__(self, api_key: str, secret: str | bytes) -> None:
        self._api_key = _check_api_key(api_key)
        secret_bytes = _key_bytes(secret)
        if not secret_bytes:
            raise ValueError("the HMAC secret must not be empty")
        self._secret = secret_bytes

    @property
    def api_key(self) -> str:
        """The API key."""
        return self._api_key

    def sign(self, payload: bytes) -> str:
        """Lower-case hex HMAC-SHA256 of ``payload``."""
        return hmac.new(self._secret, payload, hashlib.sha256).hexdigest()

    def __repr__(self) -> str:
        return f"HmacSigner(api_key={_masked(self._api_key)!r})"

    __str__ = __repr__


def _load_private_key(key: str | bytes, password: bytes | None) -> Any:
    data = _key_bytes(key)
    if data.lstrip().startswith(b"-----BEGIN"):
        return serialization.load_pem_private_key(data, password=password)
    return serialization.load_der_private_key(data, password=password)


class Ed25519Signer(_NoPickle):
    """Ed25519 signing: the key type Binance recommends, and the only one for ``session.logon``.

    Args:
        api_key: the API key registered with the public key.
        private_key: a PKCS#8 PEM (``str`` or ``bytes``), DER bytes, the 32
            raw private bytes, or an ``Ed25519PrivateKey``.
        password: the PEM/DER password, if the key is encrypted.
    """

    __slots__ = ("_api_key", "_key")

    def __init__(
        self,
        api_key: str,
        private_key: str | bytes | ed25519.Ed25519PrivateKey,
        *,
        password: bytes | None = None,
    ) -> None:
        self._api_key = _check_api_key(api_key)
        if isinstance(private_key, ed25519.Ed25519PrivateKey):
            key: Any = private_key
        elif isinstance(private_key, bytes) and len(private_key) == 32:
            key = ed25519.Ed25519PrivateKey.from_private_bytes(private_key)
        else:
            key = _load_private_key(private_key, password)
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise ValueError(f"expected an Ed25519 private key, got {type(key).__name__}")
        self._key = key

    @property
    def api_key(self) -> str:
        """The API key."""
        return self._api_key

    def sign(self, payload: bytes) -> str:
        """Base64 Ed25519 signature of ``payload``."""
        return base64.b64encode(self._key.sign(payload)).decode("ascii")

    def __repr__(self) -> str:
        return f"Ed25519Signer(api_key={_masked(self._api_key)!r})"

    __str__ = __repr__


class RsaSigner(_NoPickle):
    """RSA signing (RSASSA-PKCS1-v1_5, SHA-256).

    Args:
        api_key: the API key registered with the public key.
        private_key: a PEM (``str`` or ``bytes``), DER bytes, or an ``RSAPrivateKey``.
        password: the PEM/DER password, if the key is encrypted.
    """

    __slots__ = ("_api_key", "_key")

    def __init__(
        self,
        api_key: str,
        private_key: str | bytes | rsa.RSAPrivateKey,
        *,
        password: bytes | None = None,
    ) -> None:
        self._api_key = _check_api_key(api_key)
        key = (
            private_key
            if isinstance(private_key, rsa.RSAPrivateKey)
            else _load_private_key(private_key, password)
        )
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError(f"expected an RSA private key, got {type(key).__name__}")
        self._key = key

    @property
    def api_key(self) -> str:
        """The API key."""
        return self._api_key

    def sign(self, payload: bytes) -> str:
        """Base64 PKCS#1 v1.5 SHA-256 signature of ``payload``."""
        signature = self._key.sign(payload, padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(signature).decode("ascii")

    def __repr__(self) -> str:
        return f"RsaSigner(api_key={_masked(self._api_key)!r})"

    __str__ = __repr__


def _wire_value(name: str, value: Any) -> tuple[Any, str]:
    """(the value to send in JSON, its text in the signed payload)."""
    if isinstance(value, bool):
        return value, "true" if value else "false"
    if isinstance(value, str):
        return value, value
    if isinstance(value, int):
        return value, str(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"parameter {name!r} is not a finite number: {value}")
        text = decimal_to_wire(value)
        return text, text
    raise TypeError(
        f"cannot sign parameter {name!r} of type {type(value).__name__}; "
        "use str, int, bool or Decimal (never float)"
    )


def signature_payload(params: Mapping[str, Any]) -> str:
    """The text Binance signs: all params but ``signature``, sorted, ``k=v`` joined by ``&``."""
    return "&".join(
        f"{name}={_wire_value(name, params[name])[1]}"
        for name in sorted(params)
        if name != "signature"
    )


def sign_params(
    params: Mapping[str, Any],
    signer: Signer,
    timestamp_ms: int,
    recv_window: int | Decimal | None = None,
) -> dict[str, Any]:
    """Return ``params`` with ``apiKey``, ``timestamp``, [``recvWindow``] and ``signature`` added.

    ``params`` is not modified. A ``signature`` already present is replaced;
    an ``apiKey`` other than the signer's is refused. ``Decimal`` values come
    back as the strings that were signed, so the JSON sent matches the
    signature byte for byte.

    Args:
        params: the request parameters.
        signer: an :class:`HmacSigner`, :class:`Ed25519Signer` or :class:`RsaSigner`.
        timestamp_ms: the current time in ms (or µs) since the epoch; the
            caller reads the clock, keeping this function pure.
        recv_window: how long the request stays valid, in ms (up to 60000,
            up to 3 decimals as a ``Decimal``); ``None`` uses Binance's 5000.

    Raises:
        ValueError: a conflicting ``apiKey``, a ``recvWindow`` out of range.
        TypeError: a parameter type that cannot be signed (see module docs).
    """
    if isinstance(timestamp_ms, bool) or not isinstance(timestamp_ms, int) or timestamp_ms <= 0:
        raise ValueError(f"timestamp_ms must be a positive int, not {timestamp_ms!r}")
    existing_key = params.get("apiKey")
    if existing_key is not None and existing_key != signer.api_key:
        raise ValueError("params carry an apiKey that is not the signer's")
    signed: dict[str, Any] = {}
    for name, value in params.items():
        if name != "signature":
            signed[name] = _wire_value(name, value)[0]
    signed["apiKey"] = signer.api_key
    signed["timestamp"] = timestamp_ms
    if recv_window is not None:
        if isinstance(recv_window, bool) or not 0 < recv_window <= MAX_RECV_WINDOW_MS:
            raise ValueError(
                f"recv_window must be in (0, {MAX_RECV_WINDOW_MS}] ms, not {recv_window!r}"
            )
        exponent = recv_window.as_tuple().exponent if isinstance(recv_window, Decimal) else 0
        if isinstance(exponent, int) and exponent < -3:
            raise ValueError(f"recv_window has at most 3 decimals, not {recv_window}")
        signed["recvWindow"] = _wire_value("recvWindow", recv_window)[0]
    signed["signature"] = signer.sign(signature_payload(signed).encode("utf-8"))
    return signed


def signer_from_credentials(credentials: Credentials) -> Signer:
    """The signer for ``credentials``: a PEM secret is an Ed25519 (else RSA) key, text an HMAC one.

    Raises:
        ValueError: a PEM that is neither an Ed25519 nor an RSA private key.
    """
    secret = credentials.secret.reveal()
    if "-----BEGIN" not in secret:
        return HmacSigner(credentials.api_key, secret)
    try:
        return Ed25519Signer(credentials.api_key, secret)
    except (TypeError, ValueError):
        pass
    try:
        return RsaSigner(credentials.api_key, secret)
    except (TypeError, ValueError):
        raise ValueError(
            "the credentials' PEM secret is neither an Ed25519 nor an RSA private key"
        ) from None
