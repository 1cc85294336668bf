"""A checkpoint for a batch written straight through the sink in an integration test."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from factories.batch import BatchSpec
from factories.spec import DatasetSpec
from seedbank.adapters.sink import Checkpoint


def checkpoint_of(spec: DatasetSpec, batch: BatchSpec, digest: str = "0" * 64) -> Checkpoint:
    return Checkpoint(
        run_id=uuid.uuid4(),
        env=spec.env,
        mode=spec.mode,
        entity=batch.entity,
        batch_start=batch.start,
        batch_stop=batch.stop,
        digest=digest,
        salt_version=1,
        manifest_digest=spec.manifest_digest,
        expires_at=None,
        created_at=datetime.now(UTC),
    )
