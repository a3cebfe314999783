"""Per-key rate limits: a token bucket per principal, answering how long to wait when empty."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from medsec.gateway.config import RateConfig


@dataclass
class _Bucket:
    tokens: float
    stamp: float


@dataclass
class RateLimiter:
    """Token buckets keyed by principal id; one event loop, so no lock is needed.

    Args:
        default: The rate of principals that set none.
        clock: Monotonic seconds (a fake in tests).
    """

    default: RateConfig
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    _buckets: dict[str, _Bucket] = field(default_factory=dict, init=False, repr=False)

    def check(self, key: str, rate: RateConfig | None = None) -> int | None:
        """Take one token for ``key``; None when admitted, else whole seconds to wait (Retry-After)."""
        rate = rate or self.default
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(tokens=float(rate.burst), stamp=now)
        per_s = rate.per_minute / 60.0
        bucket.tokens = min(float(rate.burst), bucket.tokens + (now - bucket.stamp) * per_s)
        bucket.stamp = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return max(1, math.ceil((1.0 - bucket.tokens) / per_s))
