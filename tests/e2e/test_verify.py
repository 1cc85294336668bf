"""`seed_data verify`, `verify-evidence` and the conformance report, end to end.

A real seed (Prefect flow, Celery batches, Vault salt, WORM evidence), then the
database or the evidence is tampered with the way an operator or an attacker could,
and the commands must name the gate, entity and row id without printing the value.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from flows.verify import verify as verify_flow
from seedbank.adapters.profiles import default_profiles_dir
from seedbank.cli import main
from seedbank.domain.errors import VerificationFailed
from tests.support.api_server import api_settings, serve_api
from tests.support.world import World, s3, write_profile

pytestmark = pytest.mark.e2e

RAW_EMAIL = "maria.silva@gmail.com"


@pytest.fixture(autouse=True)
def _no_outside_api(monkeypatch: pytest.MonkeyPatch) -> None:
    # An API configured for the shared stack serves another database than the world's.
    monkeypatch.delenv("SEEDBANK_API_BASE_URL", raising=False)


def seed(world: World, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    code = main([f"--tenant={world.tenant}", f"--env={world.env}", *extra])
    out = capsys.readouterr().out.strip().splitlines()
    assert code == 0, out[-3:]
    summary: dict[str, Any] = json.loads(out[-1])
    return summary


def verify(world: World, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    code = main(["verify", f"--tenant={world.tenant}", f"--env={world.env}", *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def admin(world: World, *statements: tuple[str, tuple[Any, ...]]) -> None:
    """Statements as the owner/superuser (no RLS), committed together."""
    with psycopg.connect(world.db.admin_url) as conn:
        for statement, args in statements:
            conn.execute(statement, args)


def first_id(world: World, statement: str) -> str:
    return str(world.query(statement)[0][0])


def gate_lines(out: str) -> dict[str, str]:
    return {
        parts[0]: parts[1]
        for parts in (line.split() for line in out.splitlines())
        if len(parts) > 1 and parts[1] in ("passed", "failed", "skipped")
    }


def test_a_clean_dev_baseline_passes_every_gate_including_the_api_smoke(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A fast rate budget keeps the smoke short; the service enforces the same cap.
    world.edit_profile(**{"rate_limit.target_rpm": 2400, "rate_limit.cap_rpm": 3000})
    summary = seed(world, capsys)
    assert summary["verification"] == "passed"
    assert {g["name"]: g["status"] for g in summary["gates"]}["api-smoke"] == "skipped"
    # The post-deploy flow (Argo CD PostSync) runs the same gates in-process here.
    flow_doc = verify_flow(tenant=world.tenant, env=world.env, wait_seconds=0)
    assert flow_doc["passed"] is True
    api = api_settings()
    with serve_api(api) as base_url:
        monkeypatch.setenv("SEEDBANK_API_BASE_URL", base_url)
        monkeypatch.setenv("SEEDBANK_API_TOKEN_KEY", api.token_key.get_secret_value())
        code, out, err = verify(world, capsys, f"--report={world.profiles.parent / 'v.json'}")
    assert code == 0, err
    assert gate_lines(out) == {
        "counts": "passed",
        "referential": "passed",
        "rls-probe": "passed",
        "pii": "passed",
        "contract": "passed",
        "invariants": "passed",
        "determinism": "passed",
        "api-smoke": "passed",
    }
    doc = json.loads((world.profiles.parent / "v.json").read_text())
    assert doc["passed"] is True
    gates = {g["name"]: g for g in doc["report"]["verification"]["gates"]}
    assert gates["determinism"]["figures"]["previous_run_id"] == summary["run_id"]
    smoke = gates["api-smoke"]["figures"]
    assert 0 < smoke["achieved_rpm"] <= 0.8 * 3000
    assert smoke["responses"] == {"200": smoke["requests"]}
    events = [e[:2] for e in world.audit_events()]
    assert ("verify", "passed") in events
    # The verification's own report is sealed like a run's, and re-checkable.
    verification = doc["report"]["run_id"]
    assert doc["report"]["evidence"]["key"] == f"verify/dev/{world.tenant}/{verification}.json"
    code, out = verify_evidence(world, capsys, verification)
    assert code == 0, out


def _unmasked_email(world: World) -> tuple[str, str, str, str]:
    row = first_id(world, "SELECT id FROM customer ORDER BY id LIMIT 1")
    admin(world, ("UPDATE customer SET email = %s WHERE id = %s", (RAW_EMAIL, row)))
    return "pii", "customer", row, "email"


def _cross_tenant_parent(world: World) -> tuple[str, str, str, str]:
    """The composite FK forbids it, so the superuser turns FK triggers off to force it."""
    row = first_id(world, "SELECT id FROM customer ORDER BY id LIMIT 1")
    other, stranger = uuid.uuid4(), uuid.uuid4()
    admin(
        world,
        (
            "INSERT INTO tenant SELECT %s, 'other-bank', env, name, created_at FROM tenant"
            " WHERE tenant_id = %s",
            (other, world.tenant_id),
        ),
        (
            "INSERT INTO advisor SELECT %s, %s, dataset, full_name, email, phone, branch_code,"
            " created_at FROM advisor WHERE tenant_id = %s LIMIT 1",
            (other, stranger, world.tenant_id),
        ),
        ("SET session_replication_role = replica", ()),
        ("UPDATE customer SET advisor_id = %s WHERE id = %s", (stranger, row)),
    )
    return "referential", "customer", row, "advisor_id"


def _balance_off_the_ledger(world: World) -> tuple[str, str, str, str]:
    row = first_id(world, "SELECT id FROM bank_account WHERE balance > 0 ORDER BY id LIMIT 1")
    admin(world, ("UPDATE bank_account SET balance = balance + 1 WHERE id = %s", (row,)))
    return "invariants", "bank_account", row, "balance"


def _contract_violation(world: World) -> tuple[str, str, str, str]:
    row = first_id(world, "SELECT id FROM bank_account WHERE status = 'active' ORDER BY id LIMIT 1")
    admin(world, ("UPDATE bank_account SET status = 'frozen' WHERE id = %s", (row,)))
    return "contract", "bank_account", row, "status"


@pytest.mark.parametrize(
    "tamper",
    [_unmasked_email, _cross_tenant_parent, _balance_off_the_ledger, _contract_violation],
    ids=["unmasked-email", "cross-tenant-fk", "balance-vs-ledger", "contract"],
)
def test_tampering_one_row_fails_verify_naming_gate_entity_and_row(
    world: World,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    tamper: Callable[[World], tuple[str, str, str, str]],
) -> None:
    seed(world, capsys)
    code, out, _ = verify(world, capsys)
    assert code == 0
    gate, entity, row, field = tamper(world)
    report = tmp_path / "verify.json"
    code, out, err = verify(world, capsys, f"--report={report}")
    assert code == 10
    assert gate_lines(out)[gate] == "failed"
    assert f"{gate}: {entity} row {row} field {field}:" in out
    assert f"gate '{gate}' failed" in err
    assert row in err
    written = report.read_text() + report.with_suffix(".md").read_text()
    assert f"| {entity} | {row} | {field} |" in written
    audit = " ".join(reason for _, _, reason in world.audit_events())
    for text in (out, err, written, audit):
        assert RAW_EMAIL not in text
        assert "gmail" not in text
    assert world.audit_events()[-1][:2] == ("verify", "failed")


def test_a_failed_verification_is_sealed_as_evidence_and_exits_10(
    world: World, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    seed(world, capsys)
    _unmasked_email(world)
    report = tmp_path / "rerun.json"
    code = main([f"--tenant={world.tenant}", f"--env={world.env}", f"--report={report}"])
    err = capsys.readouterr().err
    assert code == 10
    assert "gate 'pii' failed: customer row" in err
    assert RAW_EMAIL not in err
    statuses = [s for (s,) in world.query("SELECT status FROM seed_run ORDER BY started_at")]
    assert statuses == ["succeeded", "failed"]
    bucket, key, version = world.query(
        "SELECT e.bucket, e.object_key, e.version_id FROM seed_evidence e JOIN seed_run r"
        " ON r.tenant_id = e.tenant_id AND r.id = e.run_id WHERE r.status = 'failed'"
    )[0]
    sealed = s3().get_object(Bucket=bucket, Key=key, VersionId=version)["Body"].read().decode()
    assert json.loads(sealed)["verification"]["failed_gates"] == ["pii", "determinism"]
    assert RAW_EMAIL not in sealed
    doc = json.loads(report.read_text())
    assert doc["passed"] is False
    assert doc["sections"]["pii"]["status"] == "failed"
    with pytest.raises(VerificationFailed, match="gate 'pii' failed: customer row"):
        verify_flow(tenant=world.tenant, env=world.env, wait_seconds=0)


def test_dry_run_conformance_report_passes_for_every_dev_profile(
    world: World, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    profiles = sorted((default_profiles_dir() / "dev").glob("*.yaml"))
    assert profiles
    for source in profiles:
        write_profile(world.profiles, env="dev", tenant=world.tenant, source_tenant=source.stem)
        report = tmp_path / f"dev-{source.stem}.json"
        summary = seed(world, capsys, "--dry-run", f"--report={report}")
        assert summary["dry_run"] is True
        doc = json.loads(report.read_text())
        assert doc["passed"] is True, (source.stem, doc["report"]["verification"]["failed_gates"])
        assert {k: s["status"] for k, s in doc["sections"].items()} == {
            "pii": "passed",
            "contracts": "passed",
            "volumetry": "passed",
            "idempotency": "passed",
            "rate_limit": "skipped",
            "invariants": "passed",
            "isolation": "passed",
        }
        assert doc["sections"]["volumetry"]["found"] == doc["sections"]["volumetry"]["expected"]
        markdown = report.with_suffix(".md").read_text()
        assert markdown.startswith(f"# Conformance report: dev/{world.tenant} (baseline)")
        assert "**PASSED**" in markdown
    assert world.domain_rows() == 0  # the dry runs rolled back


def test_the_rls_probe_refusal_is_audited_even_in_a_dry_run(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = seed(world, capsys, "--dry-run")
    probe = {g["name"]: g for g in summary["gates"]}["rls-probe"]
    assert probe["status"] == "passed"
    assert probe["figures"]["writes_refused"] == probe["figures"]["tables_probed"] == 18
    rows = world.query(
        "SELECT outcome, reason, detail, run_id FROM seed_audit WHERE event = 'rls_probe_refused'"
    )
    assert len(rows) == 1
    outcome, reason, detail, run_id = rows[0]
    assert outcome == "refused"
    assert str(run_id) == summary["run_id"]
    assert detail["dry_run"] is True
    assert "refused 18 cross-tenant writes" in reason
    assert world.domain_rows() == 0


def test_verify_fails_closed_when_vault_is_down(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VAULT_ADDR", "http://127.0.0.1:1")
    code, _, err = verify(world, capsys)
    assert code == 6
    assert "Vault at http://127.0.0.1:1 is unreachable" in err


def _evidence(world: World, run_id: str) -> tuple[str, str, str, str, str]:
    bucket, key, version, sha, signature = world.query(
        "SELECT bucket, object_key, version_id, sha256, signature FROM seed_evidence"
        " WHERE run_id = %s",
        uuid.UUID(run_id),
    )[0]
    return str(bucket), str(key), str(version), str(sha), str(signature)


def verify_evidence(
    world: World, capsys: pytest.CaptureFixture[str], run_id: str
) -> tuple[int, str]:
    code = main(["verify-evidence", run_id, f"--tenant={world.tenant}", f"--env={world.env}"])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_verify_evidence_accepts_a_sealed_report_and_rejects_altered_bytes_or_signature(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    run_id = seed(world, capsys)["run_id"]
    code, out = verify_evidence(world, capsys, run_id)
    assert code == 0, out
    for check in ("checksum", "signature", "retention", "run"):
        assert f"ok     {check}" in out

    bucket, key, version, _, signature = _evidence(world, run_id)
    client = s3()
    body = client.get_object(Bucket=bucket, Key=key, VersionId=version)["Body"].read()
    tampered = body.replace(b'"outcome": "succeeded"', b'"outcome": "failed"')
    assert tampered != body
    # A locked version cannot be overwritten: a new version is what an attacker can add.
    forged = client.put_object(
        Bucket=bucket,
        Key=key,
        Body=tampered,
        ObjectLockMode="COMPLIANCE",
        ObjectLockRetainUntilDate=datetime.now(UTC) + timedelta(days=1),
    )["VersionId"]
    world.query(
        "UPDATE seed_evidence SET version_id = %s WHERE run_id = %s RETURNING id",
        forged,
        uuid.UUID(run_id),
    )
    code, out = verify_evidence(world, capsys, run_id)
    assert code == 10
    assert "FAILED checksum" in out
    assert "ok     signature" in out  # the indexed SHA-256 is still the signed one

    other = main(["verify-evidence", str(uuid.uuid4()), f"--tenant={world.tenant}", "--env=dev"])
    assert other == 10
    assert "no sealed evidence is indexed" in capsys.readouterr().err

    # Back to the sealed version: accepted again.
    world.query(
        "UPDATE seed_evidence SET version_id = %s WHERE run_id = %s RETURNING id",
        version,
        uuid.UUID(run_id),
    )
    assert verify_evidence(world, capsys, run_id)[0] == 0
    second = seed(world, capsys)["run_id"]  # a re-run seals its own report and signature
    foreign = _evidence(world, second)[4]
    assert foreign != signature
    world.query(
        "UPDATE seed_evidence SET signature = %s WHERE run_id = %s RETURNING id",
        foreign,
        uuid.UUID(run_id),
    )
    code, out = verify_evidence(world, capsys, run_id)
    assert code == 10
    assert "FAILED signature" in out
    assert "ok     checksum" in out
    # A signature Vault cannot parse is an invalid signature, not a Vault outage (exit 6).
    for malformed in ("not-a-signature", "vault:v1:!!!", "vault:v99:AAAA"):
        world.query(
            "UPDATE seed_evidence SET signature = %s WHERE run_id = %s RETURNING id",
            malformed,
            uuid.UUID(run_id),
        )
        code, out = verify_evidence(world, capsys, run_id)
        assert code == 10, (malformed, out)
        assert "FAILED signature" in out
