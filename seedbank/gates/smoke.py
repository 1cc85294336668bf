"""Gate `api-smoke` (FR-008, FR-009, NFR-002): GET a sample of seeded records through
`/api/v1` within the manifest's rate budget, validating every response.

Optional: it runs only when `SEEDBANK_API_BASE_URL` is configured. A dry run's rows
are invisible outside its transaction, so the API cannot serve them: skipped there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import redis

from seedbank.api.tokens import mint_token
from seedbank.gates.api_probe import run_smoke
from seedbank.gates.model import Failures, GateContext, GateResult
from seedbank.gates.rows import ENTITY_ORDER, dataset_select

SAMPLE_IDS = 5
"""Ids per entity the smoke may request."""
MAX_REQUESTS = 60
"""Planned calls per smoke (list pages first): ~15 s at a dev budget of 240 rpm."""
TOKEN_TTL_S = 900


@dataclass(frozen=True)
class SmokeConfig:
    base_url: str
    redis_url: str
    rate_limit: Any  # the manifest's RateLimit
    token: str | None = None
    """A bearer token for the env/tenant, or None to mint one with `token_key`."""
    token_key: str | None = None
    max_requests: int | None = MAX_REQUESTS

    def __repr__(self) -> str:  # never print the token or its key
        return f"SmokeConfig(base_url={self.base_url!r}, token=<redacted>)"


def smoke_config(redis_url: str, rate_limit: Any) -> SmokeConfig | None:
    """The smoke's settings from the environment, or None when no API is configured.

    SEEDBANK_API_TOKEN is used as is; otherwise a short-lived token is minted with the
    service's SEEDBANK_API_TOKEN_KEY (the reference service and CI hold it).
    """
    from seedbank.settings import Settings  # noqa: PLC0415  lazy: only when used

    settings = Settings()
    if not settings.api_base_url:
        return None
    token, key = settings.api_token, settings.api_token_key
    return SmokeConfig(
        base_url=settings.api_base_url,
        redis_url=redis_url,
        rate_limit=rate_limit,
        token=token.get_secret_value() if token else None,
        token_key=key.get_secret_value() if key else None,
    )


def _served_database(base_url: str) -> str | None:
    """The database the API reads (from its health answer), or None when it does not say."""
    try:
        body = httpx.get(f"{base_url}/api/v1/health", timeout=5).json()
    except (httpx.HTTPError, ValueError):
        return None  # the smoke itself will report the API as unreachable
    database = body.get("database") if isinstance(body, dict) else None
    return str(database) if database else None


def api_smoke_gate(ctx: GateContext, config: SmokeConfig | None) -> GateResult:
    if config is None:
        return GateResult("api-smoke", "skipped", {"reason": "SEEDBANK_API_BASE_URL not set"})
    if ctx.target.dry_run:
        return GateResult(
            "api-smoke",
            "skipped",
            {"reason": "a dry run's rows are invisible to the API outside its transaction"},
        )
    token = config.token
    if token is None and config.token_key is not None:
        token = mint_token(
            config.token_key, env=ctx.target.env, tenant=ctx.target.tenant, ttl_s=TOKEN_TTL_S
        )
    if token is None:
        return GateResult(
            "api-smoke",
            "skipped",
            {"reason": "no API credentials (SEEDBANK_API_TOKEN or SEEDBANK_API_TOKEN_KEY)"},
        )
    served = _served_database(config.base_url)
    ours = ctx.conn.info.dbname
    if served is not None and served != ours:
        return GateResult(
            "api-smoke",
            "skipped",
            {"reason": f"the API at {config.base_url} serves database {served!r}, not {ours!r}"},
        )
    sample: dict[str, list[str]] = {}
    for entity in ENTITY_ORDER:
        if entity == "tenant":
            continue
        query, args = dataset_select(entity, ("id",), ctx.target, limit=SAMPLE_IDS)
        sample[entity] = [str(r[0]) for r in ctx.conn.execute(query, args).fetchall()]
    client = redis.Redis.from_url(config.redis_url)
    try:
        result = run_smoke(
            base_url=config.base_url,
            token=token,
            env=ctx.target.env,
            tenant=ctx.target.tenant,
            rate_limit=config.rate_limit,
            sample=sample,
            redis_client=client,
            max_requests=config.max_requests,
        )
    finally:
        client.close()
    failures = Failures()
    for v in result.violations:
        failures.add(v.entity, v.row_id, v.field, v.reason)
    figures = {
        "requests": result.requests,
        "responses": dict(result.responses),
        "achieved_rpm": result.achieved_rpm,
        "cap_rpm": result.cap_rpm,
        "limit_rpm_used": result.limit_rpm_used,
        "retries": result.retries,
        "duration_s": result.duration_s,
    }
    for text in result.failures:
        failures.add("api", None, None, str(text))
    if not result.passed and not failures.total:
        failures.add("api", None, None, "the smoke did not pass (see its figures)")
    return failures.result("api-smoke", figures)
