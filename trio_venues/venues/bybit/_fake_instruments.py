"""The fake Bybit's instrument list: ``/v5/market/instruments-info`` entries per category.

Shaped as Bybit's REST API returns them (``docs/venues/bybit.md``,
"Instruments"), trimmed to the fields the catalogue reads plus a few it
ignores (unknown fields must not matter). Every kind Bybit lists is here:
spot pairs, USDT and USDC perpetuals, USDT and USDC dated futures, inverse
perpetuals and futures, USDC- and USDT-settled options. The spot and linear
``BTCUSDT`` share their venue symbol, as on Bybit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

__all__ = ["FAKE_INSTRUMENTS"]

# 2026-12-25 08:00 UTC, the delivery time of the December 2026 contracts.
_DEC26: Final = "1798185600000"
_LAUNCH: Final = "1585526400000"


def _spot(symbol: str, base: str, quote: str, tick: str, step: str) -> dict[str, Any]:
    return {
        "symbol": symbol,
        "baseCoin": base,
        "quoteCoin": quote,
        "innovation": "0",
        "status": "Trading",
        "marginTrading": "utaOnly",
        "stTag": "0",
        "lotSizeFilter": {
            "basePrecision": step,
            "quotePrecision": "0.00000001",
            "minOrderQty": step,
            "maxOrderQty": "71.73956243",
            "minOrderAmt": "1",
            "maxOrderAmt": "2000000",
        },
        "priceFilter": {"tickSize": tick},
    }


def _contract(
    symbol: str,
    contract_type: str,
    base: str,
    quote: str,
    settle: str,
    tick: str,
    step: str,
    delivery: str = "0",
    status: str = "Trading",
) -> dict[str, Any]:
    return {
        "symbol": symbol,
        "contractType": contract_type,
        "status": status,
        "baseCoin": base,
        "quoteCoin": quote,
        "launchTime": _LAUNCH,
        "deliveryTime": delivery,
        "deliveryFeeRate": "" if delivery == "0" else "0.0005",
        "priceScale": str(len(tick.partition(".")[2])),
        "leverageFilter": {"minLeverage": "1", "maxLeverage": "100.00", "leverageStep": "0.01"},
        "priceFilter": {"minPrice": tick, "maxPrice": "1999999.80", "tickSize": tick},
        "lotSizeFilter": {
            "maxOrderQty": "1190.000",
            "minOrderQty": step,
            "qtyStep": step,
            "postOnlyMaxOrderQty": "1190.000",
            "maxMktOrderQty": "500.000",
            "minNotionalValue": "5",
        },
        "unifiedMarginTrade": True,
        "fundingInterval": 480 if delivery == "0" else 0,
        "settleCoin": settle,
        "copyTrading": "both",
        "upperFundingRate": "0.005",
        "lowerFundingRate": "-0.005",
        "isPreListing": False,
        "preListingInfo": None,
        "displayName": "",
    }


def _option(symbol: str, quote: str, settle: str, options_type: str) -> dict[str, Any]:
    return {
        "symbol": symbol,
        "optionsType": options_type,
        "status": "Trading",
        "baseCoin": "BTC",
        "quoteCoin": quote,
        "settleCoin": settle,
        "launchTime": _LAUNCH,
        "deliveryTime": _DEC26,
        "deliveryFeeRate": "0.00015",
        "priceFilter": {"minPrice": "5", "maxPrice": "10000000", "tickSize": "5"},
        "lotSizeFilter": {"maxOrderQty": "500", "minOrderQty": "0.01", "qtyStep": "0.01"},
        "displayName": "",
    }


#: category -> the entries of ``result.list``, in the order Bybit pages them.
FAKE_INSTRUMENTS: Final[Mapping[str, tuple[dict[str, Any], ...]]] = {
    "spot": (
        _spot("BTCUSDT", "BTC", "USDT", "0.01", "0.000001"),
        _spot("ETHUSDT", "ETH", "USDT", "0.01", "0.00001"),
        _spot("SOLUSDT", "SOL", "USDT", "0.01", "0.001"),
        _spot("ETHBTC", "ETH", "BTC", "0.000001", "0.00001"),
        _spot("BTCUSDC", "BTC", "USDC", "0.01", "0.000001"),
    ),
    "linear": (
        _contract("BTCUSDT", "LinearPerpetual", "BTC", "USDT", "USDT", "0.10", "0.001"),
        _contract("ETHUSDT", "LinearPerpetual", "ETH", "USDT", "USDT", "0.01", "0.01"),
        _contract("SOLUSDT", "LinearPerpetual", "SOL", "USDT", "USDT", "0.010", "0.1"),
        _contract("BTCPERP", "LinearPerpetual", "BTC", "USDC", "USDC", "0.10", "0.001"),
        _contract(
            "BTCUSDT-25DEC26", "LinearFutures", "BTC", "USDT", "USDT", "0.10", "0.001", _DEC26
        ),
        _contract("BTC-25DEC26", "LinearFutures", "BTC", "USDC", "USDC", "0.50", "0.001", _DEC26),
    ),
    "inverse": (
        _contract("BTCUSD", "InversePerpetual", "BTC", "USD", "BTC", "0.50", "1"),
        _contract("ETHUSD", "InversePerpetual", "ETH", "USD", "ETH", "0.05", "1"),
        _contract("BTCUSDZ26", "InverseFutures", "BTC", "USD", "BTC", "0.50", "1", _DEC26),
    ),
    "option": (
        _option("BTC-25DEC26-100000-C", "USD", "USDC", "Call"),
        _option("BTC-25DEC26-100000-P", "USD", "USDC", "Put"),
        _option("BTC-25DEC26-92500.5-C", "USD", "USDC", "Call"),
        _option("BTC-25DEC26-100000-C-USDT", "USDT", "USDT", "Call"),
    ),
}
