"""Truthful failure outcomes: what the database holds when a run stops (issue 16).

A dependency that dies mid-run reaches us as a library's own exception (redis-py,
psycopg, kombu); `as_error` maps each to its documented exit code with one sentence,
whatever the stage. `tell_truth` then rewrites the "how to fix" half of a failure
that happened after the first write, so it says what is in the database and what a
re-run will do, and gives the `seed_run` status that says the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import httpx
import psycopg
import structlog
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from factories.planner import plan
from seedbank.domain.errors import (
    BrokerUnavailable,
    DatabaseUnavailable,
    DependencyUnavailable,
    LeaseLost,
    SeedbankError,
    VerificationFailed,
)

if TYPE_CHECKING:
    from seedbank.services.seeding.stages import RunState

log = structlog.get_logger()

#: seed_run.status values a failed run can end in (String(16)).
FAILED, PARTIAL, UNVERIFIED, UNSEALED, PURGED = (
    "failed",
    "partial",
    "unverified",
    "unsealed",
    "purged",
)


def as_error(exc: BaseException) -> SeedbankError | None:
    """The SeedbankError an exception stands for, or None for a bug (exit 1)."""
    if isinstance(exc, SeedbankError):
        return exc
    name = type(exc).__name__
    if isinstance(exc, RedisConnectionError | RedisTimeoutError | KombuOperationalError):
        return BrokerUnavailable(
            f"Redis (the Celery broker or the rate-limit store) became unreachable ({name})",
            fix="start it (`make up`) or check SEEDBANK_BROKER_URL/SEEDBANK_REDIS_URL, then re-run",
        )
    if isinstance(exc, psycopg.OperationalError):
        return DatabaseUnavailable(
            f"PostgreSQL became unreachable or shut the connection down ({name})",
            fix="start it (`make up`) or check SEEDBANK_DATABASE_URL, then re-run",
        )
    if isinstance(exc, httpx.TransportError):
        return DependencyUnavailable(
            f"the Prefect API (or another HTTP service) became unreachable ({name})",
            fix="start it (`make up`) or check PREFECT_API_URL, then re-run",
        )
    return None


def held(run: RunState) -> tuple[str, str | None]:
    """(seed_run status, what the database holds and what a re-run does) for `run` now.

    The sentence is None when nothing of the dataset was touched (or a dry run).
    """
    ctx = run.ctx
    recreate = ctx.mode != "baseline"
    total = sum(1 for _ in _planned(run))
    written = len(run.batches)
    verified = bool(run.gates) and not any(g.failed for g in run.gates)
    rest = "a re-run recreates it" if recreate else "a re-run writes only the missing batches"
    cases: list[tuple[bool, str, str]] = [
        (
            run.evidence is not None,
            "succeeded",
            "the dataset is written, verified and its evidence sealed: nothing to re-run",
        ),
        (
            verified and run.evidence is None,
            UNSEALED,
            "the dataset is written and verified; its evidence is not sealed: "
            + ("re-run to recreate and seal it" if recreate else "re-run to seal it"),
        ),
        (
            written >= total,
            UNVERIFIED,
            "the dataset is written but not verified: "
            + ("re-run to recreate, verify and seal it" if recreate else "re-run to verify it"),
        ),
        (
            written > 0,
            PARTIAL,
            f"{written} of {total} batches are written and checkpointed; {rest}",
        ),
        (run.recorded, PARTIAL, f"seeding had started: batches in flight may be written; {rest}"),
        (
            bool(run.purged),
            PURGED,
            f"the previous {ctx.mode} dataset was purged; a re-run recreates it",
        ),
    ]
    if not run.dry_run:
        for applies, status, sentence in cases:
            if applies:
                return status, sentence
    return FAILED, None


def tell_truth(run: RunState, exc: SeedbankError) -> str:
    """Make `exc` say what the database holds; return the seed_run status to record."""
    status, sentence = held(run)
    if isinstance(exc, VerificationFailed):
        return FAILED  # its own fix (purge and reseed) is the truth
    if isinstance(exc, LeaseLost):
        return status  # it says already that the batches written are kept
    if sentence is not None:
        exc.fix = sentence
        exc.args = (exc.sentence(),)
    return status


@contextmanager
def cleanup(what: str) -> Iterator[None]:
    """A `finally` step that may fail (dead connection, store down) without hiding the error."""
    try:
        yield
    except Exception as exc:
        log.error(f"{what} failed during cleanup", error=type(exc).__name__)


def _planned(run: RunState) -> Iterator[object]:
    return iter(plan(run.ctx.spec, run.ctx.manifest.generation.batch_size))
