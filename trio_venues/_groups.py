"""The one exception-group policy of trio_venues, used at every API boundary.

A nursery inside a context manager wraps whatever escapes it in an exception
group. At our boundary (``connect()``, ``retry_scope``) a group with one real
error is unwrapped into that error; ``Cancelled`` leaves are by-products;
two or more real errors at once are a bug (``InternalError``).
"""

from __future__ import annotations

from typing import NoReturn

import trio

from .errors import InternalError

__all__ = ["single_exception", "unwrap_group"]


def _leaves(group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    out: list[BaseException] = []
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            out.extend(_leaves(exc))
        else:
            out.append(exc)
    return out


def single_exception(group: BaseExceptionGroup[BaseException]) -> BaseException | None:
    """The one meaningful exception of ``group``, or ``None`` when there are several.

    ``Cancelled`` leaves are by-products when something else failed; with no
    other leaf, the first ``Cancelled`` is the answer, so that re-raising it
    lets the enclosing cancel scope catch it.
    """
    leaves = _leaves(group)
    real = [e for e in leaves if not isinstance(e, trio.Cancelled)]
    if len(real) == 1:
        return real[0]
    if not real:
        return leaves[0]
    return None


def unwrap_group(group: BaseExceptionGroup[BaseException]) -> NoReturn:
    """Re-raise the one meaningful exception of ``group`` as itself.

    Two or more real errors at once are a bug: ``InternalError``.
    """
    exc = single_exception(group)
    if exc is not None:
        raise exc from exc.__cause__
    raise InternalError(
        "several errors at once inside a trio_venues connection; please report this with the "
        "traceback"
    ) from group
