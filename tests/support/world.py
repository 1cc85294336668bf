"""An isolated seeding world for one test: its own database, tenant, salt, bucket, profiles."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import hvac
import psycopg
import pytest
import yaml

from factories.spec import tenant_uuid
from seedbank.adapters.lock import RunLock
from seedbank.adapters.postgres import bind_tenant
from seedbank.adapters.profiles import default_profiles_dir
from seedbank.adapters.vault import VaultClient, salt_path
from seedbank.domain.models import DOMAIN_TABLES, table_name
from tests.support.databases import ScratchDatabase, temporary_database


def s3() -> Any:
    return boto3.client("s3", endpoint_url=os.environ["SEEDBANK_S3_ENDPOINT_URL"])


def vault() -> hvac.Client:
    return hvac.Client(url=os.environ["VAULT_ADDR"], token=os.environ["VAULT_TOKEN"])


def create_locked_bucket(name: str, *, object_lock: bool = True) -> None:
    client = s3()
    client.create_bucket(Bucket=name, ObjectLockEnabledForBucket=object_lock)
    if object_lock:
        client.put_object_lock_configuration(
            Bucket=name,
            ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 1}},
            },
        )


_session_bucket: list[str] = []


def shared_test_bucket() -> str:
    """One locked bucket per test session: locked evidence cannot be deleted for a day,
    and every bucket costs the S3 server volumes; worlds are told apart by key prefix."""
    if not _session_bucket:
        name = f"seedbank-test-{secrets.token_hex(5)}"
        create_locked_bucket(name)
        _session_bucket.append(name)
    return _session_bucket[0]


@dataclass
class World:
    env: str
    tenant: str
    db: ScratchDatabase
    bucket: str
    profiles: Path

    @property
    def tenant_id(self) -> Any:
        return tenant_uuid(self.env, self.tenant)

    def object_keys(self) -> list[str]:
        """Keys of this world's objects in the (shared) evidence bucket."""
        marker = f"/{self.env}/{self.tenant}/"
        keys: list[str] = []
        for page in s3().get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            keys += [o["Key"] for o in page.get("Contents", []) if marker in o["Key"]]
        return keys

    def profile_path(self) -> Path:
        return self.profiles / self.env / f"{self.tenant}.yaml"

    def edit_profile(self, **changes: Any) -> None:
        """Apply dotted-path changes, e.g. edit_profile(**{"pii.salt_version": 2})."""
        data = yaml.safe_load(self.profile_path().read_text())
        for dotted, value in changes.items():
            node = data
            *parents, leaf = dotted.split(".")
            for part in parents:
                node = node[part]
            node[leaf] = value
        self.profile_path().write_text(yaml.safe_dump(data, sort_keys=False))

    def domain_rows(self) -> int:
        """Rows of this tenant in every domain table, seen by the owner (no RLS)."""
        total = 0
        with psycopg.connect(self.db.admin_url) as conn:
            for table in (table_name(model) for model in DOMAIN_TABLES):
                row = conn.execute(
                    f"SELECT count(*) FROM {table} WHERE tenant_id = %s", (self.tenant_id,)
                ).fetchone()
                total += int(row[0]) if row else 0
        return total

    def audit_events(self) -> list[tuple[str, str, str]]:
        with psycopg.connect(self.db.app_url) as conn:
            bind_tenant(conn, self.tenant_id)
            rows = conn.execute(
                "SELECT event, outcome, reason FROM seed_audit WHERE tenant_id = %s ORDER BY at",
                (self.tenant_id,),
            ).fetchall()
        return [(str(a), str(b), str(c)) for a, b, c in rows]

    def hold_lock(self) -> RunLock:
        """This env/tenant's run lock, taken as another holder would (release it after)."""
        lock = RunLock(
            self.db.app_url,
            env=self.env,
            tenant=self.tenant,
            tenant_id=self.tenant_id,
            run_id=uuid.uuid4(),
        )
        lock.acquire(holder="test-holder")
        return lock

    def query(self, statement: str, *args: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.db.app_url) as conn:
            bind_tenant(conn, self.tenant_id)
            return list(conn.execute(statement, args).fetchall())


def write_profile(root: Path, *, env: str, tenant: str, source_tenant: str = "acme") -> Path:
    data = yaml.safe_load((default_profiles_dir() / env / f"{source_tenant}.yaml").read_text())
    data["metadata"]["tenant"] = tenant
    path = root / env / f"{tenant}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@contextmanager
def isolated_world(
    pg_server_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, env: str = "dev"
) -> Iterator[World]:
    tenant = f"t-{secrets.token_hex(5)}"
    bucket = shared_test_bucket()
    profiles = tmp_path / "profiles"
    write_profile(profiles, env=env, tenant=tenant)
    VaultClient(os.environ["VAULT_ADDR"], os.environ["VAULT_TOKEN"]).write_new_salt(env, tenant)
    client = vault()
    with temporary_database(pg_server_url) as db:
        monkeypatch.setenv("SEEDBANK_DATABASE_URL", db.app_url)
        monkeypatch.setenv("SEEDBANK_ADMIN_DATABASE_URL", db.admin_url)
        monkeypatch.setenv("SEEDBANK_EVIDENCE_BUCKET", bucket)
        monkeypatch.setenv("SEEDBANK_PROFILES_DIR", str(profiles))
        try:
            yield World(env=env, tenant=tenant, db=db, bucket=bucket, profiles=profiles)
        finally:
            client.secrets.kv.v2.delete_metadata_and_all_versions(
                path=salt_path(env, tenant), mount_point="secret"
            )


def deployment_run(
    world: World, name: str, params: dict[str, Any], timeout: int = 180
) -> subprocess.CompletedProcess[str]:
    """`prefect deployment run NAME --watch` on the local worker, pointed at this world."""
    overrides = {
        "SEEDBANK_DATABASE_URL": world.db.app_url,
        "SEEDBANK_EVIDENCE_BUCKET": world.bucket,
        "SEEDBANK_PROFILES_DIR": str(world.profiles),
    }
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "prefect"),
            "deployment",
            "run",
            name,
            "--params",
            json.dumps(params),
            "--job-variable",
            f"env={json.dumps(overrides)}",
            "--watch",
            "--watch-timeout",
            str(timeout),
        ],
        capture_output=True,
        text=True,
        timeout=timeout + 30,
        check=False,
    )
