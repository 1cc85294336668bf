"""The central per-tenant concurrency limit lives in Redis (FR-025)."""

from __future__ import annotations

import os
import secrets
import subprocess
import time

import redis

from seedbank.adapters.concurrency import TenantSemaphore, release_stale


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


def test_a_restarted_node_frees_the_slots_of_its_dead_incarnation_only() -> None:
    tenant = f"t-{secrets.token_hex(4)}"
    node = f"celery-{secrets.token_hex(3)}@host"
    sem = _semaphore(tenant, 3, ttl_s=300)
    dead = sem.try_acquire(holder=f"{node}/boot-old/")  # SIGKILLed while holding it
    other_node = sem.try_acquire(holder=f"other-{node}/boot-x/")
    alive = sem.try_acquire(holder=f"{node}/boot-new/")
    assert None not in (dead, other_node, alive)
    assert sem.try_acquire() is None  # full: the dead slot would live 300 s
    client = redis.Redis.from_url(os.environ.get("SEEDBANK_REDIS_URL", "redis://127.0.0.1:6379/1"))
    assert release_stale(client, node=node, boot="boot-new") == 1
    raw = client.zrange(f"seedbank:slots:dev:{tenant}", 0, -1)
    members = {m.decode() if isinstance(m, bytes) else str(m) for m in raw}
    assert members == {other_node, alive}
    assert sem.try_acquire() is not None  # the freed slot is usable at once


def test_a_dead_pool_process_slot_is_freed_by_a_sibling_at_once() -> None:
    tenant = f"t-{secrets.token_hex(4)}"
    node_boot = f"celery-{secrets.token_hex(3)}@host/boot-1/"
    sem = _semaphore(tenant, 1, ttl_s=300)
    child = subprocess.Popen(["sleep", "60"])
    assert sem.try_acquire(holder=f"{node_boot}{child.pid}/") is not None
    sibling = f"{node_boot}{os.getpid()}/"
    assert sem.try_acquire(holder=sibling) is None  # the holder is alive: still full
    child.kill()
    child.wait()
    assert sem.try_acquire(holder=sibling) is not None  # its death is known: freed now
    assert sem.try_acquire(holder=f"other-node/boot-2/{child.pid}/") is None
