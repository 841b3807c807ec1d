"""Names that moved to a venue's folder, kept at their old place for one release.

The shared modules name no venue; the deprecated aliases that still bring a
venue's names there live here instead, as a table. A module whose old names
moved calls :func:`moved_names` for its ``__getattr__`` (the old module-level
names) and :func:`attach_moved_methods` for old class methods, so that
``from trio_venues.book import BinanceRules`` and
``DepthDiff.from_binance(data)`` keep working with a ``DeprecationWarning``
naming the new place. Nothing here imports a venue until an old name is used.

Static type checkers do not see these aliases: the warning is the runtime's,
the error the checker's. Remove an entry when its release has passed.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Mapping
from typing import Any, Final

__all__ = ["attach_moved_methods", "moved_names"]

_REMOVAL: Final = "the old name will be removed in the next release"

#: ``(old module, old name) -> (new module, new name)``: module-level names.
MOVED_NAMES: Final[Mapping[tuple[str, str], tuple[str, str]]] = {
    ("trio_venues.book", "BinanceRules"): ("trio_venues.venues.binance", "BinanceRules"),
}

#: ``(old module, class, method) -> (new module, function)``: class methods that
#: became functions; the function takes the method's arguments (without ``cls``).
MOVED_METHODS: Final[Mapping[tuple[str, str, str], tuple[str, str]]] = {
    ("trio_venues.book", "DepthDiff", "from_binance"): (
        "trio_venues.venues.binance",
        "depth_diff_from_binance",
    ),
    ("trio_venues.book", "DepthSnapshot", "from_binance"): (
        "trio_venues.venues.binance",
        "depth_snapshot_from_binance",
    ),
}


def _new(module: str, name: str) -> Any:
    return getattr(importlib.import_module(module), name)


def moved_names(module: str) -> Callable[[str], Any]:
    """The ``__getattr__`` of ``module``: its moved names, each with a ``DeprecationWarning``."""

    def __getattr__(name: str) -> Any:
        target = MOVED_NAMES.get((module, name))
        if target is None:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        new_module, new_name = target
        warnings.warn(
            f"{module}.{name} moved to {new_module}.{new_name}; {_REMOVAL}",
            DeprecationWarning,
            stacklevel=2,
        )
        return _new(new_module, new_name)

    return __getattr__


def _moved_method(old: str, new_module: str, new_name: str) -> classmethod[Any, ..., Any]:
    def alias(cls: type, *args: Any, **kwargs: Any) -> Any:
        warnings.warn(
            f"{old} moved to {new_module}.{new_name}; {_REMOVAL}",
            DeprecationWarning,
            stacklevel=2,
        )
        return _new(new_module, new_name)(*args, **kwargs)

    alias.__name__ = old.rsplit(".", 1)[-1]
    alias.__doc__ = f"Deprecated: use ``{new_module}.{new_name}``."
    return classmethod(alias)


def attach_moved_methods(module: str, classes: Mapping[str, type]) -> None:
    """Give ``module``'s classes (by name) their moved class methods, as deprecated aliases."""
    for (old_module, class_name, method), (new_module, new_name) in MOVED_METHODS.items():
        if old_module == module:
            alias = _moved_method(f"{module}.{class_name}.{method}", new_module, new_name)
            setattr(classes[class_name], method, alias)
