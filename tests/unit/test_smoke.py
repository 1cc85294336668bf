"""Pure parts of the smoke: its rate ceiling, its plan, its backoff and its tokens."""

from __future__ import annotations

import random

import httpx
import pytest

from seedbank.adapters.paced import backoff as _backoff
from seedbank.adapters.paced import retry_after, retryable
from seedbank.api.contract import ENTITY_RESOURCES
from seedbank.api.tokens import mint_token, verify_token
from seedbank.domain.manifest import Backoff, RateLimit
from seedbank.gates.api_probe import _plan, limit_rpm

KEY = "k" * 40
BACKOFF = Backoff(base_seconds=0.5, max_seconds=4, jitter=0.2, max_retries=5)


@pytest.mark.parametrize(
    ("target", "cap", "expected"),
    [(240, 300, 240), (900, 1200, 900), (80, 100, 80), (1, 1000, 1)],
)
def test_the_ceiling_is_the_target_and_never_above_80_percent_of_the_cap(
    target: int, cap: int, expected: float
) -> None:
    rate = RateLimit(target_rpm=target, cap_rpm=cap, backoff=BACKOFF)
    assert limit_rpm(rate) == expected
    assert limit_rpm(rate) <= 0.8 * cap


def test_a_manifest_cannot_target_above_80_percent_of_its_cap() -> None:
    with pytest.raises(ValueError, match="80%"):
        RateLimit(target_rpm=241, cap_rpm=300, backoff=BACKOFF)


def test_the_plan_lists_every_resource_then_records_round_robin() -> None:
    sample = {"customer": ["c1", "c2", "c3"], "loan": ["l1"], "tenant": ["t"], "app_user": []}
    calls = _plan(sample, None)
    assert [c.path for c in calls[: len(ENTITY_RESOURCES)]] == [
        f"/api/v1/{s}" for s in ENTITY_RESOURCES.values()
    ]
    assert [c.record_id for c in calls[len(ENTITY_RESOURCES) :]] == ["c1", "l1", "c2", "c3"]
    cut = _plan(sample, len(ENTITY_RESOURCES) + 2)
    assert [c.record_id for c in cut[len(ENTITY_RESOURCES) :]] == ["c1", "l1"]
    with pytest.raises(ValueError, match="ledger"):
        _plan({"ledger": ["x"]}, None)


def test_backoff_grows_exponentially_within_jitter_and_max() -> None:
    rng = random.Random(7)
    for attempt, base in enumerate([0.5, 1.0, 2.0, 4.0, 4.0]):
        for _ in range(50):
            assert base * 0.8 <= _backoff(BACKOFF, attempt, rng) <= base * 1.2


def test_a_token_names_its_env_and_tenant_until_it_expires() -> None:
    token = mint_token(KEY, env="dev", tenant="acme", ttl_s=60, now=1_000)
    scope = verify_token(KEY, token, now=1_059)
    assert scope is not None
    assert (scope.env, scope.tenant) == ("dev", "acme")
    assert verify_token(KEY, token, now=1_060) is None  # expired
    assert verify_token("x" * 40, token, now=1_000) is None  # another key


def test_a_tampered_token_is_refused() -> None:
    token = mint_token(KEY, env="dev", tenant="acme", now=1_000)
    env, tenant, expires, sig = token.split(".")
    for forged in (
        f"{env}.globex.{expires}.{sig}",
        f"prod.{tenant}.{expires}.{sig}",
        f"{env}.{tenant}.{int(expires) + 1}.{sig}",
        f"{env}.{tenant}.{expires}.{sig[:-1]}{'B' if sig.endswith('A') else 'A'}",
        f"{env}.{tenant}.{expires}",
        "",
    ):
        assert verify_token(KEY, forged, now=1_000) is None, forged


def test_tokens_refuse_short_keys_and_non_slugs() -> None:
    with pytest.raises(ValueError, match="at least"):
        mint_token("short", env="dev", tenant="acme")
    with pytest.raises(ValueError, match="slug"):
        mint_token(KEY, env="dev", tenant="acme.corp")


def test_retry_after_is_honoured_in_seconds_and_an_http_date_falls_back_to_backoff() -> None:
    assert retry_after(httpx.Response(429, headers={"retry-after": "2.5"})) == 2.5
    assert retry_after(httpx.Response(429, headers={"retry-after": "-3"})) == 0.0
    # The load test used to crash on this form; both clients now wait by their backoff.
    http_date = "Wed, 21 Oct 2026 07:28:00 GMT"
    assert retry_after(httpx.Response(429, headers={"retry-after": http_date})) == 0.0
    assert retry_after(httpx.Response(429)) == 0.0
    assert retryable(httpx.Response(429))
    assert retryable(httpx.Response(503))
    assert retryable("ConnectError")
    assert not retryable(httpx.Response(404))
