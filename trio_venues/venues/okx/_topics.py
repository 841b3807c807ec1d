"""OKX topics: ``"<channel>:<instId>"`` strings mapped both ways to OKX's argument objects.

OKX subscribes to argument objects (``{"channel": "trades", "instId":
"BTC-USDT"}``); trio_venues names each one with a string, the topic, that is
also ``Message.topic`` of its data. The spelling (``docs/venues/okx.md``,
"Topics"):

=====================================  =================================================
topic                                  argument
=====================================  =================================================
``trades:BTC-USDT``                    ``{"channel": "trades", "instId": "BTC-USDT"}``
``candle1m:BTC-USDT``                  ``{"channel": "candle1m", "instId": "BTC-USDT"}``
``orders:SPOT``                        ``{"channel": "orders", "instType": "SPOT"}``
``orders:SWAP:instFamily=BTC-USD``     ``{... "instType": "SWAP", "instFamily": "BTC-USD"}``
``orders:SPOT:instId=BTC-USDT``        ``{... "instType": "SPOT", "instId": "BTC-USDT"}``
``account``                            ``{"channel": "account"}``
``account:ccy=BTC``                    ``{"channel": "account", "ccy": "BTC"}``
=====================================  =================================================

After the channel come, separated by ``:``: the ``instType`` bare when there
is one (``SPOT``, ``MARGIN``, ``SWAP``, ``FUTURES``, ``OPTION``, ``ANY``), else
the ``instId`` bare; then every other key as ``key=value``, in the order
``instFamily``, ``instId``, ``ccy``. Only that canonical spelling is accepted,
so that a topic always equals the ``Message.topic`` of its data; the
``ValueError`` for another spelling names the canonical one. ``uid``, which
OKX adds to the argument of private pushes, is not part of a topic.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from ._wire import INST_TYPES, Arg

__all__ = ["arg_key", "arg_topic", "dict_topic", "topic_arg"]

# Argument keys written as key=value, in this order, after the bare part.
_KEYED: Final = ("instFamily", "instId", "ccy")
_ALLOWED_KEYS: Final = frozenset({"instType", *_KEYED})


def _check_part(value: str, what: str, topic: str) -> str:
    if not value or any(ch in ":=" or ch.isspace() for ch in value):
        raise ValueError(f"invalid {what} {value!r} in OKX topic {topic!r}")
    return value


def _spell(channel: str, fields: Mapping[str, str]) -> str:
    parts = [channel]
    inst_type = fields.get("instType")
    keyed = list(_KEYED)
    if inst_type is not None:
        parts.append(inst_type)
    elif "instId" in fields:
        parts.append(fields["instId"])
        keyed.remove("instId")
    parts.extend(f"{key}={fields[key]}" for key in keyed if key in fields)
    return ":".join(parts)


def topic_arg(topic: str) -> dict[str, str]:
    """The OKX argument object of ``topic`` (see the module docstring).

    Raises:
        TypeError: ``topic`` is not a ``str``.
        ValueError: an empty channel or part, an unknown ``key=``, a key given
            twice, or a spelling other than the canonical one (the message
            gives the canonical spelling).
    """
    if not isinstance(topic, str):
        raise TypeError(f"an OKX topic is a str, not {type(topic).__name__}")
    channel, *parts = topic.split(":")
    _check_part(channel, "channel", topic)
    fields: dict[str, str] = {}
    for index, part in enumerate(parts):
        key, sep, value = part.partition("=")
        if not sep:
            if index != 0:
                raise ValueError(
                    f"OKX topic {topic!r}: only the first part after the channel may be bare "
                    "(an instType or an instId); write the others as key=value"
                )
            key = "instType" if part in INST_TYPES else "instId"
            value = part
        elif key not in _ALLOWED_KEYS or key == "instType":
            raise ValueError(
                f"OKX topic {topic!r}: unknown key {key!r}; use instFamily=, instId= or ccy= "
                "(the instType is written bare, e.g. 'orders:SPOT')"
            )
        if key in fields:
            raise ValueError(f"OKX topic {topic!r}: {key} given twice")
        fields[key] = _check_part(value, key, topic)
    canonical = _spell(channel, fields)
    if canonical != topic:
        raise ValueError(f"OKX topic {topic!r} is spelt {canonical!r}")
    return {"channel": channel, **fields}


def arg_topic(arg: Arg) -> str:
    """The topic of a decoded argument (``uid`` left out)."""
    fields: dict[str, str] = {}
    if arg.inst_type is not None:
        fields["instType"] = arg.inst_type
    if arg.inst_family is not None:
        fields["instFamily"] = arg.inst_family
    if arg.inst_id is not None:
        fields["instId"] = arg.inst_id
    if arg.ccy is not None:
        fields["ccy"] = arg.ccy
    return _spell(arg.channel, fields)


def arg_key(arg: Arg) -> tuple[str, str | None, str | None, str | None, str | None]:
    """What identifies a subscription in an argument (``uid`` left out), for matching acks."""
    return (arg.channel, arg.inst_type, arg.inst_family, arg.inst_id, arg.ccy)


def dict_topic(arg: Mapping[str, object]) -> str:
    """The topic of an argument object as sent on the wire (``uid`` left out).

    Raises:
        ValueError: no ``channel``, or a key a topic cannot spell.
    """
    channel = arg.get("channel")
    if not isinstance(channel, str):
        raise ValueError(f"an OKX argument needs a string 'channel': {dict(arg)!r}")
    fields = {str(k): str(v) for k, v in arg.items() if k not in ("channel", "uid")}
    unknown = sorted(set(fields) - _ALLOWED_KEYS)
    if unknown:
        raise ValueError(f"OKX argument keys {unknown} have no topic spelling")
    topic = _spell(channel, fields)
    topic_arg(topic)
    return topic
