"""`seed_data` end to end: Prefect flow, Celery batches, checkpoints, WORM evidence (issue 4)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from seedbank.cli import main
from seedbank.domain.manifest import parse_manifest
from tests.support.databases import temporary_database
from tests.support.world import World, s3, vault

pytestmark = pytest.mark.e2e


def seed(world: World, *extra: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, Any]:
    code = main([f"--tenant={world.tenant}", f"--env={world.env}", *extra])
    out = capsys.readouterr().out.strip().splitlines()
    summary = json.loads(out[-1]) if code == 0 and out else None
    return code, summary


def expected_counts(world: World) -> dict[str, int]:
    manifest = parse_manifest(world.profile_path().read_text(), source="profile")
    return {"tenant": 1, **manifest.volumetry.counts()}


def test_seed_creates_the_manifest_counts_and_seals_evidence(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    code, summary = seed(world, capsys=capsys)
    assert code == 0
    assert summary["counts"] == expected_counts(world)
    for entity, count in expected_counts(world).items():
        assert world.query(f"SELECT count(*) FROM {entity}") == [(count,)], entity

    evidence = world.query(
        "SELECT bucket, object_key, version_id, sha256, signature FROM seed_evidence"
    )
    assert len(evidence) == 1
    bucket, key, version, sha, signature = evidence[0]
    assert bucket == world.bucket
    client = s3()
    body = client.get_object(Bucket=bucket, Key=key, VersionId=version)["Body"].read()
    report = json.loads(body)
    assert report["dataset_digest"] == summary["dataset_digest"]
    assert report["counts"] == expected_counts(world)
    assert "salt" not in json.dumps(report).replace("salt_version", "")
    retention = client.get_object_retention(Bucket=bucket, Key=key, VersionId=version)
    assert retention["Retention"]["Mode"] == "COMPLIANCE"
    with pytest.raises(ClientError) as refused:
        client.delete_object(Bucket=bucket, Key=key, VersionId=version)
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    verified = vault().secrets.transit.verify_signed_data(
        name="seedbank-evidence",
        hash_input=base64.b64encode(sha.encode()).decode(),
        signature=signature,
    )
    assert verified["data"]["valid"] is True
    assert world.query("SELECT status FROM seed_run") == [("succeeded",)]


def test_rerun_changes_nothing_and_another_database_gets_the_same_digest(
    world: World,
    pg_server_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, first = seed(world, capsys=capsys)
    assert code == 0
    code, second = seed(world, capsys=capsys)
    assert code == 0
    assert second["dataset_digest"] == first["dataset_digest"]
    assert second["batches_written"] == 0
    assert second["batches_skipped"] == first["batches_written"]
    assert second["counts"] == expected_counts(world)

    with temporary_database(pg_server_url) as other:
        monkeypatch.setenv("SEEDBANK_DATABASE_URL", other.app_url)
        code, third = seed(world, capsys=capsys)
    assert code == 0
    assert third["dataset_digest"] == first["dataset_digest"]


def test_dry_run_leaves_every_table_and_the_bucket_as_they_were(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    code, summary = seed(world, "--dry-run", capsys=capsys)
    assert code == 0
    assert summary["dry_run"] is True
    assert summary["counts"] == expected_counts(world)
    assert world.domain_rows() == 0
    for table in ("seed_run", "seed_checkpoint", "seed_evidence", "seed_lease"):
        assert world.query(f"SELECT count(*) FROM {table}") == [(0,)], table
    assert world.object_keys() == []


def test_missing_or_unknown_tenant_is_refused_and_audited(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([f"--env={world.env}"]) == 2
    assert "--tenant is required" in capsys.readouterr().err
    world.tenant = "t-nobody-here"
    assert main([f"--tenant={world.tenant}", f"--env={world.env}"]) == 3
    assert "no versioned profile for tenant 't-nobody-here'" in capsys.readouterr().err
    assert [e[:2] for e in world.audit_events()] == [("profile_missing", "refused")]
    assert world.domain_rows() == 0


def _refused(world: World, capsys: pytest.CaptureFixture[str], code: int, needle: str) -> None:
    assert main([f"--tenant={world.tenant}", f"--env={world.env}"]) == code
    err = capsys.readouterr().err
    assert needle in err
    assert "Traceback" not in err
    assert world.domain_rows() == 0
    events = world.audit_events()
    assert len(events) == 1, events
    assert events[0][1] == "refused"


def test_vault_down_fails_closed(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VAULT_ADDR", "http://127.0.0.1:1")
    _refused(world, capsys, 6, "Vault at http://127.0.0.1:1 is unreachable")


def test_evidence_store_down_fails_closed(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEEDBANK_S3_ENDPOINT_URL", "http://127.0.0.1:1")
    _refused(world, capsys, 6, "the WORM evidence store failed")


def test_bucket_without_object_lock_fails_closed(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = world.bucket.replace("seedbank-test-", "seedbank-plain-")
    s3().create_bucket(Bucket=plain)
    monkeypatch.setenv("SEEDBANK_EVIDENCE_BUCKET", plain)
    _refused(world, capsys, 8, "has no Object Lock")


def test_broker_down_fails_closed(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEEDBANK_BROKER_URL", "redis://127.0.0.1:1/0")
    assert main([f"--tenant={world.tenant}", f"--env={world.env}"]) == 6
    err = capsys.readouterr().err
    assert "broker is unreachable" in err
    assert world.domain_rows() == 0
    assert [e[:2] for e in world.audit_events()] == [("broker_down", "refused")]


def test_salt_version_mismatch_fails_closed(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.edit_profile(**{"pii.salt_version": 2})
    _refused(world, capsys, 7, "pins salt version 2 but Vault's current version is 1")


def test_salt_rotation_fails_closed_until_purge_and_reseed(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    code, first = seed(world, capsys=capsys)
    assert code == 0
    before = world.query("SELECT id, email FROM customer ORDER BY id")
    assert main(["salt", "rotate", f"--tenant={world.tenant}", f"--env={world.env}"]) == 0
    assert "is now version 2" in capsys.readouterr().out
    # The manifest still pins 1: Vault is ahead.
    assert main([f"--tenant={world.tenant}", f"--env={world.env}"]) == 7
    assert "Vault's current version is 2" in capsys.readouterr().err
    # Pinning 2 is not enough while checkpoints of version 1 exist.
    world.edit_profile(**{"pii.salt_version": 2})
    assert main([f"--tenant={world.tenant}", f"--env={world.env}"]) == 7
    assert "was seeded with salt version 1" in capsys.readouterr().err
    assert main(["purge", f"--tenant={world.tenant}", f"--env={world.env}"]) == 0
    capsys.readouterr()
    code, second = seed(world, capsys=capsys)
    assert code == 0
    assert second["dataset_digest"] != first["dataset_digest"]  # new salt, new PII
    after = world.query("SELECT id, email FROM customer ORDER BY id")
    assert [i for i, _ in after] == [i for i, _ in before]  # ids never depend on the salt
    assert all(a != b for (_, a), (_, b) in zip(after, before, strict=True))  # PII does
    events = [e[0] for e in world.audit_events()]
    assert events.count("salt_mismatch") == 2
    assert "purge" in events
