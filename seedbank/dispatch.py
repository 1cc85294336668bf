"""Dispatching batch jobs to Celery and waiting for them, level by level.

Entities go in foreign-key order; all batches of one entity may run at once. A
batch that does not finish within `stall_s` (its worker was killed, say) is sent
again: batches are idempotent, the first result wins. On any exit, outstanding
jobs are revoked and carry an `expires`, so a cancelled run stops landing rows.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog
from celery import Celery
from celery.result import AsyncResult
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

from factories.planner import BatchSpec
from seedbank.errors import BrokerUnavailable, SeedbankError, SeedingFailed, SloExceeded

log = structlog.get_logger()

PUBLISH_ATTEMPTS = 3
POLL_S = 0.2


@dataclass
class _Pending:
    batch: BatchSpec
    results: list[AsyncResult] = field(default_factory=list)
    sent_at: float = 0.0


@dataclass(frozen=True)
class DispatchTarget:
    run_id: uuid.UUID
    tenant_id: uuid.UUID
    database: str
    queue: str


def _broker_down(exc: Exception) -> BrokerUnavailable:
    return BrokerUnavailable(
        f"the Celery broker is unreachable ({type(exc).__name__})",
        fix="start Redis with `make up` or check SEEDBANK_BROKER_URL; the run stopped",
    )


class Dispatcher:
    def __init__(
        self,
        app: Celery,
        target: DispatchTarget,
        *,
        stall_s: float,
        expires_s: float,
        deadline: datetime | None = None,
    ) -> None:
        self._app = app
        self._target = target
        self._stall_s = stall_s
        self._expires_s = expires_s
        self._outstanding: list[AsyncResult] = []
        self._deadline = deadline

    def ensure_consumers(self) -> None:
        """Ask every worker to consume this run's queue; fail closed when none answers."""
        try:
            replies = self._app.control.add_consumer(self._target.queue, reply=True, timeout=2.0)
        except (KombuOperationalError, RedisError, OSError) as exc:
            raise _broker_down(exc) from None
        if not replies:
            raise SeedingFailed(
                f"no Celery worker answered to consume {self._target.queue}",
                fix="start the workers with `make up`; nothing was written",
            )

    def _send(self, batch: BatchSpec) -> AsyncResult:
        kwargs = {
            "run_id": str(self._target.run_id),
            "tenant_id": str(self._target.tenant_id),
            "database": self._target.database,
            "entity": batch.entity,
            "start": batch.start,
            "stop": batch.stop,
        }
        for attempt in range(PUBLISH_ATTEMPTS):
            try:
                result = self._app.send_task(
                    "seedbank.seed_batch",
                    kwargs=kwargs,
                    queue=self._target.queue,
                    expires=self._expires_s,
                )
            except (KombuOperationalError, RedisError, OSError) as exc:
                if attempt == PUBLISH_ATTEMPTS - 1:
                    raise _broker_down(exc) from None
                time.sleep(0.5 * (attempt + 1))
            else:
                self._outstanding.append(result)
                return result
        raise AssertionError("unreachable")

    def run_level(
        self, batches: Sequence[BatchSpec], on_done: Callable[[dict[str, Any]], None]
    ) -> list[dict[str, Any]]:
        pending = [_Pending(batch=b) for b in batches]
        for item in pending:
            item.results.append(self._send(item.batch))
            item.sent_at = time.monotonic()
        done: list[dict[str, Any]] = []
        while pending:
            check_deadline(self._deadline)
            still: list[_Pending] = []
            for item in pending:
                outcome = self._poll(item)
                if outcome is None:
                    still.append(item)
                else:
                    done.append(outcome)
                    on_done(outcome)
            pending = still
            if pending:
                time.sleep(POLL_S)
        return done

    def _poll(self, item: _Pending) -> dict[str, Any] | None:
        try:
            for result in item.results:
                if result.state == "SUCCESS":
                    value = result.get(timeout=1, propagate=False)
                    return dict(value)
                if result.state == "FAILURE":
                    raise _as_error(result.result, item.batch)
        except (KombuOperationalError, RedisError, OSError) as exc:
            raise _broker_down(exc) from None
        if time.monotonic() - item.sent_at > self._stall_s:
            log.warning(
                "batch stalled, re-dispatching",
                entity=item.batch.entity,
                start=item.batch.start,
                stop=item.batch.stop,
            )
            self.ensure_consumers()
            item.results.append(self._send(item.batch))
            item.sent_at = time.monotonic()
        return None

    def revoke_outstanding(self) -> None:
        for result in self._outstanding:
            if not result.ready():
                try:
                    result.revoke()
                except (KombuOperationalError, RedisError, OSError):
                    return  # they carry `expires`: a dead broker cannot deliver them later
        self._outstanding.clear()


def check_deadline(deadline: datetime | None) -> None:
    """Abort when the run is 20 % past its env's SLO: stop dispatching (NFR-001).

    Batches already written keep their checkpoints, so a later run resumes cleanly.
    """
    if deadline is not None and datetime.now(UTC) > deadline:
        raise SloExceeded(
            f"the run exceeded its SLO budget by more than 20 % (deadline {deadline:%H:%M:%S}Z)",
            fix="re-run in a quieter window or lower the volumetry: finished batches are kept",
        )


def _as_error(exc: object, batch: BatchSpec) -> SeedbankError:
    if isinstance(exc, SeedbankError):
        return exc
    return SeedingFailed(
        f"batch {batch.entity}[{batch.start}:{batch.stop}] failed: {type(exc).__name__}",
        fix="see the Celery worker log, then re-run: batches already written are kept",
    )
