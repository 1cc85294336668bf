"""The reference API against its contract where no seeded data is needed: credentials,
problem+json errors, the per-tenant token bucket (real Redis) and 429 + Retry-After."""

from __future__ import annotations

import os
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from psycopg.conninfo import conninfo_to_dict

from seedbank.adapters.ratelimit import TokenBucket, bucket_key
from seedbank.api.contract import validate_problem
from seedbank.api.settings import ApiSettings
from seedbank.api.tokens import mint_token
from seedbank.settings import Settings
from tests.support.api_server import api_settings, serve_api
from tests.support.databases import ScratchDatabase
from tests.support.stackenv import read_stack_env
from tests.support.world import write_profile

ENV = "dev"


def _redis() -> redis.Redis:
    return redis.Redis.from_url(os.environ["SEEDBANK_REDIS_URL"])


@pytest.fixture(scope="module")
def tenant() -> str:
    return f"t-{secrets.token_hex(5)}"


@pytest.fixture(scope="module")
def stack_settings(
    database: ScratchDatabase, tenant: str, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    profiles: Path = tmp_path_factory.mktemp("profiles")
    write_profile(profiles, env=ENV, tenant=tenant)
    return Settings(database_url=database.app_url, profiles_dir=profiles)


@pytest.fixture(scope="module")
def api(stack_settings: Settings) -> ApiSettings:
    return api_settings()


@pytest.fixture(scope="module")
def base_url(api: ApiSettings, stack_settings: Settings) -> Iterator[str]:
    with serve_api(api, stack_settings) as url:
        yield url


def _token(api: ApiSettings, tenant: str, now: float | None = None) -> str:
    return mint_token(api.token_key.get_secret_value(), env=ENV, tenant=tenant, now=now)


def _get(
    base_url: str, path: str, token: str | None = None, **params: str | int | float
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.get(f"{base_url}{path}", headers=headers, params=params, timeout=10)


def _assert_problem(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert validate_problem(response.json()) == []


def test_health_needs_no_credentials_and_names_the_database(
    base_url: str, stack_settings: Settings
) -> None:
    response = _get(base_url, "/api/v1/health")
    assert response.status_code == 200
    database = conninfo_to_dict(stack_settings.database_url)["dbname"]
    assert response.json() == {"status": "ok", "database": database}
    assert "@" not in response.text  # a name, never a connection URL


def test_missing_forged_expired_or_foreign_credentials_get_401(
    base_url: str, api: ApiSettings, tenant: str
) -> None:
    good = _token(api, tenant)
    env, slug, expires, signature = good.split(".")
    forged_key = mint_token(secrets.token_urlsafe(32), env=ENV, tenant=tenant)
    other_tenant = f"{env}.t-{secrets.token_hex(5)}.{expires}.{signature}"
    expired = _token(api, tenant, now=time.time() - 7200)
    for header in (
        None,
        {"Authorization": good},  # no scheme
        {"Authorization": f"Basic {good}"},
        {"Authorization": "Bearer"},
        {"Authorization": f"Bearer {forged_key}"},
        {"Authorization": f"Bearer {other_tenant}"},
        {"Authorization": f"Bearer {env}.{slug}.{int(expires) + 9999}.{signature}"},
        {"Authorization": f"Bearer {expired}"},
    ):
        response = httpx.get(f"{base_url}/api/v1/customers", headers=header or {}, timeout=10)
        _assert_problem(response, 401)
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert good not in response.text
        assert signature not in response.text
    unknown = _token(api, f"t-{secrets.token_hex(5)}")  # signed, but no such tenant
    _assert_problem(_get(base_url, "/api/v1/customers", unknown), 401)
    assert _get(base_url, "/api/v1/customers", good).status_code == 200


def test_an_empty_tenant_lists_nothing_and_bad_parameters_are_400(
    base_url: str, api: ApiSettings, tenant: str
) -> None:
    token = _token(api, tenant)
    response = _get(base_url, "/api/v1/transactions", token)
    assert response.status_code == 200
    assert response.json() == {"items": [], "next_cursor": None}
    _assert_problem(_get(base_url, f"/api/v1/loans/{uuid.uuid4()}", token), 404)
    _assert_problem(_get(base_url, "/api/v1/loans/not-a-uuid", token), 400)
    _assert_problem(_get(base_url, "/api/v1/loans", token, limit=0), 400)
    _assert_problem(_get(base_url, "/api/v1/loans", token, limit=201), 400)
    _assert_problem(_get(base_url, "/api/v1/loans", token, cursor="short"), 400)
    _assert_problem(_get(base_url, "/api/v1/no-such-resource", token), 404)


def test_the_bucket_answers_429_with_retry_after_and_counts_it(
    stack_settings: Settings, tenant: str
) -> None:
    # 60 rpm with 3 s of burst: 3 requests pass at once, the 4th waits ~1 s.
    api = api_settings(cap_rpm_override=60, burst_seconds=3)
    _redis().delete(bucket_key("api", env=ENV, tenant=tenant))
    token = _token(api, tenant)
    with serve_api(api, stack_settings) as url:
        since = time.time()
        statuses = [_get(url, "/api/v1/customers", token).status_code for _ in range(3)]
        assert statuses == [200, 200, 200]
        limited = _get(url, "/api/v1/customers", token)
        _assert_problem(limited, 429)
        assert limited.headers["retry-after"] == "1"
        time.sleep(1.05)
        assert _get(url, "/api/v1/customers", token).status_code == 200
        counters = _get(url, "/api/v1/_meta/counters", token, since=since)
    assert counters.status_code == 200
    body = counters.json()
    assert (body["env"], body["tenant"], body["count"]) == (ENV, tenant, 5)
    assert body["by_status"] == {"200": 4, "429": 1}
    assert body["first_at"] >= since
    assert len(body["timestamps"]) == 5


def test_a_bucket_never_grants_more_than_its_tokens_across_threads() -> None:
    key = bucket_key("test", env=ENV, tenant=f"t-{secrets.token_hex(5)}")
    granted: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        bucket = TokenBucket(_redis(), key, capacity=20, refill_per_s=0.001)
        for _ in range(10):
            ok = bucket.take().allowed
            with lock:
                granted.append(ok)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(granted) == 80
    assert granted.count(True) == 20
    _redis().delete(key)


def test_an_empty_bucket_says_how_long_until_the_next_token() -> None:
    bucket = TokenBucket(
        _redis(),
        bucket_key("test", env=ENV, tenant=f"t-{secrets.token_hex(5)}"),
        capacity=1,
        refill_per_s=4.0,
    )
    assert bucket.take().allowed
    denied = bucket.take()
    assert not denied.allowed
    assert 0.1 < denied.retry_after_s <= 0.25
    waited = bucket.acquire(timeout_s=2)
    assert 0.1 < waited < 0.5
    bucket.reset()


def test_the_stacks_api_is_up_and_refuses_anonymous_reads() -> None:
    """`make up` runs the service on 8088 (its demo data is not read here)."""
    url = read_stack_env().get("SEEDBANK_API_BASE_URL")
    if url is None:
        pytest.fail("SEEDBANK_API_BASE_URL is missing from .stack/env: run `make up`")
    assert _get(url, "/api/v1/health").json() == {"status": "ok", "database": "seedbank"}
    _assert_problem(_get(url, "/api/v1/customers"), 401)
    _assert_problem(_get(url, "/api/v1/customers", "dev.acme.9999999999.forged"), 401)
