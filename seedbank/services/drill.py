"""DR drill: the digest a restore must reproduce, and the verdict on the restore (FR-007).

The expected digest comes from one of two sources, in this order:

- ``sealed-evidence``: the dataset as it was before the loss. The most recent succeeded
  dr-mode seed run of the env/tenant with the current manifest digest, salt version and
  dataset format (``GENERATOR_VERSION``), its digest read from its run report sealed in
  WORM after the same checks as ``seed_data verify-evidence`` (checksum, Vault signature,
  retention, names the run), never from the mutable ``seed_run`` row alone.
- ``generator``: no such sealed dataset (a first drill on an empty DR target, or the
  manifest, salt version or dataset format changed since). The restore's own generated
  digest is then the expected one: the workers' batch digests, which the restore's
  determinism gate compares with PostgreSQL's read-back of the stored rows. The drill
  passes only when that gate passed, and the report says which source it used.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import psycopg

from factories.spec import GENERATOR_VERSION, DatasetSpec
from seedbank.adapters.postgres import tenant_transaction
from seedbank.bootstrap import Wiring, worm_store
from seedbank.domain.errors import VerificationFailed
from seedbank.services.verify import SealedObject, check_sealed, raise_if_evidence_failed

SEALED = "sealed-evidence"
GENERATOR = "generator"


@dataclass(frozen=True)
class SealedDataset:
    """The digest of a sealed dr dataset and where its evidence is."""

    run_id: str
    dataset_digest: str
    evidence: dict[str, str]

    def as_report(self) -> dict[str, Any]:
        return {"run_id": self.run_id, **self.evidence}


@dataclass(frozen=True)
class Expectation:
    """What a drill compared: the expected digest, its source, and the verdict."""

    source: str
    expected: str | None
    restored: str | None
    generated: str | None
    determinism: str
    sealed: SealedDataset | None

    @property
    def equal(self) -> bool:
        if self.restored is None or self.determinism != "passed":
            return False
        return self.expected == self.restored == self.generated

    def as_report(self) -> dict[str, Any]:
        return {
            "expected_source": self.source,
            "expected_from": self.sealed.as_report() if self.sealed else None,
            "expected_dataset_digest": self.expected,
            "restored_dataset_digest": self.restored,
            "generated_dataset_digest": self.generated,
            "determinism_gate": self.determinism,
            "digest_equal": self.equal,
        }

    def failure(self, drill_id: uuid.UUID) -> VerificationFailed:
        """Why the restore does not count as a faithful one, in the CLI's words."""
        if self.sealed is not None and self.determinism == "passed":
            return VerificationFailed(
                f"DR drill {drill_id}: the restored dataset digests to {_short(self.restored)},"
                f" not {_short(self.expected)} as sealed by DR run {self.sealed.run_id}"
                f" (evidence {self.sealed.evidence['key']})",
                fix="the salt's value (did Vault lose its data?) or the generator changed under"
                " the same versions; the drill report is sealed in WORM",
            )
        return VerificationFailed(
            f"DR drill {drill_id}: the restore's determinism gate is {self.determinism}, so the"
            " stored rows are not proven to be the generated ones",
            fix="see the restore run's gates in the drill report (sealed in WORM)",
        )


def _short(digest: str | None) -> str:
    return f"{digest[:12]}…" if digest else "nothing"


def sealed_dataset(
    w: Wiring, conn: psycopg.Connection, *, spec: DatasetSpec, env: str, salt_version: int
) -> SealedDataset | None:
    """The last sealed dr dataset of this manifest, salt version and format, or None.

    Raises `VerificationFailed` when its evidence fails a check or disagrees with the
    ``seed_run`` row that pointed to it: an expectation that cannot be trusted is no
    expectation, and the drill stops before it simulates any loss.
    """
    with tenant_transaction(conn, spec.tenant_id):
        row = conn.execute(
            "SELECT r.id, e.kind, e.bucket, e.object_key, e.version_id, e.sha256, e.signature"
            " FROM seed_run r JOIN seed_evidence e ON e.tenant_id = r.tenant_id"
            " AND e.run_id = r.id AND e.kind = 'run_report'"
            " WHERE r.tenant_id = %s AND r.env = %s AND r.mode = 'dr' AND r.dry_run = false"
            " AND r.status = 'succeeded' AND r.manifest_digest = %s AND r.salt_version = %s"
            " AND r.generator_version = %s"
            " ORDER BY r.finished_at DESC NULLS LAST, r.started_at DESC LIMIT 1",
            (spec.tenant_id, env, spec.manifest_digest, salt_version, GENERATOR_VERSION),
        ).fetchone()
    if row is None:
        return None
    run_id, *index = row
    sealed = SealedObject(*(str(v) for v in index))
    worm = w.worm if sealed.bucket == w.worm.bucket else worm_store(w.settings, sealed.bucket)
    body, checks = check_sealed(w.settings, w.vault, worm, sealed, run_id)
    raise_if_evidence_failed(
        str(run_id),
        checks,
        what="the sealed report of DR run",
        fix="treat it as untrusted (`seed_data verify-evidence` shows the same); no loss was"
        " simulated",
    )
    document = json.loads(body)
    wanted = {
        "kind": "seed_run",
        "outcome": "succeeded",
        "mode": "dr",
        "env": env,
        "manifest_digest": spec.manifest_digest,
        "salt_version": salt_version,
        "dataset_format": GENERATOR_VERSION,
    }
    differ = sorted(k for k, v in wanted.items() if document.get(k) != v)
    digest = document.get("dataset_digest")
    if differ or not isinstance(digest, str) or not digest:
        raise VerificationFailed(
            f"the seed_run row of DR run {run_id} disagrees with its sealed report"
            f" ({', '.join(differ) or 'dataset_digest'})",
            fix="the run table was changed after the fact: compare it with the sealed report;"
            " no loss was simulated",
        )
    evidence = {
        "bucket": sealed.bucket,
        "key": sealed.key,
        "version_id": sealed.version_id,
        "sha256": sealed.sha256,
    }
    return SealedDataset(str(run_id), digest, evidence)


def judge(sealed: SealedDataset | None, restored: Mapping[str, Any]) -> Expectation:
    """Compare the restore (the `seed` flow's summary) with the expected digest.

    `restored` is the digest PostgreSQL read back from the stored rows (the determinism
    gate's), `generated` the workers' digest of the rows they generated.
    """
    gates = {g.get("name"): g for g in restored.get("gates") or []}
    determinism = gates.get("determinism") or {}
    figures = determinism.get("figures") or {}
    generated = figures.get("generated_digest") or restored.get("dataset_digest")
    stored = figures.get("stored_digest")
    return Expectation(
        source=SEALED if sealed is not None else GENERATOR,
        expected=sealed.dataset_digest if sealed is not None else generated,
        restored=stored,
        generated=generated,
        determinism=str(determinism.get("status", "missing")),
        sealed=sealed,
    )
