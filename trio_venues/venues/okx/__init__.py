"""OKX v5: public, business and private WebSocket endpoints.

Typed messages (:class:`Trade`, :class:`BookMessage`, :class:`Candle`, ...),
the frame decoder (:func:`decode_frame`), the login signature
(:func:`login_signature`) and the legacy book checksum (:func:`book_checksum`).
See ``docs/venues/okx.md``.
"""

# -- signing ----------------------------------------------------------------------------
from ._signing import login_args as login_args
from ._signing import login_prehash as login_prehash
from ._signing import login_signature as login_signature
from ._signing import login_timestamp as login_timestamp

# -- wire models ------------------------------------------------------------------------
from ._wire import CANDLE_BARS as CANDLE_BARS
from ._wire import CHECKSUM_DEPTH as CHECKSUM_DEPTH
from ._wire import INST_TYPES as INST_TYPES
from ._wire import Account as Account
from ._wire import AccountDetail as AccountDetail
from ._wire import Arg as Arg
from ._wire import BalanceAndPosition as BalanceAndPosition
from ._wire import BalanceData as BalanceData
from ._wire import BookLevel as BookLevel
from ._wire import BookMessage as BookMessage
from ._wire import Candle as Candle
from ._wire import ChannelConnCount as ChannelConnCount
from ._wire import ChannelConnCountError as ChannelConnCountError
from ._wire import Decoded as Decoded
from ._wire import ErrorMessage as ErrorMessage
from ._wire import FundingRate as FundingRate
from ._wire import IndexTicker as IndexTicker
from ._wire import LoginAck as LoginAck
from ._wire import MarkPrice as MarkPrice
from ._wire import Notice as Notice
from ._wire import OpenInterest as OpenInterest
from ._wire import OpResponse as OpResponse
from ._wire import Order as Order
from ._wire import OrderResult as OrderResult
from ._wire import Position as Position
from ._wire import PositionData as PositionData
from ._wire import Push as Push
from ._wire import SubscribeAck as SubscribeAck
from ._wire import Ticker as Ticker
from ._wire import Trade as Trade
from ._wire import TradeRef as TradeRef
from ._wire import UnknownMessage as UnknownMessage
from ._wire import UnsubscribeAck as UnsubscribeAck
from ._wire import WireLevel as WireLevel
from ._wire import book_checksum as book_checksum
from ._wire import checksum_string as checksum_string
from ._wire import decode_frame as decode_frame
