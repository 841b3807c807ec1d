"""API credentials that never show themselves: :class:`Credentials` and :class:`Secret`.

A private connection needs a key and a secret (and on some venues a
passphrase). They travel from the user to the venue core, which signs with
them; on the way they must not leak into a log line, a ``repr``, an exception
message, a pickle or a recording. So the secret parts are held as
:class:`Secret` objects: ``repr``/``str``/``format`` show ``<hidden>``,
pickling and copying raise ``TypeError``, and only :meth:`Secret.reveal`
hands out the text, at the one place that signs.

``Credentials(api_key, secret, passphrase=None)``: ``api_key`` is the key's
public identifier (shown abbreviated in ``repr``); ``secret`` is the signing
secret (an HMAC secret, or a PEM private key for Ed25519/ECDSA keys, such as
Coinbase's key or Binance's Ed25519 key); ``passphrase`` is OKX's.
"""

from __future__ import annotations

import hmac
from typing import Any, NoReturn

__all__ = ["Credentials", "Secret"]

_HIDDEN = "<hidden>"


def _no_pickle(obj: object) -> NoReturn:
    raise TypeError(
        f"{type(obj).__name__} cannot be pickled or copied: it holds a secret. Pass the "
        "credentials to each process from its own configuration instead"
    )


class Secret:
    """A secret string that shows as ``<hidden>`` and cannot be pickled.

    Equality is constant-time (:func:`hmac.compare_digest`); a ``Secret`` is
    not hashable, so it cannot end up as a dict key in some log of keys.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"a secret must be a str, not {type(value).__name__}")
        if not value:
            raise ValueError("a secret must not be empty")
        self._value = value

    def reveal(self) -> str:
        """The secret's text: call it only where the secret is used (signing)."""
        return self._value

    def __repr__(self) -> str:
        return _HIDDEN

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return _HIDDEN

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    __hash__ = None  # type: ignore[assignment]

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        _no_pickle(self)

    def __getstate__(self) -> NoReturn:
        _no_pickle(self)


def _secret(value: str | Secret) -> Secret:
    return value if isinstance(value, Secret) else Secret(value)


def _mask(api_key: str) -> str:
    return f"{api_key[:4]}..." if len(api_key) > 4 else "..."


class Credentials:
    """An API key with its secret (and a passphrase where the venue has one).

    ``repr`` and ``str`` show the key abbreviated and the secrets as
    ``<hidden>``; pickling or copying raises ``TypeError``. Venue cores get
    them through :class:`~trio_venues._core.SendContext` and read the secret
    with ``credentials.secret.reveal()``.

    Args:
        api_key: the key's identifier (Coinbase: the key name
            ``organizations/.../apiKeys/...``).
        secret: the signing secret: an HMAC secret, or a PEM private key.
        passphrase: the key's passphrase (OKX), if any.

    Raises:
        TypeError: a value is not a ``str`` (or a ``Secret``).
        ValueError: the key or the secret is empty.
    """

    __slots__ = ("api_key", "passphrase", "secret")

    api_key: str
    secret: Secret
    passphrase: Secret | None

    def __init__(
        self, api_key: str, secret: str | Secret, passphrase: str | Secret | None = None
    ) -> None:
        if not isinstance(api_key, str):
            raise TypeError(f"api_key must be a str, not {type(api_key).__name__}")
        if not api_key:
            raise ValueError("api_key must not be empty")
        object.__setattr__(self, "api_key", api_key)
        object.__setattr__(self, "secret", _secret(secret))
        object.__setattr__(self, "passphrase", None if passphrase is None else _secret(passphrase))

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError("Credentials are immutable")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError("Credentials are immutable")

    @property
    def masked_key(self) -> str:
        """The key abbreviated for display: its first four characters and ``...``."""
        return _mask(self.api_key)

    def __repr__(self) -> str:
        passphrase = "" if self.passphrase is None else f", passphrase={_HIDDEN}"
        return f"Credentials(api_key={self.masked_key!r}, secret={_HIDDEN}{passphrase})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Credentials):
            return NotImplemented
        return (
            self.api_key == other.api_key
            and self.secret == other.secret
            and self.passphrase == other.passphrase
        )

    __hash__ = None  # type: ignore[assignment]

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        _no_pickle(self)

    def __getstate__(self) -> NoReturn:
        _no_pickle(self)
