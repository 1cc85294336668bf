"""The DR drill's verdict (`services.drill.judge`): which digest is expected, and when a
restore counts as faithful, for each source of the expected digest."""

from __future__ import annotations

import uuid
from typing import Any

from seedbank.domain.errors import VerificationFailed
from seedbank.services.drill import GENERATOR, SEALED, SealedDataset, judge

A, B = "a" * 64, "b" * 64
SEALED_RUN = SealedDataset(
    "r0", A, {"bucket": "ev", "key": "runs/dev/acme/r0.json", "version_id": "v1", "sha256": "s"}
)


def restore(*, generated: str, stored: str, status: str = "passed") -> dict[str, Any]:
    """The `seed` flow's summary as far as the drill reads it."""
    figures = {"generated_digest": generated, "stored_digest": stored}
    return {
        "dataset_digest": generated,
        "gates": [
            {"name": "counts", "status": "passed", "figures": {}},
            {"name": "determinism", "status": status, "figures": figures},
        ],
    }


def test_without_a_sealed_dataset_the_generator_is_the_expected_source() -> None:
    verdict = judge(None, restore(generated=A, stored=A))
    assert verdict.source == GENERATOR
    assert verdict.expected == A
    assert verdict.equal
    report = verdict.as_report()
    assert report["expected_source"] == "generator"
    assert report["expected_from"] is None
    assert report["determinism_gate"] == "passed"


def test_the_generator_source_passes_only_when_the_determinism_gate_passed() -> None:
    assert not judge(None, restore(generated=A, stored=B, status="failed")).equal
    assert not judge(None, restore(generated=A, stored=A, status="skipped")).equal
    assert not judge(None, {"dataset_digest": A, "gates": []}).equal  # no gate, no proof


def test_a_sealed_dataset_is_the_expected_digest_and_named_in_the_report() -> None:
    verdict = judge(SEALED_RUN, restore(generated=A, stored=A))
    assert verdict.source == SEALED
    assert verdict.equal
    report = verdict.as_report()
    assert report["expected_source"] == "sealed-evidence"
    assert report["expected_from"]["run_id"] == "r0"
    assert report["expected_from"]["key"] == "runs/dev/acme/r0.json"


def test_a_restore_that_differs_from_the_sealed_digest_fails_with_both_digests() -> None:
    verdict = judge(SEALED_RUN, restore(generated=B, stored=B))
    assert verdict.expected == A
    assert verdict.restored == B
    assert not verdict.equal
    failure = verdict.failure(uuid.UUID(int=1))
    assert isinstance(failure, VerificationFailed)
    assert failure.exit_code == 10
    assert "bbbbbbbbbbbb…" in failure.message
    assert "not aaaaaaaaaaaa… as sealed by DR run r0" in failure.message
