"""A fake OKX: the v5 WebSocket protocol on :class:`~trio_venues.testing.FakeVenueServer`.

``FakeOkx`` is a venue behaviour; :func:`fake_okx_server` wraps it in a fake
server. One server serves the three endpoints: the path of the client's URL
(``/ws/v5/public``, ``/ws/v5/business``, ``/ws/v5/private``, see
:func:`fake_okx_url`) says which, and any other path is public.

What it speaks (``docs/venues/okx.md``):

- ``subscribe``/``unsubscribe`` with one ack per argument (echoing ``id``),
  an ``error`` event with the ``id`` for an argument it refuses (an unknown
  instrument: code 60018 naming it; a private channel before login: 60011;
  a business channel on public: 64001), ``channel-conn-count`` after a
  private subscription;
- ``login``, checked: the API key, passphrase and signature of
  :attr:`FakeOkx.accounts`, the timestamp within 30 s of the fake's wall
  clock, one login per connection (60005, 60024, 60007, 60006, 60031);
- the text ``ping`` answered with ``pong`` (unless
  ``conn.answer_venue_pings`` is off: the "stop answering ping" fault);
- order entry (``order``, ``batch-orders``, ``cancel-order``, ``amend-order``)
  after login, with OKX's replies, and an ``orders`` push per change;
- market data from a small simulated market: ``trades``, ``tickers``,
  candles, ``funding-rate``, ``open-interest``, ``mark-price``,
  ``index-tickers``, ``liquidation-orders`` (by instType), and books with
  ``seqId``/``prevSeqId`` and, when :attr:`FakeOkx.checksums` is on, the
  legacy checksum (else 0, as OKX sends since 2026). A new book subscriber
  gets a snapshot first;
- the ``instruments`` channel (by instType): the full list of the fake's
  instruments of that type in one push after the ack, from the same table
  as the instruments it accepts (:func:`instrument_spec`), so a catalogue
  loaded from the fake maps every symbol it simulates.

Faults, besides the server's own (``conn.close(4004, ...)``, ``conn.stall()``,
``server.reject(...)`` ...): ``server.inject_gap(topic)`` skips a ``seqId``,
:meth:`FakeOkx.corrupt_checksum` sends a wrong checksum,
:meth:`FakeOkx.send_notice` (or ``conn.notify_shutdown()``) the 64008
notice, :meth:`FakeOkx.close_with` any OKX close code, and
:attr:`FakeOkx.login_error` makes every login fail with a code.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

import attrs
import orjson
import trio

from ...errors import DecodeError
from ...testing._server import FakeVenueServer, HandshakeRequest, ServerConnection, VenueBehaviour
from ._protocol import ENDPOINT_PATHS, ORDER_OPS, PRIVATE_CHANNELS, SEQUENCED_BOOKS, decode_request
from ._signing import login_signature
from ._topics import dict_topic, topic_arg
from ._wire import book_checksum

__all__ = [
    "CLOSE_REASONS",
    "DEFAULT_INSTRUMENTS",
    "FakeOkx",
    "OkxAccount",
    "fake_okx_server",
    "fake_okx_url",
    "instrument_spec",
]

#: Instruments the fake lists unless told otherwise: spot pairs, linear and
#: inverse swaps and futures, and options (see :func:`instrument_spec`).
DEFAULT_INSTRUMENTS: Final = (
    "BTC-USDT",
    "ETH-USDT",
    "SOL-USDT",
    "ETH-BTC",
    "BTC-USDT-SWAP",
    "ETH-USDT-SWAP",
    "BTC-USD-SWAP",
    "BTC-USDT-261225",
    "BTC-USD-261225",
    "BTC-USD-261225-100000-C",
    "BTC-USD-261225-100000-P",
)
# instTypes the instrument-keyed channels take [docs/venues/okx.md, "Unified events"].
_INSTRUMENTS_TYPES: Final = frozenset({"SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION"})
_LIQUIDATION_TYPES: Final = frozenset({"SWAP", "FUTURES", "MARGIN", "OPTION"})
#: OKX's close reasons by code [docs/venues/okx.md, "Close codes"].
CLOSE_REASONS: Final = {
    4001: "Login Failed",
    4002: "Invalid Request",
    4003: "APIKey subscription amount exceeds the limit 100",
    4004: "No data received in 30s",
    4005: "Buffer is full, cannot write data",
    4006: "Abnormal disconnection",
    4007: "API key has been updated or deleted",
    4008: "The number of subscribed channels has exceeded the limit",
    4009: "The number of subscribed channels has exceeded the limit",
}
_BUSINESS_ONLY: Final = ("candle", "trades-all")
_PUBLIC_CHANNELS: Final = frozenset(
    {
        "trades",
        "tickers",
        "books",
        "books5",
        "bbo-tbt",
        "books-l2-tbt",
        "books50-l2-tbt",
        "mark-price",
        "index-tickers",
        "funding-rate",
        "open-interest",
    }
)
_BOOK_LEVELS: Final = 10
_UPGRADE_MESSAGE: Final = (
    "The connection will soon be closed for a service upgrade. Please reconnect."
)


async def _close_later(conn: ServerConnection, delay: float, close: tuple[int, str]) -> None:
    await trio.sleep(delay)
    if conn.is_open:
        await conn.close(*close)


def _dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()


@attrs.frozen
class OkxAccount:
    """An API key the fake accepts: its secret and passphrase (test values only)."""

    secret: str
    passphrase: str


@attrs.define
class _Book:
    """One simulated order book: price string -> size string, per side."""

    bids: dict[str, str]
    asks: dict[str, str]

    def levels(self) -> tuple[list[list[str]], list[list[str]]]:
        bids = sorted(self.bids.items(), key=lambda kv: Decimal(kv[0]), reverse=True)
        asks = sorted(self.asks.items(), key=lambda kv: Decimal(kv[0]))
        return (
            [[p, s, "0", "1"] for p, s in bids],
            [[p, s, "0", "1"] for p, s in asks],
        )


def _new_book() -> _Book:
    # Prices with one non-zero decimal so that every spelling is canonical.
    return _Book(
        bids={f"99.{i}": str(i) for i in range(1, _BOOK_LEVELS)},
        asks={f"100.{i}": str(i) for i in range(1, _BOOK_LEVELS)},
    )


def _endpoint(request: HandshakeRequest) -> str:
    for name, path in ENDPOINT_PATHS.items():
        if request.path.rstrip("/").endswith(path):
            return name
    return "public"


def _expiry_ms(yymmdd: str) -> str:
    """OKX futures and options expire at 08:00 UTC on their date."""
    day = _dt.datetime.strptime(yymmdd, "%y%m%d").replace(hour=8, tzinfo=_dt.UTC)
    return str(int(day.timestamp()) * 1000)


def instrument_spec(inst_id: str) -> dict[str, str]:
    """The ``instruments`` item the fake lists for ``inst_id``, read from OKX's id grammar.

    ``BASE-QUOTE`` is a spot pair (tick 0.1, lot 0.00000001);
    ``BASE-QUOTE-SWAP`` a perpetual swap and ``BASE-QUOTE-YYMMDD`` a future,
    inverse (contract value 100 USD, settled in the base) when the quote is
    USD, else linear (0.01 of the base, settled in the quote);
    ``BASE-QUOTE-YYMMDD-STRIKE-C|P`` an option (0.01 of the base, settled in
    the base). Fields that do not apply are ``""``, as OKX sends them.

    Raises:
        ValueError: ``inst_id`` is none of these.
    """
    parts = inst_id.split("-")
    spec = dict.fromkeys(
        ("uly", "instFamily", "baseCcy", "quoteCcy", "settleCcy", "ctVal", "ctMult",
         "ctValCcy", "ctType", "optType", "stk", "expTime", "alias"),
        "",
    )  # fmt: skip
    spec |= {"instId": inst_id, "state": "live", "listTime": "1600000000000"}
    if len(parts) == 2:
        base, quote = parts
        return spec | {"instType": "SPOT", "baseCcy": base, "quoteCcy": quote,
                       "tickSz": "0.1", "lotSz": "0.00000001", "minSz": "0.00001"}  # fmt: skip
    if len(parts) not in (3, 5):
        raise ValueError(f"not an OKX instrument id the fake can list: {inst_id!r}")
    base, quote, kind = parts[:3]
    spec |= {"uly": f"{base}-{quote}", "instFamily": f"{base}-{quote}", "ctMult": "1",
             "tickSz": "0.1", "lotSz": "0.01", "minSz": "0.01"}  # fmt: skip
    if len(parts) == 5:
        strike, option_type = parts[3:]
        return spec | {"instType": "OPTION", "settleCcy": base, "ctVal": "0.01",
                       "ctValCcy": base, "optType": option_type, "stk": strike,
                       "expTime": _expiry_ms(kind), "tickSz": "0.0005"}  # fmt: skip
    if quote == "USD":
        spec |= {"settleCcy": base, "ctVal": "100", "ctValCcy": quote, "ctType": "inverse"}
    else:
        spec |= {"settleCcy": quote, "ctVal": "0.01", "ctValCcy": base, "ctType": "linear"}
    if kind == "SWAP":
        return spec | {"instType": "SWAP"}
    return spec | {"instType": "FUTURES", "expTime": _expiry_ms(kind), "alias": "quarter"}


class FakeOkx(VenueBehaviour):
    """The OKX v5 behaviour of a fake server (see the module docstring).

    Args:
        instruments: the instruments it knows, as ids (listed per
            :func:`instrument_spec`) or as ``instruments`` items (mappings
            with OKX's keys); others are refused (60018).
        accounts: API key -> :class:`OkxAccount` for logins.
        checksums: send the legacy book checksum (else 0).
        wall_clock: seconds since the epoch, for ``ts`` and the login window.
    """

    name = "okx"

    def __init__(
        self,
        *,
        instruments: Sequence[str | Mapping[str, str]] = DEFAULT_INSTRUMENTS,
        accounts: dict[str, OkxAccount] | None = None,
        checksums: bool = False,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        #: the ``instruments`` items the fake lists, by instrument id
        self.instrument_specs: dict[str, dict[str, str]] = {}
        for inst in instruments:
            spec = instrument_spec(inst) if isinstance(inst, str) else dict(inst)
            self.instrument_specs[spec["instId"]] = spec
        self.instruments = set(self.instrument_specs)
        self.accounts: dict[str, OkxAccount] = dict(accounts or {})
        self.checksums = checksums
        self.wall_clock = wall_clock
        #: when set, every login fails with this code (e.g. "60009")
        self.login_error: str | None = None
        self._logged_in: set[ServerConnection] = set()
        self._books: dict[str, _Book] = {}
        self._book_seq: dict[str, int] = {}
        self._corrupt: set[str] = set()
        self._order_ids = itertools.count(1000)
        self._orders: dict[str, dict[str, Any]] = {}
        self._conn_ids = itertools.count(1)
        self._conn_id: dict[ServerConnection, str] = {}

    # -- helpers for tests ---------------------------------------------------------------

    def logged_in(self, conn: ServerConnection) -> bool:
        """Whether ``conn`` logged in."""
        return conn in self._logged_in

    def corrupt_checksum(self, topic: str) -> None:
        """The next book message of ``topic`` carries a wrong, non-zero checksum."""
        self._corrupt.add(topic)

    async def send_notice(
        self,
        conn: ServerConnection,
        code: str = "64008",
        *,
        close_after: float | None = None,
        close: tuple[int, str] = (1001, ""),
    ) -> None:
        """Send ``conn`` a notice (64008: the service-upgrade notice).

        With ``close_after`` (OKX: about 60 s after 64008), the connection is
        then closed that many seconds later with ``close``, as the upgrade
        does (OKX documents no close code for it: 1001 "going away" is ours).
        The close is scheduled on the connection's own tasks; this returns
        once the notice is sent.
        """
        await conn.send_text(self.shutdown_frame(_UPGRADE_MESSAGE, code=code))
        if close_after is not None:
            conn.start_soon(_close_later, conn, close_after, close)

    @staticmethod
    async def close_with(conn: ServerConnection, code: int) -> None:
        """Close ``conn`` with an OKX close code and its documented reason."""
        await conn.close(code, CLOSE_REASONS.get(code, "closed"))

    def _ms(self) -> int:
        return int(self.wall_clock() * 1000)

    def _cid(self, conn: ServerConnection) -> str:
        cid = self._conn_id.get(conn)
        if cid is None:
            cid = self._conn_id[conn] = f"{next(self._conn_ids):08x}"
        return cid

    # -- the behaviour -----------------------------------------------------------------------

    def initial_topics(self, request: HandshakeRequest) -> Sequence[str]:
        """None: OKX subscribes by request only."""
        return ()

    def venue_ping_frame(self, ts: int) -> str | bytes | None:
        """None: OKX never pings; the client does."""
        return None

    def shutdown_frame(self, message: str, *, code: str = "64008") -> str:
        """The service-upgrade notice."""
        return _dumps({"event": "notice", "code": code, "msg": message, "connId": "fake"})

    async def on_message(self, conn: ServerConnection, message: str | bytes) -> None:
        """Answer one client message."""
        if message == "ping":
            if conn.answer_venue_pings:
                await conn.send_text("pong")
            return
        try:
            request = decode_request(message)
        except DecodeError as exc:
            await self._error(conn, None, "60012", f"Invalid request: {exc}")
            return
        if request.op == "login":
            await self._login(conn, request.args)
        elif request.op in ("subscribe", "unsubscribe"):
            for arg in request.args:
                await self._subscription(conn, request.op, arg, request.request_id)
        elif request.op in ORDER_OPS:
            await self._order_op(conn, request.op, request.args, request.request_id)
        else:
            await self._error(conn, request.request_id, "60019", f"Invalid op: {request.op}")

    async def _error(
        self, conn: ServerConnection, rid: str | None, code: str, message: str
    ) -> None:
        frame: dict[str, Any] = {"event": "error", "code": code, "msg": message}
        if rid is not None:
            frame["id"] = rid
        frame["connId"] = self._cid(conn)
        await conn.send_json(frame)

    # -- login -------------------------------------------------------------------------------

    async def _login(self, conn: ServerConnection, args: Sequence[dict[str, Any]]) -> None:
        code = self._check_login(conn, args)
        if code is None:
            self._logged_in.add(conn)
            await conn.send_json(
                {"event": "login", "code": "0", "msg": "", "connId": self._cid(conn)}
            )
            return
        messages = {
            "60005": "Invalid OK-ACCESS-KEY",
            "60006": "Timestamp request expired",
            "60007": "Invalid sign",
            "60009": "Login failed.",
            "60024": "Wrong passphrase",
            "60031": "The WebSocket endpoint does not support multiple logins",
        }
        await self._error(conn, None, code, messages.get(code, "Login failed."))

    def _check_login(self, conn: ServerConnection, args: Sequence[dict[str, Any]]) -> str | None:
        if self.login_error is not None:
            return self.login_error
        if conn in self._logged_in:
            return "60031"
        if len(args) != 1:
            return "60009"
        arg = args[0]
        account = self.accounts.get(str(arg.get("apiKey")))
        if account is None:
            return "60005"
        if arg.get("passphrase") != account.passphrase:
            return "60024"
        timestamp = str(arg.get("timestamp", ""))
        if not timestamp.isdigit() or abs(int(timestamp) - self.wall_clock()) > 30:
            return "60006"
        if arg.get("sign") != login_signature(account.secret, timestamp):
            return "60007"
        return None

    # -- subscriptions -------------------------------------------------------------------------

    async def _subscription(
        self, conn: ServerConnection, op: str, arg: dict[str, Any], rid: str | None
    ) -> None:
        try:
            topic = self._topic_of(arg)
        except ValueError as exc:
            await self._error(conn, rid, "60012", f"Invalid request: {exc}")
            return
        channel = str(arg["channel"])
        ack: dict[str, Any] = {"event": op, "arg": arg, "connId": self._cid(conn)}
        if rid is not None:
            ack = {"id": rid, **ack}
        if op == "unsubscribe":
            # Remove first, so that no data of a removed topic follows its ack.
            conn.remove_subscriptions([topic])
            await conn.send_json(ack)
            return
        refusal = self._refusal(conn, channel, arg)
        if refusal is not None:
            await self._error(conn, rid, *refusal)
            return
        # Ack first, so that no data of a new topic precedes its ack.
        await conn.send_json(ack)
        conn.add_subscriptions([topic])
        if channel in PRIVATE_CHANNELS:
            count = sum(
                1
                for c in conn.server.active
                if any(t == channel or t.startswith(channel + ":") for t in c.subscriptions)
            )
            await conn.send_json(
                {
                    "event": "channel-conn-count",
                    "channel": channel,
                    "connCount": str(count),
                    "connId": self._cid(conn),
                }
            )
        if channel in SEQUENCED_BOOKS:
            await conn.send_text(self._book_snapshot(topic))
        elif channel == "instruments":
            # The full list of the instType in one push, as OKX sends it first.
            listed = self._listed(str(arg.get("instType")))
            await conn.send_text(_dumps({"arg": topic_arg(topic), "data": listed}))

    @staticmethod
    def _topic_of(arg: dict[str, Any]) -> str:
        return dict_topic(arg)

    def _refusal(
        self, conn: ServerConnection, channel: str, arg: dict[str, Any]
    ) -> tuple[str, str] | None:
        endpoint = _endpoint(conn.request)
        inst_id = arg.get("instId")
        if channel in PRIVATE_CHANNELS:
            if conn not in self._logged_in:
                return ("60011", "Please log in")
            return None
        by_type = {"instruments": _INSTRUMENTS_TYPES, "liquidation-orders": _LIQUIDATION_TYPES}
        if channel in by_type:
            inst_type = arg.get("instType")
            if inst_type not in by_type[channel]:
                return (
                    "60018",
                    f"Wrong URL or channel:{channel},instType:{inst_type} doesn't exist.",
                )
            return None
        business = channel.startswith(_BUSINESS_ONLY)
        if business and endpoint != "business":
            return ("64001", f"{channel} must be subscribed on the business endpoint")
        if not business and channel not in _PUBLIC_CHANNELS:
            return ("60018", f"Wrong URL or channel:{channel} doesn't exist.")
        if inst_id is None or inst_id not in self.instruments:
            return ("60018", f"Wrong URL or channel:{channel},instId:{inst_id} doesn't exist.")
        return None

    # -- market data ------------------------------------------------------------------------------

    def _listed(self, inst_type: str) -> list[dict[str, str]]:
        """The ``instruments`` items of ``inst_type``."""
        return [spec for spec in self.instrument_specs.values() if spec["instType"] == inst_type]

    def _book_snapshot(self, topic: str) -> str:
        book = self._books.setdefault(topic, _new_book())
        bids, asks = book.levels()
        seq_id = self._book_seq.get(topic, 0) * 10
        data = {
            "asks": asks,
            "bids": bids,
            "ts": str(self._ms()),
            "checksum": self._checksum(topic, bids, asks),
            "prevSeqId": -1,
            "seqId": seq_id,
        }
        return _dumps({"arg": topic_arg(topic), "action": "snapshot", "data": [data]})

    def _checksum(self, topic: str, bids: list[list[str]], asks: list[list[str]]) -> int:
        if topic in self._corrupt:
            self._corrupt.discard(topic)
            value = book_checksum(bids, asks) ^ 0x5A5A
            return value or 1
        return book_checksum(bids, asks) if self.checksums else 0

    def data_frame(self, conn: ServerConnection, topic: str, seq: int, data: Any) -> str:
        """``{"arg": {...}, ["action": "update",] "data": [data]}``."""
        frame: dict[str, Any] = {"arg": topic_arg(topic)}
        if topic.split(":", 1)[0] in SEQUENCED_BOOKS:
            frame["action"] = "update"
        frame["data"] = data if isinstance(data, list) and not _is_row(data) else [data]
        return _dumps(frame)

    def make_data(self, topic: str, seq: int) -> Any:
        """The next simulated message of ``topic`` (its ``seq`` counts per topic from 1)."""
        channel, _, rest = topic.partition(":")
        inst_id = rest.split(":", 1)[0]
        price = f"{100 + seq % 50}.{seq % 9 + 1}"
        ts = str(self._ms())
        if channel in ("trades", "trades-all"):
            trade: dict[str, Any] = {
                "instId": inst_id,
                "tradeId": str(seq),
                "px": price,
                "sz": f"0.{seq % 9 + 1}",
                "side": "buy" if seq % 2 else "sell",
                "ts": ts,
            }
            if channel == "trades":
                trade |= {"count": "1", "source": "0", "seqId": seq}
            return trade
        if channel.startswith("candle"):
            # Every second update closes the bar (confirm "1").
            confirm = "0" if seq % 2 else "1"
            return [ts, price, price, price, price, "1", "1", "1", confirm]
        spec = self.instrument_specs.get(inst_id, {})
        inst_type = spec.get("instType", "SPOT")
        if channel == "tickers":
            # vol24h: base (spot) or contracts; volCcy24h: quote (spot) or base.
            volumes = {"SPOT": ("20", "2400"), "inverse": ("2400", "2000")}
            vol, vol_ccy = volumes.get(spec.get("ctType") or inst_type, ("2000", "20"))
            return {
                "instType": inst_type, "instId": inst_id, "last": price, "lastSz": "1",
                "askPx": price, "askSz": "1", "bidPx": price, "bidSz": "1",
                "open24h": "100", "high24h": "150", "low24h": "99", "volCcy24h": vol_ccy,
                "vol24h": vol, "sodUtc0": "100", "sodUtc8": "100", "ts": ts,
            }  # fmt: skip
        if channel == "funding-rate":
            hour = 8 * 3600 * 1000
            settle = (int(ts) // hour + 1) * hour
            return {
                "instType": inst_type, "instId": inst_id, "fundingRate": f"0.000{seq % 9 + 1}",
                "fundingTime": str(settle), "nextFundingTime": str(settle + hour),
                "method": "current_period", "ts": ts,
            }  # fmt: skip
        if channel == "open-interest":
            return {"instType": inst_type, "instId": inst_id, "oi": str(1000 + seq),
                    "oiCcy": str(10 + seq), "oiUsd": str(1_000_000 + seq), "ts": ts}  # fmt: skip
        if channel == "mark-price":
            return {"instType": inst_type, "instId": inst_id, "markPx": price, "ts": ts}
        if channel == "index-tickers":
            return {"instId": inst_id, "idxPx": price, "open24h": "100", "high24h": "150",
                    "low24h": "99", "sodUtc0": "100", "sodUtc8": "100", "ts": ts}  # fmt: skip
        if channel == "instruments":
            # A change push: here, the instType's instruments again (``rest``).
            return self._listed(rest)
        if channel == "liquidation-orders":
            # ``rest`` is the instType: the first listed instrument of that type.
            liquidated = next(
                (i for i, spec in self.instrument_specs.items() if spec.get("instType") == rest),
                inst_id,
            )
            spec = self.instrument_specs.get(liquidated, {})
            return {
                "instType": rest, "instId": liquidated, "instFamily": spec.get("instFamily", ""),
                "uly": spec.get("uly", ""),
                "details": [{"side": "sell" if seq % 2 else "buy", "posSide": "long",
                             "bkPx": price, "sz": str(seq % 9 + 1), "bkLoss": "0", "ccy": "",
                             "ts": ts}],
            }  # fmt: skip
        if channel in SEQUENCED_BOOKS:
            return self._book_update(topic, seq, ts)
        if channel in ("books5", "bbo-tbt"):
            book = self._books.setdefault(topic, _new_book())
            bids, asks = book.levels()
            depth = 5 if channel == "books5" else 1
            return {"asks": asks[:depth], "bids": bids[:depth], "ts": ts, "seqId": seq}
        return {"instId": inst_id, "ts": ts, "seq": seq}

    def _book_update(self, topic: str, seq: int, ts: str) -> dict[str, Any]:
        book = self._books.setdefault(topic, _new_book())
        level = seq % (_BOOK_LEVELS - 1) + 1
        size = str(seq % 5 + 1)
        bid, ask = f"99.{level}", f"100.{level}"
        book.bids[bid] = size
        book.asks[ask] = size
        bids, asks = book.levels()
        # seqIds are not dense on OKX; the fake's step is 10. The previous one
        # is the last the fake *meant* to send, so a skipped seq shows as a gap.
        prev = (seq - 1) * 10
        self._book_seq[topic] = seq
        return {
            "asks": [[ask, size, "0", "1"]],
            "bids": [[bid, size, "0", "1"]],
            "ts": ts,
            "checksum": self._checksum(topic, bids, asks),
            "prevSeqId": prev,
            "seqId": seq * 10,
        }

    # -- order entry ------------------------------------------------------------------------------

    async def _order_op(
        self, conn: ServerConnection, op: str, args: Sequence[dict[str, Any]], rid: str | None
    ) -> None:
        if conn not in self._logged_in:
            await self._error(conn, rid, "60011", "Please log in")
            return
        results = [self._order_result(op, arg) for arg in args]
        failed = sum(1 for r in results if r["sCode"] != "0")
        code = "0" if not failed else ("1" if failed == len(results) else "2")
        await conn.send_json(
            {
                "id": rid,
                "op": op,
                "code": code,
                "msg": "" if code == "0" else "Operation failed.",
                "data": results,
                "inTime": str(self._ms() * 1000),
                "outTime": str(self._ms() * 1000),
            }
        )
        for result in results:
            order = self._orders.get(result.get("ordId", ""))
            if result["sCode"] == "0" and order is not None:
                await self._push_order(conn, order)

    def _order_result(self, op: str, arg: dict[str, Any]) -> dict[str, Any]:
        ts = str(self._ms())
        if op in ("order", "batch-orders"):
            if arg.get("instId") not in self.instruments:
                return {"ordId": "", "clOrdId": arg.get("clOrdId", ""), "tag": "", "ts": ts,
                        "sCode": "51001", "sMsg": "Instrument ID does not exist"}  # fmt: skip
            ord_id = str(next(self._order_ids))
            self._orders[ord_id] = {**arg, "ordId": ord_id, "state": "live", "cTime": ts}
            return {"ordId": ord_id, "clOrdId": arg.get("clOrdId", ""), "tag": "", "ts": ts,
                    "sCode": "0", "sMsg": ""}  # fmt: skip
        ord_id = str(arg.get("ordId", ""))
        order = self._orders.get(ord_id)
        if order is None:
            return {"ordId": ord_id, "clOrdId": "", "ts": ts, "sCode": "51603",
                    "sMsg": "Order does not exist"}  # fmt: skip
        if op in ("cancel-order", "batch-cancel-orders"):
            order["state"] = "canceled"
        else:
            if "newSz" in arg:
                order["sz"] = arg["newSz"]
            if "newPx" in arg:
                order["px"] = arg["newPx"]
        return {"ordId": ord_id, "clOrdId": order.get("clOrdId", ""), "reqId": arg.get("reqId", ""),
                "ts": ts, "sCode": "0", "sMsg": ""}  # fmt: skip

    async def _push_order(self, conn: ServerConnection, order: dict[str, Any]) -> None:
        topics = [t for t in conn.subscriptions if t.startswith("orders:")]
        if not topics:
            return
        ts = str(self._ms())
        data = {
            "instType": "SPOT", "instId": order.get("instId", ""), "ordId": order["ordId"],
            "clOrdId": order.get("clOrdId", ""), "tag": "", "px": order.get("px", ""),
            "sz": order.get("sz", "0"), "ordType": order.get("ordType", "limit"),
            "side": order.get("side", "buy"), "tdMode": order.get("tdMode", "cash"),
            "state": order["state"], "accFillSz": "0", "fillPx": "", "avgPx": "",
            "cTime": order["cTime"], "uTime": ts,
        }  # fmt: skip
        for topic in topics:
            frame = {"arg": {**topic_arg(topic), "uid": "1"}, "data": [data]}
            await conn.send_text(_dumps(frame))


def _is_row(data: list[Any]) -> bool:
    """A candle row (a list of strings) is one item, not a list of items."""
    return bool(data) and all(isinstance(item, str) for item in data)


def fake_okx_url(server: FakeVenueServer[Any], endpoint: str = "public") -> str:
    """The URL of ``endpoint`` on a fake OKX served over TCP (``ws://127.0.0.1:PORT/ws/v5/...``)."""
    if server.port is None:
        raise RuntimeError("the fake OKX is not serving TCP yet: await nursery.start(serve_tcp)")
    return f"ws://127.0.0.1:{server.port}{ENDPOINT_PATHS[endpoint]}"


def fake_okx_server(behaviour: FakeOkx | None = None, **options: Any) -> FakeVenueServer[FakeOkx]:
    """A :class:`FakeVenueServer` speaking OKX (``options`` are the server's)."""
    return FakeVenueServer(behaviour if behaviour is not None else FakeOkx(), **options)
