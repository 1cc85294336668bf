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
    "tenant": "facbcbedb52363709e5b4dbc3f489f2f88d5485b9f38f7970b50cb31188ad816",
    "app_user": "4d5e8525e8f4d642a1f7493e154f1540ef7584dfaece7c7573b69adbd6a5602c",
    "advisor": "964eb57b7a08df19e039a9f10bc901a545cfe051e7d81b3358cc3397d9f86e91",
    "account_category": "5a52e42697ba69da8c23b2878098bd8803e4d4e3a37542f243c24e2c076fa9c8",
    "supplier": "e29eb7d3e974e0cb8a6451705ef591cb06fe5f5854774d125d3d2d7f233d670a",
    "customer": "58df61c1b32e12b85f9b5cd0a51a9a28f23ce1e12b400f0d7c3771401f630fff",
    "address": "228d4b15a33e04195b249c6ea6b929cedb5c5b2db24546d61eda97eb5c703f1e",
    "bank_account": "400368c6f7a04a0f61147b1cc4fd4f6225a0a174edd66b614fe547cda6af7454",
    "credit_limit": "1ccbe52216b0d3eb6d6e4db2903603008bf9784de846ed3f48d86702b83ae30b",
    "contract": "20b10988d6841a75aa6029704f4c30599375c8ec3905f060111ca4d7aff6d5dd",
    "loan": "5a1135588230a7f088fa76a81bea8a0336af803d640144e4dbde3807c61a2fc5",
    "installment": "cbb3cbe6628b9de7474953167c9090ada563029400b12618615227bb19d17668",
    "financial_transaction": "e910f97033761f76b3d58a2d82d95c356ec5b56e6bbe8e7550697240a29a3b60",
}
GOLDEN_DATASET = "b6454f3a1cb389015962c2c22209e6fb911f9544067ce3ef52166447fb0debbd"
GOLDEN_VERSION = "2026.2"

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
