"""Coinbase Advanced Trade: market data and user channels.

Typed messages (msgspec Structs: :class:`MarketTradesMessage`, :class:`L2DataMessage`, ...),
the message decoder (:func:`decode_message`) and JWT signing (:class:`CoinbaseJwtSigner`).
See ``docs/venues/coinbase.md`` for the protocol facts this package relies on.
"""

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
    "Candle",
    "CandlesEvent",
    "CandlesMessage",
    "CoinbaseJwtSigner",
    "CoinbaseMessage",
    "DATA_CHANNELS",
    "ErrorMessage",
    "ExpiringFuturesPosition",
    "FcmBalanceSummary",
    "FuturesBalanceSummaryEvent",
    "FuturesBalanceSummaryMessage",
    "HeartbeatEvent",
    "HeartbeatsMessage",
    "JWT_ISSUER",
    "JWT_LIFETIME",
    "JwtError",
    "L2DataMessage",
    "L2Event",
    "L2Update",
    "MarginWindowMeasure",
    "MarketTrade",
    "MarketTradesEvent",
    "MarketTradesMessage",
    "Order",
    "PerpetualFuturesPosition",
    "Positions",
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
    "UnknownMessage",
    "UserEvent",
    "UserMessage",
    "decode_message",
    "encode_message",
    "rfc3339_to_ns",
    "verify_jwt",
]
