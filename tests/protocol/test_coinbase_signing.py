"""Coinbase JWTs: ES256 and EdDSA tokens verified with the public key; secrets never shown."""

from __future__ import annotations

import base64
import json
import logging
import pickle

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from trio_venues.venues.coinbase import (
    JWT_LIFETIME,
    CoinbaseJwtSigner,
    JwtError,
    verify_jwt,
)

KEY_NAME = "organizations/0f0e0d0c/apiKeys/1a2b3c4d"
NOW = 1_788_746_278.75


def ec_pem(key: ec.EllipticCurvePrivateKey) -> str:
    """The key as the SEC1 PEM a CDP key file holds."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


def part(token: str, index: int) -> dict[str, object]:
    """Decode one JSON part of a compact JWS."""
    segment = token.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))  # type: ignore[no-any-return]


def test_es256_token_verifies_with_the_public_key() -> None:
    """An EC P-256 PEM key gives an ES256 token with the documented header and claims."""
    private = ec.generate_private_key(ec.SECP256R1())
    signer = CoinbaseJwtSigner(KEY_NAME, ec_pem(private))
    token = signer.token(NOW, nonce="00ff")
    header, claims = verify_jwt(token, private.public_key(), now=NOW)
    assert header == {"alg": "ES256", "kid": KEY_NAME, "nonce": "00ff", "typ": "JWT"}
    assert claims == {"sub": KEY_NAME, "iss": "cdp", "nbf": 1_788_746_278, "exp": 1_788_746_398}
    assert signer.algorithm == "ES256"
    # The signature is the 64-byte r || s form, not DER.
    signature = token.split(".")[2]
    assert len(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))) == 64


def test_pem_with_escaped_newlines_is_accepted() -> None:
    """A PEM pasted from a JSON key file with literal \\n escapes loads the same key."""
    private = ec.generate_private_key(ec.SECP256R1())
    escaped = ec_pem(private).replace("\n", "\\n")
    token = CoinbaseJwtSigner(KEY_NAME, escaped).token(NOW)
    verify_jwt(token, private.public_key(), now=NOW)


@pytest.mark.parametrize("raw_length", [32, 64])
def test_ed25519_base64_key_gives_eddsa_token(raw_length: int) -> None:
    """An Ed25519 key as base64 of 32 or 64 bytes (first 32 = private key) signs EdDSA."""
    private = ed25519.Ed25519PrivateKey.generate()
    raw = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    public_raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    secret = base64.b64encode(raw if raw_length == 32 else raw + public_raw).decode()
    signer = CoinbaseJwtSigner(KEY_NAME, secret)
    assert signer.algorithm == "EdDSA"
    header, claims = verify_jwt(signer.token(NOW), private.public_key(), now=NOW)
    assert header["alg"] == "EdDSA"
    assert claims["exp"] == claims["nbf"] + JWT_LIFETIME


def test_ed25519_pem_key() -> None:
    """An Ed25519 PKCS#8 PEM is accepted too."""
    private = ed25519.Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    verify_jwt(CoinbaseJwtSigner(KEY_NAME, pem).token(NOW), private.public_key(), now=NOW)


def test_two_tokens_two_minutes_apart_differ_and_each_is_valid_only_in_its_window() -> None:
    """A JWT per message: tokens built 120 s apart differ; the first has expired by then."""
    private = ec.generate_private_key(ec.SECP256R1())
    signer = CoinbaseJwtSigner(KEY_NAME, ec_pem(private))
    first = signer.token(NOW)
    second = signer.token(NOW + 120)
    assert first != second
    assert part(first, 0)["nonce"] != part(second, 0)["nonce"]
    verify_jwt(first, private.public_key(), now=NOW + 119)
    verify_jwt(second, private.public_key(), now=NOW + 120)
    with pytest.raises(JwtError, match="expired"):
        verify_jwt(first, private.public_key(), now=NOW + 120)
    with pytest.raises(JwtError, match="not yet valid"):
        verify_jwt(second, private.public_key(), now=NOW)


def test_nonce_is_fresh_random_hex() -> None:
    """Without an explicit nonce each token gets 32 new hex digits."""
    signer = CoinbaseJwtSigner(KEY_NAME, ec_pem(ec.generate_private_key(ec.SECP256R1())))
    nonces = {part(signer.token(NOW), 0)["nonce"] for _ in range(20)}
    assert len(nonces) == 20
    assert all(isinstance(n, str) and len(n) == 32 and int(n, 16) >= 0 for n in nonces)


def test_verify_rejects_a_token_signed_by_another_key() -> None:
    """The wrong key, a tampered claim or a mismatched algorithm fail verification."""
    private = ec.generate_private_key(ec.SECP256R1())
    token = CoinbaseJwtSigner(KEY_NAME, ec_pem(private)).token(NOW)
    with pytest.raises(JwtError, match="bad signature"):
        verify_jwt(token, ec.generate_private_key(ec.SECP256R1()).public_key())
    head, _claims, signature = token.split(".")
    forged = base64.urlsafe_b64encode(
        json.dumps({"sub": "someone", "iss": "cdp", "nbf": 0, "exp": 10**10}).encode()
    )
    with pytest.raises(JwtError, match="bad signature"):
        verify_jwt(f"{head}.{forged.decode().rstrip('=')}.{signature}", private.public_key())
    with pytest.raises(JwtError, match="does not match"):
        verify_jwt(token, ed25519.Ed25519PrivateKey.generate().public_key())
    with pytest.raises(JwtError, match="three"):
        verify_jwt("a.b", private.public_key())


def test_other_key_kinds_are_refused_without_echoing_the_key() -> None:
    """A P-384 key, garbage or a short base64 string is a ValueError that hides the key."""
    p384 = ec_pem(ec.generate_private_key(ec.SECP384R1()))
    for bad in (p384, "not a key at all!", base64.b64encode(b"x" * 16).decode()):
        with pytest.raises(ValueError, match="unrecognised Coinbase private key") as info:
            CoinbaseJwtSigner(KEY_NAME, bad)
        assert bad not in str(info.value)
    with pytest.raises(ValueError, match="key_name"):
        CoinbaseJwtSigner("", p384)


def test_secret_never_in_repr_str_pickle_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    """repr/str show the key name only, pickling refuses, and DEBUG logs never carry the key."""
    caplog.set_level(logging.DEBUG)
    private = ec.generate_private_key(ec.SECP256R1())
    pem = ec_pem(private)
    body = "".join(pem.splitlines()[1:-1])
    signer = CoinbaseJwtSigner(KEY_NAME, pem)
    signer.token(NOW)
    for shown in (repr(signer), str(signer), f"{signer}", caplog.text):
        assert body[:40] not in shown
        assert "PRIVATE" not in shown
    assert KEY_NAME in repr(signer)
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(signer)


def test_time_is_an_argument() -> None:
    """nbf is the whole second of the given time; a negative or NaN time is refused."""
    private = ec.generate_private_key(ec.SECP256R1())
    signer = CoinbaseJwtSigner(KEY_NAME, ec_pem(private))
    assert part(signer.token(59.999), 1)["nbf"] == 59
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="now"):
            signer.token(bad)
