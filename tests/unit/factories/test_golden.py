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
    "tenant": "b43d4d7c74fd9bfd91000a537dd97fcf9e262d8f360f8aad5714162595301946",
    "app_user": "36118c40be22c585b6b8dc5a3a4d6fe4d82fa4a781f0231560148314b0a9ac58",
    "advisor": "106bc65acb9b14e705b35f282b5897aeca3c47a2216c4b22e12835e7bd3c2ffd",
    "account_category": "5a52e42697ba69da8c23b2878098bd8803e4d4e3a37542f243c24e2c076fa9c8",
    "supplier": "573155101408b0aef60f960bbae9a6abbaceef586dd88430f8e467bf4a963504",
    "customer": "63e8872b4686099116ba662c79486a99bcb3d919f5f3ab21f51271ebf81a703d",
    "address": "fa444b528e46a3cafdc6d7100cbb7c659a5a618e9f243179675f3ab2bfec94c9",
    "bank_account": "b367884d2fac2e3e9efb4e45254783ad1056104024fc2bf4b9d7b4b504229063",
    "credit_limit": "ce4a9317dc4e37dea769dd2bdb0a7e99ad24eee6b6715815bd65626a62c8e141",
    "contract": "f7a43a241609e7e125d1f3d6e08c11d874a1e3018fc08d4c4e8e0c371896e8fd",
    "loan": "b025c6dc391c079cfbcb3f65ae6b6baedad5c014ebbe887e1e81171872435a4f",
    "installment": "3615faff51d755d5e98b18fd56c8c2740a92ddf9c6b5c88007655a76569c8dc0",
    "financial_transaction": "3f73d97d5d94a48a967c5f162ad689fc967ea1f08ff6986f631bc1615897a103",
}
GOLDEN_DATASET = "614a46b06065c6103a1b31972c394e433b7b1520a053350eb845a911e19d4f67"
GOLDEN_VERSION = "2026.1"

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
