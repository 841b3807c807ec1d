"""One vocabulary for every venue: unified market-data events and instrument catalogues.

The venue-native types (``trio_venues.venues.binance.Trade`` ...) stay the
primary API: they carry every field the venue sends. The types here are the
common subset that the same strategy code can read on every venue: a
:class:`Trade` from Binance and one from OKX compare equal apart from their
venue fields.

Every type is a frozen msgspec ``Struct`` tagged with its ``kind``, so a
stream of mixed events encodes to and decodes from JSON or MessagePack in C
(:func:`encode` / :func:`decode`): the collector publishes them to NATS
JetStream this way and the consumer reads them back as the same classes.
msgspec rather than attrs because building one is the per-message cost of
unifying (measured in ``benchmarks/bench_unified.py``): a tagged msgspec
Struct builds in about a third of the time of a frozen attrs class.

Values are exact: prices and quantities are :class:`~decimal.Decimal`
(encoded as strings), never floats. Times:

- ``exchange_ns``: the venue's event or trade time, integer nanoseconds since
  the Unix epoch (whatever unit the venue used: ms, us or RFC 3339 text);
- ``received_at``: when our reader received the message, on Trio's clock
  (``trio.current_time()``, the same clock as ``Message.received_at``).

Symbols: ``symbol`` is the canonical spelling, ``venue_symbol`` the venue's
own (``BTCUSDT``, ``BTC-USDT``, ``BTC-USD``). The canonical spelling is upper
case, dash-separated, and names the quote (or settlement) currency of the
contract:

=============  ==================================  ==============================
kind           canonical spelling                  example
=============  ==================================  ==============================
spot           ``BASE-QUOTE``                      ``BTC-USDT``
perpetual      ``BASE-QUOTE-PERP``                 ``BTC-USDT-PERP``, ``BTC-USD-PERP``
future         ``BASE-QUOTE-YYYYMMDD``             ``BTC-USD-20261225``
option         ``BASE-QUOTE-YYYYMMDD-STRIKE-C|P``  ``BTC-USD-20261225-100000-C``
=============  ==================================  ==============================

(:func:`spot_symbol`, :func:`perpetual_symbol`, :func:`future_symbol`,
:func:`option_symbol` build them; :func:`parse_symbol` takes one apart.)
Mapping between the two uses an instrument :class:`Catalogue`, never a guess:
a symbol missing from the catalogue is an :class:`UnknownSymbol` error.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias

import attrs
import msgspec

from .book import Level, OrderBook
from .errors import TrioVenuesError
from .events import Event

if TYPE_CHECKING:
    from .testing._server import FakeVenueServer

__all__ = [
    "BestBidAsk",
    "BookDepth",
    "BookUpdate",
    "Candle",
    "Catalogue",
    "EventsDropped",
    "FeedFailed",
    "FeedSpec",
    "FeedStatus",
    "FakeMessage",
    "FundingRate",
    "Instrument",
    "InstrumentKind",
    "Liquidation",
    "OpenInterest",
    "Side",
    "SymbolParts",
    "Ticker",
    "Trade",
    "UnifiedAdapter",
    "UnifiedEvent",
    "UnifiedFeeds",
    "UnifiedItem",
    "UnifiedStream",
    "UnifiedSupport",
    "Unifier",
    "UnknownSymbol",
    "VenueEvent",
    "decode",
    "encode",
    "future_symbol",
    "option_symbol",
    "parse_symbol",
    "perpetual_symbol",
    "spot_symbol",
    "unified_each",
    "unified_feeds",
]

#: the taker's side of a trade, or the side of a liquidated position's order
Side: TypeAlias = Literal["buy", "sell"]
#: what an instrument is
InstrumentKind: TypeAlias = Literal["spot", "perpetual", "future", "option"]

_NS_PER_MS: Final = 1_000_000


class UnknownSymbol(TrioVenuesError, KeyError):
    """A symbol the venue's instrument catalogue does not list.

    Refresh the catalogue (``await catalogue_source.refresh()``) if the venue
    listed it recently, or check the spelling: canonical symbols are
    ``BASE-QUOTE`` in upper case (``BTC-USDT``).
    """

    def __init__(self, venue: str, symbol: str, *, canonical: bool) -> None:
        self.venue = venue
        self.symbol = symbol
        spelling = "canonical symbol" if canonical else "venue symbol"
        super().__init__(
            f"{venue}: {spelling} {symbol!r} is not in the instrument catalogue; refresh the "
            "catalogue if it was listed recently, or check the spelling "
            "(canonical spot symbols are BASE-QUOTE in upper case, e.g. 'BTC-USDT')"
        )

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class _Event(msgspec.Struct, frozen=True, gc=False, tag_field="kind"):
    """Fields every unified market-data event has."""

    venue: str
    symbol: str
    venue_symbol: str


class Trade(_Event, frozen=True, gc=False, tag="trade"):
    """One trade (a public fill).

    Attributes:
        side: the taker's side (``"buy"``: the buyer crossed the spread).
        price, quantity: exact values (quantity in the base asset).
        trade_id: the venue's trade id as the venue spells it (text).
        exchange_ns: the venue's trade time, nanoseconds since the epoch.
        received_at: when our reader received it (Trio clock).
    """

    side: Side
    price: Decimal
    quantity: Decimal
    trade_id: str
    exchange_ns: int
    received_at: float


class BestBidAsk(_Event, frozen=True, gc=False, tag="bbo"):
    """The top of the book: best bid and best ask with their quantities.

    ``update_id`` is the venue's book update id or sequence number as text,
    when the venue gives one (``None`` otherwise); ``exchange_ns`` is ``None``
    where the venue sends no time with it (Binance ``bookTicker``).
    """

    bid_price: Decimal
    bid_quantity: Decimal
    ask_price: Decimal
    ask_quantity: Decimal
    update_id: str | None
    exchange_ns: int | None
    received_at: float


class Ticker(_Event, frozen=True, gc=False, tag="ticker"):
    """A rolling 24-hour ticker.

    Fields a venue does not send are ``None`` (never a made-up zero).
    """

    last_price: Decimal
    bid_price: Decimal | None
    ask_price: Decimal | None
    open_24h: Decimal | None
    high_24h: Decimal | None
    low_24h: Decimal | None
    volume_24h: Decimal | None
    quote_volume_24h: Decimal | None
    exchange_ns: int
    received_at: float


class Candle(_Event, frozen=True, gc=False, tag="candle"):
    """One candlestick (OHLCV) of ``interval`` (``1m``, ``1h``, ``1d`` ...).

    ``closed`` is ``True`` for the final update of the bar; earlier updates of
    the same bar (same ``open_ns``) carry the bar so far.
    """

    interval: str
    open_ns: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    closed: bool
    exchange_ns: int
    received_at: float


class FundingRate(_Event, frozen=True, gc=False, tag="funding"):
    """A perpetual's funding rate and when it applies."""

    rate: Decimal
    funding_ns: int | None
    exchange_ns: int
    received_at: float


class OpenInterest(_Event, frozen=True, gc=False, tag="open_interest"):
    """A derivative's open interest, in contracts or the base asset as the venue reports."""

    open_interest: Decimal
    exchange_ns: int
    received_at: float


class Liquidation(_Event, frozen=True, gc=False, tag="liquidation"):
    """A forced liquidation order: ``side`` is the liquidation order's side."""

    side: Side
    price: Decimal
    quantity: Decimal
    exchange_ns: int
    received_at: float


#: every unified market-data event type a venue's :data:`Unifier` returns
UnifiedEvent: TypeAlias = (
    Trade | BestBidAsk | Ticker | Candle | FundingRate | OpenInterest | Liquidation
)


# -- books ---------------------------------------------------------------------------

#: how many levels per side :func:`encode` writes for a :class:`BookUpdate`'s depth
ENCODED_DEPTH: Final = 10


class BookDepth:
    """A read-only view of an order book's depth: what :attr:`BookUpdate.depth` is.

    On a :class:`BookUpdate` it views the feed's **live** book, without
    copying it: read it while handling the event, and compare
    :attr:`update_id` with the event's ``update_id`` to know whether the book
    has moved on since (it has when the event waited in a buffer). Take
    :meth:`detached` to keep levels for later. Levels are ``(price,
    quantity)`` exact Decimals, best first. Two views are equal when they hold
    the same levels.
    """

    __slots__ = ("_book",)

    def __init__(self, book: OrderBook) -> None:
        self._book = book

    def __repr__(self) -> str:
        book = self._book
        return (
            f"<BookDepth {book.symbol} bids={len(book.bids)} asks={len(book.asks)} "
            f"best_bid={book.bids.best} best_ask={book.asks.best} update_id={book.last_update_id}>"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BookDepth):
            return NotImplemented
        return self.bids() == other.bids() and self.asks() == other.asks()

    __hash__ = None  # type: ignore[assignment]  # a view of mutable state

    @property
    def update_id(self) -> int | None:
        """The update id the book reflects now (``None`` before its first snapshot)."""
        return self._book.last_update_id

    @property
    def best_bid(self) -> Level | None:
        """The highest bid ``(price, quantity)``, or ``None`` when there is none."""
        return self._book.bids.best

    @property
    def best_ask(self) -> Level | None:
        """The lowest ask ``(price, quantity)``, or ``None`` when there is none."""
        return self._book.asks.best

    def bids(self, n: int | None = None) -> list[Level]:
        """The ``n`` best bids, highest first (every level when ``n`` is ``None``)."""
        side = self._book.bids
        return side.top(len(side) if n is None else n)

    def asks(self, n: int | None = None) -> list[Level]:
        """The ``n`` best asks, lowest first (every level when ``n`` is ``None``)."""
        side = self._book.asks
        return side.top(len(side) if n is None else n)

    def bid_depth(self, n: int | None = None) -> Decimal:
        """The total quantity of the ``n`` best bids (all when ``None``), exactly."""
        return self._book.bids.depth(n)

    def ask_depth(self, n: int | None = None) -> Decimal:
        """The total quantity of the ``n`` best asks (all when ``None``), exactly."""
        return self._book.asks.depth(n)

    def bid_quantity(self, price: Decimal) -> Decimal | None:
        """The quantity bid at ``price`` (compared by value), or ``None``."""
        return self._book.bids.get(price)

    def ask_quantity(self, price: Decimal) -> Decimal | None:
        """The quantity offered at ``price`` (compared by value), or ``None``."""
        return self._book.asks.get(price)

    @property
    def spread(self) -> Decimal | None:
        """Best ask minus best bid, or ``None`` when a side is empty."""
        return self._book.spread

    @property
    def mid(self) -> Decimal | None:
        """The midpoint of the best bid and ask, or ``None`` when a side is empty."""
        return self._book.mid

    def detached(self, n: int | None = None) -> BookDepth:
        """A copy of the ``n`` best levels per side (all when ``None``) that never changes."""
        return BookDepth.from_levels(
            self._book.symbol, self.bids(n), self.asks(n), self._book.last_update_id
        )

    @classmethod
    def from_levels(
        cls,
        symbol: str,
        bids: Iterable[Level],
        asks: Iterable[Level],
        update_id: int | None = None,
    ) -> BookDepth:
        """A view of a book holding exactly these levels (not tied to any feed)."""
        book = OrderBook(symbol)
        book.load_snapshot(list(bids), list(asks), update_id)
        return cls(book)


class BookUpdate(_Event, frozen=True, gc=False, tag="book"):
    """A kept order book changed (what ``book_feed`` reports, in unified form).

    The best levels are the book's right after this update, frozen in the
    event; ``depth`` is a read-only view of the whole live book (see
    :class:`BookDepth`). A side with no level has ``None`` price and quantity.

    Attributes:
        changed_bids, changed_asks: the levels this update set, ``(price,
            quantity)`` with quantity 0 for a removed level.
        update_id: the book's update id after this update (the venue's
            update id or sequence number, as ``book_feed`` numbers it).
        received_at: when our reader received the message (Trio clock).
        depth: the live book, read-only. :func:`encode` writes its
            ``ENCODED_DEPTH`` (10) best levels per side.
    """

    bid_price: Decimal | None
    bid_quantity: Decimal | None
    ask_price: Decimal | None
    ask_quantity: Decimal | None
    changed_bids: tuple[tuple[Decimal, Decimal], ...]
    changed_asks: tuple[tuple[Decimal, Decimal], ...]
    update_id: int
    received_at: float
    depth: BookDepth


def _enc_hook(obj: Any) -> Any:
    if type(obj) is BookDepth:
        return {"bids": obj.bids(ENCODED_DEPTH), "asks": obj.asks(ENCODED_DEPTH)}
    raise TypeError(f"unified events cannot encode {type(obj).__name__}")


class _Levels(msgspec.Struct, frozen=True, gc=False):
    bids: list[tuple[Decimal, Decimal]]
    asks: list[tuple[Decimal, Decimal]]


def _dec_hook(kind: type, obj: Any) -> Any:
    if kind is BookDepth:
        levels = msgspec.convert(obj, _Levels)
        return BookDepth.from_levels("", levels.bids, levels.asks)
    raise TypeError(f"unified events cannot decode {kind.__name__}")


_ENCODER: Final = msgspec.json.Encoder(decimal_format="string", enc_hook=_enc_hook)
_DECODER: Final[msgspec.json.Decoder[UnifiedEvent | BookUpdate]] = msgspec.json.Decoder(
    UnifiedEvent | BookUpdate, dec_hook=_dec_hook
)


def encode(event: UnifiedEvent | BookUpdate) -> bytes:
    """The event as compact JSON (Decimals as exact strings, ``kind`` as the tag).

    A :class:`BookUpdate`'s depth is written as its 10 best levels per side.
    """
    return _ENCODER.encode(event)


def decode(data: bytes | str) -> UnifiedEvent | BookUpdate:
    """An event back from :func:`encode`'s JSON.

    A decoded :class:`BookUpdate`'s depth holds the levels that were written.

    Raises:
        msgspec.ValidationError, msgspec.DecodeError: not a unified event.
    """
    return _DECODER.decode(data)


# -- lifecycle -----------------------------------------------------------------------


@attrs.frozen
class VenueEvent:
    """A venue feed's lifecycle event, tagged with its venue.

    What :class:`UnifiedAdapter` and :func:`unified_feeds` pass through
    beside the market data: ``Disconnected``, ``Reconnecting``, ``DataGap``,
    ``GapDetected``, ``Connected``, ``ErrorEvent`` ... unchanged in
    ``event``, and the helper's own :class:`FeedFailed` and
    :class:`EventsDropped`.

    Attributes:
        venue: the venue's registry name (``"okx"``).
        event: the event, as the connection, ``retry_scope`` or ``book_feed`` emitted it.
        feed: the feed's name in :func:`unified_feeds` (the venue's name unless
            :attr:`FeedSpec.name` says otherwise); for :class:`UnifiedAdapter`
            its ``feed`` argument.
    """

    venue: str
    event: Event
    feed: str = ""


@attrs.frozen
class FeedFailed(Event):
    """A feed of :func:`unified_feeds` gave up (its ``retry_scope`` did, or it could not start).

    The other feeds go on (unless ``fail_fast``); this feed sends nothing more.
    ``error`` is the :class:`~trio_venues.errors.TrioVenuesError` that ended it
    (``RetriesExhausted``, ``SubscriptionError``, ``ConfigError`` ...).
    """

    error: Exception = attrs.field(eq=False)


@attrs.frozen
class EventsDropped(Event):
    """The ``drop_oldest`` overflow policy dropped ``count`` of this feed's oldest events.

    Comes before the feed's next events (the dropped ones were older).
    """

    count: int


#: what :class:`UnifiedAdapter` and :func:`unified_feeds` yield
UnifiedItem: TypeAlias = UnifiedEvent | BookUpdate | VenueEvent


def ms_to_ns(ms: int) -> int:
    """Milliseconds since the epoch as nanoseconds."""
    return ms * _NS_PER_MS


# -- instruments -------------------------------------------------------------------


class Instrument(msgspec.Struct, frozen=True, gc=False):
    """One tradable instrument of a venue.

    Attributes:
        venue: the venue's registry name (``"binance"``).
        venue_symbol: the venue's own spelling (``"BTCUSDT"``).
        symbol: the canonical spelling (``"BTC-USDT"`` for spot).
        base, quote: the assets, upper case.
        kind: spot, perpetual, future or option.
        tick_size: the price increment (``None`` when the venue does not say).
        lot_size: the quantity increment (``None`` when the venue does not say).
        status: the venue's trading status text (``"TRADING"``, ``"live"`` ...).
        contract_size: for derivatives, how much of the base asset (linear)
            or quote currency (inverse) one contract is, as the venue states it;
            ``None`` for spot or when quantities are already in the base asset.
        settle: the settlement currency of a derivative (``None`` for spot).
    """

    venue: str
    venue_symbol: str
    symbol: str
    base: str
    quote: str
    kind: InstrumentKind
    tick_size: Decimal | None
    lot_size: Decimal | None
    status: str
    contract_size: Decimal | None = None
    settle: str | None = None


class Catalogue:
    """A venue's instruments, looked up by venue or canonical symbol.

    A catalogue is an immutable snapshot; a venue's loader builds a new one on
    refresh. Look-ups that miss raise :class:`UnknownSymbol`.
    """

    def __init__(self, venue: str, instruments: Iterable[Instrument]) -> None:
        self.venue = venue
        self._by_venue: dict[str, Instrument] = {}
        self._by_symbol: dict[str, Instrument] = {}
        for inst in instruments:
            if inst.venue != venue:
                raise ValueError(f"instrument {inst.venue_symbol!r} belongs to {inst.venue!r}")
            self._by_venue[inst.venue_symbol] = inst
            self._by_symbol[inst.symbol] = inst

    def __repr__(self) -> str:
        return f"<Catalogue {self.venue}: {len(self._by_venue)} instruments>"

    def __len__(self) -> int:
        return len(self._by_venue)

    def __iter__(self) -> Iterator[Instrument]:
        return iter(self._by_venue.values())

    def __contains__(self, venue_symbol: object) -> bool:
        return venue_symbol in self._by_venue

    def by_venue_symbol(self, venue_symbol: str) -> Instrument:
        """The instrument the venue spells ``venue_symbol``.

        Raises:
            UnknownSymbol: the catalogue does not list it.
        """
        try:
            return self._by_venue[venue_symbol]
        except KeyError:
            raise UnknownSymbol(self.venue, venue_symbol, canonical=False) from None

    def by_symbol(self, symbol: str) -> Instrument:
        """The instrument whose canonical spelling is ``symbol``.

        Raises:
            UnknownSymbol: the catalogue does not list it.
        """
        try:
            return self._by_symbol[symbol]
        except KeyError:
            raise UnknownSymbol(self.venue, symbol, canonical=True) from None

    def canonical(self, venue_symbol: str) -> str:
        """``BTCUSDT`` -> ``BTC-USDT`` (see :meth:`by_venue_symbol`)."""
        return self.by_venue_symbol(venue_symbol).symbol

    def venue_symbol(self, symbol: str) -> str:
        """``BTC-USDT`` -> the venue's spelling (see :meth:`by_symbol`)."""
        return self.by_symbol(symbol).venue_symbol

    def as_mapping(self) -> Mapping[str, Instrument]:
        """Instruments by venue symbol (read-only view)."""
        return self._by_venue.copy()


def spot_symbol(base: str, quote: str) -> str:
    """The canonical spot symbol: ``BASE-QUOTE`` in upper case."""
    return f"{base.upper()}-{quote.upper()}"


def perpetual_symbol(base: str, quote: str) -> str:
    """The canonical perpetual symbol: ``BASE-QUOTE-PERP`` (the contract's quote currency)."""
    return f"{base.upper()}-{quote.upper()}-PERP"


def future_symbol(base: str, quote: str, expiry: _dt.date) -> str:
    """The canonical dated-future symbol: ``BASE-QUOTE-YYYYMMDD`` (the expiry's UTC date)."""
    return f"{base.upper()}-{quote.upper()}-{expiry:%Y%m%d}"


def option_symbol(
    base: str, quote: str, expiry: _dt.date, strike: Decimal, option_type: Literal["C", "P"]
) -> str:
    """The canonical option symbol: ``BASE-QUOTE-YYYYMMDD-STRIKE-C`` or ``-P``.

    The strike is written exactly, without exponent or trailing zeros
    (``Decimal("100000.0")`` -> ``100000``, ``Decimal("0.50")`` -> ``0.5``).

    Raises:
        ValueError: the strike is not a positive finite number, or the type is not C or P.
    """
    if not strike.is_finite() or strike <= 0:
        raise ValueError(f"option strike must be a positive number, not {strike!r}")
    if option_type not in ("C", "P"):
        raise ValueError(f"option type must be 'C' or 'P', not {option_type!r}")
    text = format(strike.normalize(), "f")
    return f"{base.upper()}-{quote.upper()}-{expiry:%Y%m%d}-{text}-{option_type}"


class SymbolParts(msgspec.Struct, frozen=True, gc=False):
    """A canonical symbol taken apart by :func:`parse_symbol`."""

    base: str
    quote: str
    kind: InstrumentKind
    expiry: _dt.date | None = None
    strike: Decimal | None = None
    option_type: Literal["C", "P"] | None = None


_ASSET = r"[A-Z0-9]+"
_SYMBOL_RE: Final = re.compile(
    rf"(?P<base>{_ASSET})-(?P<quote>{_ASSET})"
    r"(?:-(?P<perp>PERP)|-(?P<expiry>\d{8})(?:-(?P<strike>\d+(?:\.\d+)?)-(?P<type>[CP]))?)?"
)


def parse_symbol(symbol: str) -> SymbolParts:
    """Take a canonical symbol apart (the inverse of the ``*_symbol`` builders).

    Raises:
        ValueError: ``symbol`` is not a canonical spelling.
    """
    match = _SYMBOL_RE.fullmatch(symbol)
    if match is None:
        raise ValueError(f"not a canonical symbol: {symbol!r} (e.g. BTC-USDT, BTC-USDT-PERP)")
    base, quote = match["base"], match["quote"]
    if match["perp"]:
        return SymbolParts(base, quote, "perpetual")
    if match["expiry"] is None:
        return SymbolParts(base, quote, "spot")
    try:
        expiry = _dt.datetime.strptime(match["expiry"], "%Y%m%d").date()
    except ValueError:
        raise ValueError(f"not a canonical symbol: {symbol!r} (bad expiry date)") from None
    if match["strike"] is None:
        return SymbolParts(base, quote, "future", expiry)
    strike = Decimal(match["strike"])
    if strike <= 0 or format(strike.normalize(), "f") != match["strike"]:
        raise ValueError(f"not a canonical symbol: {symbol!r} (strike not written exactly)")
    option_type: Literal["C", "P"] = "C" if match["type"] == "C" else "P"
    return SymbolParts(base, quote, "option", expiry, strike, option_type)


#: a venue's unifier bound to one connection: ``(payload, received_at) ->`` one
#: event, a tuple of events (a venue message batching several trades, e.g. Bybit's
#: ``publicTrade``), or ``None`` (no unified form). Use :func:`unified_each` to iterate.
Unifier: TypeAlias = Callable[[Any, float], "UnifiedEvent | tuple[UnifiedEvent, ...] | None"]


def unified_each(
    result: UnifiedEvent | tuple[UnifiedEvent, ...] | None,
) -> tuple[UnifiedEvent, ...]:
    """A unifier's result as a tuple of events (empty for ``None``)."""
    if result is None:
        return ()
    if type(result) is tuple:
        return result
    return (result,)  # type: ignore[return-value]


@attrs.frozen(kw_only=True)
class UnifiedSupport:
    """What a venue's registry entry provides for the unified vocabulary.

    Attributes:
        load_catalogue: ``await load_catalogue(url=None, **connect_options)``
            fetches the venue's instrument :class:`Catalogue` (over the
            WebSocket where the venue offers it, else its REST endpoint).
        unifier: ``unifier(catalogue, stream_url)``: the pure function turning
            that connection's typed payloads into unified events (``None``
            for payloads without a unified form).
        fake_catalogue_url: the URL ``load_catalogue`` uses against a started
            fake server of the venue (tests, the demo and the collector's
            offline mode).
        fake_message: ``fake_message(server, event) ->`` a :class:`FakeMessage`:
            how the venue's fake sends a message carrying ``event``'s values,
            or ``None`` when the venue has no message of that kind.
            ``event.venue_symbol`` names the instrument. The cross-venue
            tests push the same simulated trade, ticker, candle and best
            bid/ask through every venue's fake with it: what the client
            unifies must equal ``event``, apart from the venue fields,
            ``received_at`` and fields the venue does not send (``None``).
    """

    load_catalogue: Callable[..., Awaitable[Catalogue]]
    unifier: Callable[[Catalogue, str], Unifier]
    fake_catalogue_url: Callable[[FakeVenueServer[Any]], str] | None = None
    fake_message: Callable[[FakeVenueServer[Any], UnifiedEvent], FakeMessage | None] | None = None


@attrs.frozen
class FakeMessage:
    """A message a venue's fake sends on request (see :attr:`UnifiedSupport.fake_message`).

    A client of ``endpoint`` connected to ``url`` and subscribed to ``topic``
    receives it after ``await server.push(topic, data)``.

    Attributes:
        topic: the venue's topic.
        data: what ``server.push`` sends (the fake frames it as the venue does).
        endpoint: the client endpoint (``None``: the fake's, ``FakeVenue.endpoint``).
        url: that endpoint's URL on the started server (``None``: ``FakeVenue.url(server, ())``).
    """

    topic: str
    data: Any
    endpoint: str | None = None
    url: str | None = None


# The Trio side (adapter, many venues in one nursery) lives in its own module; its
# names are part of this one's API.
from ._unified_feed import FeedSpec as FeedSpec  # noqa: E402
from ._unified_feed import FeedStatus as FeedStatus  # noqa: E402
from ._unified_feed import UnifiedAdapter as UnifiedAdapter  # noqa: E402
from ._unified_feed import UnifiedFeeds as UnifiedFeeds  # noqa: E402
from ._unified_feed import UnifiedStream as UnifiedStream  # noqa: E402
from ._unified_feed import unified_feeds as unified_feeds  # noqa: E402
