"""Load/DR modes, TTL expurge, forget, DR drill and the run-policy guards (issue 6)."""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest

from flows.dr_drill import dr_drill
from flows.expurge import expurge
from seedbank.adapters.vault import VaultClient, salt_path
from seedbank.cli import main
from tests.support.world import World, deployment_run, isolated_world, s3, vault

pytestmark = pytest.mark.e2e


def run(world: World, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, Any, str]:
    code = main([f"--tenant={world.tenant}", f"--env={world.env}", *extra])
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    return code, (json.loads(lines[-1]) if code == 0 and lines else None), captured.err


def rows_of(world: World, mode: str) -> int:
    return int(world.query("SELECT count(*) FROM customer WHERE dataset = %s", mode)[0][0])


def test_load_twice_purges_first_and_keeps_exact_counts(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    code, first, _ = run(world, capsys, "--mode=load")
    assert code == 0
    assert first["purged_before_seeding"] is None
    code, second, _ = run(world, capsys, "--mode=load")
    assert code == 0
    assert second["dataset_digest"] == first["dataset_digest"]
    assert sum(second["purged_before_seeding"].values()) == sum(first["counts"].values()) - 1
    assert second["counts"] == first["counts"]
    assert rows_of(world, "load") == first["counts"]["customer"]
    purges = [e for e in world.audit_events() if e[0] == "purge"]
    assert len(purges) == 1
    assert "purged the previous load dataset" in purges[0][2]


def test_modes_coexist_without_collisions(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(world, capsys)[0] == 0
    assert run(world, capsys, "--mode=dr")[0] == 0
    assert rows_of(world, "baseline") == rows_of(world, "dr") > 0


def test_a_stale_tenant_row_is_rewritten_by_the_next_dataset(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """The tenant row outlives a purge (other modes share it); one written by an older
    dataset format is rewritten by the next seed instead of failing its read-back."""
    assert run(world, capsys)[0] == 0
    assert main(["purge", f"--tenant={world.tenant}", f"--env={world.env}"]) == 0
    with psycopg.connect(world.db.admin_url) as conn:
        conn.execute("UPDATE tenant SET created_at = created_at - interval '100 days'")
    code, second, err = run(world, capsys)
    assert code == 0, err[-1500:]
    assert {g["name"]: g["status"] for g in second["gates"]}["determinism"] == "passed"


def _expire(world: World, mode: str, *, hours_ago: float) -> None:
    with psycopg.connect(world.db.admin_url) as conn:
        conn.execute(
            "UPDATE seed_checkpoint SET expires_at = now() - %s * interval '1 hour'"
            " WHERE tenant_id = %s AND mode = %s",
            (hours_ago, world.tenant_id, mode),
        )


def test_expired_dataset_blocks_runs_until_the_expurge_removes_it(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(world, capsys, "--mode=load")[0] == 0
    monkeypatch.setenv("SEEDBANK_EXPURGE_GRACE_HOURS", "1")
    _expire(world, "load", hours_ago=3)  # expired, and the expurge "did not run"
    code, _, err = run(world, capsys)
    assert code == 4
    assert "load dataset expired" in err
    assert "expurge" in err
    assert ("guard_ttl_debt", "refused") in [e[:2] for e in world.audit_events()]

    # What the hourly schedule starts: a run of the expurge/ttl deployment.
    scheduled = deployment_run(world, "expurge/ttl", {"env": world.env, "tenant": world.tenant})
    assert scheduled.returncode == 0, scheduled.stdout[-1500:]
    assert rows_of(world, "load") == 0
    assert world.query("SELECT count(*) FROM seed_checkpoint WHERE mode = 'load'") == [(0,)]
    assert world.query("SELECT kind FROM seed_evidence WHERE kind = 'expurge'") == [("expurge",)]
    assert expurge(env=world.env, tenant=world.tenant, actor="test")["results"] == []  # idempotent
    assert run(world, capsys)[0] == 0


def test_forget_removes_every_row_and_keeps_the_evidence(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(world, capsys)[0] == 0
    assert run(world, capsys, "--mode=load")[0] == 0
    evidence_before = world.query("SELECT count(*) FROM seed_evidence")[0][0]
    assert main(["forget", f"--tenant={world.tenant}", f"--env={world.env}"]) == 0
    assert "rows removed; sealed report forget/" in capsys.readouterr().out
    assert world.domain_rows() == 0
    assert world.query("SELECT count(*) FROM seed_checkpoint") == [(0,)]
    kinds = [k for (k,) in world.query("SELECT kind FROM seed_evidence")]
    assert len(kinds) == evidence_before + 1
    assert "forget" in kinds
    keys = world.object_keys()
    assert any(k.startswith("runs/") for k in keys)
    assert any(k.startswith("forget/") for k in keys)


def test_manual_homolog_run_needs_breakglass_and_records_it(
    pg_server_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("SEEDBANK_ACTOR", raising=False)
    with isolated_world(pg_server_url, tmp_path, monkeypatch, env="homolog") as world:
        code, _, err = run(world, capsys)
        assert code == 4
        assert "manual runs in homolog are not allowed" in err
        assert world.query("SELECT count(*) FROM seed_run") == [(0,)]
        assert world.query("SELECT count(*) FROM seed_lease") == [(0,)]
        code, summary, _ = run(world, capsys, "--breakglass=INC-4711 restore QA baseline")
        assert code == 0
        body = s3().get_object(Bucket=world.bucket, Key=summary["evidence"]["key"])["Body"].read()
        assert json.loads(body)["breakglass"] == "INC-4711 restore QA baseline"
        assert ("guard_execution_policy", "warned") in [e[:2] for e in world.audit_events()]


def _nothing_locked_or_written(world: World) -> None:
    assert world.domain_rows() == 0
    for table in ("seed_run", "seed_lease", "seed_checkpoint"):
        assert world.query(f"SELECT count(*) FROM {table}") == [(0,)], table


def test_over_budget_run_is_refused_before_any_lock_or_write(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.edit_profile(**{"budget.max_usd": "0.0001"})
    code, _, err = run(world, capsys)
    assert code == 4
    assert "above the budget" in err
    _nothing_locked_or_written(world)
    assert [e[:2] for e in world.audit_events()] == [("guard_budget", "refused")]


def test_out_of_window_load_run_is_refused_before_any_lock_or_write(
    pg_server_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with isolated_world(pg_server_url, tmp_path, monkeypatch, env="homolog") as world:
        here = datetime.now(UTC).astimezone(ZoneInfo("America/Sao_Paulo"))
        start, end = here + timedelta(hours=2), here + timedelta(hours=3)
        world.edit_profile(
            **{"window.start": start.strftime("%H:00"), "window.end": end.strftime("%H:00")}
        )
        code, _, err = run(world, capsys, "--mode=load", "--breakglass=INC-1 load rehearsal")
        assert code == 4
        assert "must start inside the off-peak window" in err
        _nothing_locked_or_written(world)
        assert ("guard_window", "refused") in [e[:2] for e in world.audit_events()]
        # A baseline in the same env is not bound to the window.
        assert run(world, capsys, "--breakglass=INC-1 baseline")[0] == 0


def test_run_past_its_slo_is_aborted_and_resumes_later(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    world.edit_profile(**{"generation.batch_size": 200})
    monkeypatch.setenv("SEEDBANK_SLO_SECONDS", "0.5")
    code, _, err = run(world, capsys)
    assert code == 4
    assert "exceeded its SLO budget" in err
    assert ("slo_exceeded", "failed") in [e[:2] for e in world.audit_events()] or (
        "slo_exceeded",
        "refused",
    ) in [e[:2] for e in world.audit_events()]
    monkeypatch.delenv("SEEDBANK_SLO_SECONDS")
    code, summary, _ = run(world, capsys)
    assert code == 0
    assert summary["counts"]["financial_transaction"] == 3000


def test_dr_drill_restores_the_expected_digest_and_seals_a_report(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(world, capsys, "--mode=dr")[0] == 0
    report = dr_drill(tenant=world.tenant, env=world.env, actor="test")
    assert report["digest_equal"] is True
    assert report["rows_lost"] > 0
    assert report["within_rto"] is True
    assert 0 < report["restore_seconds"] < report["rto_seconds"]
    key = report["evidence"]["key"]
    sealed = json.loads(s3().get_object(Bucket=world.bucket, Key=key)["Body"].read())
    assert sealed["expected_dataset_digest"] == sealed["restored_dataset_digest"]
    assert sealed["expected_source"] == "sealed-evidence"  # the dr seed above sealed it
    assert rows_of(world, "dr") == report["counts"]["customer"]


def cli_drill(world: World, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["dr-drill", f"--tenant={world.tenant}", f"--env={world.env}"])
    return code, capsys.readouterr().err


def sealed_drill(world: World, drill_id: str) -> dict[str, Any]:
    key = f"dr-drills/{world.env}/{world.tenant}/{drill_id}.json"
    return dict(json.loads(s3().get_object(Bucket=world.bucket, Key=key)["Body"].read()))


def test_a_second_dr_drill_expects_the_digest_the_first_one_sealed(world: World) -> None:
    first = dr_drill(tenant=world.tenant, env=world.env, actor="test")
    assert first["expected_source"] == "generator"  # an empty DR target: nothing sealed yet
    assert first["expected_from"] is None
    assert first["rows_lost"] == 0
    assert first["determinism_gate"] == "passed"
    assert first["digest_equal"] is True
    second = dr_drill(tenant=world.tenant, env=world.env, actor="test")
    assert second["expected_source"] == "sealed-evidence"
    assert second["expected_from"]["run_id"] == first["restore_run_id"]
    assert second["expected_from"]["key"] == first["restore_run_evidence"]["key"]
    assert second["expected_dataset_digest"] == first["restored_dataset_digest"]
    assert second["rows_lost"] == sum(first["counts"].values()) - 1  # the tenant row stays
    assert second["digest_equal"] is True
    assert sealed_drill(world, second["drill_id"])["expected_source"] == "sealed-evidence"


def test_a_dr_drill_fails_when_the_restore_cannot_reproduce_the_sealed_dataset(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """Vault lost the salt and hands out another value under the same version: the restore
    passes its own gates, but it is not the dataset that was lost. Only the sealed digest
    can tell; the generator's would agree with itself."""
    first = dr_drill(tenant=world.tenant, env=world.env, actor="test")
    vault().secrets.kv.v2.delete_metadata_and_all_versions(
        path=salt_path(world.env, world.tenant), mount_point="secret"
    )
    assert (
        VaultClient(os.environ["VAULT_ADDR"], os.environ["VAULT_TOKEN"]).write_new_salt(
            world.env, world.tenant
        )
        == 1
    )
    code, err = cli_drill(world, capsys)
    assert code == 10, err[-1500:]
    assert f"as sealed by DR run {first['restore_run_id']}" in err
    (drill_id,) = world.query(
        "SELECT run_id FROM seed_evidence WHERE kind = 'dr_drill' AND run_id <> %s",
        uuid.UUID(first["drill_id"]),
    )[0]
    report = sealed_drill(world, str(drill_id))
    assert report["expected_source"] == "sealed-evidence"
    assert report["digest_equal"] is False
    assert report["determinism_gate"] == "passed"  # the restore agreed with itself
    assert report["expected_dataset_digest"] == first["restored_dataset_digest"]
    assert report["restored_dataset_digest"] != report["expected_dataset_digest"]


def test_a_failed_restore_seals_the_drill_report_with_the_digest_of_the_evidence(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """The run table's digest was edited after the fact: the drill still expects the sealed
    one, the restore's determinism gate (which reads the table) fails, the report is sealed."""
    code, seeded, _ = run(world, capsys, "--mode=dr")
    assert code == 0
    with psycopg.connect(world.db.admin_url) as conn:
        conn.execute(
            "UPDATE seed_run SET dataset_digest = %s WHERE tenant_id = %s AND mode = 'dr'",
            ("f" * 64, world.tenant_id),
        )
    code, err = cli_drill(world, capsys)
    assert code == 10, err[-1500:]
    (drill_id,) = world.query("SELECT run_id FROM seed_evidence WHERE kind = 'dr_drill'")[0]
    report = sealed_drill(world, str(drill_id))
    assert report["expected_source"] == "sealed-evidence"
    assert report["expected_from"]["run_id"] == seeded["run_id"]
    assert report["expected_dataset_digest"] == seeded["dataset_digest"]  # not the table's
    assert "determinism" in report["restore_error"]
    assert report["rows_lost"] > 0


def test_a_dr_drill_whose_sealed_evidence_fails_its_checks_simulates_no_loss(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(world, capsys, "--mode=dr")[0] == 0
    with psycopg.connect(world.db.admin_url) as conn:
        conn.execute(
            "UPDATE seed_evidence SET sha256 = %s WHERE tenant_id = %s AND kind = 'run_report'",
            ("0" * 64, world.tenant_id),
        )
    before = rows_of(world, "dr")
    code, err = cli_drill(world, capsys)
    assert code == 10, err[-1500:]
    assert "checksum (the stored version's SHA-256 differs from the indexed one)" in err
    assert rows_of(world, "dr") == before > 0


def test_dr_drill_on_the_homolog_volume_measures_its_restore_time(
    pg_server_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with isolated_world(pg_server_url, tmp_path, monkeypatch, env="homolog") as world:
        here = datetime.now(UTC).astimezone(ZoneInfo("America/Sao_Paulo"))
        world.edit_profile(
            **{
                "window.start": (here - timedelta(hours=1)).strftime("%H:00"),
                "window.end": (here + timedelta(hours=2)).strftime("%H:00"),
            }
        )
        report = dr_drill(
            tenant=world.tenant, env=world.env, actor="test", breakglass="DR rehearsal INC-7"
        )
        assert report["digest_equal"] is True
        assert report["counts"]["financial_transaction"] == 9000  # homolog is 3x dev
        assert report["within_target"] is True
        print(f"homolog DR drill: restore {report['restore_seconds']} s of {report['counts']}")
        sealed = json.loads(
            s3().get_object(Bucket=world.bucket, Key=report["evidence"]["key"])["Body"].read()
        )
        assert sealed["restore_seconds"] == report["restore_seconds"]
        assert sealed["gates"]  # the restore's gates, PII proof included
        assert any(g["name"] == "pii" and g["status"] == "passed" for g in sealed["gates"])
        capsys.readouterr()
