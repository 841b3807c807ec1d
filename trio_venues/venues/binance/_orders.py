"""Binance Spot order entry over the WebSocket API: request parameters and typed answers.

:class:`OrderReport` is what ``order.place``, ``order.cancel``,
``order.status``, ``openOrders.status`` and ``openOrders.cancelAll`` answer
(each fills the fields its response carries; ``ACK`` answers only the ids);
:class:`OrderFill` is one trade of a ``FULL`` ``order.place`` answer. Prices
and quantities are exact :class:`~decimal.Decimal`.

Reference: Binance ``web-socket-api.md`` "Trading requests" and "Account
requests" (``docs/venues/binance.md`` section 12).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import msgspec

from ..._wirecodec import DECODE_ERRORS, WireStruct, decode_error

__all__ = ["OrderFill", "OrderReport", "order_params", "order_report_from_wire"]


class OrderFill(
    WireStruct,
    frozen=True,
    gc=False,
    rename={
        "quantity": "qty",
        "commission_asset": "commissionAsset",
        "trade_id": "tradeId",
    },
):
    """One trade that filled a new order at once (``fills`` of a ``FULL`` answer).

    Attributes:
        price: the trade's price [``price``].
        quantity: the quantity traded [``qty``].
        commission: the commission charged [``commission``].
        commission_asset: the asset of the commission [``commissionAsset``].
        trade_id: the trade id [``tradeId``].
    """

    price: Decimal
    quantity: Decimal
    commission: Decimal
    commission_asset: str
    trade_id: int


class OrderReport(
    WireStruct,
    frozen=True,
    gc=False,
    rename={
        "order_id": "orderId",
        "client_order_id": "clientOrderId",
        "order_list_id": "orderListId",
        "transact_time": "transactTime",
        "quantity": "origQty",
        "executed_quantity": "executedQty",
        "cumulative_quote_quantity": "cummulativeQuoteQty",
        "quote_order_quantity": "origQuoteOrderQty",
        "time_in_force": "timeInForce",
        "original_client_order_id": "origClientOrderId",
        "update_time": "updateTime",
        "is_working": "isWorking",
        "working_time": "workingTime",
        "stop_price": "stopPrice",
        "iceberg_quantity": "icebergQty",
        "self_trade_prevention_mode": "selfTradePreventionMode",
    },
):
    """An order as Binance reports it in a WS-API answer.

    Fields a response does not carry are ``None`` (an ``ACK`` carries only
    the ids and ``transact_time``). Average fill price is
    ``cumulative_quote_quantity / executed_quantity``.

    Attributes:
        symbol: the symbol [``symbol``].
        order_id: the order id [``orderId``].
        client_order_id: the client order id (after a cancel: the new one) [``clientOrderId``].
        order_list_id: the order list, -1 for a single order [``orderListId``].
        transact_time: when the request took effect [``transactTime``].
        price: the limit price, 0 for a market order [``price``].
        quantity: the order quantity [``origQty``].
        executed_quantity: the quantity filled [``executedQty``].
        cumulative_quote_quantity: the quote quantity filled [``cummulativeQuoteQty``].
        quote_order_quantity: a market order's quote amount [``origQuoteOrderQty``].
        status: ``NEW``, ``PARTIALLY_FILLED``, ``FILLED``, ``CANCELED``, ``EXPIRED``
            ... [``status``].
        time_in_force: ``GTC``, ``IOC``, ``FOK`` [``timeInForce``].
        type: ``LIMIT``, ``MARKET``, ``LIMIT_MAKER`` ... [``type``].
        side: ``BUY`` or ``SELL`` [``side``].
        original_client_order_id: a cancel's replaced client id [``origClientOrderId``].
        time: when the order was placed (status queries) [``time``].
        update_time: the order's last change (status queries) [``updateTime``].
        is_working: whether the order is on the book (status queries) [``isWorking``].
        working_time: when it went on the book [``workingTime``].
        stop_price: the stop price [``stopPrice``].
        iceberg_quantity: the iceberg quantity [``icebergQty``].
        self_trade_prevention_mode: e.g. ``NONE`` [``selfTradePreventionMode``].
        fills: the trades that filled it at once (``FULL`` answers) [``fills``].
    """

    symbol: str
    order_id: int
    client_order_id: str
    order_list_id: int = -1
    transact_time: int | None = None
    price: Decimal | None = None
    quantity: Decimal | None = None
    executed_quantity: Decimal | None = None
    cumulative_quote_quantity: Decimal | None = None
    quote_order_quantity: Decimal | None = None
    status: str | None = None
    time_in_force: str | None = None
    type: str | None = None
    side: str | None = None
    original_client_order_id: str | None = None
    time: int | None = None
    update_time: int | None = None
    is_working: bool | None = None
    working_time: int | None = None
    stop_price: Decimal | None = None
    iceberg_quantity: Decimal | None = None
    self_trade_prevention_mode: str | None = None
    fills: tuple[OrderFill, ...] = ()


def order_report_from_wire(payload: Any) -> OrderReport:
    """Build an :class:`OrderReport` from a WS-API result object.

    Raises:
        DecodeError: not an order report (the message names the field).
    """
    try:
        return msgspec.convert(payload, OrderReport)
    except DECODE_ERRORS as exc:
        error = decode_error(exc, b"", "Binance order report")
    raise error


def _decimal(name: str, value: Decimal | str | int) -> str:
    """A DECIMAL parameter as an exact string; binary floats are refused."""
    if isinstance(value, bool) or not isinstance(value, Decimal | str | int):
        raise TypeError(f"{name} must be a Decimal, str or int (exact), not {type(value).__name__}")
    text = format(Decimal(value), "f")
    if not Decimal(text).is_finite():
        raise ValueError(f"{name} must be finite, not {value!r}")
    return text


def order_params(
    symbol: str,
    side: str,
    type: str,
    *,
    quantity: Decimal | str | int | None = None,
    price: Decimal | str | int | None = None,
    time_in_force: str | None = None,
    quote_quantity: Decimal | str | int | None = None,
    client_order_id: str | None = None,
    response_type: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The parameters of ``order.place``/``order.test``, in Binance's names.

    The symbol and enums are upper-cased; decimals are sent as exact strings.

    Raises:
        TypeError: a decimal given as a float.
        ValueError: a decimal that is not finite.
    """
    params: dict[str, Any] = {"symbol": symbol.upper(), "side": side.upper(), "type": type.upper()}
    if time_in_force is not None:
        params["timeInForce"] = time_in_force.upper()
    if price is not None:
        params["price"] = _decimal("price", price)
    if quantity is not None:
        params["quantity"] = _decimal("quantity", quantity)
    if quote_quantity is not None:
        params["quoteOrderQty"] = _decimal("quote_quantity", quote_quantity)
    if client_order_id is not None:
        params["newClientOrderId"] = client_order_id
    if response_type is not None:
        params["newOrderRespType"] = response_type.upper()
    params.update(extra or {})
    return params
