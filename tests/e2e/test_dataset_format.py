"""Dataset format 2026.1 end to end (issue 14): a seeded tenant holds no duplicate business
key; a dataset written by another format is refused with one sentence and exit 9 until it
is purged, and the reseed after the purge succeeds.

The batches run on the stack's Celery worker: run this after the branch is merged and the
stack restarted (the worker must write `seed_checkpoint.generator_version`).
"""

from __future__ import annotations

import json

import psycopg
import pytest

from seedbank.cli import main
from tests.support.world import World

pytestmark = pytest.mark.e2e

KEYS = (
    ("customer", "cpf"),
    ("customer", "email"),
    ("customer", "phone"),
    ("advisor", "email"),
    ("advisor", "phone"),
    ("app_user", "email"),
    ("supplier", "cnpj"),
)


def test_keys_are_unique_and_another_format_is_refused_until_purged(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    target = [f"--tenant={world.tenant}", f"--env={world.env}"]
    assert main(target) == 0
    first = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for table, column in KEYS:
        (rows, distinct), *_ = world.query(
            f"SELECT count(*), count(DISTINCT {column}) FROM {table} WHERE tenant_id = %s",
            world.tenant_id,
        )
        assert rows == distinct > 0, (table, column)

    with psycopg.connect(world.db.admin_url) as conn:  # as if written before 2026.1
        conn.execute(
            "UPDATE seed_checkpoint SET generator_version = '2025.1' WHERE tenant_id = %s",
            (world.tenant_id,),
        )
    assert main(target) == 9
    err = capsys.readouterr().err
    assert "dataset format 2025.1" in err
    assert "seed_data purge" in err
    assert "Traceback" not in err

    assert main(["purge", *target, "--mode=baseline"]) == 0
    capsys.readouterr()
    assert main(target) == 0
    again = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert again["dataset_digest"] == first["dataset_digest"]
