"""Coinbase Advanced Trade: market data and user channels.

Typed messages (msgspec Structs: :class:`MarketTradesMessage`, :class:`L2DataMessage`, ...),
the message decoder (:func:`decode_message`), JWT signing (:class:`CoinbaseJwtSigner`),
the client (:class:`Coinbase`) and its sans-I/O core (:class:`CoinbaseCore`).
See ``docs/venues/coinbase.md`` for the protocol facts this package relies on.
"""

# -- the client, the sans-I/O core and limits ---------------------------------------------
from ._client import Coinbase as Coinbase
from ._client import CoinbaseConnection as CoinbaseConnection
from ._limits import COINBASE_LIMITS as COINBASE_LIMITS
from ._protocol import HEARTBEAT_TIMEOUT as HEARTBEAT_TIMEOUT
from ._protocol import HEARTBEATS_TOPIC as HEARTBEATS_TOPIC
from ._protocol import MARKET_URL as MARKET_URL
from ._protocol import PRIVATE_CHANNELS as PRIVATE_CHANNELS
from ._protocol import PRODUCTLESS_CHANNELS as PRODUCTLESS_CHANNELS
from ._protocol import STATUS_TOPIC as STATUS_TOPIC
from ._protocol import SUBSCRIBE_WITHIN as SUBSCRIBE_WITHIN
from ._protocol import USER_URL as USER_URL
from ._protocol import ClientRequest as ClientRequest
from ._protocol import CoinbaseCore as CoinbaseCore
from ._protocol import decode_client_request as decode_client_request
from ._protocol import encode_client_request as encode_client_request
from ._protocol import parse_topic as parse_topic
from ._protocol import topic as topic

# -- signing ---------------------------------------------------------------------------
from ._signing import JWT_ISSUER as JWT_ISSUER
from ._signing import JWT_LIFETIME as JWT_LIFETIME
from ._signing import CoinbaseJwtSigner as CoinbaseJwtSigner
from ._signing import JwtError as JwtError
from ._signing import verify_jwt as verify_jwt

# -- wire models -----------------------------------------------------------------------
from ._wire import CHANNELS as CHANNELS
from ._wire import DATA_CHANNELS as DATA_CHANNELS
from ._wire import USER_SNAPSHOT_BATCH as USER_SNAPSHOT_BATCH
from ._wire import Candle as Candle
from ._wire import CandlesEvent as CandlesEvent
from ._wire import CandlesMessage as CandlesMessage
from ._wire import CoinbaseMessage as CoinbaseMessage
from ._wire import ErrorMessage as ErrorMessage
from ._wire import ExpiringFuturesPosition as ExpiringFuturesPosition
from ._wire import FcmBalanceSummary as FcmBalanceSummary
from ._wire import FuturesBalanceSummaryEvent as FuturesBalanceSummaryEvent
from ._wire import FuturesBalanceSummaryMessage as FuturesBalanceSummaryMessage
from ._wire import HeartbeatEvent as HeartbeatEvent
from ._wire import HeartbeatsMessage as HeartbeatsMessage
from ._wire import L2DataMessage as L2DataMessage
from ._wire import L2Event as L2Event
from ._wire import L2Update as L2Update
from ._wire import MarginWindowMeasure as MarginWindowMeasure
from ._wire import MarketTrade as MarketTrade
from ._wire import MarketTradesEvent as MarketTradesEvent
from ._wire import MarketTradesMessage as MarketTradesMessage
from ._wire import Order as Order
from ._wire import PerpetualFuturesPosition as PerpetualFuturesPosition
from ._wire import Positions as Positions
from ._wire import StatusEvent as StatusEvent
from ._wire import StatusMessage as StatusMessage
from ._wire import StatusProduct as StatusProduct
from ._wire import SubscriptionsEvent as SubscriptionsEvent
from ._wire import SubscriptionsMessage as SubscriptionsMessage
from ._wire import Ticker as Ticker
from ._wire import TickerBatchMessage as TickerBatchMessage
from ._wire import TickerEvent as TickerEvent
from ._wire import TickerMessage as TickerMessage
from ._wire import UnknownMessage as UnknownMessage
from ._wire import UserEvent as UserEvent
from ._wire import UserMessage as UserMessage
from ._wire import decode_message as decode_message
from ._wire import encode_message as encode_message
from ._wire import rfc3339_to_ns as rfc3339_to_ns

__all__ = [
    "CHANNELS",
    "COINBASE_LIMITS",
    "Candle",
    "CandlesEvent",
    "CandlesMessage",
    "ClientRequest",
    "Coinbase",
    "CoinbaseConnection",
    "CoinbaseCore",
    "CoinbaseJwtSigner",
    "CoinbaseMessage",
    "DATA_CHANNELS",
    "ErrorMessage",
    "ExpiringFuturesPosition",
    "FcmBalanceSummary",
    "FuturesBalanceSummaryEvent",
    "FuturesBalanceSummaryMessage",
    "HEARTBEATS_TOPIC",
    "HEARTBEAT_TIMEOUT",
    "HeartbeatEvent",
    "HeartbeatsMessage",
    "JWT_ISSUER",
    "JWT_LIFETIME",
    "JwtError",
    "L2DataMessage",
    "L2Event",
    "L2Update",
    "MARKET_URL",
    "MarginWindowMeasure",
    "MarketTrade",
    "MarketTradesEvent",
    "MarketTradesMessage",
    "Order",
    "PRIVATE_CHANNELS",
    "PRODUCTLESS_CHANNELS",
    "PerpetualFuturesPosition",
    "Positions",
    "STATUS_TOPIC",
    "SUBSCRIBE_WITHIN",
    "StatusEvent",
    "StatusMessage",
    "StatusProduct",
    "SubscriptionsEvent",
    "SubscriptionsMessage",
    "Ticker",
    "TickerBatchMessage",
    "TickerEvent",
    "TickerMessage",
    "USER_SNAPSHOT_BATCH",
    "USER_URL",
    "UnknownMessage",
    "UserEvent",
    "UserMessage",
    "decode_client_request",
    "decode_message",
    "encode_client_request",
    "encode_message",
    "parse_topic",
    "rfc3339_to_ns",
    "topic",
    "verify_jwt",
]
