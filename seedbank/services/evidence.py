"""Run evidence: the PII-free report, sealed in WORM, signed, indexed (FR-022)."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from factories.spec import GENERATOR_VERSION
from seedbank.adapters.postgres import connect, tenant_transaction
from seedbank.adapters.purge import Fence
from seedbank.bootstrap import Wiring
from seedbank.gates import GateResult
from seedbank.services import conformance
from seedbank.services.seeding.batches import RunContext
from seedbank.services.seeding.stages import RunState


def report_of(
    ctx: RunContext,
    *,
    kind: str,
    dry_run: bool,
    actor: str,
    started_at: datetime,
    outcome: str,
    error: str | None,
    counts: dict[str, int],
    gates: list[GateResult],
) -> dict[str, Any]:
    """What every report says (a seed run's, a `seed_data verify`'s): ids, digests,
    counts, timings and the verification section; never a salt or a PII value."""
    return {
        "kind": kind,
        "run_id": str(ctx.run_id),
        "env": ctx.env,
        "tenant": ctx.tenant,
        "tenant_id": str(ctx.tenant_id),
        "mode": ctx.mode,
        "dry_run": dry_run,
        "actor": actor,
        "manifest_digest": ctx.spec.manifest_digest,
        "manifest_version": ctx.manifest.metadata.version,
        "salt_version": ctx.salt_version,
        "started_at": started_at.isoformat(),
        "dataset_format": GENERATOR_VERSION,  # the checkpoints record it too (migration 0005)
        "finished_at": datetime.now(UTC).isoformat(),
        "outcome": outcome,
        "error": error,
        "counts": counts,
        "expected_counts": {e: ctx.spec.count(e) for e in counts},
        "verification": conformance.verification_section(
            gates, ctx.manifest.rate_limit.model_dump(mode="json")
        ),
    }


def report(run: RunState, *, outcome: str, error: str | None = None) -> dict[str, Any]:
    """The run report: the common part (`report_of`) plus batches, policy and timings."""
    ctx = run.ctx
    common = report_of(
        ctx,
        kind="seed_run",
        dry_run=run.dry_run,
        actor=run.actor,
        started_at=ctx.started_at,
        outcome=outcome,
        error=error,
        counts=run.counts,
        gates=run.gates,
    )
    return {
        **common,
        "expires_at": ctx.expires_at.isoformat() if ctx.expires_at else None,
        "batches": sorted(
            (
                {k: b[k] for k in ("entity", "start", "stop", "rows", "digest", "skipped")}
                for b in run.batches
            ),
            key=lambda b: (b["entity"], b["start"]),
        ),
        "dataset_digest": run.dataset_digest,
        "breakglass": run.breakglass,
        "policy": run.policy.as_report() if run.policy else None,
        "purged_before_seeding": run.purged,
        "timings_s": run.timings,
    }


def publish(w: Wiring, run: RunState, document: dict[str, Any]) -> dict[str, Any]:
    """Seal the run report in WORM with a retention date, sign its SHA-256, index it."""
    ctx = run.ctx
    run.evidence = seal(
        w,
        tenant_id=ctx.tenant_id,
        run_id=ctx.run_id,
        kind="run_report",
        key=f"runs/{ctx.env}/{ctx.tenant}/{ctx.run_id}.json",
        document=document,
        fence=run.lock.fence if run.lock is not None else None,
    )
    return run.evidence


def seal(
    w: Wiring,
    *,
    tenant_id: uuid.UUID,
    run_id: uuid.UUID,
    kind: str,
    key: str,
    document: dict[str, Any],
    fence: Fence | None = None,
) -> dict[str, Any]:
    """Sign a PII-free document, write it to WORM under COMPLIANCE retention, index it.

    Signed first: with Vault down nothing reaches the immutable bucket (no unsigned
    orphan). The index row is fenced by the run's lease when a lock is held.
    """
    body = json.dumps(document, sort_keys=True, indent=2, default=str).encode()
    retain_until = datetime.now(UTC) + timedelta(days=w.settings.evidence_retention_days)
    signature = w.vault.sign(
        w.settings.vault_transit_key, hashlib.sha256(body).hexdigest().encode()
    )
    stored = w.worm.put_bytes(key, body, retain_until=retain_until)
    with connect(w.settings.database_url) as conn, tenant_transaction(conn, tenant_id):
        if fence is not None:
            fence(conn)
        conn.execute(
            "INSERT INTO seed_evidence (tenant_id, id, run_id, kind, bucket, object_key,"
            " version_id, sha256, signature, retain_until, created_at) VALUES"
            " (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                tenant_id,
                uuid.uuid5(run_id, f"evidence/{kind}"),
                run_id,
                kind,
                stored.bucket,
                stored.key,
                stored.version_id,
                stored.sha256,
                signature,
                retain_until,
                datetime.now(UTC),
            ),
        )
    return {
        "bucket": stored.bucket,
        "key": stored.key,
        "version_id": stored.version_id,
        "sha256": stored.sha256,
        "retain_until": retain_until.isoformat(),
    }


def finish_run(w: Wiring, run: RunState, *, status: str) -> None:
    if not run.recorded or run.dry_run:
        return
    ctx = run.ctx
    with connect(w.settings.database_url) as conn, tenant_transaction(conn, ctx.tenant_id):
        conn.execute(
            "UPDATE seed_run SET status = %s, dataset_digest = %s, finished_at = %s"
            " WHERE tenant_id = %s AND id = %s",
            (status, run.dataset_digest or None, datetime.now(UTC), ctx.tenant_id, ctx.run_id),
        )
