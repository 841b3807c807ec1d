"""The OKX client: ``Okx.connect(endpoint="public" | "business" | "private")``.

One class for the three endpoints (``docs/venues/okx.md``, "Endpoints"):

- ``Okx.connect()`` opens the **public** endpoint (trades, books, tickers,
  mark price, index, funding, open interest);
- ``Okx.connect(endpoint="business")`` the **business** endpoint (candles,
  ``trades-all``; it logs in when given credentials);
- ``Okx.connect(endpoint="private", credentials=Credentials(key, secret,
  passphrase))`` the **private** endpoint: it logs in before ``connect()``
  returns, then takes the private channels and order entry.

``url=`` opens any address (a fake server, a regional host, another port:
:func:`~trio_venues.venues.okx.okx_url`); ``endpoint=`` then still says what
kind of connection it is. The protocol itself is in :class:`OkxCore`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, ClassVar, Final

from ..._client import VenueClient
from ..._config import ConnectionConfig
from ..._core import VenueCore
from ..._session import Connection
from ...credentials import Credentials
from ._protocol import ENDPOINT_PATHS, OkxCore, okx_url
from ._topics import topic_arg
from ._wire import CANDLE_BARS, INST_TYPES, OrderResult

__all__ = ["BOOK_CHANNELS", "Okx", "OkxBusiness", "OkxConnection", "OkxPrivate"]

#: The order-book channels, by depth [docs/venues/okx.md, "Messages"].
BOOK_CHANNELS: Final = ("books", "books5", "bbo-tbt", "books50-l2-tbt", "books-l2-tbt")


def _inst_topics(channel: str, inst_ids: Sequence[str]) -> list[str]:
    if not inst_ids:
        raise ValueError(f"name at least one instrument for {channel!r}, e.g. 'BTC-USDT'")
    topics = [f"{channel}:{inst_id}" for inst_id in inst_ids]
    for topic in topics:
        topic_arg(topic)  # validates the spelling
    return topics


class OkxConnection(Connection):
    """An open OKX connection: the session's API plus typed OKX helpers.

    Every ``subscribe_*`` helper takes several instruments and sends them in
    one request (split under OKX's 64 KB per request); it returns the topics,
    whose messages carry that ``Message.topic``.
    """

    @property
    def endpoint(self) -> str:
        """``"public"``, ``"business"`` or ``"private"``."""
        core = self.core
        return core.endpoint if isinstance(core, OkxCore) else "public"

    def _require(self, endpoint: str, what: str) -> None:
        if self.endpoint != endpoint:
            raise ValueError(
                f"{what} is served on OKX's {endpoint} endpoint, not {self.endpoint}: "
                f"Okx.connect(endpoint={endpoint!r})"
            )

    async def _subscribe_topics(self, topics: list[str]) -> list[str]:
        await self.subscribe(*topics)
        return topics

    # -- public endpoint ---------------------------------------------------------------

    async def subscribe_trades(self, *inst_ids: str) -> list[str]:
        """Aggregated trades (``trades:<instId>``, :class:`Trade`)."""
        self._require("public", "trades")
        return await self._subscribe_topics(_inst_topics("trades", inst_ids))

    async def subscribe_tickers(self, *inst_ids: str) -> list[str]:
        """Tickers (``tickers:<instId>``, :class:`Ticker`)."""
        self._require("public", "tickers")
        return await self._subscribe_topics(_inst_topics("tickers", inst_ids))

    async def subscribe_books(self, *inst_ids: str, channel: str = "books") -> list[str]:
        """Order books (``books:<instId>`` ..., :class:`BookMessage`).

        Args:
            inst_ids: the instruments.
            channel: one of :data:`BOOK_CHANNELS`; ``books-l2-tbt`` and
                ``books50-l2-tbt`` need a login and a VIP tier.
        """
        if channel not in BOOK_CHANNELS:
            raise ValueError(f"unknown OKX book channel {channel!r}; use {BOOK_CHANNELS}")
        return await self._subscribe_topics(_inst_topics(channel, inst_ids))

    async def subscribe_mark_price(self, *inst_ids: str) -> list[str]:
        """Mark prices (``mark-price:<instId>``, :class:`MarkPrice`)."""
        self._require("public", "mark-price")
        return await self._subscribe_topics(_inst_topics("mark-price", inst_ids))

    async def subscribe_index_tickers(self, *index_ids: str) -> list[str]:
        """Index prices (``index-tickers:<index>``, e.g. ``"BTC-USDT"``; :class:`IndexTicker`)."""
        self._require("public", "index-tickers")
        return await self._subscribe_topics(_inst_topics("index-tickers", index_ids))

    async def subscribe_funding_rate(self, *inst_ids: str) -> list[str]:
        """Funding of perpetual swaps (``funding-rate:<instId>``, :class:`FundingRate`)."""
        self._require("public", "funding-rate")
        return await self._subscribe_topics(_inst_topics("funding-rate", inst_ids))

    async def subscribe_open_interest(self, *inst_ids: str) -> list[str]:
        """Open interest (``open-interest:<instId>``, :class:`OpenInterest`)."""
        self._require("public", "open-interest")
        return await self._subscribe_topics(_inst_topics("open-interest", inst_ids))

    # -- business endpoint -------------------------------------------------------------

    async def subscribe_candles(self, bar: str, *inst_ids: str) -> list[str]:
        """Candles of ``bar`` (``candle1m:<instId>``, :class:`Candle`), on ``business``.

        Args:
            bar: one of :data:`CANDLE_BARS` (case matters: ``"1m"`` is a
                minute, ``"1M"`` a month).
            inst_ids: the instruments.
        """
        if bar not in CANDLE_BARS:
            raise ValueError(f"unknown OKX candle bar {bar!r}; valid: {', '.join(CANDLE_BARS)}")
        self._require("business", "candles")
        return await self._subscribe_topics(_inst_topics(f"candle{bar}", inst_ids))

    async def subscribe_all_trades(self, *inst_ids: str) -> list[str]:
        """Every trade (``trades-all:<instId>``, :class:`Trade`), on ``business``."""
        self._require("business", "trades-all")
        return await self._subscribe_topics(_inst_topics("trades-all", inst_ids))

    # -- private endpoint ----------------------------------------------------------------

    async def subscribe_orders(self, *inst_types: str) -> list[str]:
        """Order updates (``orders:<instType>``, :class:`Order`); default ``"ANY"``."""
        return await self._private_by_type("orders", inst_types or ("ANY",))

    async def subscribe_positions(self, *inst_types: str) -> list[str]:
        """Position updates (``positions:<instType>``, :class:`Position`); default ``"ANY"``."""
        return await self._private_by_type("positions", inst_types or ("ANY",))

    async def subscribe_account(self, *currencies: str) -> list[str]:
        """Account updates (``account`` or ``account:ccy=BTC``, :class:`Account`)."""
        self._require("private", "account")
        topics = [f"account:ccy={ccy}" for ccy in currencies] or ["account"]
        return await self._subscribe_topics(topics)

    async def subscribe_balance_and_position(self) -> list[str]:
        """Balance and position updates (``balance_and_position``, :class:`BalanceAndPosition`)."""
        self._require("private", "balance_and_position")
        return await self._subscribe_topics(["balance_and_position"])

    async def _private_by_type(self, channel: str, inst_types: Sequence[str]) -> list[str]:
        self._require("private", channel)
        unknown = [t for t in inst_types if t not in INST_TYPES]
        if unknown:
            raise ValueError(f"unknown instType {unknown}; valid: {sorted(INST_TYPES)}")
        return await self._subscribe_topics([f"{channel}:{t}" for t in inst_types])

    # -- order entry -----------------------------------------------------------------------

    async def _op(
        self,
        op: str,
        params: Any,
        timeout: float | None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> tuple[OrderResult, ...]:
        self._require("private", op)
        result: tuple[OrderResult, ...] = await self.request(op, params, timeout=timeout)
        return result

    async def place_order(
        self,
        inst_id: str,
        side: str,
        ord_type: str,
        size: Decimal | str,
        *,
        price: Decimal | str | None = None,
        td_mode: str = "cash",
        cl_ord_id: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
        **extra: Any,
    ) -> OrderResult:
        """Place one order (``op: "order"``); returns its :class:`OrderResult`.

        Args:
            inst_id: the instrument.
            side: ``"buy"`` or ``"sell"``.
            ord_type: ``"limit"``, ``"market"``, ``"post_only"``, ``"fok"``, ``"ioc"`` ...
            size: the size (``Decimal`` or its exact string; never a float).
            price: the limit price.
            td_mode: ``"cash"`` (spot), ``"cross"`` or ``"isolated"``.
            cl_ord_id: your client order id.
            timeout: seconds to wait for the reply (default ``request_timeout``).
            **extra: any other OKX order argument, with OKX's key (``reduceOnly`` ...).

        Raises:
            VenueError: OKX refused the order (``code`` is its ``sCode``).
            RequestTimeout: no reply in time; the order's fate is unknown.
            ConnectionLost: the connection ended first; the order was not re-sent.
        """
        args: dict[str, Any] = {
            "instId": inst_id,
            "tdMode": td_mode,
            "side": side,
            "ordType": ord_type,
            "sz": size,
            **extra,
        }
        if price is not None:
            args["px"] = price
        if cl_ord_id is not None:
            args["clOrdId"] = cl_ord_id
        (result,) = await self._op("order", args, timeout)
        return result

    async def batch_orders(
        self,
        orders: Sequence[Mapping[str, Any]],
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> tuple[OrderResult, ...]:
        """Place several orders (``batch-orders``, OKX's keys); one result per order.

        Some orders may fail while others succeed: check each ``s_code``.
        """
        return await self._op("batch-orders", list(orders), timeout)

    async def cancel_order(
        self,
        inst_id: str,
        *,
        ord_id: str | None = None,
        cl_ord_id: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> OrderResult:
        """Cancel one order by ``ord_id`` or ``cl_ord_id`` (``cancel-order``)."""
        (result,) = await self._op("cancel-order", _order_ref(inst_id, ord_id, cl_ord_id), timeout)
        return result

    async def amend_order(
        self,
        inst_id: str,
        *,
        ord_id: str | None = None,
        cl_ord_id: str | None = None,
        new_size: Decimal | str | None = None,
        new_price: Decimal | str | None = None,
        req_id: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request timeout is the feature
    ) -> OrderResult:
        """Change an order's size and/or price (``amend-order``)."""
        args = _order_ref(inst_id, ord_id, cl_ord_id)
        if new_size is None and new_price is None:
            raise ValueError("amend_order needs new_size or new_price")
        if new_size is not None:
            args["newSz"] = new_size
        if new_price is not None:
            args["newPx"] = new_price
        if req_id is not None:
            args["reqId"] = req_id
        (result,) = await self._op("amend-order", args, timeout)
        return result


def _order_ref(inst_id: str, ord_id: str | None, cl_ord_id: str | None) -> dict[str, Any]:
    if ord_id is None and cl_ord_id is None:
        raise ValueError("name the order: ord_id= or cl_ord_id=")
    args: dict[str, Any] = {"instId": inst_id}
    if ord_id is not None:
        args["ordId"] = ord_id
    if cl_ord_id is not None:
        args["clOrdId"] = cl_ord_id
    return args


class Okx(VenueClient[OkxConnection]):
    """OKX v5: ``async with Okx.connect(endpoint=...) as ws`` (see the module docstring).

    Keepalive is OKX's own: the text ``ping`` after 20 s without a message
    (``venue_ping_interval=`` changes it, below 30 s), ``pong`` within 8 s.
    """

    endpoints: ClassVar[Mapping[str, str]] = {name: okx_url(name) for name in ENDPOINT_PATHS}
    default_endpoint: ClassVar[str] = "public"
    connection_class: ClassVar[type[Connection]] = OkxConnection

    @classmethod
    def make_core(
        cls,
        config: ConnectionConfig,
        url: str,
        *,
        endpoint: str | None = None,
        credentials: Credentials | None = None,
    ) -> VenueCore:
        """An :class:`OkxCore` for ``endpoint`` (default public)."""
        ping_after = config.venue_ping_interval or 20.0
        return OkxCore(endpoint or "public", ping_after=ping_after)


class OkxBusiness(Okx):
    """:class:`Okx` on the business endpoint by default (candles, ``trades-all``)."""

    default_endpoint: ClassVar[str] = "business"


class OkxPrivate(Okx):
    """:class:`Okx` on the private endpoint by default (login, private channels, orders)."""

    default_endpoint: ClassVar[str] = "private"
