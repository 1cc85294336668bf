"""Prefect tasks: one per stage of a seed run, each a thin call into
`seedbank.services.seeding.stages`.

No caching (their inputs are live connections and run state) and no result
persistence: a retried flow run redoes only what its checkpoints say is missing.
"""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from seedbank.bootstrap import Wiring
from seedbank.observability.logs import stage
from seedbank.services import evidence
from seedbank.services.seeding import stages
from seedbank.services.seeding.stages import RunState


@task(name="guards", cache_policy=NO_CACHE, persist_result=False)
def guards(w: Wiring, run: RunState, context: str) -> None:
    with stage("guards"):
        stages.check_policy(w, run, context=context)


@task(name="purge-previous", cache_policy=NO_CACHE, persist_result=False)
def purge_previous(w: Wiring, run: RunState) -> None:
    with stage("purge-previous"):
        stages.purge_previous(w, run)


@task(name="lock", cache_policy=NO_CACHE, persist_result=False)
def lock(w: Wiring, run: RunState, wait_seconds: float) -> None:
    with stage("lock"):
        stages.acquire_lock(w, run, wait_seconds=wait_seconds)


@task(name="salt-check", cache_policy=NO_CACHE, persist_result=False)
def salt_check(w: Wiring, run: RunState) -> None:
    with stage("salt-check"):
        stages.check_salt(w, run)


@task(name="worm-preflight", cache_policy=NO_CACHE, persist_result=False)
def worm_preflight(w: Wiring, run: RunState) -> None:
    with stage("worm-preflight"):
        stages.worm_preflight(w, run)


@task(name="seed-entities", cache_policy=NO_CACHE, persist_result=False)
def seed_entities(w: Wiring, run: RunState) -> None:
    with stage("seed-entities"):
        stages.record_run(w, run)
        stages.seed_with_celery(w, run)


@task(name="verify", cache_policy=NO_CACHE, persist_result=False)
def verify(w: Wiring, run: RunState) -> None:
    with stage("verify"):
        stages.verify(w, run)


@task(name="publish-evidence", cache_policy=NO_CACHE, persist_result=False)
def publish_evidence(w: Wiring, run: RunState) -> dict[str, object]:
    with stage("publish-evidence"):
        return evidence.publish(w, run, evidence.report(run, outcome="succeeded"))


@task(name="release", cache_policy=NO_CACHE, persist_result=False)
def release(run: RunState) -> None:
    with stage("release"):
        if run.lock is not None:
            run.lock.release()
