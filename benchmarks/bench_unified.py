"""The cost of unifying a trade: ``python -m benchmarks.bench_unified``.

In one process: the typed Binance decode of a combined-stream trade frame,
then the same plus :func:`trio_venues.venues.binance._unify.unify` into a
unified ``Trade`` (a tagged msgspec Struct), and, for the choice of type, the
same fields built into a frozen attrs class instead; then OKX's typed decode
of a ``trades`` push with and without its bound unifier, for a spot trade
and a swap trade (its size multiplied by the contract value). Medians of
interleaved rounds, microseconds per message; prints figures, asserts nothing. The issue's
target: unifying costs at most +0.3 us per trade over the venue-typed path.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs
import trio

from trio_venues._unified_feed import UnifiedFeeds, _Slot
from trio_venues.unified import Catalogue, FeedSpec, Instrument, UnifiedAdapter
from trio_venues.venues.binance._protocol import BinanceSpotCore
from trio_venues.venues.binance._unify import unifier, unify
from trio_venues.venues.bybit._fake_instruments import FAKE_INSTRUMENTS
from trio_venues.venues.bybit._protocol import BybitCore
from trio_venues.venues.bybit._unify import catalogue_from_instruments
from trio_venues.venues.bybit._unify import unifier as bybit_unifier
from trio_venues.venues.okx._protocol import OkxCore
from trio_venues.venues.okx._unify import unifier as okx_unifier

FRAME = (
    '{"stream":"btcusdt@trade","data":{"e":"trade","E":1672515782136,"s":"BTCUSDT",'
    '"t":12345,"p":"97012.35000000","q":"0.00150000","T":1672515782136,"m":true,"M":true}}'
)
BYBIT_FRAME = (
    '{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1672304486868,"data":[{"T":'
    '1672304486865,"s":"BTCUSDT","S":"Buy","v":"0.001","p":"16578.50","L":"PlusTick","i":'
    '"20f43950-d8dd-5b31-9112-a178eb6023af","BT":false,"seq":1783284617}]}'
)

OKX_FRAME = (
    '{"arg":{"channel":"trades","instId":"%s"},"data":[{"instId":"%s","tradeId":"130639474",'
    '"px":"42219.9","sz":"0.12060306","side":"buy","ts":"1630048897897","count":"3",'
    '"source":"0","seqId":1234}]}'
)
OKX_SPOT = OKX_FRAME % ("BTC-USDT", "BTC-USDT")
OKX_SWAP = OKX_FRAME % ("BTC-USDT-SWAP", "BTC-USDT-SWAP")


@attrs.frozen
class AttrsTrade:
    """The unified trade's fields as a frozen attrs class (the alternative measured)."""

    venue: str
    symbol: str
    venue_symbol: str
    side: str
    price: Decimal
    quantity: Decimal
    trade_id: str
    exchange_ns: int
    received_at: float


def _time(fn: Callable[[], object], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n * 1e6


async def _hand_off(item: Any, n: int) -> float:
    """us per item through unified_feeds' merged channel: one feed's put, the consumer's take."""
    slot = _Slot(FeedSpec(venue="binance", topics=["btcusdt@trade"]), 1024, 1 << 24)
    feeds = UnifiedFeeds([slot], "block")
    put, take = feeds._put, feeds.receive_nowait
    start = time.perf_counter()
    for _ in range(n):
        await put(slot, item)
        take()
    return (time.perf_counter() - start) / n * 1e6


def main(rounds: int = 7, n: int = 50_000) -> None:
    """Print the per-message figures."""
    core_url = "wss://stream.binance.com:9443/stream?streams=btcusdt@trade"
    core = BinanceSpotCore(core_url)
    catalogue = Catalogue(
        "binance",
        [Instrument("binance", "BTCUSDT", "BTC-USDT", "BTC", "USDT", "spot", None, None, "")],
    )
    decode = core.decode
    sample = decode(FRAME, 0.0)[0].data  # type: ignore[union-attr]

    def typed() -> object:
        return decode(FRAME, 1.0)

    def typed_unified() -> object:
        return unify(decode(FRAME, 1.0)[0].data, 1.0, catalogue)  # type: ignore[union-attr]

    bound = unifier(catalogue, core_url)

    def typed_unified_bound() -> object:
        return bound(decode(FRAME, 1.0)[0].data, 1.0)  # type: ignore[union-attr]

    def unify_only() -> object:
        return bound(sample, 1.0)

    def attrs_only() -> object:
        inst = catalogue.by_venue_symbol(sample.symbol)
        return AttrsTrade(
            "binance",
            inst.symbol,
            sample.symbol,
            "sell" if sample.is_buyer_maker else "buy",
            sample.price,
            sample.quantity,
            str(sample.trade_id),
            sample.trade_time * 1_000_000,
            1.0,
        )

    bybit_core = BybitCore("linear")
    bybit_unify = bybit_unifier(
        catalogue_from_instruments(FAKE_INSTRUMENTS), "wss://stream.bybit.com/v5/public/linear"
    )
    bybit_decode = bybit_core.decode

    def bybit_typed() -> object:
        return bybit_decode(BYBIT_FRAME, 1.0)

    def bybit_typed_unified() -> object:
        return bybit_unify(bybit_decode(BYBIT_FRAME, 1.0)[0].data, 1.0)  # type: ignore[union-attr]

    okx_decode = OkxCore().decode
    okx_catalogue = Catalogue(
        "okx",
        [
            Instrument("okx", "BTC-USDT", "BTC-USDT", "BTC", "USDT", "spot", None, None, ""),
            Instrument(
                "okx", "BTC-USDT-SWAP", "BTC-USDT-PERP", "BTC", "USDT", "perpetual", None, None,
                "", contract_size=Decimal("0.01"), settle="USDT",
            ),
        ],
    )  # fmt: skip
    okx_bound = okx_unifier(okx_catalogue, "wss://ws.okx.com:8443/ws/v5/public")

    def okx_typed() -> object:
        return okx_decode(OKX_SPOT, 1.0)

    def okx_spot() -> object:
        return okx_bound(okx_decode(OKX_SPOT, 1.0)[0].data, 1.0)  # type: ignore[union-attr]

    def okx_swap() -> object:
        return okx_bound(okx_decode(OKX_SWAP, 1.0)[0].data, 1.0)  # type: ignore[union-attr]

    adapter = UnifiedAdapter("binance", catalogue, bound)

    def typed_adapter() -> object:
        return adapter.convert(decode(FRAME, 1.0)[0])  # type: ignore[arg-type]

    rows: dict[str, list[float]] = {
        "typed decode": [],
        "typed decode + unify()": [],
        "typed decode + unifier (bound)": [],
        "unifier alone (msgspec Struct)": [],
        "same fields, attrs frozen": [],
        "bybit typed decode (1 trade)": [],
        "bybit typed decode + unifier": [],
        "okx typed decode": [],
        "okx decode + unifier (spot)": [],
        "okx decode + unifier (swap)": [],
        "typed decode + UnifiedAdapter": [],
        "unified_feeds hand-off alone": [],
    }
    fns = [typed, typed_unified, typed_unified_bound, unify_only, attrs_only]
    fns += [bybit_typed, bybit_typed_unified]
    fns += [okx_typed, okx_spot, okx_swap, typed_adapter]
    item = bound(sample, 1.0)
    assert item is not None
    for _ in range(rounds):
        for name, fn in zip(rows, fns, strict=False):
            rows[name].append(_time(fn, n))
        rows["unified_feeds hand-off alone"].append(trio.run(_hand_off, item, n))
    print(f"unified trade cost (median of {rounds} interleaved rounds, us/message)")
    med = {name: statistics.median(v) for name, v in rows.items()}
    for name, value in med.items():
        print(f"  {name:32s} {value:6.3f}")
    print(
        f"  the bound unifier adds "
        f"{med['typed decode + unifier (bound)'] - med['typed decode']:+.3f}"
        f" us per trade (target <= +0.3); attrs/msgspec build ratio "
        f"{med['same fields, attrs frozen'] / med['unifier alone (msgspec Struct)']:.2f}x"
    )
    print(
        f"  bybit: the unifier adds "
        f"{med['bybit typed decode + unifier'] - med['bybit typed decode (1 trade)']:+.3f}"
        " us per publicTrade message of one trade (target <= +0.3)"
    )
    adapter_us = med["typed decode + UnifiedAdapter"] - med["typed decode"]
    print(
        f"  through UnifiedAdapter (a Message in, a tuple out): {adapter_us:+.3f} us per "
        f"trade; unified_feeds' merged channel adds "
        f"{med['unified_feeds hand-off alone']:.3f} us (put + receive, no wait)"
    )
    okx_spot_us = med["okx decode + unifier (spot)"] - med["okx typed decode"]
    okx_swap_us = med["okx decode + unifier (swap)"] - med["okx typed decode"]
    print(
        f"  okx: the bound unifier adds {okx_spot_us:+.3f} us per spot trade, "
        f"{okx_swap_us:+.3f} us per swap trade (contracts x ctVal)"
    )


if __name__ == "__main__":
    main()
