"""`/api/v1` over a seeded world of two tenants: schemathesis against the contract,
cross-tenant isolation, and the smoke's rate budget measured by the SERVICE (issue 5)."""

from __future__ import annotations

import copy
import json
import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import pytest
import redis
import schemathesis
import yaml
from hypothesis import HealthCheck, settings

from factories.spec import tenant_uuid
from seedbank.adapters.postgres import bind_tenant
from seedbank.adapters.ratelimit import bucket_key
from seedbank.adapters.vault import VaultClient, salt_path
from seedbank.api.contract import ENTITY_RESOURCES, document
from seedbank.api.settings import ApiSettings
from seedbank.api.tokens import mint_token
from seedbank.cli import main
from seedbank.domain.manifest import RateLimit, parse_manifest
from seedbank.gates.api_probe import SmokeResult, run_smoke
from tests.support.api_server import api_settings, serve_api
from tests.support.world import World, isolated_world, vault, write_profile

pytestmark = pytest.mark.e2e

# Cap 1200 / target 900: the smoke's ceiling is min(900, 0.8 * 1200) = 900 rpm = 15 req/s.
RATE = {"target_rpm": 900, "cap_rpm": 1200}
UNTHROTTLED = 600_000  # rpm: the contract and isolation tests must never meet a 429


@dataclass(frozen=True)
class Seeded:
    world: World
    other: str  # a second tenant seeded in the same database

    def tenants(self) -> tuple[str, str]:
        return self.world.tenant, self.other

    def ids(self, tenant: str, entity: str, n: int) -> list[str]:
        with psycopg.connect(self.world.db.app_url) as conn:
            bind_tenant(conn, tenant_uuid(self.world.env, tenant))
            rows = conn.execute(f"SELECT id FROM {entity} ORDER BY id LIMIT %s", (n,)).fetchall()
        return [str(r[0]) for r in rows]

    def rate_limit(self, tenant: str) -> RateLimit:
        path = self.world.profiles / self.world.env / f"{tenant}.yaml"
        return parse_manifest(path.read_text(), source=str(path)).rate_limit


def _set_rate(world: World, tenant: str) -> None:
    path = world.profiles / world.env / f"{tenant}.yaml"
    data = yaml.safe_load(path.read_text())
    data["rate_limit"].update(RATE)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


@pytest.fixture(scope="module")
def seeded(pg_server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    with (
        pytest.MonkeyPatch.context() as mp,
        isolated_world(pg_server_url, tmp_path_factory.mktemp("api"), mp) as world,
    ):
        # The seed's own api-smoke gate must not reach the stack's API (demo database).
        mp.delenv("SEEDBANK_API_BASE_URL", raising=False)
        other = f"t-{secrets.token_hex(5)}"
        write_profile(world.profiles, env=world.env, tenant=other)
        VaultClient(os.environ["VAULT_ADDR"], os.environ["VAULT_TOKEN"]).write_new_salt(
            world.env, other
        )
        try:
            for tenant in (world.tenant, other):
                _set_rate(world, tenant)
                assert main([f"--tenant={tenant}", f"--env={world.env}"]) == 0
            yield Seeded(world, other)
        finally:
            vault().secrets.kv.v2.delete_metadata_and_all_versions(
                path=salt_path(world.env, other), mount_point="secret"
            )


@dataclass(frozen=True)
class Api:
    url: str
    settings: ApiSettings
    env: str

    def token(self, tenant: str) -> str:
        return mint_token(self.settings.token_key.get_secret_value(), env=self.env, tenant=tenant)

    def get(self, path: str, tenant: str | None, **params: str | int | float) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token(tenant)}"} if tenant else {}
        return httpx.get(f"{self.url}{path}", headers=headers, params=params, timeout=10)


@pytest.fixture(scope="module")
def fast_api(seeded: Seeded) -> Iterator[Api]:
    api = api_settings(cap_rpm_override=UNTHROTTLED)
    with serve_api(api) as url:
        yield Api(url, api, seeded.world.env)


# Loaded eagerly: schemathesis' lazy `from_fixture` relies on a pytest internal that
# pytest 9 no longer has (`Node._nodeid`). Positive data only, deterministically: the
# negative paths (401, 400, 404, 429) have explicit tests in tests/integration.
contract = schemathesis.openapi.from_dict(copy.deepcopy(dict(document())))
contract.config.generation.update(modes=[schemathesis.GenerationMode.POSITIVE], deterministic=True)


@contract.parametrize()
@settings(
    max_examples=6,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_the_service_implements_its_contract(
    case: schemathesis.Case[Any], fast_api: Api, seeded: Seeded
) -> None:
    token = fast_api.token(seeded.world.tenant)
    case.call_and_validate(base_url=fast_api.url, headers={"Authorization": f"Bearer {token}"})


def test_every_record_of_every_resource_round_trips(fast_api: Api, seeded: Seeded) -> None:
    tenant = seeded.world.tenant
    for entity, segment in ENTITY_RESOURCES.items():
        page = fast_api.get(f"/api/v1/{segment}", tenant, limit=200)
        assert page.status_code == 200, entity
        listed = [item["id"] for item in page.json()["items"]]
        assert listed == seeded.ids(tenant, entity, 200), entity
        one = fast_api.get(f"/api/v1/{segment}/{listed[0]}", tenant)
        assert one.json() == page.json()["items"][0], entity
    # Keyset pages cover a table exactly once.
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        body = fast_api.get("/api/v1/transactions", tenant, **params).json()
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == seeded.ids(tenant, "financial_transaction", 1_000_000)


def test_a_tenants_token_never_reads_another_tenants_records(fast_api: Api, seeded: Seeded) -> None:
    mine, theirs = seeded.tenants()
    for entity, segment in ENTITY_RESOURCES.items():
        their_ids = seeded.ids(theirs, entity, 3)
        assert their_ids, entity
        for record in their_ids:
            assert fast_api.get(f"/api/v1/{segment}/{record}", theirs).status_code == 200
            response = fast_api.get(f"/api/v1/{segment}/{record}", mine)
            assert response.status_code == 404, entity
            assert response.headers["content-type"].startswith("application/problem+json")
            assert fast_api.get(f"/api/v1/{segment}/{record}", None).status_code == 401
        page = fast_api.get(f"/api/v1/{segment}", mine, limit=200).json()
        assert {i["id"] for i in page["items"]}.isdisjoint(their_ids), entity
        assert fast_api.get(f"/api/v1/{segment}", None).status_code == 401
        forged = {"Authorization": f"Bearer {fast_api.token(mine)[:-2]}xx"}
        assert httpx.get(f"{fast_api.url}/api/v1/{segment}", headers=forged).status_code == 401


def _sample(seeded: Seeded, per_entity: int) -> dict[str, list[str]]:
    tenant = seeded.world.tenant
    return {entity: seeded.ids(tenant, entity, per_entity) for entity in ENTITY_RESOURCES}


def _served_rpm(api: Api, tenant: str, since: float) -> tuple[int, float, dict[str, int]]:
    body = api.get("/api/v1/_meta/counters", tenant, since=since).json()
    span = body["last_at"] - body["first_at"]
    return body["count"], (body["count"] - 1) / span * 60, body["by_status"]


def _smoke(api: Api, seeded: Seeded, per_entity: int) -> SmokeResult:
    tenant = seeded.world.tenant
    client = redis.Redis.from_url(os.environ["SEEDBANK_REDIS_URL"])
    for scope in ("api", "smoke"):  # start both buckets full
        client.delete(bucket_key(scope, env=api.env, tenant=tenant))
    return run_smoke(
        base_url=api.url,
        token=api.token(tenant),
        env=api.env,
        tenant=tenant,
        rate_limit=seeded.rate_limit(tenant),
        sample=_sample(seeded, per_entity),
        redis_client=client,
    )


def test_the_smoke_stays_under_80_percent_of_the_cap_as_the_service_counts_it(
    seeded: Seeded,
) -> None:
    api = api_settings()  # the profile's cap (1200 rpm) is what the service enforces
    with serve_api(api) as url:
        platform = Api(url, api, seeded.world.env)
        since = time.time()
        result = _smoke(platform, seeded, per_entity=4)
        count, served_rpm, by_status = _served_rpm(platform, seeded.world.tenant, since)
    assert result.passed, (result.failures, result.violations[:3])
    assert result.calls == 11 + 11 * 4
    assert result.requests == count == result.calls
    assert by_status == {"200": count}
    assert result.limit_rpm_used == 900
    assert served_rpm <= 0.8 * 1200, served_rpm
    assert served_rpm > 0.5 * 900, served_rpm  # paced, not merely slow
    assert result.achieved_rpm <= 900
    print(f"smoke: {count} requests, served {served_rpm:.0f} rpm, client {result.achieved_rpm:.0f}")


def test_the_smoke_backs_off_on_429_and_still_validates_every_response(
    seeded: Seeded,
) -> None:
    # The platform enforces 300 rpm with 1 s of burst while the client paces at 900 rpm.
    api = api_settings(cap_rpm_override=300, burst_seconds=1)
    with serve_api(api) as url:
        strict = Api(url, api, seeded.world.env)
        since = time.time()
        result = _smoke(strict, seeded, per_entity=1)
        count, _, by_status = _served_rpm(strict, seeded.world.tenant, since)
    assert result.responses.get(429, 0) > 0
    assert result.retries == result.responses[429]
    assert result.failures == ()
    assert result.violations == ()
    assert result.responses[200] == result.calls == 22
    assert result.passed
    assert count == result.requests
    assert by_status == {"200": 22, "429": result.responses[429]}
    print(
        f"backoff: {result.requests} requests, {result.retries} retries, {result.duration_s:.1f} s"
    )


def test_load_test_stays_under_80_percent_of_cap_and_reports_percentiles(
    seeded: Seeded, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    world = seeded.world
    api = api_settings()  # the service enforces the profile's cap: 1200 rpm
    client = redis.Redis.from_url(os.environ["SEEDBANK_REDIS_URL"])
    for scope in ("api", "load"):
        client.delete(bucket_key(scope, env=world.env, tenant=world.tenant))
    with serve_api(api) as url:
        monkeypatch.setenv("SEEDBANK_API_BASE_URL", url)
        monkeypatch.setenv("SEEDBANK_API_TOKEN_KEY", api.token_key.get_secret_value())
        since = time.time()
        code = main(["load-test", f"--tenant={world.tenant}", f"--env={world.env}", "--duration=8"])
        count, served_rpm, by_status = _served_rpm(Api(url, api, world.env), world.tenant, since)
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["requests"] == count > 60  # ~15 req/s for 8 s
    assert by_status == {"200": count}
    assert served_rpm <= 0.8 * report["cap_rpm"], served_rpm
    assert report["achieved_rpm"] <= 0.8 * report["cap_rpm"]
    assert report["throttled_429"] == 0
    assert report["errors"] == 0
    latency = report["latency_ms"]
    assert 0 < latency["p50"] <= latency["p95"] <= latency["p99"]
    volumetry = report["volumetry"]
    assert volumetry["financial_transaction"]["rows"] == 3000
    assert volumetry["financial_transaction"]["bytes"] > 3000 * 50
