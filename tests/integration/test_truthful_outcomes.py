"""Failures say what they left (issue 16): evidence signed before WORM, a salt changed
under its version refused as such (exit 7, not 9), a purge stopped at a boundary."""

from __future__ import annotations

import dataclasses
import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from seedbank.adapters.profiles import load_profile
from seedbank.adapters.purge import purge_dataset
from seedbank.adapters.vault import VaultClient, salt_path
from seedbank.bootstrap import wire
from seedbank.domain.errors import Interrupted, SaltMismatch, VaultUnavailable
from seedbank.services import evidence
from seedbank.services import purge as purge_run
from seedbank.services.seeding import stages
from seedbank.settings import Settings
from tests.support.inprocess import write_dataset
from tests.support.world import World, isolated_world, vault


@pytest.fixture
def world(pg_server_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with isolated_world(pg_server_url, tmp_path, monkeypatch) as w:
        yield w


def _dataset(world: World) -> stages.RunState:
    manifest = load_profile(world.profiles, env=world.env, tenant=world.tenant).manifest
    salt = wire().vault.read_salt(world.env, world.tenant, version=manifest.pii.salt_version)
    return write_dataset(world.db, manifest, salt)


def _purge(world: World) -> None:
    settings = Settings()
    purge_run.run_purge(
        settings, env=world.env, tenant=world.tenant, mode="baseline", wait_seconds=0, actor="t"
    )


def test_evidence_is_signed_before_it_reaches_the_worm_bucket(world: World) -> None:
    w = dataclasses.replace(wire(), vault=VaultClient("http://127.0.0.1:9", "t"))  # Vault down
    run_id = uuid.uuid4()
    with pytest.raises(VaultUnavailable):
        evidence.seal(
            w,
            tenant_id=world.tenant_id,
            run_id=run_id,
            kind="run_report",
            key=f"runs/{world.env}/{world.tenant}/{run_id}.json",
            document={"kind": "seed_run", "run_id": str(run_id)},
        )
    assert world.object_keys() == []  # no unsigned, immutable orphan


def test_a_salt_changed_under_its_version_after_a_failed_run_is_exit_7(world: World) -> None:
    first = _dataset(world)
    world.query(
        "UPDATE seed_run SET status = 'failed' WHERE id = %s RETURNING id", first.ctx.run_id
    )
    # A dev Vault restarted empty: version 1 again, another value.
    vault().secrets.kv.v2.delete_metadata_and_all_versions(
        path=salt_path(world.env, world.tenant), mount_point="secret"
    )
    VaultClient(os.environ["VAULT_ADDR"], os.environ["VAULT_TOKEN"]).write_new_salt(
        world.env, world.tenant
    )
    again = stages.new_run(first.ctx.manifest, dry_run=False, actor="t")
    with pytest.raises(SaltMismatch) as caught:
        stages.check_salt(wire(), again)
    assert caught.value.exit_code == 7
    assert "not the salt the dataset was seeded with" in caught.value.sentence()


def test_sigint_during_a_purge_stops_at_a_boundary_audits_and_says_what_is_left(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _dataset(world)
    before = world.domain_rows()
    real = purge_dataset
    entities = []

    def signalled(conn: psycopg.Connection, **kw: Any) -> dict[str, int]:
        fence = kw.pop("fence")

        def fence_then_signal(c: psycopg.Connection) -> None:
            fence(c)
            entities.append(1)
            if len(entities) == 3:  # Ctrl-C while the third entity is being deleted
                os.kill(os.getpid(), signal.SIGINT)

        return real(conn, fence=fence_then_signal, **kw)

    monkeypatch.setattr(purge_run, "purge_dataset", signalled)
    with pytest.raises(Interrupted) as caught:
        purge_run.run_purge(
            Settings(),
            env=world.env,
            tenant=world.tenant,
            mode="baseline",
            wait_seconds=0,
            actor="t",
        )
    sentence = caught.value.sentence()
    assert caught.value.exit_code == 130
    assert "stopped by SIGINT at a batch boundary" in sentence
    assert "3 entities were deleted with their checkpoints; left:" in sentence
    left = world.domain_rows()
    assert 0 < left < before  # the third entity finished; the parents are kept
    assert [e[:2] for e in world.audit_events()][-1] == ("purge", "interrupted")
    # What is left is consistent: every remaining entity still has its checkpoints.
    orphans = world.query(
        "SELECT count(*) FROM seed_checkpoint c WHERE c.entity = 'financial_transaction'"
    )
    assert orphans == [(0,)]
    monkeypatch.setattr(purge_run, "purge_dataset", real)
    _purge(world)
    assert world.domain_rows() == 1  # only the shared tenant row stays
