"""Binance Spot: market-data streams and the WebSocket API.

Typed messages (:class:`Trade`, :class:`DepthUpdate`, ...), stream-name
helpers (:func:`trades_topic`, :func:`depth_topic`, ...), the sans-I/O cores
(:class:`BinanceSpotCore`, :class:`BinanceApiCore`) and request signing
(:class:`HmacSigner`, :class:`Ed25519Signer`, :class:`RsaSigner`,
:func:`sign_params`).
"""

# -- order books --------------------------------------------------------------------------
from ._book import BinanceBook as BinanceBook
from ._book import BinanceRules as BinanceRules
from ._book import binance_depth_snapshots as binance_depth_snapshots
from ._book import depth_diff_from_binance as depth_diff_from_binance
from ._book import depth_snapshot_from_binance as depth_snapshot_from_binance

# -- venue clients ----------------------------------------------------------------------
from ._client import REQUEST_WEIGHTS as REQUEST_WEIGHTS
from ._client import BinanceApiConnection as BinanceApiConnection
from ._client import BinanceSpot as BinanceSpot
from ._client import BinanceSpotApi as BinanceSpotApi
from ._client import BinanceSpotConnection as BinanceSpotConnection
from ._client import request_weight as request_weight
from ._client import wall_clock_ms as wall_clock_ms

# -- stream names, URLs and the sans-I/O cores ------------------------------------------
from ._orders import OrderFill as OrderFill
from ._orders import OrderReport as OrderReport
from ._protocol import API_URL as API_URL
from ._protocol import STREAM_URL as STREAM_URL
from ._protocol import TESTNET_API_URL as TESTNET_API_URL
from ._protocol import TESTNET_STREAM_URL as TESTNET_STREAM_URL
from ._protocol import USER_DATA_TOPIC as USER_DATA_TOPIC
from ._protocol import BinanceApiCore as BinanceApiCore
from ._protocol import BinanceSpotCore as BinanceSpotCore
from ._protocol import agg_trades_topic as agg_trades_topic
from ._protocol import all_mini_tickers_topic as all_mini_tickers_topic
from ._protocol import all_tickers_topic as all_tickers_topic
from ._protocol import avg_price_topic as avg_price_topic
from ._protocol import book_ticker_topic as book_ticker_topic
from ._protocol import depth_topic as depth_topic
from ._protocol import klines_topic as klines_topic
from ._protocol import mini_ticker_topic as mini_ticker_topic
from ._protocol import parse_stream_url as parse_stream_url
from ._protocol import ticker_topic as ticker_topic
from ._protocol import trades_topic as trades_topic

# -- signing ----------------------------------------------------------------------------
from ._signing import Ed25519Signer as Ed25519Signer
from ._signing import HmacSigner as HmacSigner
from ._signing import RsaSigner as RsaSigner
from ._signing import Signer as Signer
from ._signing import sign_params as sign_params
from ._signing import signature_payload as signature_payload

# -- wire models --------------------------------------------------------------------
from ._wire import KLINE_INTERVALS as KLINE_INTERVALS
from ._wire import ROLLING_WINDOWS as ROLLING_WINDOWS
from ._wire import AccountPosition as AccountPosition
from ._wire import AggTrade as AggTrade
from ._wire import AvgPrice as AvgPrice
from ._wire import Balance as Balance
from ._wire import BalanceUpdate as BalanceUpdate
from ._wire import BookLevel as BookLevel
from ._wire import BookTicker as BookTicker
from ._wire import DepthUpdate as DepthUpdate
from ._wire import ExecutionReport as ExecutionReport
from ._wire import Kline as Kline
from ._wire import KlineBar as KlineBar
from ._wire import ListStatus as ListStatus
from ._wire import ListStatusOrder as ListStatusOrder
from ._wire import MarketEvent as MarketEvent
from ._wire import MiniTicker as MiniTicker
from ._wire import PartialDepth as PartialDepth
from ._wire import RollingWindowTicker as RollingWindowTicker
from ._wire import StreamTerminated as StreamTerminated
from ._wire import Ticker as Ticker
from ._wire import TimeUnit as TimeUnit
from ._wire import Trade as Trade
from ._wire import UnknownMessage as UnknownMessage
from ._wire import UserDataEvent as UserDataEvent
from ._wire import UserEvent as UserEvent
from ._wire import WireLevel as WireLevel
from ._wire import decimal_levels as decimal_levels
from ._wire import market_event_from_wire as market_event_from_wire
from ._wire import ms_to_datetime as ms_to_datetime
from ._wire import partial_depth_from_wire as partial_depth_from_wire
from ._wire import to_datetime as to_datetime
from ._wire import to_wire as to_wire
from ._wire import us_to_datetime as us_to_datetime
from ._wire import user_event_from_wire as user_event_from_wire
from ._wire import wire_levels as wire_levels

__all__ = [
    "BinanceBook",
    "BinanceRules",
    "binance_depth_snapshots",
    "depth_diff_from_binance",
    "depth_snapshot_from_binance",
    "API_URL",
    "KLINE_INTERVALS",
    "REQUEST_WEIGHTS",
    "ROLLING_WINDOWS",
    "STREAM_URL",
    "TESTNET_API_URL",
    "TESTNET_STREAM_URL",
    "USER_DATA_TOPIC",
    "AccountPosition",
    "AggTrade",
    "AvgPrice",
    "Balance",
    "BalanceUpdate",
    "BinanceApiConnection",
    "BinanceApiCore",
    "BinanceSpot",
    "BinanceSpotApi",
    "BinanceSpotConnection",
    "BinanceSpotCore",
    "BookLevel",
    "BookTicker",
    "DepthUpdate",
    "Ed25519Signer",
    "ExecutionReport",
    "HmacSigner",
    "Kline",
    "KlineBar",
    "ListStatus",
    "ListStatusOrder",
    "MarketEvent",
    "MiniTicker",
    "OrderFill",
    "OrderReport",
    "PartialDepth",
    "RollingWindowTicker",
    "RsaSigner",
    "Signer",
    "StreamTerminated",
    "Ticker",
    "TimeUnit",
    "Trade",
    "UnknownMessage",
    "UserDataEvent",
    "UserEvent",
    "agg_trades_topic",
    "all_mini_tickers_topic",
    "all_tickers_topic",
    "avg_price_topic",
    "book_ticker_topic",
    "depth_topic",
    "klines_topic",
    "market_event_from_wire",
    "mini_ticker_topic",
    "ms_to_datetime",
    "parse_stream_url",
    "partial_depth_from_wire",
    "request_weight",
    "sign_params",
    "signature_payload",
    "ticker_topic",
    "to_datetime",
    "to_wire",
    "trades_topic",
    "us_to_datetime",
    "user_event_from_wire",
    "wall_clock_ms",
    "WireLevel",
    "decimal_levels",
    "wire_levels",
]
