"""One typed-trade row per venue, in ``make bench`` and in process: a table of venues.

Every venue is measured the same way, twice:

- over a socket (``benchmarks.run``, scenario ``venues``): the bench server
  streams that venue's own trade frames; the venue's typed client consumes
  them through ``async for event in ws.events``, and the Trio minimal-framing
  limit (``clients/trio_rawsock_orjson.py --venue NAME``) consumes the very
  same frames with orjson;
- in one process (``benchmarks.bench_path``, the per-venue table): the same
  frames through the minimal splitter + orjson, our frame decoder + the
  venue core's ``decode`` (no session), and the whole session over an
  in-memory transport.

The ratio typed / limit is printed against the target (issue 17: >= 0.45x),
never asserted.

Adding a venue is one :class:`VenueTrades` entry in :data:`VENUES`: how to
make ``n`` trade frames as the venue sends them, the frame that ends a run,
the URL path to connect to, a typed connection, its sans-I/O core, and how to
recognise the end frame both typed and raw.

Keep the imports of ``trio_venues`` inside the functions: ``benchmarks.run``
imports this table in a process that never connects.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

import orjson

from .payloads import sentinel_payload, sentinel_stream, streams_path, trade_payloads

__all__ = [
    "VENUES",
    "VenueTrades",
    "bybit_trade_payloads",
    "coinbase_trade_payloads",
    "okx_trade_payloads",
]


def _price(data: Any) -> object:
    return data.price


@dataclass(frozen=True)
class VenueTrades:
    """How to stream one venue's trades to a client and consume them typed.

    Attributes:
        frames: ``frames(n)``: ``n`` trade payloads (the text of each frame),
            deterministic, shaped as the venue sends them.
        sentinel: ``sentinel(n)``: the payload sent after ``n`` frames, that
            ends the run (a venue that numbers its messages gets the next number).
        path: the URL path (and query) the client connects to on the server.
        connect: ``connect(url, **options)``: an ``async with`` typed
            connection (subscribe inside it when the venue needs a request
            before it sends data; the bench server sends regardless and
            ignores what it receives). The in-process rows pass ``transport=``.
        core: a new sans-I/O core of such a connection (its ``decode`` is the
            "typed decode" row).
        is_sentinel: whether a typed ``Message`` is the sentinel.
        raw_is_sentinel: whether an ``orjson.loads`` payload is the sentinel.
        touch: reads one decoded field of a message's data (so lazy decoding
            cannot hide its cost).
    """

    frames: Callable[[int], list[bytes]]
    sentinel: Callable[[int], bytes]
    path: str
    connect: Callable[..., AbstractAsyncContextManager[Any]]
    core: Callable[[], Any]
    is_sentinel: Callable[[Any], bool]
    raw_is_sentinel: Callable[[Any], bool]
    touch: Callable[[Any], object] = _price


# -- Binance Spot: combined-stream trades (benchmarks.payloads) -------------------------------

_BINANCE_END = sentinel_stream("trade")


def _binance_connect(url: str, **options: Any) -> AbstractAsyncContextManager[Any]:
    from trio_venues import BinanceSpot

    return BinanceSpot.connect(url, **options)


def _binance_core() -> Any:
    from trio_venues.venues.binance import BinanceSpotCore

    return BinanceSpotCore()


# -- OKX: public "trades" pushes, one trade each (about 230 bytes) ----------------------------

_OKX_INSTRUMENTS = ("BTC-USDT", "ETH-USDT", "SOL-USDT", "BNB-USDT", "XRP-USDT", "DOGE-USDT")
_OKX_END = "END-USDT"


def _okx_trade(rng: random.Random, seq: int, inst: str) -> bytes:
    price = f"{rng.randint(100_000, 9_999_999) / 100:.2f}"
    size = f"{rng.randint(1, 500_000) / 100_000:.5f}"
    return orjson.dumps(
        {
            "arg": {"channel": "trades", "instId": inst},
            "data": [
                {
                    "instId": inst,
                    "tradeId": str(130_000_000 + seq),
                    "px": price,
                    "sz": size,
                    "side": "buy" if rng.random() < 0.5 else "sell",
                    "ts": str(1_795_219_200_000 + seq),
                    "count": "1",
                    "source": "0",
                    "seqId": seq,
                }
            ],
        }
    )


def okx_trade_payloads(count: int, seed: int = 1) -> list[bytes]:
    """``count`` deterministic OKX ``trades`` pushes over six instruments."""
    rng = random.Random(seed)
    n = len(_OKX_INSTRUMENTS)
    return [_okx_trade(rng, i, _OKX_INSTRUMENTS[i % n]) for i in range(count)]


def _okx_connect(url: str, **options: Any) -> AbstractAsyncContextManager[Any]:
    from trio_venues.venues.okx import Okx

    return Okx.connect(url, **options)


def _okx_core() -> Any:
    from trio_venues.venues.okx import OkxCore

    return OkxCore()


# -- Bybit: linear publicTrade messages, one trade each, topic first (about 250 bytes) --------

_BYBIT_SYMBOLS = (("BTCUSDT", 9_701_235, 2), ("ETHUSDT", 341_257, 2), ("SOLUSDT", 24_137, 2))
_BYBIT_END = "publicTrade.ENDUSDT"


def bybit_trade_payloads(count: int, seed: int = 7) -> list[bytes]:
    """``count`` deterministic ``publicTrade`` messages, as Bybit sends them (``topic`` first)."""
    rng = random.Random(seed)
    ticks = {symbol: start for symbol, start, _ in _BYBIT_SYMBOLS}
    out = []
    ts = 1_795_219_200_000
    for n in range(count):
        symbol, _, decimals = _BYBIT_SYMBOLS[n % len(_BYBIT_SYMBOLS)]
        ticks[symbol] += rng.choice((-2, -1, 0, 1, 2))
        price = f"{ticks[symbol] / 10**decimals:.{decimals}f}"
        size = f"{rng.randint(1, 50000) / 1000:.3f}"
        ts += rng.randint(0, 3)
        message = {
            "topic": f"publicTrade.{symbol}",
            "type": "snapshot",
            "ts": ts,
            "data": [
                {
                    "T": ts - 2,
                    "s": symbol,
                    "S": "Buy" if rng.random() < 0.5 else "Sell",
                    "v": size,
                    "p": price,
                    "L": "PlusTick",
                    "i": f"{rng.getrandbits(64):016x}-{n}",
                    "BT": False,
                    "seq": 1_783_284_617 + n,
                }
            ],
        }
        out.append(orjson.dumps(message))
    return out


def _bybit_sentinel(count: int) -> bytes:
    return orjson.dumps(
        {
            "topic": _BYBIT_END,
            "type": "snapshot",
            "ts": 1,
            "data": [{"T": 1, "s": "ENDUSDT", "S": "Buy", "v": "1", "p": "1", "i": "end"}],
        }
    )


def _bybit_connect(url: str, **options: Any) -> AbstractAsyncContextManager[Any]:
    from trio_venues.venues.bybit import Bybit

    return Bybit.connect(url, endpoint="linear", **options)


def _bybit_core() -> Any:
    from trio_venues.venues.bybit import BybitCore

    return BybitCore("linear")


def _first_trade_price(data: Any) -> object:
    return data.trades[0].price


# -- Coinbase: market_trades messages, one trade each, numbered (about 290 bytes) -------------

_COINBASE_PRODUCTS = (("BTC-USD", 9_701_235, 2), ("ETH-USD", 341_257, 2), ("SOL-USD", 24_137, 2))
_COINBASE_END = "END-USD"


def _coinbase_trade(rng: random.Random, n: int, product: str, price: str) -> bytes:
    size = f"{rng.uniform(0.0001, 2):.8f}"
    ns = 1_795_219_200_000_000_000 + n * 1_000_000
    seconds, fraction = divmod(ns, 1_000_000_000)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{fraction:09d}Z"
    trade = {
        "trade_id": str(700_000_000 + n),
        "product_id": product,
        "price": price,
        "size": size,
        "side": rng.choice(("BUY", "SELL")),
        "time": stamp,
    }
    message = {
        "channel": "market_trades",
        "client_id": "",
        "timestamp": stamp,
        "sequence_num": n,
        "events": [{"type": "update", "trades": [trade]}],
    }
    return orjson.dumps(message)


def coinbase_trade_payloads(count: int, seed: int = 7) -> list[bytes]:
    """``count`` deterministic one-trade ``market_trades`` messages, ``sequence_num`` 0 on."""
    rng = random.Random(seed)
    ticks = [start for _, start, _ in _COINBASE_PRODUCTS]
    out = []
    for n in range(count):
        index = n % len(_COINBASE_PRODUCTS)
        product, _, decimals = _COINBASE_PRODUCTS[index]
        ticks[index] += rng.choice((-2, -1, 0, 1, 2))
        price = f"{ticks[index] / 10**decimals:.{decimals}f}"
        out.append(_coinbase_trade(rng, n, product, price))
    return out


def _coinbase_sentinel(count: int) -> bytes:
    # The next sequence number: the connection's sequence check sees no gap.
    return _coinbase_trade(random.Random(count), count, _COINBASE_END, "1.00")


def _coinbase_connect(url: str, **options: Any) -> AbstractAsyncContextManager[Any]:
    from trio_venues.venues.coinbase import Coinbase

    return Coinbase.connect(url, **options)


def _coinbase_core() -> Any:
    from trio_venues.venues.coinbase import CoinbaseCore

    return CoinbaseCore()


def _coinbase_price(data: Any) -> object:
    return data.events[0].trades[0].price


#: The venues measured by the ``venues`` scenario and ``bench_path``, in table order.
VENUES: dict[str, VenueTrades] = {
    "binance": VenueTrades(
        frames=trade_payloads,
        sentinel=lambda count: sentinel_payload("trade"),
        path=streams_path("trade"),
        connect=_binance_connect,
        core=_binance_core,
        is_sentinel=lambda message: message.topic == _BINANCE_END,
        raw_is_sentinel=lambda obj: obj["stream"] == _BINANCE_END,
    ),
    "okx": VenueTrades(
        frames=okx_trade_payloads,
        sentinel=lambda count: _okx_trade(random.Random(count), count, _OKX_END),
        path="/ws/v5/public",
        connect=_okx_connect,
        core=_okx_core,
        is_sentinel=lambda message: message.topic == f"trades:{_OKX_END}",
        raw_is_sentinel=lambda obj: obj["arg"]["instId"] == _OKX_END,
    ),
    "bybit": VenueTrades(
        frames=bybit_trade_payloads,
        sentinel=_bybit_sentinel,
        path="/v5/public/linear",
        connect=_bybit_connect,
        core=_bybit_core,
        is_sentinel=lambda message: message.topic == _BYBIT_END,
        raw_is_sentinel=lambda obj: obj["topic"] == _BYBIT_END,
        touch=_first_trade_price,
    ),
    "coinbase": VenueTrades(
        frames=coinbase_trade_payloads,
        sentinel=_coinbase_sentinel,
        path="/",
        connect=_coinbase_connect,
        core=_coinbase_core,
        is_sentinel=lambda message: message.topic == f"market_trades:{_COINBASE_END}",
        raw_is_sentinel=lambda obj: obj["events"][0]["trades"][0]["product_id"] == _COINBASE_END,
        touch=_coinbase_price,
    ),
}
