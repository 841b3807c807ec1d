"""Binance request signing: the documented HMAC vectors, Ed25519/RSA round trips, hidden secrets."""

from __future__ import annotations

import base64
import copy
import json
import pickle
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from trio_venues.venues.binance import (
    Ed25519Signer,
    HmacSigner,
    RsaSigner,
    sign_params,
    signature_payload,
)

DATA = Path(__file__).parent / "data" / "binance"
VECTORS = json.loads((DATA / "hmac_signature_vectors.json").read_text(encoding="utf-8"))
API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
SECRET = VECTORS["secretKey"]


def params_of(payload: str) -> dict[str, str]:
    """The parameters spelled by a signed payload, in shuffled order."""
    pairs = [pair.split("=", 1) for pair in payload.split("&")]
    random.Random(7).shuffle(pairs)
    return dict(pairs)


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=["ascii", "non-ascii"])
def test_documented_hmac_vectors_reproduce_exactly(vector: dict[str, str]) -> None:
    """Both documented HMAC vectors: the payload rebuilds from params and signs identically."""
    params = params_of(vector["payload"])
    assert signature_payload(params) == vector["payload"]
    signer = HmacSigner(API_KEY, SECRET)
    assert signer.sign(vector["payload"].encode("utf-8")) == vector["signature"]
    timestamp = int(params.pop("timestamp"))
    recv_window = int(params.pop("recvWindow"))
    del params["apiKey"]
    signed = sign_params(params, signer, timestamp, recv_window)
    assert signed["signature"] == vector["signature"]
    assert signed["apiKey"] == API_KEY
    assert (signed["timestamp"], signed["recvWindow"]) == (timestamp, recv_window)


def test_the_docs_walkthrough_vector_with_new_order_resp_type() -> None:
    """The WS-API docs' step-by-step HMAC example (newOrderRespType=ACK) reproduces."""
    params = {
        "symbol": "BTCUSDT",
        "side": "SELL",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "0.01000000",
        "price": "52000.00",
        "newOrderRespType": "ACK",
    }
    signed = sign_params(params, HmacSigner(API_KEY, SECRET), 1645423376532, 100)
    assert signed["signature"] == "cc15477742bd704c29492d96c7ead9414dfd8e0ec4a00f947bb5bb454ddbd08a"


def test_payload_rule_skips_signature_and_spells_values_as_sent() -> None:
    """signature is excluded; bools are true/false, Decimals positional, ints decimal."""
    payload = signature_payload(
        {
            "b": True,
            "a": Decimal("1E-8"),
            "signature": "old",
            "c": 5,
            "d": False,
            "e": "x y",
        }
    )
    assert payload == "a=0.00000001&b=true&c=5&d=false&e=x y"


def test_sign_params_returns_a_new_dict_ready_to_send() -> None:
    """sign_params leaves the input alone, replaces a stale signature, sends Decimals as text."""
    original: dict[str, Any] = {"price": Decimal("0.10"), "signature": "stale"}
    signer = HmacSigner(API_KEY, SECRET)
    signed = sign_params(original, signer, 1645423376532)
    assert original == {"price": Decimal("0.10"), "signature": "stale"}
    assert list(signed) == ["price", "apiKey", "timestamp", "signature"]
    assert signed["price"] == "0.10"
    assert signed["signature"] == signer.sign(
        f"apiKey={API_KEY}&price=0.10&timestamp=1645423376532".encode()
    )
    logon = sign_params({}, signer, 1649729878532)
    assert set(logon) == {"apiKey", "timestamp", "signature"}


@pytest.mark.parametrize(
    ("params", "timestamp", "recv_window", "error"),
    [
        ({"price": 0.1}, 1, None, TypeError),
        ({"symbols": ["A"]}, 1, None, TypeError),
        ({"x": None}, 1, None, TypeError),
        ({"price": Decimal("NaN")}, 1, None, ValueError),
        ({"apiKey": "someone-else"}, 1, None, ValueError),
        ({}, 0, None, ValueError),
        ({}, True, None, ValueError),
        ({}, 1, 0, ValueError),
        ({}, 1, 60_001, ValueError),
        ({}, 1, Decimal("5000.1234"), ValueError),
        ({}, 1, 5000.5, TypeError),
    ],
)
def test_sign_params_refuses_what_it_cannot_sign_faithfully(
    params: dict[str, Any], timestamp: int, recv_window: Any, error: type[Exception]
) -> None:
    """Floats, lists, None, non-finite decimals, foreign keys and bad windows are refused."""
    with pytest.raises(error):
        sign_params(params, HmacSigner(API_KEY, SECRET), timestamp, recv_window)


def test_recv_window_accepts_three_decimals() -> None:
    """recvWindow may carry up to 3 decimals (as a Decimal) and is signed as written."""
    signed = sign_params({}, HmacSigner(API_KEY, SECRET), 1, Decimal("5000.125"))
    assert signed["recvWindow"] == "5000.125"


def test_ed25519_signatures_verify_with_the_public_key() -> None:
    """Ed25519 signing from PEM, raw bytes or a key object verifies with the public key."""
    key = ed25519.Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    raw = key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    # Full-width digits, as in Binance's non-ASCII example: the payload is UTF-8.
    payload = "apiKey=k&symbol=\uff11\uff12\uff13&timestamp=1".encode()
    for source in (pem, pem.decode(), raw, key):
        signer = Ed25519Signer("k", source)
        key.public_key().verify(base64.b64decode(signer.sign(payload)), payload)
    signed = sign_params({"symbol": "BTCUSDT"}, Ed25519Signer("k", pem), 1649729878532)
    key.public_key().verify(
        base64.b64decode(signed["signature"]),
        b"apiKey=k&symbol=BTCUSDT&timestamp=1649729878532",
    )


def test_encrypted_pem_keys_load_with_their_password() -> None:
    """An encrypted PKCS#8 PEM loads when the password is given."""
    key = ed25519.Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw"),
    )
    signer = Ed25519Signer("k", pem, password=b"pw")
    key.public_key().verify(base64.b64decode(signer.sign(b"x")), b"x")
    with pytest.raises(TypeError):
        Ed25519Signer("k", pem)


def test_rsa_signatures_verify_with_the_public_key() -> None:
    """RSA PKCS#1 v1.5 SHA-256 signatures (base64) verify with the public key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    payload = b"apiKey=k&price=52000.00&timestamp=1645423376532"
    for source in (pem, key):
        signature = base64.b64decode(RsaSigner("k", source).sign(payload))
        key.public_key().verify(signature, payload, padding.PKCS1v15(), hashes.SHA256())


def test_signers_refuse_the_wrong_key_type() -> None:
    """An RSA key given to Ed25519Signer (and vice versa) is refused with ValueError."""
    rsa_pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    ed_pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(ValueError, match="Ed25519"):
        Ed25519Signer("k", rsa_pem)
    with pytest.raises(ValueError, match="RSA"):
        RsaSigner("k", ed_pem)
    with pytest.raises(ValueError, match="empty"):
        HmacSigner("k", "")
    with pytest.raises(ValueError, match="api_key"):
        HmacSigner("", SECRET)


def test_repr_and_str_never_show_credentials() -> None:
    """repr/str show only the first 4 characters of the API key, never a secret."""
    key = ed25519.Ed25519PrivateKey.generate()
    raw = key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    signers = [
        HmacSigner(API_KEY, SECRET),
        Ed25519Signer(API_KEY, raw),
        RsaSigner(API_KEY, rsa.generate_private_key(public_exponent=65537, key_size=2048)),
    ]
    for signer in signers:
        for shown in (repr(signer), str(signer), f"{signer}", repr([signer])):
            assert "vmPU" in shown
            assert API_KEY not in shown
            assert API_KEY[4:12] not in shown
            assert SECRET[:8] not in shown
            assert raw.hex()[:8] not in shown
        assert not hasattr(signer, "__dict__")
    assert repr(HmacSigner("abc", "s")) == "HmacSigner(api_key='...')"


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_signers_refuse_pickling(protocol: int) -> None:
    """No signer pickles (its secret would be in the bytes); copies are the signer itself."""
    signers = [
        HmacSigner(API_KEY, SECRET),
        Ed25519Signer(API_KEY, ed25519.Ed25519PrivateKey.generate()),
        RsaSigner(API_KEY, rsa.generate_private_key(public_exponent=65537, key_size=1024)),
    ]
    for signer in signers:
        with pytest.raises(TypeError, match="cannot be pickled"):
            pickle.dumps(signer, protocol)
        assert copy.copy(signer) is signer
        assert copy.deepcopy([signer])[0] is signer
