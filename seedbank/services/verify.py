"""`seed_data verify` and `seed_data verify-evidence`: re-checking after the fact.

`verify` re-runs every gate over what the database holds now (FR-004, FR-006: the
Argo CD post-sync check runs it through the `verify` flow); the PII proof needs the
salt, so Vault down fails closed exactly like a seed, and its report is audited and
sealed in WORM like a run's (so `verify-evidence` re-checks it too). `verify-evidence` re-checks a
sealed run report in the WORM store: checksum, Vault transit signature, COMPLIANCE
retention still in force, and that the object is the report of that run (FR-022).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from factories.spec import tenant_uuid
from seedbank.adapters import audit
from seedbank.adapters.lock import RunLock
from seedbank.adapters.postgres import connect, tenant_transaction
from seedbank.adapters.profiles import check_target, load_profile
from seedbank.adapters.vault import VaultClient
from seedbank.adapters.worm import WormStore
from seedbank.bootstrap import vault_client, wire, worm_store
from seedbank.domain.errors import VerificationFailed
from seedbank.domain.inputs import check_run_id
from seedbank.gates import (
    GateResult,
    GateTarget,
    failure_sentence,
    run_gates_rolled_back,
    smoke_config,
)
from seedbank.services import evidence
from seedbank.services.seeding.stages import new_run
from seedbank.settings import Settings


@dataclass(frozen=True)
class Verification:
    gates: list[GateResult]
    report: dict[str, Any]

    @property
    def failed(self) -> bool:
        return any(g.failed for g in self.gates)

    def raise_if_failed(self) -> None:
        if self.failed:
            raise VerificationFailed(
                failure_sentence(self.gates),
                fix="see the per-gate findings above; purge and reseed once the cause is fixed",
            )


def verify_database(
    settings: Settings, *, env: str, tenant: str, mode: str, actor: str, wait_seconds: float = 0.0
) -> Verification:
    """Every gate over the env/tenant/mode dataset as stored; audited (FR-006)."""
    env, tenant = check_target(env=env, tenant=tenant)
    loaded = load_profile(settings.profiles_dir, env=env, tenant=tenant)
    ctx = new_run(loaded.manifest, dry_run=False, actor=actor, mode=mode).ctx
    started = datetime.now(UTC)
    # Fail closed like a seed: no salt, no PII proof; no sealed record, no verdict.
    w = wire(settings)
    salt = w.vault.read_salt(env, tenant, version=ctx.salt_version)
    w.worm.check_object_lock()
    with RunLock(
        settings.database_url,
        env=env,
        tenant=tenant,
        tenant_id=ctx.tenant_id,
        run_id=ctx.run_id,
        holder=f"{actor} (verify)",
        wait_seconds=wait_seconds,
    ):
        target = GateTarget(
            spec=ctx.spec,
            salt_version=ctx.salt_version,
            run_id=ctx.run_id,
            audit_url=settings.database_url,
            actor=actor,
            reader_url=settings.database_url,
        )
        smoke = smoke_config(settings.redis_url, ctx.manifest.rate_limit)
        url = settings.database_url
        gates = run_gates_rolled_back(url, ctx.tenant_id, target, salt=salt.value, smoke=smoke)
    failed = any(g.failed for g in gates)
    found = next((g.figures.get("found") for g in gates if g.name == "counts"), None) or {}
    report = evidence.report_of(
        ctx,
        kind="verify",
        dry_run=False,
        actor=actor,
        started_at=started,
        outcome="failed" if failed else "succeeded",
        error=failure_sentence(gates) if failed else None,
        counts=dict(found),
        gates=gates,
    )
    audit.note(
        settings.database_url,
        ctx.subject(actor),
        event="verify",
        outcome="failed" if failed else "passed",
        reason=failure_sentence(gates) if failed else "every verification gate passed",
        detail={"mode": ctx.mode, "gates": {g.name: g.status for g in gates}},
    )
    report["evidence"] = evidence.seal(
        w,
        tenant_id=ctx.tenant_id,
        run_id=ctx.run_id,
        kind="verify",
        key=f"verify/{env}/{tenant}/{ctx.run_id}.json",
        document=report,
    )
    return Verification(gates, report)


# --- verify-evidence --------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceCheck:
    object_key: str
    check: str
    ok: bool
    detail: str


def verify_evidence(
    settings: Settings, *, run_id: str, env: str, tenant: str
) -> list[EvidenceCheck]:
    """Every check of every evidence object indexed for the run; raises when one fails."""
    env, tenant = check_target(env=env, tenant=tenant)
    run = check_run_id(run_id)  # a malformed id is bad input (exit 2), not a failed check
    tenant_id = tenant_uuid(env, tenant)
    with connect(settings.database_url) as conn, tenant_transaction(conn, tenant_id):
        rows = conn.execute(
            "SELECT kind, bucket, object_key, version_id, sha256, signature FROM seed_evidence"
            " WHERE tenant_id = %s AND run_id = %s ORDER BY created_at",
            (tenant_id, run),
        ).fetchall()
    if not rows:
        raise VerificationFailed(
            f"no sealed evidence is indexed for run {run} of {env}/{tenant}",
            fix="check the run id, env and tenant (dry runs publish no evidence)",
        )
    vault = vault_client(settings)
    checks: list[EvidenceCheck] = []
    for row in rows:
        sealed = SealedObject(*(str(v) for v in row))
        checks += check_sealed(settings, vault, worm_store(settings, sealed.bucket), sealed, run)[1]
    return checks


@dataclass(frozen=True)
class SealedObject:
    """One row of the `seed_evidence` index: where a sealed document is and its signature."""

    kind: str
    bucket: str
    key: str
    version_id: str
    sha256: str
    signature: str


def check_sealed(
    settings: Settings, vault: VaultClient, worm: WormStore, sealed: SealedObject, run: uuid.UUID
) -> tuple[bytes, list[EvidenceCheck]]:
    """The stored version's bytes and every check of it (`verify-evidence`, the DR drill's
    sealed expected digest): checksum, Vault transit signature, retention, names the run.
    `worm` reads `sealed.bucket`."""
    key, sha = sealed.key, sealed.sha256
    body = worm.get_bytes(key, sealed.version_id)
    computed = hashlib.sha256(body).hexdigest()
    checks = [
        EvidenceCheck(
            key,
            "checksum",
            computed == sha,
            "SHA-256 of the stored version matches the index"
            if computed == sha
            else "the stored version's SHA-256 differs from the indexed one",
        )
    ]
    valid = vault.verify(settings.vault_transit_key, sha.encode(), sealed.signature)
    checks.append(
        EvidenceCheck(
            key,
            "signature",
            valid,
            "Vault transit signature of the SHA-256 is valid"
            if valid
            else "the Vault transit signature does not match the indexed SHA-256",
        )
    )
    checks.append(_retention(worm, key, sealed.version_id))
    checks.append(_names_run(key, sealed.kind, body, run))
    return body, checks


def _retention(worm: WormStore, key: str, version: str) -> EvidenceCheck:
    retention = worm.retention(key, version)
    mode = retention.get("Mode")
    until = retention.get("RetainUntilDate")
    in_force = isinstance(until, datetime) and until > datetime.now(UTC)
    ok = mode == "COMPLIANCE" and in_force
    detail = f"Object Lock {mode}, retained until {until:%Y-%m-%dT%H:%M:%SZ}" if until else ""
    if not ok:
        detail = (
            f"retention is {mode or 'absent'}, not COMPLIANCE"
            if mode != "COMPLIANCE"
            else "the retention date has passed"
        )
    return EvidenceCheck(key, "retention", ok, detail)


def _names_run(key: str, kind: str, body: bytes, run: uuid.UUID) -> EvidenceCheck:
    try:
        named = json.loads(body).get("run_id")
    except (ValueError, AttributeError):
        named = None
    ok = named == str(run)
    detail = f"the {kind} names run {run}" if ok else "the object is not the report of this run"
    return EvidenceCheck(key, "run", ok, detail)


def raise_if_evidence_failed(
    run_id: str,
    checks: list[EvidenceCheck],
    *,
    what: str = "evidence of run",
    fix: str = "treat the report as untrusted; the audit trail and the WORM version history"
    " show what changed",
) -> None:
    """`VerificationFailed` naming every failed check (`verify-evidence`, the DR drill)."""
    bad = [c for c in checks if not c.ok]
    if bad:
        raise VerificationFailed(
            f"{what} {run_id} failed: " + "; ".join(f"{c.check} ({c.detail})" for c in bad),
            fix=fix,
        )
