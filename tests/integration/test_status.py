"""`seed_data status` against a scratch database: locks, runs, datasets, TTL (issue 18)."""

from __future__ import annotations

import json
import re
import secrets
import socket
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from prometheus_client import CollectorRegistry

from factories.spec import GENERATOR_VERSION, tenant_uuid
from seedbank.adapters import audit
from seedbank.adapters.lock import RunLock
from seedbank.adapters.postgres import bind_tenant
from seedbank.cli import main
from seedbank.observability import metrics
from seedbank.services.status_metrics import GAUGES, StatusCollector
from seedbank.settings import Settings
from tests.support.databases import ScratchDatabase
from tests.support.world import write_profile

NOW = datetime.now(UTC)


@pytest.fixture(autouse=True)
def _clock_at_each_test() -> None:
    """Times are relative to each test's start: a module-level clock drifts over a long suite."""
    global NOW  # noqa: PLW0603  one clock read by the helpers and the assertions
    NOW = datetime.now(UTC)


@pytest.fixture
def tenant(database: ScratchDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    name = f"t-{secrets.token_hex(4)}"
    write_profile(tmp_path / "profiles", env="dev", tenant=name)
    write_profile(tmp_path / "profiles", env="dev", tenant=f"{name}-idle")
    monkeypatch.setenv("SEEDBANK_PROFILES_DIR", str(tmp_path / "profiles"))
    monkeypatch.setenv("SEEDBANK_DATABASE_URL", database.app_url)
    return name


def as_tenant(database: ScratchDatabase, tenant: str, statement: str, *args: Any) -> None:
    with psycopg.connect(database.app_url) as conn:
        bind_tenant(conn, tenant_uuid("dev", tenant))
        conn.execute(statement, args)


def record_run(
    database: ScratchDatabase,
    tenant: str,
    *,
    mode: str,
    took_s: float,
    expires: datetime | None,
    hours_ago: float = 1,
) -> str:
    """A finished run and its dataset's checkpoints, as a seed leaves them."""
    run_id = uuid.uuid4()
    started = NOW - timedelta(hours=hours_ago)
    as_tenant(
        database,
        tenant,
        "INSERT INTO seed_run (tenant_id, id, env, tenant, mode, status, dry_run,"
        " manifest_digest, salt_version, manifest, dataset_digest, expires_at, started_at,"
        " finished_at) VALUES (%s, %s, 'dev', %s, %s, 'succeeded', false, %s, 1, '{}', %s, %s,"
        " %s, %s)",
        tenant_uuid("dev", tenant),
        run_id,
        tenant,
        mode,
        "a" * 64,
        "b" * 64,
        expires,
        started,
        started + timedelta(seconds=took_s),
    )
    for start, rows in ((0, 100), (100, 50)):
        as_tenant(
            database,
            tenant,
            "INSERT INTO seed_checkpoint (tenant_id, id, run_id, env, mode, entity, batch_start,"
            " batch_stop, row_count, digest, salt_version, manifest_digest, expires_at,"
            " created_at, generator_version) VALUES (%s, %s, %s, 'dev', %s, 'customer', %s, %s,"
            " %s, %s, 1, %s, %s, %s, %s)",
            tenant_uuid("dev", tenant),
            uuid.uuid4(),
            run_id,
            mode,
            start,
            start + rows,
            rows,
            "c" * 64,
            "a" * 64,
            expires,
            started,
            GENERATOR_VERSION,
        )
    return str(run_id)


def status(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["status", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_status_shows_the_lock_holder_the_last_run_and_each_dataset_ttl(
    database: ScratchDatabase, tenant: str, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = record_run(database, tenant, mode="baseline", took_s=12.5, expires=None, hours_ago=2)
    load = record_run(database, tenant, mode="load", took_s=30.0, expires=NOW + timedelta(hours=20))
    lock = RunLock(
        database.app_url,
        env="dev",
        tenant=tenant,
        tenant_id=tenant_uuid("dev", tenant),
        run_id=uuid.uuid4(),
    )
    lock.acquire(holder="ci:alice (seed)")
    try:
        code, out, err = status(capsys, f"--tenant={tenant}", "--env=dev")
        assert code == 0, err
        assert out.splitlines()[0] == f"dev/{tenant}"
        assert "lock      held by ci:alice (seed)" in out
        assert re.search(r"heartbeat \d+ s ago, lease until ", out)
        assert f"load     succeeded      30.0 s  {load}" in out
        assert f"baseline succeeded      12.5 s  {baseline}" in out
        assert "baseline          150 rows      2 batches" in out
        assert "no TTL" in out
        assert re.search(r"load .* expires \S+ \S+ \(in 1\dh \d+m\)", out)
        assert "expurge   nothing to remove now" in out

        code, out, _ = status(capsys, f"--tenant={tenant}", "--env=dev", "--json")
        assert code == 0
        (doc,) = json.loads(out)["targets"]
        assert doc["lock"]["held"] is True
        assert doc["lock"]["overdue_s"] == 0
        assert [r["run_id"] for r in doc["runs"]] == [load, baseline]
        assert {d["mode"]: d["rows"] for d in doc["datasets"]} == {"baseline": 150, "load": 150}
    finally:
        lock.release()
    code, out, _ = status(capsys, "--env=dev")
    assert code == 0
    assert f"dev/{tenant}-idle\n  lock      free\n  runs      none recorded" in out
    assert f"dev/{tenant}\n  lock      free" in out


def test_status_shows_a_stale_lease_an_expired_dataset_and_what_expurge_removes(
    database: ScratchDatabase, tenant: str, capsys: pytest.CaptureFixture[str]
) -> None:
    record_run(database, tenant, mode="dr", took_s=5, expires=NOW - timedelta(hours=30))
    # A lease row whose holder died: its heartbeat stopped and no session holds the lock.
    as_tenant(
        database,
        tenant,
        "INSERT INTO seed_lease (tenant_id, env, run_id, holder, acquired_at, heartbeat_at,"
        " expires_at) VALUES (%s, 'dev', %s, 'argo:app (seed)', %s, %s, %s)",
        tenant_uuid("dev", tenant),
        uuid.uuid4(),
        NOW - timedelta(minutes=20),
        NOW - timedelta(minutes=15),
        NOW - timedelta(minutes=10),
    )
    for event, reason in (
        ("guard_ttl_debt", "the dr dataset expired and is still present"),
        ("rls_probe_refused", "refused 18 cross-tenant writes"),  # a gate passing
    ):
        audit.record(
            database.app_url,
            audit.AuditEvent(
                tenant_id=tenant_uuid("dev", tenant),
                env="dev",
                tenant=tenant,
                event=event,
                outcome="refused",
                reason=reason,
                actor="test",
            ),
        )
    code, out, err = status(capsys, f"--tenant={tenant}")
    assert code == 0, err
    assert "NOT held (lease row of a dead run" in out
    assert "guard_ttl_debt: the dr dataset expired and is still present" in out
    assert "rls_probe_refused" not in out
    assert "lease OVERDUE by 6" in out  # ~600 s
    assert "EXPIRED at" in out
    assert "overdue by 216" in out  # 30 h - 24 h grace = ~21600 s
    assert "expurge   would remove now: dr (150 rows)" in out
    code, out, _ = status(capsys, f"--tenant={tenant}", "--json")
    (doc,) = json.loads(out)["targets"]
    assert doc["lock"]["held"] is False
    assert 590 < doc["lock"]["overdue_s"] < 700
    assert doc["expurge_would_remove"] == [{"mode": "dr", "rows": 150}]


@pytest.mark.parametrize(
    ("argv", "code", "needle"),
    [
        (["--env=qa"], 2, "unknown env 'qa'"),
        (["--tenant=Not_A_Slug"], 2, "is not a valid slug"),
        (["--tenant=nobody-here"], 3, "no versioned profile for nobody-here"),
        (["--env=prod", "--tenant=nobody-here"], 3, "no versioned profile for prod/nobody-here"),
        (["--bogus"], 2, "No such option: --bogus"),
    ],
)
def test_bad_input_is_one_sentence_and_exit_2_or_3(
    tenant: str, argv: list[str], code: int, needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    got, out, err = status(capsys, *argv)
    assert got == code
    assert needle in err
    assert err.count("\n") == 1
    assert out == ""


def _samples(collector: StatusCollector) -> dict[tuple[str, tuple[str, ...]], float]:
    registry = CollectorRegistry()
    registry.register(collector)
    return {
        (s.name, tuple(s.labels.values())): s.value
        for family in registry.collect()
        for s in family.samples
    }


def test_the_status_gauges_show_a_stale_lease_and_an_overdue_expurge(
    database: ScratchDatabase, tenant: str
) -> None:
    record_run(database, tenant, mode="load", took_s=5, expires=NOW - timedelta(hours=30))
    record_run(database, tenant, mode="baseline", took_s=5, expires=None)
    lock = RunLock(
        database.app_url,
        env="dev",
        tenant=tenant,
        tenant_id=tenant_uuid("dev", tenant),
        run_id=uuid.uuid4(),
    )
    lock.acquire(holder="ci:alice (seed)")
    try:
        as_tenant(  # the holder hangs: its heartbeat stopped 10 minutes ago
            database,
            tenant,
            "UPDATE seed_lease SET heartbeat_at = %s, expires_at = %s",
            NOW - timedelta(minutes=15),
            NOW - timedelta(minutes=10),
        )
        got = _samples(StatusCollector(Settings))
    finally:
        lock.release()
    assert got[("seedbank_status_up", ())] == 1
    assert got[("seedbank_lock_held", (tenant, "dev"))] == 1
    assert got[("seedbank_lock_held", (f"{tenant}-idle", "dev"))] == 0
    assert 590 < got[("seedbank_lock_lease_overdue_seconds", (tenant, "dev"))] < 700
    assert got[("seedbank_lock_heartbeat_age_seconds", (tenant, "dev"))] >= 900
    assert 21000 < got[("seedbank_expurge_overdue_seconds", (tenant, "dev", "load"))] < 22000
    assert got[("seedbank_expurge_overdue_seconds", (tenant, "dev", "baseline"))] == 0
    assert got[("seedbank_dataset_rows", (tenant, "dev", "load"))] == 150
    assert ("seedbank_dataset_expires_timestamp_seconds", (tenant, "dev", "baseline")) not in got
    assert {name for name, _ in got} == set(GAUGES)


def test_the_status_gauges_say_down_instead_of_failing_the_scrape(
    tenant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEEDBANK_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    assert _samples(StatusCollector(Settings)) == {("seedbank_status_up", ()): 0}


@pytest.mark.parametrize("addr", ["127.0.0.1", "0.0.0.0"])  # noqa: S104 - as in a pod
def test_the_worker_metrics_endpoint_serves_the_status_gauges(
    addr: str, tenant: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `seedbank.worker.jobs` starts: the prefork aggregate plus the status gauges."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    metrics.serve(port, extra=[StatusCollector(Settings)], addr=addr)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        body = response.read().decode()
    assert "seedbank_status_up 1.0" in body
    assert f'seedbank_lock_held{{env="dev",tenant="{tenant}"}} 0.0' in body
