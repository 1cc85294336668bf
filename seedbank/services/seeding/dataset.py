"""From a validated manifest to the generator's inputs (pure)."""

from __future__ import annotations

from factories.spec import DatasetSpec
from seedbank.domain.manifest import Manifest


def dataset_spec(manifest: Manifest) -> DatasetSpec:
    return DatasetSpec(
        tenant=manifest.metadata.tenant,
        env=manifest.metadata.env,
        mode=manifest.mode,
        as_of=manifest.as_of,
        counts=manifest.volumetry.counts(),
        loan_term_months=manifest.generation.loan_term_months,
        manifest_digest=manifest.digest(),
    )


def queue_name(manifest: Manifest) -> str:
    """One Celery queue per env/tenant/mode (FR-025)."""
    meta = manifest.metadata
    return f"seed.{meta.env}.{meta.tenant}.{manifest.mode}"
