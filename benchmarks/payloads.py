"""Deterministic Binance Spot combined-stream payloads and server frames.

Every payload is built from a seeded ``random.Random``: the same arguments
give the same bytes on every run, so rounds and runs compare like with like.

- ``trade``: ``{"stream":"btcusdt@trade","data":{"e":"trade",...}}``, about
  200 bytes, the classic trade payload including the ``b``/``a`` order ids.
- ``depth``: ``depthUpdate`` on ``<symbol>@depth@100ms`` with 22-44 levels per
  side, about 2.2 KB.

Six symbols at realistic price scales follow random walks (prices and
quantities are exact decimal strings, as Binance sends them). The stream is
ended by a *sentinel*: a payload of the same shape on the stream
``endusdt@<kind>``, which every client recognises by its stream name.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence

__all__ = [
    "BASE_EVENT_TIME_MS",
    "SCALE_SYMBOLS",
    "SENTINEL_SYMBOL",
    "SYMBOLS",
    "close_frame",
    "depth_payloads",
    "payloads",
    "sentinel_payload",
    "sentinel_stream",
    "server_frame",
    "stream_name",
    "streams_path",
    "trade_payloads",
]

#: (symbol, start price in ticks, price decimals (tick = 10**-decimals), typical quantity,
#: quantity decimals). BTCUSDT starts at 97012.35.
SYMBOLS: tuple[tuple[str, int, int, float, int], ...] = (
    ("BTCUSDT", 9_701_235, 2, 0.015, 5),
    ("ETHUSDT", 341_257, 2, 0.35, 4),
    ("SOLUSDT", 24_137, 2, 4.2, 3),
    ("BNBUSDT", 65_130, 2, 0.8, 3),
    ("XRPUSDT", 14_321, 4, 850.0, 1),
    ("DOGEUSDT", 38_123, 5, 9_500.0, 0),
)
#: Ten symbols for the scale run (ten subscriptions per connection).
SCALE_SYMBOLS: tuple[str, ...] = (
    *(s[0] for s in SYMBOLS),
    "ADAUSDT",
    "LTCUSDT",
    "DOTUSDT",
    "TRXUSDT",
)
SENTINEL_SYMBOL = "ENDUSDT"
#: 2026-11-21T00:00:00Z in milliseconds: event times start here and grow.
BASE_EVENT_TIME_MS = 1_795_219_200_000

_STREAM_SUFFIX = {"trade": "trade", "depth": "depth@100ms"}


def stream_name(symbol: str, kind: str) -> str:
    """The combined-stream name of ``symbol`` for payload ``kind`` (``btcusdt@trade``)."""
    return f"{symbol.lower()}@{_STREAM_SUFFIX[kind]}"


def sentinel_stream(kind: str) -> str:
    """The stream name of the sentinel that ends a ``kind`` stream."""
    return stream_name(SENTINEL_SYMBOL, kind)


def streams_path(kind: str, symbols: Sequence[str] | None = None) -> str:
    """The combined-stream URL path naming every stream sent, sentinel included."""
    names = [s[0] for s in SYMBOLS] if symbols is None else list(symbols)
    streams = [stream_name(s, kind) for s in names] + [sentinel_stream(kind)]
    return "/stream?streams=" + "/".join(streams)


def _fmt(units: int, decimals: int) -> str:
    """``units`` of ``10**-decimals`` as Binance's exact 8-decimal string."""
    scaled = units * 10 ** (8 - decimals)
    return f"{scaled // 10**8}.{scaled % 10**8:08d}"


def _walk(units: int, rng: random.Random) -> int:
    """One random-walk step of a price held as an integer number of ticks."""
    return max(1, round(units * (1 + rng.gauss(0, 0.0002))))


def _size(typical: float, decimals: int, rng: random.Random) -> int:
    """A random size in units of ``10**-decimals``, at least one unit."""
    return max(1, round(typical * rng.expovariate(1.0) * 10.0**decimals))


def _dumps(obj: object) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _trade(
    symbol: str, price: str, qty: str, trade_id: int, event_ms: int, maker: bool
) -> dict[str, object]:
    data = {
        "e": "trade",
        "E": event_ms,
        "s": symbol,
        "t": trade_id,
        "p": price,
        "q": qty,
        "b": trade_id * 3 + 17,
        "a": trade_id * 3 + 29,
        "T": event_ms - 1,
        "m": maker,
        "M": True,
    }
    return {"stream": stream_name(symbol, "trade"), "data": data}


def trade_payloads(n: int, seed: int = 1, symbols: Sequence[str] | None = None) -> list[bytes]:
    """``n`` trade payloads, round-robin over ``symbols`` (default: the six of :data:`SYMBOLS`).

    Symbols outside :data:`SYMBOLS` walk from a price of 100.00.
    """
    rng = random.Random(seed)
    table = {s[0]: s for s in SYMBOLS}
    names = [s[0] for s in SYMBOLS] if symbols is None else list(symbols)
    specs = [table.get(name, (name, 10_000, 2, 1.0, 3)) for name in names]
    prices = [spec[1] for spec in specs]  # integer ticks
    out: list[bytes] = []
    event_ms = BASE_EVENT_TIME_MS
    for i in range(n):
        k = rng.randrange(len(specs))
        symbol, _, pdec, typical_qty, qdec = specs[k]
        prices[k] = _walk(prices[k], rng)
        event_ms += rng.randrange(0, 3)
        trade = _trade(
            symbol,
            _fmt(prices[k], pdec),
            _fmt(_size(typical_qty, qdec, rng), qdec),
            4_100_000_000 + i,
            event_ms,
            rng.random() < 0.5,
        )
        out.append(_dumps(trade))
    return out


def _levels(
    rng: random.Random, sign: int, mid: int, pdec: int, qty: float, qdec: int
) -> list[list[str]]:
    """22-44 depth levels on one side, strictly moving away from ``mid`` (in ticks).

    One level in ten has quantity zero (a removal), as in real diffs.
    """
    out: list[list[str]] = []
    offset = 0
    for _ in range(rng.randrange(22, 45)):
        offset += 1 + rng.randrange(3)
        size = 0 if rng.random() < 0.1 else _size(qty, qdec, rng)
        out.append([_fmt(max(1, mid + sign * offset), pdec), _fmt(size, qdec)])
    return out


def depth_payloads(n: int, seed: int = 2) -> list[bytes]:
    """``n`` ``depthUpdate`` payloads with 22-44 levels per side (about 2.2 KB each)."""
    rng = random.Random(seed)
    prices = [s[1] for s in SYMBOLS]  # integer ticks
    update_ids = [60_000_000_000 + 1_000_000 * k for k in range(len(SYMBOLS))]
    out: list[bytes] = []
    event_ms = BASE_EVENT_TIME_MS
    for _ in range(n):
        k = rng.randrange(len(SYMBOLS))
        symbol, _, pdec, typical_qty, qdec = SYMBOLS[k]
        prices[k] = _walk(prices[k], rng)
        first = update_ids[k] + 1
        update_ids[k] += rng.randrange(5, 60)
        event_ms += rng.randrange(0, 3)
        data = {
            "e": "depthUpdate",
            "E": event_ms,
            "s": symbol,
            "U": first,
            "u": update_ids[k],
            "b": _levels(rng, -1, prices[k], pdec, typical_qty, qdec),
            "a": _levels(rng, 1, prices[k], pdec, typical_qty, qdec),
        }
        out.append(_dumps({"stream": stream_name(symbol, "depth"), "data": data}))
    return out


def payloads(kind: str, n: int) -> list[bytes]:
    """``n`` payloads of ``kind`` (``"trade"`` or ``"depth"``), default seeds."""
    if kind == "trade":
        return trade_payloads(n)
    if kind == "depth":
        return depth_payloads(n)
    raise ValueError(f"unknown payload kind {kind!r}")


def sentinel_payload(kind: str) -> bytes:
    """A valid ``kind`` payload on the sentinel stream: the last message of a run."""
    if kind == "trade":
        trade = _trade(SENTINEL_SYMBOL, "1.00000000", "1.00000000", 1, BASE_EVENT_TIME_MS, False)
        return _dumps(trade)
    data = {
        "e": "depthUpdate",
        "E": BASE_EVENT_TIME_MS,
        "s": SENTINEL_SYMBOL,
        "U": 1,
        "u": 1,
        "b": [["1.00000000", "1.00000000"]],
        "a": [["1.01000000", "1.00000000"]],
    }
    return _dumps({"stream": sentinel_stream(kind), "data": data})


def server_frame(payload: bytes, opcode: int = 0x1) -> bytes:
    """One unmasked, final server frame (RFC 6455 section 5.2); text by default."""
    n = len(payload)
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([n])
    elif n < 1 << 16:
        head += bytes([126]) + n.to_bytes(2, "big")
    else:
        head += bytes([127]) + n.to_bytes(8, "big")
    return head + payload


def close_frame(code: int = 1000) -> bytes:
    """An unmasked close frame carrying ``code`` (RFC 6455 section 5.5.1)."""
    return server_frame(code.to_bytes(2, "big"), opcode=0x8)
