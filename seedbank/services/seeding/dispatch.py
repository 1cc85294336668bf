"""Dispatching batch jobs to Celery and waiting for them.

`.schedule` decides which batches may go (an entity only after every entity it
references is written) and in what order; at most `window` batches are in flight, so
the queue stays short and a freed worker finds the next batch waiting. A batch that
does not finish within `stall_s` of being sent (its worker was killed, say) is sent
again: batches are idempotent, the first result wins. On any exit, outstanding jobs
are revoked and carry an `expires`, so a cancelled run stops landing rows.
"""

from __future__ import annotations

import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog
from celery import Celery
from celery.result import AsyncResult
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

from factories.planner import BatchSpec
from seedbank.domain.errors import BrokerUnavailable, SeedbankError, SeedingFailed, SloExceeded
from seedbank.observability import metrics
from seedbank.services.seeding.schedule import Schedule

log = structlog.get_logger()

PUBLISH_ATTEMPTS = 3
STALL_FACTOR = 4.0
STALL_FLOOR_S = 10.0
STALL_SAMPLES = 8
"""The stall wait follows the measured batch latency (send → result): once STALL_SAMPLES
batches have landed it is STALL_FACTOR times the slowest of the recent ones, at least
STALL_FLOOR_S and at most the configured stall time, so a killed worker's batches are
re-sent within seconds of when they should have landed, not after a fixed minute."""
START_PATIENCE_S = 20.0
"""How long a run waits at its start for a worker to answer: a worker reconnecting after
a broker blip answers once its back-off ends (2 + 4 + 6 s), not within one 2-s ask."""
POLL_S = 0.05
"""Result polling tick while the window is not full: a completion may release batches
that wait on it (the schedule), or end the stage; one tick is one Redis MGET."""
POLL_FULL_S = 0.25
"""The longest tick, once the window is full and the workers have batches queued: a
completion then only frees a slot. At 20 ticks a second the flow's MGETs took ~0.03 of
the two cores a 2-worker run needs (py-spy: most of the flow's CPU was the tick)."""
REFILL_SHARE = 4
"""A full-window tick lasts while at most window / REFILL_SHARE batches land (at the
measured rate), so the queue the workers draw from never runs dry between two ticks."""


def tick_seconds(window: int, in_flight: int, landed_per_s: float | None) -> float:
    """How long to wait before looking for results again (see POLL_S, POLL_FULL_S)."""
    if in_flight < window or not landed_per_s:
        return POLL_S
    return min(POLL_FULL_S, max(POLL_S, window / REFILL_SHARE / landed_per_s))


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
    #: tenant/env/mode, for the stall counter (metrics carry no run id).
    labels: dict[str, str] | None = None


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
        window: int = 16,
        deadline: datetime | None = None,
        check: Callable[[], None] | None = None,
        start_patience_s: float = START_PATIENCE_S,
    ) -> None:
        self._app = app
        self._start_patience_s = start_patience_s
        self._check = check  # the run lock's `check`: stop as soon as the lease is lost
        self._target = target
        self._window = window
        self._patience_s = max(60.0, 3 * stall_s)
        self._no_consumer_since: float | None = None
        self._asked_at = -1e9
        self._stall_s = stall_s
        self._latencies: deque[float] = deque(maxlen=64)
        self._landed: deque[float] = deque(maxlen=32)  # when recent batches landed
        self._expires_s = expires_s
        self._outstanding: dict[str, AsyncResult] = {}  # sent, not yet seen finished
        self._deadline = deadline

    def ensure_consumers(self) -> None:
        """Ask every worker to consume this run's queue; fail closed when none has answered
        within the start patience (each ask waits 2 s for a reply)."""
        give_up_at = time.monotonic() + self._start_patience_s
        while not self._ask_consumers():
            if time.monotonic() >= give_up_at:
                raise SeedingFailed(
                    f"no Celery worker answered within {self._start_patience_s:.0f} s to"
                    f" consume {self._target.queue}",
                    fix="start the workers with `make up`; nothing was written",
                )
            log.warning("no Celery worker answered yet; asking again", queue=self._target.queue)
            time.sleep(0.5)

    def _ask_consumers(self) -> bool:
        try:
            # The first reply proves a consumer; the broadcast reaches every worker anyway.
            replies = self._app.control.add_consumer(
                self._target.queue, reply=True, timeout=2.0, limit=1
            )
        except (KombuOperationalError, RedisError, OSError) as exc:
            raise _broker_down(exc) from None
        return bool(replies)

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
                self._outstanding[result.id] = result
                return result
        raise AssertionError("unreachable")

    def run(
        self,
        schedule: Schedule,
        *,
        on_done: Callable[[dict[str, Any]], None],
        on_released: Callable[[str], None] = lambda entity: None,
        on_finished: Callable[[str], None] = lambda entity: None,
    ) -> list[dict[str, Any]]:
        """Every batch of `schedule`, at most `window` in flight; outcomes as they land."""
        pending: list[_Pending] = []
        done: list[dict[str, Any]] = []
        released = finished = 0  # schedule events already reported
        while True:
            for entity in schedule.released[released:]:
                on_released(entity)
            for entity in schedule.finished[finished:]:
                on_finished(entity)
            released, finished = len(schedule.released), len(schedule.finished)
            for batch in schedule.take(self._window - len(pending)):
                item = _Pending(batch=batch, results=[self._send(batch)])
                item.sent_at = time.monotonic()
                pending.append(item)
            if not pending:
                break
            time.sleep(tick_seconds(self._window, len(pending), self.landed_per_s()))
            check_deadline(self._deadline)
            if self._check is not None:
                self._check()
            still: list[_Pending] = []
            settled = self._settled([r for item in pending for r in item.results])
            for task_id in settled or ():
                self._outstanding.pop(task_id, None)  # finished: nothing left to revoke
            for item in pending:
                outcome = self._poll(item, settled)
                if outcome is None:
                    still.append(item)
                    continue
                self._landed.append(time.monotonic())
                self._latencies.append(self._landed[-1] - item.sent_at)
                done.append(outcome)
                on_done(outcome)
                schedule.complete(item.batch)
            pending = still
        if not schedule.done:
            raise AssertionError("the schedule ended with entities never released")
        return done

    def _settled(self, results: list[AsyncResult]) -> dict[str, dict[str, Any]] | None:
        """The stored meta of each result that has finished (SUCCESS or FAILURE), read in
        one round trip (a Redis MGET of their meta keys) instead of a GET for its state and
        another for its value. None when the backend cannot (each result is then asked)."""
        backend = self._app.backend
        mget = getattr(backend, "mget", None)
        key_for = getattr(backend, "get_key_for_task", None)
        if not results or mget is None or key_for is None:
            return None
        try:
            values = mget([key_for(r.id) for r in results])
        except (KombuOperationalError, RedisError, OSError) as exc:
            raise _broker_down(exc) from None
        done: dict[str, dict[str, Any]] = {}
        for result, value in zip(results, values, strict=True):
            if value is not None:
                meta = backend.decode_result(value)
                if meta.get("status") in ("SUCCESS", "FAILURE"):
                    done[result.id] = meta
        return done

    def _poll(
        self, item: _Pending, settled: dict[str, dict[str, Any]] | None = None
    ) -> dict[str, Any] | None:
        try:
            for result in item.results:
                if settled is not None:
                    meta = settled.get(result.id)
                    if meta is None:
                        continue  # still pending or started
                    if meta["status"] == "SUCCESS":
                        return dict(meta["result"])
                    raise _as_error(meta["result"], item.batch)  # decoded: the exception
                if result.state == "SUCCESS":
                    value = result.get(timeout=1, propagate=False)
                    return dict(value)
                if result.state == "FAILURE":
                    raise _as_error(result.result, item.batch)
        except (KombuOperationalError, RedisError, OSError) as exc:
            raise _broker_down(exc) from None
        if time.monotonic() - item.sent_at > self.stall_wait():
            log.warning(
                "batch stalled, re-dispatching",
                entity=item.batch.entity,
                start=item.batch.start,
                stop=item.batch.stop,
            )
            if self._target.labels:
                metrics.BATCH_STALLS.labels(**self._target.labels).inc()
            self._reconsume()
            item.results.append(self._send(item.batch))
            item.sent_at = time.monotonic()
        return None

    def landed_per_s(self) -> float | None:
        """Batches landed per second over the recent ones; None until there are some."""
        if len(self._landed) < 2:
            return None
        span = time.monotonic() - self._landed[0]
        return (len(self._landed) - 1) / span if span > 0 else None

    def stall_wait(self) -> float:
        """Seconds after which an unanswered batch is sent again (see STALL_FACTOR)."""
        if len(self._latencies) < STALL_SAMPLES:
            return self._stall_s
        return min(self._stall_s, max(STALL_FLOOR_S, STALL_FACTOR * max(self._latencies)))

    def _reconsume(self) -> None:
        """After a stall, have the (perhaps restarted) workers consume the run's queue again.

        A supervisor restarting a killed worker may take a while: keep asking at each
        stall, and give up once none has answered for `_patience_s`.
        """
        now = time.monotonic()
        if now - self._asked_at < min(self._stall_s / 2, 5.0):
            return  # a window of batches stalls at once: one question answers for all
        self._asked_at = now
        if self._ask_consumers():
            self._no_consumer_since = None
            return
        if self._no_consumer_since is None:
            self._no_consumer_since = now
        waited = now - self._no_consumer_since
        if waited > self._patience_s:
            raise SeedingFailed(
                f"no Celery worker has answered for {waited:.0f} s to consume {self._target.queue}",
                fix="start the workers with `make up`, then re-run: written batches are kept",
            )
        log.warning("no Celery worker answered; asking again at the next stall")

    def revoke_outstanding(self) -> None:
        """Revoke every job not seen finished (a re-sent batch's twin, or all of them when
        the run stops early): only those are asked, not each job the run sent."""
        for result in self._outstanding.values():
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
