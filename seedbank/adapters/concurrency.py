"""Central (Redis) limit on how many batches of one env/tenant write at once (FR-025).

A sorted-set semaphore: each holder is a member scored by its expiry, so a slot
held by a worker that died frees itself after `ttl_s`. Members carry their holder's
name (`<node>/<boot>/…`), so a worker node restarted after a SIGKILL frees the slots
its previous incarnation left at once (`release_stale`) instead of after the TTL,
and a pool process's members end in its pid (`<node>/<boot>/<pid>/…`): a sibling that
finds the tenant full frees the slots of a dead sibling at once (`release_dead`),
so killing pool processes no longer stalls the tenant for the whole TTL (issue 16).
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid

import redis

from seedbank.domain.errors import BrokerUnavailable


class TenantSemaphore:
    def __init__(
        self, client: redis.Redis, *, env: str, tenant: str, limit: int, ttl_s: float
    ) -> None:
        self._redis = client
        self._key = f"seedbank:slots:{env}:{tenant}"
        self._limit = limit
        self._ttl = ttl_s

    def try_acquire(self, holder: str = "") -> str | None:
        """A slot token, or None when `limit` batches of this tenant already run.

        When full, the slots of dead processes under `holder`'s own node and boot are
        freed and the slot asked once more.
        """
        token = self._try(holder)
        if token is None and holder and self.release_dead(holder) > 0:
            token = self._try(holder)
        return token

    def release_dead(self, holder: str) -> int:
        """Free slots held by dead pool processes of this node incarnation (same machine)."""
        node_boot = holder.rsplit("/", 2)[0] + "/" if holder.count("/") >= 3 else holder
        try:
            members = [
                m.decode() if isinstance(m, bytes) else str(m)
                for m in self._redis.zrange(self._key, 0, -1)
            ]
            dead = [m for m in members if m.startswith(node_boot) and not _alive(m, node_boot)]
            return int(self._redis.zrem(self._key, *dead)) if dead else 0
        except redis.RedisError:
            return 0  # they expire by themselves

    def _try(self, holder: str) -> str | None:
        token = holder + uuid.uuid4().hex
        now = time.time()
        try:
            pipe = self._redis.pipeline()
            pipe.zremrangebyscore(self._key, "-inf", now)
            pipe.zadd(self._key, {token: now + self._ttl})
            pipe.zrank(self._key, token)
            pipe.expire(self._key, int(self._ttl) + 60)
            _, _, rank, _ = pipe.execute()
            if rank is not None and int(rank) < self._limit:
                return token
            self._redis.zrem(self._key, token)
        except redis.RedisError as exc:
            raise BrokerUnavailable(
                f"Redis refused the concurrency slot ({type(exc).__name__})",
                fix="start Redis with `make up` or check SEEDBANK_REDIS_URL",
            ) from None
        return None

    def release(self, token: str) -> None:
        with contextlib.suppress(redis.RedisError):  # the slot expires by itself
            self._redis.zrem(self._key, token)


def _alive(member: str, node_boot: str) -> bool:
    pid_text = member[len(node_boot) :].split("/", 1)[0]
    if not pid_text.isdigit():
        return True  # not a pid-stamped member: leave it to the TTL
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def release_stale(client: redis.Redis, *, node: str, boot: str) -> int:
    """Drop every slot held by `node` under another boot than `boot` (a dead incarnation)."""
    mine, current = f"{node}/", f"{node}/{boot}/"
    freed = 0
    for key in client.scan_iter(match="seedbank:slots:*", count=500):
        members = [
            m.decode() if isinstance(m, bytes) else str(m) for m in client.zrange(key, 0, -1)
        ]
        stale = [m for m in members if m.startswith(mine) and not m.startswith(current)]
        if stale:
            freed += int(client.zrem(key, *stale))
    return freed
