"""Wiring of `seed_data load-test`: credentials, ids and volumetry from the real services."""

from __future__ import annotations

import redis

from factories.spec import tenant_uuid
from seedbank.adapters.postgres import connect
from seedbank.domain.errors import UsageError
from seedbank.domain.manifest import Manifest
from seedbank.gates.api_probe import mint_token
from seedbank.services.loadtest import LoadReport, run_load, sample_ids, volumetry
from seedbank.settings import Settings

TOKEN_TTL_S = 3600


def run_load_test(
    settings: Settings, manifest: Manifest, *, duration_s: float, mode: str
) -> LoadReport:
    meta = manifest.metadata
    base_url = settings.api_base_url
    if not base_url:
        raise UsageError(
            "no /api/v1 service to load: SEEDBANK_API_BASE_URL is not set",
            fix="point it at the deployment under test (`make up` serves one locally)",
        )
    token = settings.api_token.get_secret_value() if settings.api_token else None
    key = settings.api_token_key.get_secret_value() if settings.api_token_key else None
    if not token and key:
        token = mint_token(key, env=meta.env, tenant=meta.tenant, ttl_s=TOKEN_TTL_S)
    if not token:
        raise UsageError(
            "no API credentials", fix="set SEEDBANK_API_TOKEN (or SEEDBANK_API_TOKEN_KEY)"
        )
    tenant_id = tenant_uuid(meta.env, meta.tenant)
    with connect(settings.database_url) as conn:
        ids = sample_ids(conn, tenant_id, mode)
        volumes = volumetry(conn, tenant_id, mode)
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=3, socket_connect_timeout=3)
    try:
        return run_load(
            base_url=base_url,
            token=token,
            env=meta.env,
            tenant=meta.tenant,
            rate_limit=manifest.rate_limit,
            ids=ids,
            redis_client=client,
            duration_s=duration_s,
            volumes=volumes,
        )
    finally:
        client.close()
