"""Contract and rate-limit smoke of `/api/v1` (FR-004, FR-008, FR-009, NFR-002, SC-004).

The API is only ever READ here: one list page per resource and a GET of each sampled
record, every body validated against the contract. Every request, retries included,
goes through `seedbank.adapters.paced` (the env/tenant's Redis bucket, no burst, ≤ 80 % of the
cap). 429, 5xx and transport errors are retried with the manifest's exponential backoff
and jitter, never sooner than the server's Retry-After.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import redis

from seedbank.adapters.paced import (
    CAP_SHARE,
    HTTP_TIMEOUT_S,
    Outcome,
    PacedClient,
    limit_rpm,
    retryable,
)
from seedbank.api.contract import (
    ENTITY_RESOURCES,
    NO_RESOURCE,
    ContractViolation,
    validate_page,
    validate_representation,
)
from seedbank.api.tokens import mint_token
from seedbank.domain.manifest import RateLimit

__all__ = ["SmokeResult", "limit_rpm", "mint_token", "run_smoke"]

LIST_PAGE = 20
TOKEN_WAIT_S = 120.0


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


def _send(paced: PacedClient, call: _Call) -> tuple[Outcome, int]:
    """The call's final outcome and how many retries it took (429/5xx/transport)."""
    attempt = 0
    while True:
        outcome = paced.get(call.path, call.params, token_wait_s=TOKEN_WAIT_S)
        if not retryable(outcome) or attempt >= paced.policy.max_retries:
            return outcome, attempt
        paced.pause(attempt, outcome)
        attempt += 1


def _check(call: _Call, response: Outcome) -> tuple[list[ContractViolation], str | None]:
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
    violations: list[ContractViolation] = []
    failures: list[str] = []
    retries = 0
    started = time.monotonic()
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=HTTP_TIMEOUT_S) as client:
        paced = PacedClient(
            client, redis_client, purpose="smoke", env=env, tenant=tenant, rate_limit=rate_limit
        )
        for call in calls:
            outcome, tries = _send(paced, call)
            retries += tries
            found, failure = _check(call, outcome)
            violations += found
            if failure is not None:
                failures.append(failure)
    return SmokeResult(
        env=env,
        tenant=tenant,
        requests=len(paced.sent),
        responses=dict(sorted(paced.statuses.items())),
        violations=tuple(violations),
        failures=tuple(failures),
        achieved_rpm=paced.achieved_rpm(),
        cap_rpm=rate_limit.cap_rpm,
        limit_rpm_used=paced.rpm,
        retries=retries,
        duration_s=time.monotonic() - started,
        calls=len(calls),
    )
