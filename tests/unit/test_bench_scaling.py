"""A reduced bench profile keeps the manifest's relations (it must still validate)."""

from __future__ import annotations

import itertools

import pytest
import yaml

from bench.ceiling import share
from bench.scratch import redis_db, scaled_volumetry
from seedbank.adapters.postgres import with_database
from seedbank.adapters.profiles import default_profiles_dir
from seedbank.domain.manifest import parse_manifest


@pytest.mark.parametrize("fraction", [0.001, 0.02, 0.1, 0.37, 1.0])
def test_a_scaled_bench_profile_is_still_a_valid_manifest(fraction: float) -> None:
    data = yaml.safe_load((default_profiles_dir() / "bench" / "acme.yaml").read_text())
    full = {k: v["count"] for k, v in data["volumetry"].items()}
    data["volumetry"] = scaled_volumetry(data, fraction)
    manifest = parse_manifest(yaml.safe_dump(data), source="scaled")
    counts = manifest.volumetry.counts()
    assert counts["installment"] == counts["loan"] * 12
    assert counts["financial_transaction"] == round(full["financial_transaction"] * fraction)
    assert all(n >= 1 for n in counts.values())


def test_loader_shares_cover_every_row_once() -> None:
    for count in (0, 1, 7, 1_000_000):
        for loaders in (1, 2, 3):
            spans = [share(count, loaders, k) for k in range(loaders)]
            assert spans[0][0] == 0
            assert spans[-1][1] == count
            assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))


def test_urls_point_at_the_bench_databases_without_credentials_leaking() -> None:
    assert redis_db("redis://127.0.0.1:6379/0", 4) == "redis://127.0.0.1:6379/4"
    url = "postgresql://postgres:secret@127.0.0.1:5432/postgres"
    assert with_database(url, dbname="seedbank_bench_x") == (
        "postgresql://postgres:secret@127.0.0.1:5432/seedbank_bench_x"
    )
    assert with_database(url, dbname="d", user="seedbank_app") == (
        "postgresql://seedbank_app@127.0.0.1:5432/d"
    )
