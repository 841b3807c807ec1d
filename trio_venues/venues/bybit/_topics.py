"""Bybit topic names, endpoints and the per-request argument limits (pure).

Topics are Bybit's own strings (``publicTrade.BTCUSDT``,
``orderbook.50.BTCUSDT``, ``tickers.BTCUSDT``, ``kline.5.BTCUSDT``); the
helpers here build and check them. Facts and sources: ``docs/venues/bybit.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Final

__all__ = [
    "ENDPOINTS",
    "KLINE_INTERVALS",
    "MAX_ARGS_CHARS",
    "MAX_ARGS_PER_REQUEST",
    "ORDERBOOK_DEPTHS",
    "PRIVATE_TOPICS",
    "TESTNET_ENDPOINTS",
    "all_liquidation_topic",
    "endpoint_url",
    "kline_topic",
    "liquidation_topic",
    "orderbook_topic",
    "split_args",
    "ticker_topic",
    "trade_topic",
    "validate_topic",
]

#: Mainnet endpoints by name [Bybit "Connect"].
ENDPOINTS: Final[Mapping[str, str]] = {
    "spot": "wss://stream.bybit.com/v5/public/spot",
    "linear": "wss://stream.bybit.com/v5/public/linear",
    "inverse": "wss://stream.bybit.com/v5/public/inverse",
    "option": "wss://stream.bybit.com/v5/public/option",
    "spread": "wss://stream.bybit.com/v5/public/spread",
    "private": "wss://stream.bybit.com/v5/private",
    "trade": "wss://stream.bybit.com/v5/trade",
    "status": "wss://stream.bybit.com/v5/public/misc/status",
}
#: The same endpoints on the testnet.
TESTNET_ENDPOINTS: Final[Mapping[str, str]] = {
    name: url.replace("stream.bybit.com", "stream-testnet.bybit.com")
    for name, url in ENDPOINTS.items()
}


def endpoint_url(endpoint: str, host: str = "stream.bybit.com") -> str:
    """The URL of ``endpoint`` on ``host``: a testnet or regional host (``stream.bybit.tr``).

    Raises:
        ValueError: an unknown endpoint name.
    """
    try:
        url = ENDPOINTS[endpoint]
    except KeyError:
        valid = ", ".join(ENDPOINTS)
        raise ValueError(f"unknown Bybit endpoint {endpoint!r}; valid: {valid}") from None
    return url.replace("stream.bybit.com", host)


#: Order-book depths per category [Bybit "Orderbook"; spread "Orderbook"].
ORDERBOOK_DEPTHS: Final[Mapping[str, tuple[int, ...]]] = {
    "spot": (1, 50, 200, 1000),
    "linear": (1, 50, 200, 1000),
    "inverse": (1, 50, 200, 1000),
    "option": (25, 100),
    "spread": (25,),
}
#: Kline intervals [Bybit "Kline"]: minutes, then day, week, month.
KLINE_INTERVALS: Final = (
    "1",
    "3",
    "5",
    "15",
    "30",
    "60",
    "120",
    "240",
    "360",
    "720",
    "D",
    "W",
    "M",
)
#: The private stream's topics (each also exists per category, e.g. ``order.spot``).
PRIVATE_TOPICS: Final = ("order", "execution", "execution.fast", "position", "wallet", "greeks")
#: At most this many topics in one subscribe request, by category [Bybit "Connect",
#: "Public channel - Args limits"]: spot 10; the other categories name none.
MAX_ARGS_PER_REQUEST: Final[Mapping[str, int]] = {"spot": 10}
#: The ``args`` of one public connection may total at most this many characters.
MAX_ARGS_CHARS: Final = 21_000
_MAX_TOPIC: Final = 200


def validate_topic(topic: str) -> str:
    """Check that ``topic`` can be sent in a subscribe; return it unchanged.

    A syntax check, not a catalogue (new Bybit topics stay subscribable):
    a non-empty ASCII string of at most 200 characters without whitespace or
    quotes.
    """
    if not isinstance(topic, str):
        raise TypeError(f"topic must be a str, not {type(topic).__name__}")
    if (
        not topic
        or len(topic) > _MAX_TOPIC
        or not topic.isascii()
        or any(ch.isspace() or ch in '"\\' for ch in topic)
    ):
        raise ValueError(f"invalid Bybit topic {topic!r}: expected e.g. 'publicTrade.BTCUSDT'")
    return topic


def _symbol(symbol: str) -> str:
    if not isinstance(symbol, str):
        raise TypeError(f"symbol must be a str, not {type(symbol).__name__}")
    if not symbol or symbol != symbol.strip() or "." in symbol or not symbol.isascii():
        raise ValueError(f"invalid symbol {symbol!r}: expected e.g. 'BTCUSDT'")
    if symbol != symbol.upper():
        raise ValueError(f"Bybit symbols are upper case: {symbol.upper()!r}, not {symbol!r}")
    return symbol


def trade_topic(symbol: str) -> str:
    """``"publicTrade.BTCUSDT"`` (options take the base coin: ``"publicTrade.BTC"``)."""
    return f"publicTrade.{_symbol(symbol)}"


def orderbook_topic(symbol: str, depth: int, category: str | None = None) -> str:
    """``"orderbook.50.BTCUSDT"``; ``depth`` is checked against ``category`` when given.

    Raises:
        ValueError: a depth the category does not offer (or no category offers).
    """
    if category is not None:
        depths = ORDERBOOK_DEPTHS.get(category)
        if depths is None:
            raise ValueError(f"category {category!r} has no order books")
    else:
        depths = tuple(sorted({d for ds in ORDERBOOK_DEPTHS.values() for d in ds}))
    if type(depth) is not int or depth not in depths:
        where = f" on {category}" if category else ""
        raise ValueError(f"invalid order-book depth {depth!r}{where}; valid: {depths}")
    return f"orderbook.{depth}.{_symbol(symbol)}"


def ticker_topic(symbol: str) -> str:
    """``"tickers.BTCUSDT"``."""
    return f"tickers.{_symbol(symbol)}"


def kline_topic(symbol: str, interval: str | int) -> str:
    """``"kline.5.BTCUSDT"``; ``interval`` is one of :data:`KLINE_INTERVALS` (5 or "5")."""
    text = str(interval)
    if text not in KLINE_INTERVALS:
        raise ValueError(
            f"invalid kline interval {interval!r}; valid: {', '.join(KLINE_INTERVALS)}"
        )
    return f"kline.{text}.{_symbol(symbol)}"


def liquidation_topic(symbol: str) -> str:
    """``"liquidation.BTCUSDT"`` (the older one-liquidation stream)."""
    return f"liquidation.{_symbol(symbol)}"


def all_liquidation_topic(symbol: str) -> str:
    """``"allLiquidation.BTCUSDT"`` (every liquidation, every 500 ms)."""
    return f"allLiquidation.{_symbol(symbol)}"


def split_args(
    category: str, topics: Sequence[str], *, max_args: int | None = None
) -> list[tuple[str, ...]]:
    """Split ``topics`` into subscribe requests under ``category``'s limits, in order.

    Spot takes 10 topics per request; a request's ``args`` never exceed
    :data:`MAX_ARGS_CHARS` characters (Bybit's per-connection budget, so one
    request can never be refused for length alone). ``max_args`` overrides
    the per-request count.

    Raises:
        ValueError: an invalid topic.
    """
    if isinstance(topics, str):
        raise TypeError("topics must be a sequence of topic names, not one str")
    limit = max_args if max_args is not None else MAX_ARGS_PER_REQUEST.get(category)
    batches: list[tuple[str, ...]] = []
    batch: list[str] = []
    chars = 0
    for topic in _unique(validate_topic(t) for t in topics):
        cost = len(topic) + 3  # the quotes and the comma of the JSON array
        if batch and ((limit is not None and len(batch) >= limit) or chars + cost > MAX_ARGS_CHARS):
            batches.append(tuple(batch))
            batch, chars = [], 0
        batch.append(topic)
        chars += cost
    if batch:
        batches.append(tuple(batch))
    return batches


def _unique(topics: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(topics))
