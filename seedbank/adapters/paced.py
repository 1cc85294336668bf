"""One paced HTTP client for every reader of `/api/v1` (smokes and load tests).

Every request first takes a token from a Redis bucket shared by every client of the
env/tenant, refilled at min(target_rpm, 80 % of cap_rpm) less 2 %, with no burst, so the
platform never sees more than 80 % of its cap (NFR-002, SC-004). A 429 or a 5xx is
honoured: the caller waits `pause(attempt, outcome)` — never less than the server's
Retry-After, else the manifest's exponential backoff with jitter — before its next request.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Mapping

import httpx
import redis

from seedbank.adapters.ratelimit import TokenBucket, bucket_key
from seedbank.domain.manifest import Backoff, RateLimit

CAP_SHARE = 0.8  # NFR-002: never more than 80 % of the platform's cap
# Pace 2 % under the ceiling: the bucket runs on Redis' clock and the platform counts
# on its own, so a ceiling equal to 80 % of the cap (240 of 300) must not round over it.
PACING = 0.98
HTTP_TIMEOUT_S = 10.0

Outcome = httpx.Response | str
"""A response, or the name of the transport error that left none."""


def limit_rpm(rate_limit: RateLimit) -> float:
    """The rate this tool may use: the manifest's target, never above 80 % of the cap."""
    return min(float(rate_limit.target_rpm), CAP_SHARE * rate_limit.cap_rpm)


def retry_after(response: httpx.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("retry-after", "0") or 0))
    except ValueError:  # an HTTP-date: wait by our own backoff only
        return 0.0


def backoff(policy: Backoff, attempt: int, rng: random.Random) -> float:
    delay = min(policy.max_seconds, policy.base_seconds * 2.0**attempt)
    return max(0.0, delay * (1 + policy.jitter * rng.uniform(-1, 1)))


def retryable(outcome: Outcome) -> bool:
    return isinstance(outcome, str) or outcome.status_code == 429 or outcome.status_code >= 500


class PacedClient:
    """GETs through the env/tenant's bucket; counts statuses, send times and latencies."""

    def __init__(
        self,
        client: httpx.Client,
        redis_client: redis.Redis,
        *,
        purpose: str,
        env: str,
        tenant: str,
        rate_limit: RateLimit,
    ) -> None:
        self.client = client
        self.policy = rate_limit.backoff
        self.rpm = limit_rpm(rate_limit)
        self.bucket = TokenBucket(
            redis_client,
            bucket_key(purpose, env=env, tenant=tenant),
            capacity=1,  # no burst: every window of the run stays under the ceiling
            refill_per_s=self.rpm * PACING / 60,
        )
        self.rng = random.Random()
        self.sent: list[float] = []
        self.latencies: list[float] = []
        self.statuses: Counter[int] = Counter()
        self.transport_errors = 0

    def get(
        self, path: str, params: Mapping[str, object] | None = None, *, token_wait_s: float = 120.0
    ) -> Outcome:
        """One request, after a token."""
        self.acquire(token_wait_s)
        return self.send(path, params)

    def acquire(self, token_wait_s: float) -> None:
        """Wait for this env/tenant's next token (`send` right after)."""
        self.bucket.acquire(timeout_s=token_wait_s)

    def send(self, path: str, params: Mapping[str, object] | None = None) -> Outcome:
        """The request a token was just taken for."""
        started = time.monotonic()
        self.sent.append(started)
        try:
            response = self.client.get(path, params=dict(params or {}))  # type: ignore[arg-type]
        except httpx.TransportError as exc:
            self.transport_errors += 1
            return type(exc).__name__
        self.latencies.append(time.monotonic() - started)
        self.statuses[response.status_code] += 1
        return response

    def pause(self, attempt: int, outcome: Outcome) -> None:
        """Wait before the next request after a retryable `outcome` (attempt 0, 1, …)."""
        wait = retry_after(outcome) if isinstance(outcome, httpx.Response) else 0.0
        time.sleep(max(wait, backoff(self.policy, attempt, self.rng)))

    def achieved_rpm(self) -> float:
        span = self.sent[-1] - self.sent[0] if len(self.sent) > 1 else 0.0
        return (len(self.sent) - 1) / span * 60 if span > 0 else 0.0
