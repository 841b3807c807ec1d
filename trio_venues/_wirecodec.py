"""Strict msgspec decoding for venue wire models: Decimal checks and one error type.

Every venue's ``_wire.py`` declares its messages as msgspec Structs built on
:class:`WireStruct` and decodes frames with :func:`decode_with`. What this
module guarantees, for every venue alike:

- **Prices and quantities are exact and sane.** msgspec parses a ``Decimal``
  field exactly from its JSON text (never via a float). :class:`WireStruct`
  then checks every ``Decimal`` field (and ``Decimal | None``) of each
  instance, decoded or built by hand: it must be finite (no NaN or Infinity
  in any spelling) and its adjusted exponent must lie within
  ±:data:`DECIMAL_EXPONENT_LIMIT`, so ``"1e9999999999"`` is an error instead
  of a value that makes user arithmetic raise ``decimal.Overflow`` (or makes
  ``format(x, "f")`` allocate gigabytes).
- **One error type naming the field.** Whatever is wrong with a frame
  (malformed JSON, a missing or mistyped field, a bad decimal) becomes
  :class:`~trio_venues.errors.DecodeError` whose message ends with msgspec's
  path of the field, e.g. ``... - at `$.data.p```. The error never chains
  msgspec's exception or keeps the whole document.

What a ``Decimal`` field accepts, measured (see ``docs/performance.md``):
the hot path leaves the number syntax to Python's ``Decimal`` (as msgspec
does), because a full grammar check per field costs more than the rest of a
trade's decode. So besides the venues' plain notation (``"97012.35"``,
``"-0.5"``) a ``Decimal`` field also takes exponent notation inside the
bound (``"1.5e-3"``), leading/trailing whitespace, ``_`` between digits,
non-ASCII Unicode digits and a JSON number; each gives exactly the
``Decimal`` its text spells, never a rounded value. :func:`plain_decimal`
enforces the strict grammar where a value is parsed outside msgspec (exact
string book levels, REST payloads).

Usage, in a venue's ``_wire.py`` (``frozen=True`` is written in every class
statement so that mypy sees it)::

    from decimal import Decimal

    import msgspec

    from ..._wirecodec import WireStruct, decode_with

    class Trade(WireStruct, frozen=True, gc=False, rename={"symbol": "instId", "price": "px"}):
        symbol: str
        price: Decimal  # checked: finite, bounded exponent

    class TradePush(WireStruct, frozen=True, gc=False):
        data: tuple[Trade, ...]

    _TRADE_PUSH = msgspec.json.Decoder(TradePush)

    def decode_trades(text: str) -> TradePush:
        # DecodeError("could not decode OKX trade: Invalid decimal string - at `$.data[0].px`")
        return decode_with(_TRADE_PUSH, text, "OKX trade")

Hand msgspec the ``str`` the frame decoder already validated as UTF-8:
decoding from ``str`` is faster than from ``bytes``, and from ``bytes``
msgspec does not validate UTF-8 inside fields it skips.
"""

from __future__ import annotations

import inspect
import json
import re
import types
import typing
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any, Final, NoReturn, TypeVar

import msgspec

from .errors import DecodeError

__all__ = [
    "DECODE_ERRORS",
    "DECIMAL_EXPONENT_LIMIT",
    "WireStruct",
    "check_decimal",
    "decode_error",
    "decode_with",
    "loads_unique",
    "plain_decimal",
]

T = TypeVar("T")

#: A ``Decimal`` on the wire must have ``-LIMIT <= value.adjusted() <= LIMIT``
#: (the adjusted exponent is the power of ten of its first digit). Real prices
#: and sizes stay far inside it (1e-18 wei to 1e15 token supplies).
DECIMAL_EXPONENT_LIMIT: Final = 100

# The adjusted exponents a wire Decimal may have.
_EXPONENTS: Final = range(-DECIMAL_EXPONENT_LIMIT, DECIMAL_EXPONENT_LIMIT + 1)
# The venues' plain notation: ASCII digits, an optional sign, an optional point.
_PLAIN: Final = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
# Longer texts are not a price: 2 * limit digits plus sign and point.
_MAX_PLAIN_LENGTH: Final = 2 * DECIMAL_EXPONENT_LIMIT + 2


def _describe(value: Any) -> str:
    return f"{value!r:.60}"


def check_decimal(value: Any, field: str = "value") -> Decimal:
    """Return ``value`` if it is a finite ``Decimal`` within the exponent bound.

    Raises:
        TypeError: ``value`` is not a ``Decimal``.
        ValueError: it is NaN, infinite, or its adjusted exponent is outside
            ±:data:`DECIMAL_EXPONENT_LIMIT`; the message names ``field``.
    """
    if type(value) is not Decimal:
        raise TypeError(f"Expected `decimal`, got `{type(value).__name__}` for `{field}`")
    if not value.is_finite():
        raise ValueError(f"Expected a finite decimal, got {_describe(value)} for `{field}`")
    if not -DECIMAL_EXPONENT_LIMIT <= value.adjusted() <= DECIMAL_EXPONENT_LIMIT:
        raise ValueError(
            f"Expected a decimal between 1e-{DECIMAL_EXPONENT_LIMIT} and "
            f"1e{DECIMAL_EXPONENT_LIMIT} in magnitude, got {_describe(value)} for `{field}`"
        )
    return value


def plain_decimal(text: Any, field: str = "value") -> Decimal:
    """Parse a price or quantity in the venues' plain notation, strictly.

    Accepts ASCII digits with an optional sign and an optional point
    (``"97012.35"``, ``"-0.5"``, ``"10"``, ``".5"``), within the exponent
    bound of :func:`check_decimal`; the result is exactly ``Decimal(text)``.

    Raises:
        TypeError: ``text`` is not a ``str``.
        ValueError: anything else: exponents, NaN/Infinity, whitespace,
            underscores, non-ASCII digits, an empty string, or out of bounds.
    """
    if type(text) is not str:
        raise TypeError(f"Expected a decimal string, got `{type(text).__name__}` for `{field}`")
    if len(text) > _MAX_PLAIN_LENGTH or _PLAIN.fullmatch(text) is None:
        raise ValueError(f"Expected a plain decimal string, got {_describe(text)} for `{field}`")
    return check_decimal(Decimal(text), field)


# -- WireStruct: Decimal fields checked in a generated __post_init__ ---------------------

_DECIMAL_NAMES: Final = frozenset({"Decimal", "decimal.Decimal"})
_OPTIONAL_DECIMAL_NAMES: Final = frozenset(
    {
        "Decimal|None",
        "None|Decimal",
        "decimal.Decimal|None",
        "None|decimal.Decimal",
        "Optional[Decimal]",
        "typing.Optional[Decimal]",
    }
)


def _decimal_kind(annotation: Any, where: str) -> str | None:
    """``"decimal"``, ``"optional"`` or ``None`` for an annotation; refuse hidden Decimals."""
    if isinstance(annotation, str):
        text = "".join(annotation.split())
        if text in _DECIMAL_NAMES:
            return "decimal"
        if text in _OPTIONAL_DECIMAL_NAMES:
            return "optional"
        found = "Decimal" in annotation
    else:
        if annotation is Decimal:
            return "decimal"
        args = set(typing.get_args(annotation))
        if args == {Decimal, types.NoneType}:
            return "optional"
        found = "Decimal" in repr(annotation)
    if found:
        # A Decimal inside a container would escape the checks: use a nested
        # WireStruct (or exact strings) instead.
        raise TypeError(
            f"{where}: a Decimal must be a field of its own (Decimal or Decimal | None), "
            f"not {annotation!r}"
        )
    return None


def _fields_to_check(cls: type[Any]) -> list[tuple[str, bool]]:
    """(attribute, optional) of every Decimal field of a Struct class being created.

    Read from the annotations: msgspec fills in ``__struct_fields__`` only
    after ``__init_subclass__`` has run.
    """
    annotations: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        annotations.update(inspect.get_annotations(klass))
    checked = []
    for name, annotation in annotations.items():
        kind = _decimal_kind(annotation, f"{cls.__name__}.{name}")
        if kind is not None:
            checked.append((name, kind == "optional"))
    return checked


def _slow_check(self: Any, fields: tuple[tuple[str, bool], ...]) -> None:
    """Find the field the fast check refused and raise an error that names it."""
    cls = type(self)
    wire_names = dict(zip(cls.__struct_fields__, cls.__struct_encode_fields__, strict=True))
    for name, optional in fields:
        value = getattr(self, name)
        if optional and value is None:
            continue
        try:
            check_decimal(value, name)
        except (TypeError, ValueError) as exc:
            # msgspec appends the path of this object (" - at `$.data`");
            # decode_error() joins the two into "$.data.p".
            raise type(exc)(f"{exc} - at `$.{wire_names[name]}`") from None


def _make_post_init(
    fields: tuple[tuple[str, bool], ...], after: Callable[[Any], None] | None
) -> Callable[[Any], None]:
    # Straight-line code, generated per class: about 12 bytecodes per Decimal
    # on the hot path (a trade's two cost ~0.1 us); the precise message is
    # only worked out when a check fails. ``x in range`` is one C-level test.
    lines = ["def __post_init__(self):", "    try:"]
    indent = "        "
    for name, optional in fields:
        lines.append(f"{indent}v = self.{name}")
        check = "v.is_finite() and v.adjusted() in _EXPONENTS"
        lines.append(f"{indent}if {'v is None or ' if optional else ''}{check}:")
        indent += "    "
    lines.append(f"{indent}{'return _after(self)' if after is not None else 'return'}")
    lines += ["    except AttributeError:", "        pass", "    _slow_check(self, _fields)"]
    if after is not None:
        lines.append("    _after(self)")
    namespace: dict[str, Any] = {
        "_slow_check": _slow_check,
        "_fields": fields,
        "_after": after,
        "_EXPONENTS": _EXPONENTS,
    }
    # Generated from the class's own field names only.
    exec("\n".join(lines), namespace)
    post_init: Callable[[Any], None] = namespace["__post_init__"]
    post_init.__qualname__ = "WireStruct.__post_init__"
    post_init._wirecodec_generated = True  # type: ignore[attr-defined]
    return post_init


class WireStruct(msgspec.Struct, frozen=True, gc=False):
    """Base class of venue wire models: frozen, no GC tracking, Decimal fields checked.

    Subclasses write ``frozen=True, gc=False`` in their class statement too
    (mypy reads it there) and ``rename={"readable": "wireKey"}`` for terse
    wire keys. Every ``Decimal`` or ``Decimal | None`` field is checked with
    :func:`check_decimal` after each decode and each construction (a
    ``__post_init__`` generated for the class; one the class writes itself
    runs after the checks). A ``Decimal`` inside a container annotation is
    refused when the class is created, since it would not be checked.
    ``gc=False`` is safe because wire models hold only JSON values and other
    wire models, never a reference back to themselves.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields = tuple(_fields_to_check(cls))
        # The class's own hook (or an inherited one) runs after the checks;
        # a generated hook is replaced, keeping the hook it wrapped.
        own = getattr(cls, "__post_init__", None)
        if getattr(own, "_wirecodec_generated", False):
            own = own._wirecodec_after  # type: ignore[union-attr]
        if not fields:
            if own is not None:
                cls.__post_init__ = own  # type: ignore[attr-defined]
            return
        post_init = _make_post_init(fields, own)
        post_init._wirecodec_after = own  # type: ignore[attr-defined]
        cls.__post_init__ = post_init  # type: ignore[attr-defined]


# -- errors --------------------------------------------------------------------------------

# "... - at `$.p` - at `$.data`": a nested path from _slow_check, then msgspec's.
_NESTED_PATH: Final = re.compile(r" - at `\$((?:\.|\[)[^`]*)` - at `(\$[^`]*)`$")


def decode_error(exc: BaseException, raw: str | bytes, what: str = "message") -> DecodeError:
    """Our :class:`~trio_venues.errors.DecodeError` for a failure decoding ``raw``.

    msgspec's messages name the field by its path (``Expected `int`, got `str`
    - at `$.data.t```); the message says ``could not decode <what>: <that>``.
    Raise it outside the ``except`` block (or ``from None``): nothing may keep
    the whole document alive.
    """
    text = str(exc)
    match = _NESTED_PATH.search(text)
    if match is not None:
        text = f"{text[: match.start()]} - at `{match.group(2)}{match.group(1)}`"
    elif isinstance(exc, RecursionError):
        text = "the JSON document is nested too deeply"
    elif not isinstance(exc, msgspec.MsgspecError):
        text = f"{type(exc).__name__}: {text}"
    return DecodeError(f"could not decode {what}: {text}", raw)


#: What :func:`decode_with` turns into :class:`~trio_venues.errors.DecodeError`.
DECODE_ERRORS: Final = (msgspec.ValidationError, msgspec.DecodeError, RecursionError)


def decode_with(decoder: msgspec.json.Decoder[T], text: str, what: str = "message") -> T:
    """Decode ``text`` with ``decoder``; every failure is a ``DecodeError`` naming the field.

    Raises:
        DecodeError: malformed JSON, a wrong shape, or a Decimal that fails
            :func:`check_decimal` (the message ends with the field's path).
    """
    try:
        return decoder.decode(text)
    except DECODE_ERRORS as exc:
        error = decode_error(exc, text, what)
    # Raised outside the handler: no __context__ keeps msgspec's error alive.
    raise error


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"duplicate key {key!r} in a JSON object")
            seen.add(key)
    return result


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def _bounded_decimal(text: str) -> Decimal:
    return check_decimal(Decimal(text), "number")


def loads_unique(text: str | bytes, what: str = "message") -> Any:
    """Parse JSON like ``json.loads``, refusing duplicate keys, NaN and Infinity literals.

    For slow paths that must route by a key (``"stream"``, ``"e"``) and so
    cannot let a second copy of that key win silently. Numbers with a point or
    an exponent become exact ``Decimal`` values, within the bounds of
    :func:`check_decimal` (``1e400`` is an error, not a float infinity).

    Raises:
        DecodeError: not JSON, a duplicate key, a number out of bounds, or
            nested too deeply.
    """
    try:
        return json.loads(
            text,
            object_pairs_hook=_unique_pairs,
            parse_float=_bounded_decimal,
            parse_constant=_no_constant,
        )
    except (ValueError, RecursionError, InvalidOperation) as exc:
        error = decode_error(exc, text, what)
    raise error
