"""`seed_data load-test`: drive `/api/v1` with seeded ids at the manifest's rate (US3-AC1).

Requests go through `seedbank.adapters.paced`, like the smokes: the env/tenant's Redis bucket at
min(target_rpm, 80 % of cap_rpm) (NFR-002, SC-004); a 429 is counted and honoured
(Retry-After, else the manifest's backoff), never retried into a burst. The report
adds the dataset's volumetry: rows and stored bytes per entity.
"""

from __future__ import annotations

import itertools
import random
import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import redis
from psycopg import sql

from seedbank.adapters.paced import HTTP_TIMEOUT_S, PacedClient
from seedbank.adapters.postgres import tenant_transaction
from seedbank.api.contract import ENTITY_RESOURCES
from seedbank.domain.manifest import RateLimit

IDS_PER_ENTITY = 200


@dataclass(frozen=True)
class LoadReport:
    requests: int
    statuses: Mapping[int, int]
    errors: int
    throttled: int
    duration_s: float
    achieved_rpm: float
    cap_rpm: int
    limit_rpm: float
    latency_ms: Mapping[str, float]
    volumetry: Mapping[str, Mapping[str, int]]

    @property
    def share_of_cap(self) -> float:
        return self.achieved_rpm / self.cap_rpm

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "errors": self.errors,
            "throttled_429": self.throttled,
            "duration_s": self.duration_s,
            "achieved_rpm": round(self.achieved_rpm, 1),
            "cap_rpm": self.cap_rpm,
            "limit_rpm": round(self.limit_rpm, 1),
            "share_of_cap": round(self.share_of_cap, 3),
            "latency_ms": self.latency_ms,
            "volumetry": self.volumetry,
        }


def sample_ids(conn: psycopg.Connection, tenant_id: Any, mode: str) -> dict[str, list[str]]:
    """Up to IDS_PER_ENTITY seeded ids per API resource, read through RLS."""
    ids: dict[str, list[str]] = {}
    with tenant_transaction(conn, tenant_id):
        for entity in ENTITY_RESOURCES:
            rows = conn.execute(
                sql.SQL("SELECT id FROM {} WHERE tenant_id = %s AND dataset = %s LIMIT %s").format(
                    sql.Identifier(entity)
                ),
                (tenant_id, mode, IDS_PER_ENTITY),
            ).fetchall()
            ids[entity] = [str(r[0]) for r in rows]
    return ids


def volumetry(conn: psycopg.Connection, tenant_id: Any, mode: str) -> dict[str, dict[str, int]]:
    """Rows and stored bytes (pg_column_size of the rows) per entity of the dataset."""
    report: dict[str, dict[str, int]] = {}
    with tenant_transaction(conn, tenant_id):
        for entity in ENTITY_RESOURCES:
            row = conn.execute(
                sql.SQL(
                    "SELECT count(*), coalesce(sum(pg_column_size(t.*)), 0) FROM {} t"
                    " WHERE tenant_id = %s AND dataset = %s"
                ).format(sql.Identifier(entity)),
                (tenant_id, mode),
            ).fetchone()
            report[entity] = {"rows": int(row[0]), "bytes": int(row[1])} if row else {}
    return report


def _percentiles(latencies: Sequence[float]) -> dict[str, float]:
    if len(latencies) < 2:
        only = round(latencies[0] * 1000, 2) if latencies else 0.0
        return {"p50": only, "p95": only, "p99": only}
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return {f"p{q}": round(cuts[q - 1] * 1000, 2) for q in (50, 95, 99)}


def run_load(
    *,
    base_url: str,
    token: str,
    env: str,
    tenant: str,
    rate_limit: RateLimit,
    ids: Mapping[str, Sequence[str]],
    redis_client: redis.Redis,
    duration_s: float,
    volumes: Mapping[str, Mapping[str, int]],
) -> LoadReport:
    paths = [f"/api/v1/{ENTITY_RESOURCES[e]}/{i}" for e, values in ids.items() for i in values]
    if not paths:
        paths = [f"/api/v1/{segment}" for segment in ENTITY_RESOURCES.values()]
    random.Random(0).shuffle(paths)  # a reproducible request order, not a secret
    consecutive_429 = 0
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    started = time.monotonic()
    deadline = started + duration_s
    with httpx.Client(base_url=base_url, headers=headers, timeout=HTTP_TIMEOUT_S) as client:
        paced = PacedClient(
            client, redis_client, purpose="load", env=env, tenant=tenant, rate_limit=rate_limit
        )
        for path in itertools.cycle(paths):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            paced.acquire(token_wait_s=remaining + 60)
            if time.monotonic() >= deadline:
                break
            outcome = paced.send(path)
            if isinstance(outcome, httpx.Response) and outcome.status_code == 429:
                paced.pause(consecutive_429, outcome)  # honour the platform, never burst
                consecutive_429 += 1
            else:
                consecutive_429 = 0
    elapsed = time.monotonic() - started
    statuses = paced.statuses
    requests = sum(statuses.values()) + paced.transport_errors
    http_errors = sum(n for status, n in statuses.items() if status not in (200, 429))
    return LoadReport(
        requests=requests,
        statuses=dict(statuses),
        errors=http_errors + paced.transport_errors,
        throttled=statuses.get(429, 0),
        duration_s=round(elapsed, 2),
        achieved_rpm=requests / elapsed * 60 if elapsed else 0.0,
        cap_rpm=rate_limit.cap_rpm,
        limit_rpm=paced.rpm,
        latency_ms=_percentiles(paced.latencies),
        volumetry=volumes,
    )
