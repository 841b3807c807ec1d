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

from .errors import TrioVenuesError

if TYPE_CHECKING:
    from .testing._server import FakeVenueServer

__all__ = [
    "AmbiguousSymbol",
    "BestBidAsk",
    "Candle",
    "Catalogue",
    "FundingRate",
    "Instrument",
    "InstrumentKind",
    "Liquidation",
    "OpenInterest",
    "Side",
    "SymbolParts",
    "Ticker",
    "Trade",
    "UnifiedEvent",
    "UnifiedSupport",
    "Unifier",
    "UnknownSymbol",
    "decode",
    "encode",
    "future_symbol",
    "option_symbol",
    "parse_symbol",
    "perpetual_symbol",
    "spot_symbol",
    "unified_each",
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


class AmbiguousSymbol(TrioVenuesError, KeyError):
    """A symbol that names several instruments of one venue's catalogue.

    Bybit spells a spot pair and the linear perpetual on it alike (``BTCUSDT``
    on the spot and on the linear endpoint): name the market
    (``catalogue.by_venue_symbol("BTCUSDT", market="linear")``, or look up in
    ``catalogue.in_market("linear")``). A canonical symbol is ambiguous when
    a venue lists two contracts that differ only in something the canonical
    spelling does not say (e.g. their contract size): look those up by their
    venue symbol.

    Attributes:
        venue: the venue's registry name.
        symbol: the symbol looked up.
        candidates: the instruments it could mean.
    """

    def __init__(
        self, venue: str, symbol: str, candidates: Iterable[Instrument], *, canonical: bool
    ) -> None:
        self.venue = venue
        self.symbol = symbol
        self.candidates = tuple(candidates)
        spelling = "canonical symbol" if canonical else "venue symbol"
        names = ", ".join(
            f"{inst.venue_symbol} ({inst.market})" if inst.market else inst.venue_symbol
            for inst in self.candidates
        )
        hint = (
            "look it up by venue symbol"
            if canonical
            else "name the market: by_venue_symbol(symbol, market=...) or in_market(...)"
        )
        super().__init__(
            f"{venue}: {spelling} {symbol!r} names {len(self.candidates)} instruments "
            f"({names}); {hint}"
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


#: every unified market-data event type
UnifiedEvent: TypeAlias = (
    Trade | BestBidAsk | Ticker | Candle | FundingRate | OpenInterest | Liquidation
)

_ENCODER: Final = msgspec.json.Encoder(decimal_format="string")
_DECODER: Final = msgspec.json.Decoder(UnifiedEvent)


def encode(event: UnifiedEvent) -> bytes:
    """The event as compact JSON (Decimals as exact strings, ``kind`` as the tag)."""
    return _ENCODER.encode(event)


def decode(data: bytes | str) -> UnifiedEvent:
    """An event back from :func:`encode`'s JSON.

    Raises:
        msgspec.ValidationError, msgspec.DecodeError: not a unified event.
    """
    return _DECODER.decode(data)


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
        market: the venue's market the instrument trades in, where the venue
            splits its instruments into markets served by different endpoints
            (Bybit's categories ``spot``, ``linear``, ``inverse``, ``option``:
            the endpoint that streams it); ``None`` for venues with one market.
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
    market: str | None = None


class Catalogue:
    """A venue's instruments, looked up by venue or canonical symbol.

    A catalogue is an immutable snapshot; a venue's loader builds a new one on
    refresh. Look-ups that miss raise :class:`UnknownSymbol`; a symbol that
    names several instruments raises :class:`AmbiguousSymbol` (Bybit spells
    its spot pair and linear perpetual alike: name the ``market``).
    """

    def __init__(self, venue: str, instruments: Iterable[Instrument]) -> None:
        self.venue = venue
        # Keyed by (market, venue symbol): a later duplicate replaces an earlier one.
        self._all: dict[tuple[str | None, str], Instrument] = {}
        for inst in instruments:
            if inst.venue != venue:
                raise ValueError(f"instrument {inst.venue_symbol!r} belongs to {inst.venue!r}")
            self._all[(inst.market, inst.venue_symbol)] = inst
        by_venue: dict[str, list[Instrument]] = {}
        by_symbol: dict[str, list[Instrument]] = {}
        for inst in self._all.values():
            by_venue.setdefault(inst.venue_symbol, []).append(inst)
            by_symbol.setdefault(inst.symbol, []).append(inst)
        self._by_venue = {k: v[0] for k, v in by_venue.items() if len(v) == 1}
        self._by_symbol = {k: v[0] for k, v in by_symbol.items() if len(v) == 1}
        self._venue_ambiguous = {k: tuple(v) for k, v in by_venue.items() if len(v) > 1}
        self._symbol_ambiguous = {k: tuple(v) for k, v in by_symbol.items() if len(v) > 1}

    def __repr__(self) -> str:
        return f"<Catalogue {self.venue}: {len(self._all)} instruments>"

    def __len__(self) -> int:
        return len(self._all)

    def __iter__(self) -> Iterator[Instrument]:
        return iter(self._all.values())

    def __contains__(self, venue_symbol: object) -> bool:
        return venue_symbol in self._by_venue or venue_symbol in self._venue_ambiguous

    @property
    def markets(self) -> tuple[str, ...]:
        """The markets the instruments name (empty for a venue with one market)."""
        return tuple(sorted({inst.market for inst in self._all.values() if inst.market}))

    def in_market(self, market: str) -> Catalogue:
        """The catalogue of one market's instruments (``"linear"`` on Bybit).

        Raises:
            UnknownSymbol: no instrument is in ``market``.
        """
        chosen = [inst for inst in self._all.values() if inst.market == market]
        if not chosen:
            raise UnknownSymbol(self.venue, f"{market}:*", canonical=False)
        return Catalogue(self.venue, chosen)

    def by_venue_symbol(self, venue_symbol: str, market: str | None = None) -> Instrument:
        """The instrument the venue spells ``venue_symbol`` (in ``market``, when given).

        Raises:
            UnknownSymbol: the catalogue does not list it.
            AmbiguousSymbol: several markets list it and ``market`` is not given.
        """
        if market is not None:
            try:
                return self._all[(market, venue_symbol)]
            except KeyError:
                raise UnknownSymbol(self.venue, venue_symbol, canonical=False) from None
        try:
            return self._by_venue[venue_symbol]
        except KeyError:
            candidates = self._venue_ambiguous.get(venue_symbol)
            if candidates is not None:
                raise AmbiguousSymbol(
                    self.venue, venue_symbol, candidates, canonical=False
                ) from None
            raise UnknownSymbol(self.venue, venue_symbol, canonical=False) from None

    def by_symbol(self, symbol: str) -> Instrument:
        """The instrument whose canonical spelling is ``symbol``.

        Raises:
            UnknownSymbol: the catalogue does not list it.
            AmbiguousSymbol: two of the venue's instruments share the spelling.
        """
        try:
            return self._by_symbol[symbol]
        except KeyError:
            candidates = self._symbol_ambiguous.get(symbol)
            if candidates is not None:
                raise AmbiguousSymbol(self.venue, symbol, candidates, canonical=True) from None
            raise UnknownSymbol(self.venue, symbol, canonical=True) from None

    def canonical(self, venue_symbol: str, market: str | None = None) -> str:
        """``BTCUSDT`` -> ``BTC-USDT`` (see :meth:`by_venue_symbol`)."""
        return self.by_venue_symbol(venue_symbol, market).symbol

    def venue_symbol(self, symbol: str) -> str:
        """``BTC-USDT`` -> the venue's spelling (see :meth:`by_symbol`)."""
        return self.by_symbol(symbol).venue_symbol

    def as_mapping(self) -> Mapping[str, Instrument]:
        """Instruments by venue symbol (a copy).

        A venue symbol several markets list is left out: take the mapping of
        one market (``catalogue.in_market("linear").as_mapping()``).
        """
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
    """

    load_catalogue: Callable[..., Awaitable[Catalogue]]
    unifier: Callable[[Catalogue, str], Unifier]
    fake_catalogue_url: Callable[[FakeVenueServer[Any]], str] | None = None
