"""Contract and rate-limit smoke of `/api/v1` (FR-004, FR-008, FR-009, NFR-002, SC-004).

The API is only ever READ here: one list page per resource and a GET of each sampled
record, every body validated against the contract. Every request, retries included,
first takes a token from a Redis bucket shared by every client of the env/tenant,
refilled at min(target_rpm, 80 % of cap_rpm) with no burst, so the platform never
sees more than 80 % of its cap. 429 and 5xx are retried with exponential backoff and
jitter from the manifest, never sooner than the server's Retry-After.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import redis

from seedbank.adapters.ratelimit import TokenBucket, bucket_key
from seedbank.api.contract import (
    ENTITY_RESOURCES,
    NO_RESOURCE,
    ContractViolation,
    validate_page,
    validate_representation,
)
from seedbank.api.tokens import mint_token
from seedbank.manifest import Backoff, RateLimit

__all__ = ["SmokeResult", "limit_rpm", "mint_token", "run_smoke"]

CAP_SHARE = 0.8  # NFR-002: never more than 80 % of the platform's cap
# Pace 2 % under the ceiling: the bucket runs on Redis' clock and the platform counts
# on its own, so a ceiling equal to 80 % of the cap (240 of 300) must not round over it.
PACING = 0.98
LIST_PAGE = 20
HTTP_TIMEOUT_S = 10.0
TOKEN_WAIT_S = 120.0


def limit_rpm(rate_limit: RateLimit) -> float:
    """The client's ceiling: the manifest's target, never above 80 % of the cap."""
    return min(float(rate_limit.target_rpm), CAP_SHARE * rate_limit.cap_rpm)


@dataclass(frozen=True)
class SmokeResult:
    env: str
    tenant: str
    requests: int
    """HTTP requests sent, retries included."""
    responses: Mapping[int, int]
    """Every response received, by status code."""
    violations: tuple[ContractViolation, ...]
    failures: tuple[str, ...]
    """Calls that did not end in a conforming 200 (method, path and status; no values)."""
    achieved_rpm: float
    """(requests - 1) / (last send - first send): the rate the API saw from us."""
    cap_rpm: int
    limit_rpm_used: float
    retries: int
    duration_s: float
    calls: int = 0
    """Planned calls made (list pages + records), after ``max_requests``."""

    @property
    def passed(self) -> bool:
        within = self.achieved_rpm <= CAP_SHARE * self.cap_rpm
        return self.calls > 0 and not self.violations and not self.failures and within


@dataclass(frozen=True)
class _Call:
    entity: str
    path: str
    record_id: str | None  # None: a list page
    params: Mapping[str, Any] = field(default_factory=dict)


def _plan(sample: Mapping[str, Sequence[str]], max_requests: int | None) -> list[_Call]:
    unknown = set(sample) - set(ENTITY_RESOURCES) - NO_RESOURCE
    if unknown:
        raise ValueError(f"no such entity in the contract: {', '.join(sorted(unknown))}")
    page = {"limit": LIST_PAGE}
    calls = [_Call(e, f"/api/v1/{seg}", None, page) for e, seg in ENTITY_RESOURCES.items()]
    # Records round-robin across entities, so a max_requests cut keeps every entity.
    queues = [
        [_Call(e, f"/api/v1/{ENTITY_RESOURCES[e]}/{i}", str(i)) for i in ids]
        for e, ids in sample.items()
        if e in ENTITY_RESOURCES
    ]
    for depth in range(max((len(q) for q in queues), default=0)):
        calls += [q[depth] for q in queues if depth < len(q)]
    return calls if max_requests is None else calls[: max(0, max_requests)]


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("retry-after", "0")))
    except ValueError:  # an HTTP-date: wait by our own backoff only
        return 0.0


def _backoff(policy: Backoff, attempt: int, rng: random.Random) -> float:
    delay = min(policy.max_seconds, policy.base_seconds * 2.0**attempt)
    return max(0.0, delay * (1 + policy.jitter * rng.uniform(-1, 1)))


class _Runner:
    def __init__(self, client: httpx.Client, bucket: TokenBucket, policy: Backoff) -> None:
        self.client, self.bucket, self.policy = client, bucket, policy
        self.rng = random.Random()
        self.sent: list[float] = []
        self.statuses: Counter[int] = Counter()
        self.retries = 0

    def send(self, call: _Call) -> httpx.Response | str:
        """The call's final response, or why it has none."""
        attempt = 0
        while True:
            outcome, wait = self._once(call)
            if not _retryable(outcome) or attempt >= self.policy.max_retries:
                return outcome
            time.sleep(max(wait, _backoff(self.policy, attempt, self.rng)))
            attempt += 1
            self.retries += 1

    def _once(self, call: _Call) -> tuple[httpx.Response | str, float]:
        """One request through the bucket: (response or transport error, Retry-After)."""
        self.bucket.acquire(timeout_s=TOKEN_WAIT_S)
        self.sent.append(time.monotonic())
        try:
            response = self.client.get(call.path, params=dict(call.params))
        except httpx.TransportError as exc:
            return type(exc).__name__, 0.0
        self.statuses[response.status_code] += 1
        return response, _retry_after(response)


def _retryable(outcome: httpx.Response | str) -> bool:
    return isinstance(outcome, str) or outcome.status_code == 429 or outcome.status_code >= 500


def _check(
    call: _Call, response: httpx.Response | str
) -> tuple[list[ContractViolation], str | None]:
    where = f"GET {call.path}"
    if isinstance(response, str):
        return [], f"{where}: {response}"
    if response.status_code != 200:
        return [], f"{where}: status {response.status_code}"
    try:
        body = response.json()
    except ValueError:
        return [], f"{where}: the body is not JSON"
    if call.record_id is None:
        return validate_page(call.entity, body), None
    violations = validate_representation(call.entity, body)
    if isinstance(body, dict) and body.get("id") != call.record_id:
        return violations, f"{where}: answered with another record"
    return violations, None


def run_smoke(
    *,
    base_url: str,
    token: str,
    env: str,
    tenant: str,
    rate_limit: RateLimit,
    sample: Mapping[str, Sequence[str]],
    redis_client: redis.Redis,
    max_requests: int | None = None,
) -> SmokeResult:
    """GET one list page per resource and every sampled record, within the rate budget.

    ``max_requests`` bounds the planned calls (list pages first, then records
    round-robin across entities); retries come on top, bounded by the backoff policy.
    """
    calls = _plan(sample, max_requests)
    ceiling = limit_rpm(rate_limit)
    bucket = TokenBucket(
        redis_client,
        bucket_key("smoke", env=env, tenant=tenant),
        capacity=1,  # no burst: every window of the run stays under the ceiling
        refill_per_s=ceiling * PACING / 60,
    )
    violations: list[ContractViolation] = []
    failures: list[str] = []
    started = time.monotonic()
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=HTTP_TIMEOUT_S) as client:
        runner = _Runner(client, bucket, rate_limit.backoff)
        for call in calls:
            found, failure = _check(call, runner.send(call))
            violations += found
            if failure is not None:
                failures.append(failure)
    sent = runner.sent
    span = sent[-1] - sent[0] if len(sent) > 1 else 0.0
    return SmokeResult(
        env=env,
        tenant=tenant,
        requests=len(sent),
        responses=dict(sorted(runner.statuses.items())),
        violations=tuple(violations),
        failures=tuple(failures),
        achieved_rpm=(len(sent) - 1) / span * 60 if span > 0 else 0.0,
        cap_rpm=rate_limit.cap_rpm,
        limit_rpm_used=ceiling,
        retries=runner.retries,
        duration_s=time.monotonic() - started,
        calls=len(calls),
    )
