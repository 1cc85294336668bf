"""Central per-env/tenant token buckets in Redis (FR-008, FR-025, NFR-002).

One Lua script refills and takes atomically with Redis' own clock, so every process
(the API service, each smoke client) shares one bucket per key and no two callers
can spend the same token. Two kinds of bucket use it: the platform's limit that the
reference API enforces (``scope="api"``) and the client-side throttle every smoke
passes through (``scope="smoke"``), sized below the platform's cap.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import redis

from seedbank.domain.errors import BrokerUnavailable

# Returns strings: Redis truncates Lua numbers to integers on the way out.
_TAKE = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = capacity
  at = now
end
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local allowed = 0
local wait = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
else
  wait = (cost - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
return {allowed, tostring(wait), tostring(tokens)}
"""


def bucket_key(scope: str, *, env: str, tenant: str) -> str:
    return f"seedbank:ratelimit:{scope}:{env}:{tenant}"


@dataclass(frozen=True)
class Grant:
    allowed: bool
    retry_after_s: float
    """0 when allowed; else seconds until enough tokens have refilled."""
    remaining: float


class RateLimitTimeout(BrokerUnavailable):
    """Raised when a caller waited its whole budget for a token without getting one."""


class TokenBucket:
    """``capacity`` tokens, refilled continuously at ``refill_per_s``."""

    def __init__(
        self, client: redis.Redis, key: str, *, capacity: float, refill_per_s: float
    ) -> None:
        if capacity < 1 or refill_per_s <= 0:
            raise ValueError("a bucket needs capacity >= 1 and a positive refill rate")
        self.key = key
        self.capacity = capacity
        self.refill_per_s = refill_per_s
        self._redis = client
        self._script = client.register_script(_TAKE)

    def take(self, cost: float = 1.0) -> Grant:
        """Spend ``cost`` tokens if they are there; never waits."""
        try:
            allowed, wait, tokens = self._script(
                keys=[self.key], args=[self.capacity, self.refill_per_s, cost]
            )
        except redis.RedisError as exc:
            raise BrokerUnavailable(
                f"Redis refused the rate-limit bucket ({type(exc).__name__})",
                fix="start Redis with `make up` or check SEEDBANK_REDIS_URL",
            ) from None
        return Grant(int(allowed) == 1, float(wait), float(tokens))

    def acquire(self, *, timeout_s: float, sleep: Callable[[float], None] = time.sleep) -> float:
        """Wait for one token; returns the seconds waited, raises after ``timeout_s``."""
        start = time.monotonic()
        while True:
            grant = self.take()
            if grant.allowed:
                return time.monotonic() - start
            if time.monotonic() - start + grant.retry_after_s > timeout_s:
                raise RateLimitTimeout(
                    f"no rate-limit token for {self.key} within {timeout_s:.0f}s",
                    fix="lower the request volume or raise rate_limit.target_rpm in the profile",
                )
            sleep(grant.retry_after_s)

    def reset(self) -> None:
        """Forget the bucket's state: the next take finds it full."""
        self._redis.delete(self.key)
