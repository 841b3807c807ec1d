"""The private cattrs ``Converter`` for the library's edges, and the dict-walking decode boundary.

The venues' wire models are msgspec Structs (:mod:`trio_venues._wirecodec`);
the library's own events, reasons, stats and config are attrs classes. This
module serves the edges that turn either into plain JSON values (the CLI's
JSON lines): :func:`make_converter` builds a cattrs converter whose
unstructure hooks handle both, with readable field names, ``Decimal`` as
exact positional strings and tuples as arrays.

It also keeps the decode boundary of code that walks already-parsed JSON by
hand (responses, acks): whatever goes wrong there (a failure listed in
:data:`DECODE_FAILURES`) becomes our :class:`~trio_venues.errors.DecodeError`
through :func:`raise_decode_error`. cattrs' detailed errors are exception
groups (``BaseValidationError``); they are flattened into the message and
never escape, so callers never need ``except*``.
"""

from __future__ import annotations

import decimal
import types
import typing
from collections.abc import Callable
from decimal import Decimal
from typing import Any, NoReturn

import attrs
import cattrs
import msgspec
from cattrs.errors import BaseValidationError

from .errors import DecodeError

__all__ = [
    "DECODE_FAILURES",
    "decimal_from_wire",
    "decimal_to_wire",
    "make_converter",
    "raise_decode_error",
    "slot_setters",
]

#: Exceptions that mean "this input does not have the expected shape".
#: ``ArithmeticError`` covers ``decimal.InvalidOperation``; ``ValueError``
#: covers ``orjson.JSONDecodeError``. ``BaseValidationError`` (an exception
#: group) only appears if a caller structures with detailed validation on.
DECODE_FAILURES: tuple[type[Exception], ...] = (
    KeyError,
    TypeError,
    ValueError,
    IndexError,
    AttributeError,
    ArithmeticError,
    BaseValidationError,
)


def decimal_from_wire(value: Any) -> Decimal:
    """Return the finite ``Decimal`` spelled by the JSON string ``value``.

    Raises:
        TypeError: ``value`` is not a string (a JSON number, null, ...).
        decimal.InvalidOperation: the string is not a number.
        ValueError: the number is NaN or infinite.
    """
    if type(value) is not str:
        raise TypeError(f"expected a decimal string, got {type(value).__name__}")
    result = Decimal(value)
    if not result.is_finite():
        raise ValueError(f"expected a finite decimal, got {value!r}")
    return result


def decimal_to_wire(value: Decimal) -> str:
    """Spell ``value`` the way venues do: positional notation, never an exponent."""
    return format(value, "f")


def _structure_decimal(value: Any, _: Any) -> Decimal:
    return decimal_from_wire(value)


def _structure_int(value: Any, _: Any) -> int:
    # ``type(...) is int`` on purpose: ``bool`` is a subclass of ``int``.
    if type(value) is not int:
        raise TypeError(f"expected an integer, got {type(value).__name__}")
    return value


def _structure_str(value: Any, _: Any) -> str:
    if type(value) is not str:
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _structure_bool(value: Any, _: Any) -> bool:
    if type(value) is not bool:
        raise TypeError(f"expected a boolean, got {type(value).__name__}")
    return value


def _is_homogeneous_tuple(type_: Any) -> bool:
    args = typing.get_args(type_)
    return typing.get_origin(type_) is tuple and len(args) == 2 and args[1] is Ellipsis


def _homogeneous_tuple_hook(type_: Any, conv: cattrs.Converter) -> Callable[[Any, Any], Any]:
    element_type = typing.get_args(type_)[0]
    element_hook = conv.get_structure_hook(element_type)

    def structure_tuple(value: Any, _: Any) -> tuple[Any, ...]:
        # A JSON string is iterable too; insist on an array.
        if type(value) is not list:
            raise TypeError(f"expected an array, got {type(value).__name__}")
        return tuple([element_hook(item, element_type) for item in value])

    return structure_tuple


def _is_struct(type_: Any) -> bool:
    return isinstance(type_, type) and issubclass(type_, msgspec.Struct)


def _struct_hook(type_: Any, conv: cattrs.Converter) -> Callable[[Any], Any]:
    names: tuple[str, ...] = type_.__struct_fields__

    def unstructure_struct(obj: Any) -> dict[str, Any]:
        # Readable attribute names (not the wire keys msgspec.to_builtins gives).
        return {name: conv.unstructure(getattr(obj, name)) for name in names}

    return unstructure_struct


def make_converter() -> cattrs.Converter:
    """Build a converter with the strict leaf hooks and no detailed validation.

    Un-building gives JSON-ready values: attrs classes and msgspec Structs
    become objects with their readable field names, ``Decimal`` an exact
    positional string, tuples arrays.
    """
    conv = cattrs.Converter(
        detailed_validation=False,
        forbid_extra_keys=False,
        # Un-built tuples become JSON arrays (lists), as they arrived.
        unstruct_collection_overrides={tuple: list},
    )
    conv.register_structure_hook(Decimal, _structure_decimal)
    conv.register_structure_hook(int, _structure_int)
    conv.register_structure_hook(str, _structure_str)
    conv.register_structure_hook(bool, _structure_bool)
    conv.register_structure_hook_factory(_is_homogeneous_tuple, _homogeneous_tuple_hook)
    conv.register_unstructure_hook(Decimal, decimal_to_wire)
    conv.register_unstructure_hook_factory(_is_struct, _struct_hook)
    return conv


def slot_setters(cls: type[Any]) -> tuple[Callable[[Any, Any], None], ...]:
    """The slot setters of ``cls``'s attrs fields, in field order, for hot-path builders.

    ``obj = object.__new__(cls)`` followed by ``setter(obj, value)`` for every
    field builds an instance without calling ``__init__``. attrs' frozen
    ``__init__`` binds ``object.__setattr__`` and calls it once per field;
    the slot descriptors' own setters cost about 0.2 us less per 7-field
    object (measured on the trade path, where that is ~10% of the per-message
    budget). The class stays frozen for everyone else: this writes the slots
    directly, as attrs' ``__init__`` does.

    The caller must pass every field, each in its final form: defaults,
    converters and validators do not run. So the class may not have validators
    or ``__attrs_pre_init__``/``__attrs_post_init__`` hooks, which would be
    silently skipped (converters are allowed: the decoder is their fast path).

    Raises:
        TypeError: ``cls`` is not a slotted attrs class, or has what would be skipped.
    """
    if not attrs.has(cls) or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__} is not a slotted attrs class")
    if hasattr(cls, "__attrs_pre_init__") or hasattr(cls, "__attrs_post_init__"):
        raise TypeError(f"{cls.__name__} has an init hook that building by slots would skip")
    fields = attrs.fields(cls)
    # Slots that are not fields (attrs' cached hash) would be left unset.
    extra = set(cls.__dict__["__slots__"]) - {f.name for f in fields} - {"__weakref__"}
    if extra:
        raise TypeError(f"{cls.__name__} has slots besides its fields: {sorted(extra)}")
    setters: list[Callable[[Any, Any], None]] = []
    for field in fields:
        if field.validator is not None:
            raise TypeError(f"{cls.__name__}.{field.name} has a validator")
        # The slot lives on the class that declared the field (a base, for inherited ones).
        descriptor = next(
            (k.__dict__[field.name] for k in cls.__mro__ if field.name in k.__dict__), None
        )
        if type(descriptor) is not types.MemberDescriptorType:
            raise TypeError(f"{cls.__name__}.{field.name} is not a slot")
        setters.append(descriptor.__set__)
    return tuple(setters)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, BaseValidationError):
        # Flatten the group into "what @ where" lines; the group itself stays here.
        return "; ".join(cattrs.transform_error(exc))
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}" if exc.args else "missing field"
    if isinstance(exc, decimal.InvalidOperation):
        return "a field is not a valid decimal number"
    return f"{type(exc).__name__}: {exc}"


def raise_decode_error(exc: BaseException, raw: str | bytes, what: str = "message") -> NoReturn:
    """Raise a :class:`~trio_venues.errors.DecodeError` describing why ``raw`` failed.

    Call it from an ``except DECODE_FAILURES as exc:`` block at the decode
    boundary. Plain exceptions are chained as ``__cause__`` for debugging; an
    exception group is described in the message and *not* chained, so it can
    never surface as a group.
    """
    error = DecodeError(f"could not decode {what}: {_describe(exc)}", raw)
    if isinstance(exc, BaseExceptionGroup):
        raise error from None
    raise error from exc
