"""DatasetSpec validation, the batch plan and BatchSpec's message form."""

from __future__ import annotations

import itertools
import json
import uuid
from datetime import UTC, datetime

import pytest

from factories.planner import BatchSpec, generate_batch, plan
from factories.spec import (
    ENTITIES,
    PROJECT_NAMESPACE,
    DatasetSpec,
    implied_counts,
    tenant_uuid,
    validate_counts,
)
from tests.unit.factories.support import GOLDEN_COUNTS, GOLDEN_SALT, golden_spec


def test_tenant_uuid_is_uuid5_of_env_and_tenant() -> None:
    assert tenant_uuid("ci", "acme-bank") == uuid.uuid5(PROJECT_NAMESPACE, "ci/acme-bank")
    assert tenant_uuid("dev", "acme-bank") != tenant_uuid("ci", "acme-bank")


def test_implied_counts_fill_installments() -> None:
    counts = implied_counts({"loan": 3}, 12)
    assert counts["installment"] == 36
    assert "tenant" not in counts
    assert set(counts) == set(ENTITIES) - {"tenant"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"installment": 5}, "installment must equal loan * loan_term_months"),
        ({"credit_limit": 25}, "credit_limit (25) cannot exceed bank_account (24)"),
        ({"loan": 19, "installment": 19 * 6}, "loan (19) cannot exceed contract (18)"),
        ({"advisor": 0}, "customer has 20 rows but advisor has none"),
        ({"customer": -1}, "non-negative integer"),
        ({"tenant": 1}, "tenant is always 1 row"),
    ],
)
def test_count_relations_are_validated_with_clear_messages(
    change: dict[str, int], message: str
) -> None:
    problems = validate_counts({**GOLDEN_COUNTS, **change}, 6)
    assert any(message in p for p in problems), problems
    with pytest.raises(ValueError, match="invalid DatasetSpec"):
        golden_spec(counts={**GOLDEN_COUNTS, **change})


def test_spec_fields_are_validated() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        golden_spec(as_of=datetime(2025, 1, 1, tzinfo=UTC).replace(tzinfo=None))
    with pytest.raises(ValueError, match="mode must be one of"):
        golden_spec(mode="prod")
    with pytest.raises(ValueError, match="manifest_digest"):
        golden_spec(manifest_digest="xyz")
    assert hash(golden_spec()) == hash(golden_spec())


def test_plan_is_contiguous_in_fk_order() -> None:
    spec = golden_spec()
    batches = plan(spec, {e: 7 for e in ENTITIES})
    assert [b.entity for b in batches] == sorted((b.entity for b in batches), key=ENTITIES.index)
    for entity in ENTITIES:
        mine = [b for b in batches if b.entity == entity]
        assert mine[0].start == 0
        assert mine[-1].stop == spec.count(entity)
        assert all(a.stop == b.start for a, b in itertools.pairwise(mine))
    assert len([b for b in batches if b.entity == "tenant"]) == 1
    with pytest.raises(ValueError, match="batch size"):
        plan(spec, {"tenant": 1})


def test_batch_spec_travels_as_json_without_secrets() -> None:
    batch = BatchSpec("customer", 10, 20)
    text = json.dumps(batch.to_json())
    assert BatchSpec.from_json(json.loads(text)) == batch
    assert set(batch.to_json()) == {"entity", "start", "stop"}


def test_batches_outside_the_dataset_are_refused() -> None:
    with pytest.raises(ValueError, match="exceeds"):
        generate_batch(golden_spec(), BatchSpec("customer", 0, 21), GOLDEN_SALT)
    with pytest.raises(ValueError, match="bad batch range"):
        BatchSpec("customer", 5, 5)


def test_spec_builds_from_a_plain_mapping_and_stays_immutable() -> None:
    spec = DatasetSpec(**{**golden_spec().__dict__, "counts": dict(GOLDEN_COUNTS)})
    assert spec == golden_spec()
    with pytest.raises(AttributeError):
        spec.mode = "load"  # type: ignore[misc]
