"""Golden digests: any change of generated output (code, Faker, factory-boy) fails here.

If a change is intended, bump ``GENERATOR_VERSION`` and re-pin these values: a
changed generator must never silently re-seed different rows under the old version.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from factories.planner import BatchSpec, dataset_digest_of, generate_batch
from factories.spec import ENTITIES, GENERATOR_VERSION
from tests.unit.factories.support import GOLDEN_SALT, generate_all, golden_spec, rows_by_entity

REPO = Path(__file__).resolve().parents[3]

# SHA-256 of the whole entity generated as one batch (golden_spec, GOLDEN_SALT).
GOLDEN = {
    "tenant": "d7daec596140e4c6f85cc8e122b22c7e703009e8c0c4d8ced176fead7457d828",
    "app_user": "e5d69f7956427f41733d4d9ebd028c685082c7be9dfcce7331f0b8fe8343b820",
    "advisor": "da506879156ee3aaae5bc7af4716cb769279581e4516bad001ac2de68f11aec7",
    "account_category": "289c91f979bdd66ce769937e928d625eb5f963f076590b2092d9a0184e41f066",
    "supplier": "428ad2dd5dc0f566de8a3c2fbe19400c1927a4de753eee31c364031da92eb515",
    "customer": "d87c2e9ad3b2ee3cadc044d78fb923de93e7c53f73ab294c2251d8627e4a2005",
    "address": "1ca46148531e552bbd9860997b52257b23d36fd5f854fa6bea07df1dc3106c7f",
    "bank_account": "00603a5b982ebe5824a39daf1f5f833bb2f9e77ab51909919644536c58dec946",
    "credit_limit": "ca8e36641512b7981297586d5ffabe90c2988126eda4c4301504b00b7bc54a57",
    "contract": "ad7a6cbc2cecbda01f8e5d52944fe9efee0f4973c25a2fd44af778750bbf0b62",
    "loan": "f9b73655389b4524565c1c05306dc2e0c2ba803389a40969e7af0e8c92a159ea",
    "installment": "85b5fc6d8ec310cae21a6dd99b6927b24b0b67b5d88223c84ffea8d225f9aeea",
    "financial_transaction": "803cc9ebfe6d032e29212564d1d050843352931a29decff178c92a337b171693",
}
GOLDEN_DATASET = "fafc07bd3373335920d6bbf0685560d348d39c6e67af758a46b9c7c18561a83f"
GOLDEN_VERSION = "2026.3"

_CHILD = """
import json, sys
sys.path.insert(0, {repo!r})
from factories.planner import BatchSpec, generate_batch
from factories.spec import ENTITIES
from tests.unit.factories.support import GOLDEN_SALT, golden_spec
spec = golden_spec()
out = {{e: generate_batch(spec, BatchSpec(e, 0, spec.count(e)), GOLDEN_SALT).digest
        for e in ENTITIES}}
print(json.dumps(out))
"""


def test_generator_version_is_the_pinned_one() -> None:
    assert GENERATOR_VERSION == GOLDEN_VERSION, "re-pin GOLDEN after bumping the version"


@pytest.mark.parametrize("entity", ENTITIES)
def test_golden_digest_of_every_entity(entity: str) -> None:
    spec = golden_spec()
    batch = generate_batch(spec, BatchSpec(entity, 0, spec.count(entity)), GOLDEN_SALT)
    assert batch.digest == GOLDEN[entity]


def test_separate_process_with_another_hash_seed_is_byte_identical() -> None:
    env = {**os.environ, "PYTHONHASHSEED": "4242"}
    done = subprocess.run(
        [sys.executable, "-c", _CHILD.format(repo=str(REPO))],
        capture_output=True, text=True, check=True, env=env, cwd=REPO, timeout=60,
    )  # fmt: skip
    assert json.loads(done.stdout) == GOLDEN


def test_batch_size_does_not_change_rows_or_dataset_digest() -> None:
    spec = golden_spec()
    small, large = generate_all(spec, 7), generate_all(spec, 1000)
    assert rows_by_entity(small) == rows_by_entity(large)
    assert dataset_digest_of(spec, small) == dataset_digest_of(spec, large) == GOLDEN_DATASET
    # Batches finished in any order fold to the same dataset digest.
    assert dataset_digest_of(spec, reversed(small)) == GOLDEN_DATASET


def test_any_index_range_yields_the_same_rows() -> None:
    spec = golden_spec()
    whole = generate_batch(spec, BatchSpec("installment", 0, 48), GOLDEN_SALT).rows
    middle = generate_batch(spec, BatchSpec("installment", 13, 29), GOLDEN_SALT).rows
    assert middle == whole[13:29]


def test_other_mode_or_tenant_moves_every_digest() -> None:
    base = golden_spec()
    for other in (golden_spec(mode="load"), golden_spec(tenant="other-bank")):
        for entity in ENTITIES:
            if entity == "tenant" and other.tenant == base.tenant:
                continue  # one tenant row shared by every mode, by design
            batch = generate_batch(other, BatchSpec(entity, 0, other.count(entity)), GOLDEN_SALT)
            assert batch.digest != GOLDEN[entity], entity
