"""The private cattrs ``Converter`` shared by the venue wire models, and the decode boundary.

Venue messages arrive as JSON with terse wire keys (Binance's ``"p"`` for a
price). Each venue declares frozen attrs classes with readable names and
registers them here with their wire names; :data:`converter` then builds
(and un-builds, for fake servers and round-trip tests) those classes.

Two policies are decided once, here:

- **Cheap, strict leaves, no detailed validation.** The converter is made
  with ``detailed_validation=False``: cattrs then generates plain structure
  functions that raise the first ``KeyError``/``TypeError``/``ValueError``
  they meet instead of collecting every problem into an exception group.
  That keeps the hot path fast. The leaf hooks are strict instead of
  lenient: an ``int`` field takes a JSON integer only (not ``"123"``, not
  ``1.5``, not ``true``), a ``Decimal`` field takes a string only (never a
  binary float, which would smuggle in ``0.1000000000000000055...``) and
  must be finite, a ``str`` field takes a string, a ``bool`` a boolean, and
  a ``tuple[X, ...]`` a JSON array.
- **One decode boundary.** Whatever goes wrong while decoding untrusted
  input (a failure listed in :data:`DECODE_FAILURES`) becomes our
  :class:`~trio_venues.errors.DecodeError` through :func:`raise_decode_error`.
  cattrs' detailed errors are exception groups (``BaseValidationError``);
  they are flattened into the message and never escape, so callers never
  need ``except*``.
"""

from __future__ import annotations

import decimal
import types
import typing
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, NoReturn, TypeVar

import attrs
import cattrs
from cattrs.errors import BaseValidationError
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from .errors import DecodeError

__all__ = [
    "DECODE_FAILURES",
    "converter",
    "decimal_from_wire",
    "decimal_to_wire",
    "raise_decode_error",
    "register_wire_class",
    "slot_setters",
    "structure",
    "unstructure",
]

T = TypeVar("T")

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


def make_converter() -> cattrs.Converter:
    """Build a converter with the strict leaf hooks and no detailed validation."""
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
    return conv


#: The shared converter. Venue modules register their wire classes on import.
converter = make_converter()


def register_wire_class(
    cls: type[Any],
    wire_names: Mapping[str, str],
    *,
    structure_hooks: Mapping[str, Callable[[Any, Any], Any]] | None = None,
    unstructure_hooks: Mapping[str, Callable[[Any], Any]] | None = None,
) -> None:
    """Register ``cls`` on :data:`converter`, with its fields renamed to wire keys.

    Args:
        cls: a frozen attrs class.
        wire_names: attribute name -> wire key, for every attribute of ``cls``
            (e.g. ``{"price": "p"}``). Missing attributes are an error, so a
            new field cannot silently fall back to its Python name.
        structure_hooks: per-attribute hooks that replace the type's hook when
            decoding (e.g. a field derived from the event type).
        unstructure_hooks: per-attribute hooks used when encoding.
    """
    field_names = {a.name for a in attrs.fields(cls)}
    if set(wire_names) != field_names:
        raise TypeError(
            f"wire names for {cls.__name__} must cover exactly its fields: "
            f"missing {sorted(field_names - set(wire_names))}, "
            f"unknown {sorted(set(wire_names) - field_names)}"
        )
    structure_hooks = structure_hooks or {}
    unstructure_hooks = unstructure_hooks or {}
    # Typed as Any: cattrs' keyword overrides share **kwargs with its own flags.
    structure_overrides: dict[str, Any] = {
        name: override(rename=wire, struct_hook=structure_hooks.get(name))
        for name, wire in wire_names.items()
    }
    unstructure_overrides: dict[str, Any] = {
        name: override(rename=wire, unstruct_hook=unstructure_hooks.get(name))
        for name, wire in wire_names.items()
    }
    converter.register_structure_hook(
        cls, make_dict_structure_fn(cls, converter, **structure_overrides)
    )
    converter.register_unstructure_hook(
        cls, make_dict_unstructure_fn(cls, converter, **unstructure_overrides)
    )


def slot_setters(cls: type[Any]) -> tuple[Callable[[Any, Any], None], ...]:
    """The slot setters of ``cls``'s attrs fields, in field order, for hand-written decoders.

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


def structure(value: Any, cls: type[T]) -> T:
    """Build ``cls`` from decoded JSON ``value``; failures are :data:`DECODE_FAILURES`."""
    return converter.structure(value, cls)


def unstructure(obj: Any) -> Any:
    """The JSON-ready form of ``obj`` with wire keys and decimal strings."""
    return converter.unstructure(obj)


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
