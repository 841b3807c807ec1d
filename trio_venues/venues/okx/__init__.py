"""OKX v5: public, business and private WebSocket endpoints.

The client (:class:`Okx`, ``Okx.connect(endpoint="public" | "business" |
"private")``), typed messages (:class:`Trade`, :class:`BookMessage`,
:class:`Candle`, ...), the sans-I/O core (:class:`OkxCore`), the book adapter
(:class:`OkxBook`), the login signature (:func:`login_signature`) and the
legacy book checksum (:func:`book_checksum`). See ``docs/venues/okx.md``.
"""

# -- the client ---------------------------------------------------------------------------
from ._book import OKX_BOOK_CHANNELS as OKX_BOOK_CHANNELS
from ._book import OkxBook as OkxBook
from ._book import OkxRules as OkxRules
from ._book import okx_book_checksum as okx_book_checksum
from ._client import BOOK_CHANNELS as BOOK_CHANNELS
from ._client import Okx as Okx
from ._client import OkxBusiness as OkxBusiness
from ._client import OkxConnection as OkxConnection
from ._client import OkxPrivate as OkxPrivate

# -- limits and the sans-I/O core ------------------------------------------------------------
from ._limits import MAX_REQUEST_BYTES as MAX_REQUEST_BYTES
from ._limits import OKX_LIMITS as OKX_LIMITS
from ._limits import OPERATIONS_PER_HOUR as OPERATIONS_PER_HOUR
from ._protocol import AUTH_ERROR_CODES as AUTH_ERROR_CODES
from ._protocol import DEFAULT_HOST as DEFAULT_HOST
from ._protocol import DEFAULT_PORT as DEFAULT_PORT
from ._protocol import ENDPOINT_PATHS as ENDPOINT_PATHS
from ._protocol import ORDER_OPS as ORDER_OPS
from ._protocol import OkxCore as OkxCore
from ._protocol import OkxRequest as OkxRequest
from ._protocol import classify_okx_close as classify_okx_close
from ._protocol import decode_request as decode_request
from ._protocol import okx_url as okx_url

# -- signing ----------------------------------------------------------------------------
from ._signing import login_args as login_args
from ._signing import login_prehash as login_prehash
from ._signing import login_signature as login_signature
from ._signing import login_timestamp as login_timestamp
from ._topics import arg_topic as arg_topic
from ._topics import dict_topic as dict_topic
from ._topics import topic_arg as topic_arg

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
from ._wire import Instrument as Instrument
from ._wire import Instruments as Instruments
from ._wire import LiquidationDetail as LiquidationDetail
from ._wire import LiquidationOrder as LiquidationOrder
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
