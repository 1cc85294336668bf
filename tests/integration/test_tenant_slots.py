"""The central per-tenant concurrency limit lives in Redis (FR-025)."""

from __future__ import annotations

import os
import secrets
import time

import redis

from seedbank.adapters.concurrency import TenantSemaphore


def _semaphore(tenant: str, limit: int, ttl_s: float = 30) -> TenantSemaphore:
    client = redis.Redis.from_url(os.environ.get("SEEDBANK_REDIS_URL", "redis://127.0.0.1:6379/1"))
    return TenantSemaphore(client, env="dev", tenant=tenant, limit=limit, ttl_s=ttl_s)


def test_at_most_limit_slots_across_processes_sharing_redis() -> None:
    tenant = f"t-{secrets.token_hex(4)}"
    one, other = _semaphore(tenant, 2), _semaphore(tenant, 2)  # two workers, one Redis
    first, second = one.try_acquire(), other.try_acquire()
    assert first is not None
    assert second is not None
    assert one.try_acquire() is None
    one.release(first)
    assert other.try_acquire() is not None


def test_other_tenants_have_their_own_slots() -> None:
    a, b = _semaphore(f"t-{secrets.token_hex(4)}", 1), _semaphore(f"t-{secrets.token_hex(4)}", 1)
    assert a.try_acquire() is not None
    assert b.try_acquire() is not None


def test_a_dead_holders_slot_expires() -> None:
    sem = _semaphore(f"t-{secrets.token_hex(4)}", 1, ttl_s=0.3)
    assert sem.try_acquire() is not None  # never released: its worker "died"
    assert sem.try_acquire() is None
    time.sleep(0.4)
    assert sem.try_acquire() is not None
