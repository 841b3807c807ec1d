"""Credentials and Secret never show the secret: repr, str, format, pickling, copying."""

from __future__ import annotations

import copy
import logging
import pickle

import pytest

from trio_venues import Credentials
from trio_venues.credentials import Secret

SECRET = "top-secret-value-0123456789"
PASSPHRASE = "pass-phrase-xyz"


def test_repr_str_and_format_hide_the_secret() -> None:
    """repr/str/f-strings show the key abbreviated and the secrets as <hidden>."""
    creds = Credentials("abcdefgh-key", SECRET, PASSPHRASE)
    for text in (repr(creds), str(creds), f"{creds}", f"{creds!r}", f"{creds.secret}"):
        assert SECRET not in text
        assert PASSPHRASE not in text
        assert "abcdefgh-key" not in text
    assert repr(creds) == "Credentials(api_key='abcd...', secret=<hidden>, passphrase=<hidden>)"
    assert repr(Credentials("k", SECRET)) == "Credentials(api_key='...', secret=<hidden>)"
    assert creds.secret.reveal() == SECRET
    assert creds.passphrase is not None
    assert creds.passphrase.reveal() == PASSPHRASE


def test_logging_shows_no_secret(caplog: pytest.LogCaptureFixture) -> None:
    """Logging the credentials at DEBUG, as %r, %s or in extra, shows no secret."""
    caplog.set_level(logging.DEBUG)
    creds = Credentials("key-123456", SECRET)
    log = logging.getLogger("trio_venues.test")
    log.debug("creds %r %s", creds, creds, extra={"creds": creds})
    log.debug("secret %s", creds.secret)
    assert SECRET not in caplog.text
    assert "<hidden>" in caplog.text


@pytest.mark.parametrize(
    "action",
    [pickle.dumps, copy.copy, copy.deepcopy],
    ids=["pickle", "copy", "deepcopy"],
)
def test_pickling_and_copying_raise(action: object) -> None:
    """Neither Credentials nor Secret can be pickled or copied (the error names no secret)."""
    creds = Credentials("key-123456", SECRET)
    for obj in (creds, creds.secret):
        with pytest.raises(TypeError, match="holds a secret") as info:
            action(obj)  # type: ignore[operator]
        assert SECRET not in str(info.value)


def test_immutable_comparable_and_validated() -> None:
    """Credentials are immutable, compare by value, and refuse empty or non-str values."""
    creds = Credentials("key", SECRET)
    with pytest.raises(AttributeError):
        creds.api_key = "other"
    assert creds == Credentials("key", Secret(SECRET))
    assert creds != Credentials("key", SECRET + "x")
    assert Credentials("key", SECRET, "p") != Credentials("key", SECRET)
    with pytest.raises(ValueError, match="api_key"):
        Credentials("", SECRET)
    with pytest.raises(ValueError, match="secret"):
        Credentials("key", "")
    with pytest.raises(TypeError):
        Credentials("key", b"bytes")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        hash(creds)
