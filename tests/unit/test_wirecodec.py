"""The venue-neutral msgspec helpers: checked Decimals, one DecodeError naming the field."""

from __future__ import annotations

import contextlib
import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from trio_venues._wirecodec import (
    DECIMAL_EXPONENT_LIMIT,
    WireStruct,
    check_decimal,
    decode_with,
    loads_unique,
    plain_decimal,
)
from trio_venues.errors import DecodeError


class _Fill(WireStruct, frozen=True, gc=False, rename={"price": "p", "fee": "n"}):
    price: Decimal
    fee: Decimal | None = None


class _Push(WireStruct, frozen=True, gc=False, tag_field="e", tag="fill"):
    id: int
    fills: tuple[_Fill, ...]
    size: Decimal


class _Envelope(WireStruct, frozen=True, gc=False):
    stream: str
    data: _Push


_DECODER = msgspec.json.Decoder(_Envelope)


def _frame(price: Any = "1.5", size: Any = "2", fee: Any = None) -> str:
    fill: dict[str, Any] = {"p": price}
    if fee is not None:
        fill["n"] = fee
    return json.dumps(
        {"stream": "x", "data": {"e": "fill", "id": 1, "fills": [fill], "size": size}}
    )


def _in_bounds(value: Decimal) -> bool:
    return value.is_finite() and abs(value.adjusted()) <= DECIMAL_EXPONENT_LIMIT


def test_decimals_decode_exactly_from_their_text() -> None:
    """A decimal string becomes the Decimal it spells, digits and exponent kept."""
    message = decode_with(_DECODER, _frame("97012.35000000", "0.00100", "-0.5"))
    fill = message.data.fills[0]
    assert fill.price.as_tuple() == Decimal("97012.35000000").as_tuple()
    assert message.data.size.as_tuple() == Decimal("0.00100").as_tuple()
    assert fill.fee == Decimal("-0.5")


@pytest.mark.parametrize(
    ("price", "size", "path", "words"),
    [
        ("NaN", "1", "$.data.fills[0].p", "finite"),
        ("1", "-Infinity", "$.data.size", "finite"),
        ("sNaN", "1", "$.data.fills[0].p", "finite"),
        ("1e9999999999", "1", "$.data.fills[0].p", "1e100"),
        ("1", "1e-101", "$.data.size", "1e-100"),
        ("abc", "1", "$.data.fills[0].p", "Invalid decimal"),
        (True, "1", "$.data.fills[0].p", "Expected `decimal`, got `bool`"),
        ("1", None, "$.data.size", "got `null`"),
    ],
)
def test_bad_decimals_are_decode_errors_naming_the_field(
    price: Any, size: Any, path: str, words: str
) -> None:
    """NaN, infinities, absurd exponents and non-numbers fail with the field's path."""
    with pytest.raises(DecodeError) as caught:
        decode_with(_DECODER, _frame(price, size), "test fill")
    message = str(caught.value)
    assert message.startswith("could not decode test fill: ")
    assert message.endswith(f" - at `{path}`")
    assert words in message


def test_an_optional_decimal_is_checked_when_present() -> None:
    """``Decimal | None`` fields take null and are checked otherwise."""
    assert decode_with(_DECODER, _frame()).data.fills[0].fee is None
    with pytest.raises(DecodeError, match=r"finite .* - at `\$\.data\.fills\[0\]\.n`$"):
        decode_with(_DECODER, _frame(fee="Infinity"))


def test_decode_errors_keep_no_reference_to_the_parser_error() -> None:
    """The DecodeError chains nothing that could keep the document alive."""
    with pytest.raises(DecodeError) as caught:
        decode_with(_DECODER, '{"stream": "x", "data": [' + "1," * 5000 + "]}")
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None
    assert len(caught.value.raw) <= 1024


def test_instances_built_by_hand_are_checked_too() -> None:
    """Construction runs the same checks: a NaN or a float is refused at once."""
    with pytest.raises(ValueError, match="finite decimal, got Decimal\\('NaN'\\) for `price`"):
        _Fill(Decimal("NaN"))
    with pytest.raises(TypeError, match="got `float` for `price`"):
        _Fill(1.5)  # type: ignore[arg-type]
    fill = _Fill(Decimal("1.5"))
    with pytest.raises(ValueError, match="for `fee`"):
        msgspec.structs.replace(fill, fee=Decimal("Infinity"))
    assert msgspec.structs.replace(fill, fee=Decimal("0.1")).fee == Decimal("0.1")


def test_a_class_hook_runs_after_the_decimal_checks() -> None:
    """A ``__post_init__`` the class writes itself still runs, after the checks."""
    seen: list[Decimal] = []

    class Quote(WireStruct, frozen=True, gc=False):
        bid: Decimal

        def __post_init__(self) -> None:
            seen.append(self.bid)

    class Subquote(Quote, frozen=True, gc=False):
        ask: Decimal = Decimal(0)

    Quote(Decimal("1"))
    Subquote(Decimal("2"), Decimal("3"))
    with pytest.raises(ValueError, match="for `ask`"):
        Subquote(Decimal("4"), Decimal("NaN"))
    assert seen == [Decimal("1"), Decimal("2")]


def test_a_decimal_hidden_in_a_container_is_refused_at_class_creation() -> None:
    """``tuple[Decimal, ...]`` would escape the checks, so the class is refused."""
    with pytest.raises(TypeError, match="a Decimal must be a field of its own"):

        class Levels(WireStruct, frozen=True, gc=False):
            prices: tuple[Decimal, ...]


def test_plain_decimal_takes_only_the_venues_notation() -> None:
    """Digits, sign and point only: no exponent, space, underscore or Unicode digit."""
    assert plain_decimal("97012.35000000").as_tuple() == Decimal("97012.35000000").as_tuple()
    assert plain_decimal("-0.5") == Decimal("-0.5")
    assert plain_decimal("+10") == Decimal(10)
    assert plain_decimal(".5") == Decimal("0.5")
    for text in ["1e5", " 1", "1 ", "1_0", "\u0661", "NaN", "inf", "", ".", "+", "1.2.3", "--1"]:
        with pytest.raises(ValueError, match="plain decimal string"):
            plain_decimal(text, "p")
    with pytest.raises(ValueError, match="1e100"):
        plain_decimal("1" * 102)
    with pytest.raises(TypeError, match="got `int` for `q`"):
        plain_decimal(1, "q")


def test_check_decimal_names_the_field() -> None:
    """check_decimal() passes good values through and names the field otherwise."""
    assert check_decimal(Decimal("1E+100")) == Decimal("1E+100")
    with pytest.raises(ValueError, match="for `price`"):
        check_decimal(Decimal("1E+101"), "price")


def test_loads_unique_refuses_duplicate_keys_and_constants() -> None:
    """The slow-path parser refuses a second copy of a key, NaN and Infinity."""
    assert loads_unique('{"a": 1.50, "b": [1, 2]}') == {"a": Decimal("1.50"), "b": [1, 2]}
    with pytest.raises(DecodeError, match="duplicate key 'stream'"):
        loads_unique('{"stream": "a@trade", "data": {}, "stream": "b@trade"}')
    with pytest.raises(DecodeError, match="NaN is not JSON"):
        loads_unique('{"a": NaN}')
    with pytest.raises(DecodeError, match="nested too deeply"):
        loads_unique("[" * 100_000 + "]" * 100_000)


# -- properties: hostile input gives an exact Decimal or a DecodeError, never a crash ------

_NUMBERISH = st.text(
    alphabet=st.sampled_from(list("0123456789.+-eE_ nNaIifty\t\u0661\u0969\uff11sS")), max_size=14
)
_HOSTILE_PRICE = st.one_of(
    _NUMBERISH,
    st.text(max_size=20),
    st.builds(
        lambda m, e: f"{m}e{e}",
        st.decimals(allow_nan=False, allow_infinity=False, places=3),
        st.integers(-(10**12), 10**12),
    ),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
)


def _expected(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if _in_bounds(value) else None


def _decode_price(text: str) -> Decimal | DecodeError:
    try:
        return decode_with(_DECODER, _frame(price=text)).data.fills[0].price
    except DecodeError as exc:
        return exc


@settings(max_examples=400, deadline=None)
@given(_HOSTILE_PRICE)
@example("1e9999999999")
@example("1e-9999999999")
@example(" \t1.5")
@example("1_000.5")
@example("\u0661\u0662")
@example("-0")
def test_hostile_price_strings_decode_exactly_or_fail_cleanly(text: str) -> None:
    """Any price string is the exact Decimal it spells, or a DecodeError naming the field."""
    expected = _expected(text)
    outcome = _decode_price(text)
    if isinstance(outcome, DecodeError):
        assert expected is None, f"{text!r} was refused: {outcome}"
        assert str(outcome).endswith("- at `$.data.fills[0].p`")
    else:
        assert expected is not None, f"{text!r} was accepted as {outcome!r}"
        assert outcome.as_tuple() == expected.as_tuple()


@settings(max_examples=300, deadline=None)
@given(_HOSTILE_PRICE)
def test_plain_decimal_accepts_exactly_its_grammar(text: str) -> None:
    """plain_decimal() gives Decimal(text) for the plain grammar in bounds, else ValueError."""
    grammar = re.fullmatch(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", text) is not None
    expected = _expected(text) if grammar else None
    try:
        value = plain_decimal(text)
    except ValueError:
        assert expected is None
        return
    assert expected is not None
    assert value.as_tuple() == expected.as_tuple()


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["stream", "data", "e", "id", "fills", "p", "n", "size", "x"]),
            children,
            max_size=6,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(_JSON, st.integers(0, 200), st.text(max_size=3))
def test_hostile_json_documents_decode_or_fail_cleanly(document: Any, cut: int, junk: str) -> None:
    """Any JSON document, or a mangled one, decodes or is a DecodeError."""
    text = json.dumps(document)
    for candidate in (text, text[:cut] + junk + text[cut:], _frame(size=document)):
        with contextlib.suppress(DecodeError):
            decode_with(_DECODER, candidate)
