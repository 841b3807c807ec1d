"""Rate limiting: venue limits (:class:`VenueLimits`, :class:`LimitRule`), the gate a
connection passes before sending (:class:`RateLimiter`), and the pure limiter
algorithms underneath, which take the time as an argument.

See :mod:`trio_venues._ratelimit` for the semantics every limiter shares.
"""

from ._ratelimit import GCRA as GCRA
from ._ratelimit import Algorithm as Algorithm
from ._ratelimit import Limiter as Limiter
from ._ratelimit import LimiterStats as LimiterStats
from ._ratelimit import LimitRule as LimitRule
from ._ratelimit import MultiWindowLimiter as MultiWindowLimiter
from ._ratelimit import Policy as Policy
from ._ratelimit import RateLimiter as RateLimiter
from ._ratelimit import Scope as Scope
from ._ratelimit import SlidingWindowCounter as SlidingWindowCounter
from ._ratelimit import SlidingWindowLog as SlidingWindowLog
from ._ratelimit import TokenBucket as TokenBucket
from ._ratelimit import VenueLimits as VenueLimits
from ._ratelimit import WindowStats as WindowStats

__all__ = [
    "GCRA",
    "Algorithm",
    "LimitRule",
    "Limiter",
    "LimiterStats",
    "MultiWindowLimiter",
    "Policy",
    "RateLimiter",
    "Scope",
    "SlidingWindowCounter",
    "SlidingWindowLog",
    "TokenBucket",
    "VenueLimits",
    "WindowStats",
]
