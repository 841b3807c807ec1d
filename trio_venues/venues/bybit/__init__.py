"""Bybit v5: public streams of every category, the private stream and order entry.

``async with Bybit.connect(endpoint="linear") as ws`` (:class:`Bybit`), the
sans-I/O core (:class:`BybitCore`), the book adapter (:class:`BybitBook`),
typed messages (:class:`TradeMessage`, :class:`OrderbookMessage`,
:class:`TickerMessage` ...), topic helpers (:func:`trade_topic`,
:func:`orderbook_topic` ...), linear/inverse ticker merging
(:class:`TickerMerger`) and the ``auth`` signature (:func:`auth_signature`).
Protocol facts and sources: ``docs/venues/bybit.md``.
"""

# -- the client, the core, books and limits ---------------------------------------------
from ._book import BybitBook as BybitBook
from ._book import BybitRules as BybitRules
from ._client import Bybit as Bybit
from ._client import BybitConnection as BybitConnection
from ._client import BybitInverse as BybitInverse
from ._client import BybitLinear as BybitLinear
from ._client import BybitOption as BybitOption
from ._client import BybitPrivate as BybitPrivate
from ._client import BybitSpread as BybitSpread
from ._client import BybitStatus as BybitStatus
from ._client import BybitTrade as BybitTrade
from ._client import max_active_time_url as max_active_time_url
from ._errors import BybitRateLimited as BybitRateLimited
from ._errors import BybitServiceRestarting as BybitServiceRestarting
from ._limits import BYBIT_LIMITS as BYBIT_LIMITS
from ._protocol import BATCH_OPS as BATCH_OPS
from ._protocol import CATEGORIES as CATEGORIES
from ._protocol import ORDER_OPS as ORDER_OPS
from ._protocol import BybitCore as BybitCore

# -- authentication ---------------------------------------------------------------------
from ._signing import DEFAULT_AUTH_HEADROOM as DEFAULT_AUTH_HEADROOM
from ._signing import auth_args as auth_args
from ._signing import auth_expires as auth_expires
from ._signing import auth_payload as auth_payload
from ._signing import auth_signature as auth_signature

# -- ticker merging ---------------------------------------------------------------------
from ._tickers import MissingTickerSnapshot as MissingTickerSnapshot
from ._tickers import TickerMerger as TickerMerger

# -- topics and endpoints ---------------------------------------------------------------
from ._topics import ENDPOINTS as ENDPOINTS
from ._topics import KLINE_INTERVALS as KLINE_INTERVALS
from ._topics import MAX_ARGS_CHARS as MAX_ARGS_CHARS
from ._topics import MAX_ARGS_PER_REQUEST as MAX_ARGS_PER_REQUEST
from ._topics import ORDERBOOK_DEPTHS as ORDERBOOK_DEPTHS
from ._topics import PRIVATE_TOPICS as PRIVATE_TOPICS
from ._topics import TESTNET_ENDPOINTS as TESTNET_ENDPOINTS
from ._topics import all_liquidation_topic as all_liquidation_topic
from ._topics import endpoint_url as endpoint_url
from ._topics import kline_topic as kline_topic
from ._topics import liquidation_topic as liquidation_topic
from ._topics import orderbook_topic as orderbook_topic
from ._topics import split_args as split_args
from ._topics import ticker_topic as ticker_topic
from ._topics import trade_topic as trade_topic
from ._topics import validate_topic as validate_topic

# -- wire models ------------------------------------------------------------------------
from ._wire import AllLiquidation as AllLiquidation
from ._wire import AllLiquidationMessage as AllLiquidationMessage
from ._wire import BookData as BookData
from ._wire import BybitMessage as BybitMessage
from ._wire import Category as Category
from ._wire import CommandResponse as CommandResponse
from ._wire import CommandResult as CommandResult
from ._wire import Execution as Execution
from ._wire import ExecutionMessage as ExecutionMessage
from ._wire import Kline as Kline
from ._wire import KlineMessage as KlineMessage
from ._wire import LinearTicker as LinearTicker
from ._wire import Liquidation as Liquidation
from ._wire import LiquidationMessage as LiquidationMessage
from ._wire import MaintenanceNotice as MaintenanceNotice
from ._wire import OpResponse as OpResponse
from ._wire import OptionTicker as OptionTicker
from ._wire import Order as Order
from ._wire import OrderbookMessage as OrderbookMessage
from ._wire import OrderMessage as OrderMessage
from ._wire import OrderResult as OrderResult
from ._wire import Position as Position
from ._wire import PositionMessage as PositionMessage
from ._wire import SpotTicker as SpotTicker
from ._wire import SpreadTicker as SpreadTicker
from ._wire import SystemStatusMessage as SystemStatusMessage
from ._wire import TickerMessage as TickerMessage
from ._wire import Trade as Trade
from ._wire import TradeMessage as TradeMessage
from ._wire import TradeResponse as TradeResponse
from ._wire import UnknownMessage as UnknownMessage
from ._wire import Wallet as Wallet
from ._wire import WalletCoin as WalletCoin
from ._wire import WalletMessage as WalletMessage
from ._wire import WireLevel as WireLevel
from ._wire import decode_message as decode_message
from ._wire import ticker_type as ticker_type
