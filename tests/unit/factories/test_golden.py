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
    "tenant": "d3bb763b974cd1105884767aca4ea9f3568207d1e43e227e4c4ec7ce1f43813b",
    "app_user": "81307ecfd353b5468724d654464389eea45085e8648c7a76cf9a5fda5a6d373b",
    "advisor": "a34c9f5ace9eeeec3b8e5a17873912b4bd4277842771a4e22950149380b3aec9",
    "account_category": "66e24738bdf52d01495f03fa3c41959700025e8659b740998550dba654aabf64",
    "supplier": "7dcc19c476f09246973b41299235e9008eb661fb2b9d1199ff9dec722bf0a535",
    "customer": "5910c2b9566a34e1d927647aa245cd93833e8e310ac2b8d228b3cf9faaa5b0e6",
    "address": "a4248e7eb9bf42657042b3d0d9f3e0643cb1eec61e1580444127a0dc69a72ea4",
    "bank_account": "202a69ab45aea27303117a39c468bad3f382a7c16953526dfc4ef96bc9736657",
    "credit_limit": "39ccf4c7dfaf6ec3c2b33edb55817b4266c609af6f9f0933cb63f643b422e5cb",
    "contract": "b48f5d81d344078e869cea72cac27b5fa083da70cca92d3a5336eb42e5b7c782",
    "loan": "db60062b7dbf6bc8dfbc41bfa4ec5f33fbb3fb1d3238fb01fb59ef8f1f2ade34",
    "installment": "0616377ab423e4d05a297bb5dd5fbe30d1f21d129febf227fc9e3365a3778d08",
    "financial_transaction": "4063e436dec2bd27d89867b846d208ff2de113b1dc935bd398527ac2e61c4570",
}
GOLDEN_DATASET = "25dd72a087019b284a9e74c7b08e9eeb9841a6c71af0a33606114d0b3e5c90ec"
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
