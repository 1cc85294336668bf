"""The one expired-datasets query (FR-016) that expurge and the TTL guard both read, and the
one guard-verdict list that reads it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from seedbank.adapters.profiles import default_profiles_dir, load_profile
from seedbank.adapters.purge import expired_datasets
from seedbank.domain import guards
from seedbank.domain.errors import DatabaseUnavailable
from seedbank.services.seeding.policy import judge
from seedbank.services.seeding.stages import new_run
from tests.support.databases import ScratchDatabase

TENANT = uuid.UUID("00000000-0000-0000-0000-0000000000e1")
OTHER = uuid.UUID("00000000-0000-0000-0000-0000000000e2")
NOW = datetime.now(UTC)


def _checkpoint(
    conn: psycopg.Connection, tenant: uuid.UUID, mode: str, start: int, expires: datetime | None
) -> None:
    conn.execute(
        "INSERT INTO seed_checkpoint (tenant_id, id, run_id, env, mode, entity, batch_start,"
        " batch_stop, row_count, digest, salt_version, manifest_digest, expires_at, created_at)"
        " VALUES (%s, %s, %s, 'dev', %s, 'customer', %s, %s, 1, %s, 1, %s, %s, %s)",
        (tenant, uuid.uuid4(), uuid.uuid4(), mode, start, start + 1, "0" * 64, "0" * 64, expires,
         NOW),
    )  # fmt: skip


@pytest.fixture(scope="module")
def db(database: ScratchDatabase) -> ScratchDatabase:
    with psycopg.connect(database.admin_url) as conn:
        _checkpoint(conn, TENANT, "load", 0, NOW - timedelta(hours=2))
        _checkpoint(conn, TENANT, "load", 1, NOW - timedelta(hours=1))
        _checkpoint(conn, TENANT, "dr", 0, NOW + timedelta(hours=1))
        _checkpoint(conn, TENANT, "baseline", 0, None)
        _checkpoint(conn, OTHER, "load", 0, NOW - timedelta(hours=3))
    return database


def test_by_the_database_clock_only_the_tenants_expired_modes_with_their_earliest_expiry(
    db: ScratchDatabase,
) -> None:
    with psycopg.connect(db.app_url) as conn:
        found = expired_datasets(conn, tenant_id=TENANT, env="dev")
    assert [(mode, round((NOW - at).total_seconds() / 3600)) for mode, at in found] == [("load", 2)]


def test_at_a_given_instant_later_modes_expire_too(db: ScratchDatabase) -> None:
    with psycopg.connect(db.app_url) as conn:
        later = expired_datasets(conn, tenant_id=TENANT, env="dev", at=NOW + timedelta(hours=2))
        earlier = expired_datasets(conn, tenant_id=TENANT, env="dev", at=NOW - timedelta(days=1))
    assert [mode for mode, _ in later] == ["dr", "load"]
    assert earlier == []


def test_the_run_and_the_plan_judge_one_verdict_list(db: ScratchDatabase) -> None:
    """`policy.judge`: the TTL guard reads the query above; an unreachable database fails
    the run's judgement, while the plan gets a `not checked` warning instead."""
    manifest = load_profile(default_profiles_dir(), env="dev", tenant="acme").manifest
    ctx = new_run(manifest.model_copy(update={"mode": "load"}), dry_run=True, actor="t").ctx
    with psycopg.connect(db.admin_url) as conn:
        _checkpoint(conn, ctx.tenant_id, "load", 0, NOW - timedelta(days=3))
    est = guards.estimate(ctx.manifest)

    def judged(url: str, *, plan: bool = False) -> list[guards.Verdict]:
        return judge(
            url, ctx, context="manual", breakglass=None, now=NOW, est=est, unchecked_ttl_warns=plan
        )

    verdicts = judged(db.app_url)
    assert [v.guard for v in verdicts] == ["execution-policy", "window", "budget", "ttl-debt"]
    assert (verdicts[-1].outcome, verdicts[-1].figures["overdue"][0]["mode"]) == ("refuse", "load")

    unreachable = "postgresql://seedbank@127.0.0.1:1/none?connect_timeout=1"
    with pytest.raises(DatabaseUnavailable):
        judged(unreachable)
    planned = judged(unreachable, plan=True)
    assert planned[-1].outcome == "warn"
    assert planned[-1].reason.startswith("not checked: cannot connect to PostgreSQL")
