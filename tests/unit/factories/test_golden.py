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
    "tenant": "a57a17aeb5da900b9093ca9cbaaef7f9b7ffa5070a223af32ae2c66e2f259971",
    "app_user": "bf00a33246297208745760cd6461cd2c524b0657c4c7e7b5bf139422f817aabf",
    "advisor": "46b6c7712675594b28f229d7d965b030f68fbf40f40be25507074df47fc3f020",
    "account_category": "5a52e42697ba69da8c23b2878098bd8803e4d4e3a37542f243c24e2c076fa9c8",
    "supplier": "dd5c509f5aec5ee7b2d739f14fbcad47da7734da97a23ecdba3455e33705583a",
    "customer": "a2955b60dffd4f3cad60d418d14888976909ed2c50888176ff4ed9e985ace3c3",
    "address": "13b0b62ae11c39281d16b320bd6e819bd5b22760f845c4ce6eab39b21deb0b3b",
    "bank_account": "85589656437e8f7de748ad5ddcfa0b259e9c49d2fbac2399574656f9617aacb1",
    "credit_limit": "f700f64d934ee3247fb7fd33636f351dda3714f4a0974427c465401b90768005",
    "contract": "0de87e168cafc3e26c9347220fd0bf43268cd3c89b40b44fe520d58acc667ef1",
    "loan": "66c1947cddecdc7b4614fe33c2a9246b1c6ea9bc30cc7a48234f61ff66f38325",
    "installment": "13c206256d654a9709bfc91401f762e8719623960635be4f98061f864b989d65",
    "financial_transaction": "2352598b18b426c1d7f39aa17371792e568fbc7d7ddaac2637bf69dc791d80c3",
}
GOLDEN_DATASET = "b3b3c3b86a3c4c3a410a3d3e9d5d6ac0a6b1082352b97cea2896d46364351db6"
GOLDEN_VERSION = "2025.1"

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
