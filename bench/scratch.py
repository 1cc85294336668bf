"""The bench's own world: scratch databases, its salt in Vault, its evidence bucket,
its profiles. Never the demo database `seedbank`, never the stack's broker database."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import boto3
import hvac
import yaml
from botocore.exceptions import ClientError

from bench.report import scaled_count
from seedbank.adapters.migrations import ScratchDatabase, scratch_database
from seedbank.adapters.profiles import default_profiles_dir
from seedbank.adapters.vault import VaultClient, salt_path

BUCKET = "seedbank-bench-evidence"
"""One bucket for every bench run: locked evidence cannot be deleted for a day."""
BROKER_DB, SLOTS_DB = 4, 5
"""Redis databases of the bench's broker and tenant slots (the stack uses 0 and 1)."""
REPORTS = Path(__file__).resolve().parent.parent / "reports" / "bench"


def need(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise SystemExit(f"bench: {name} is not set; run it as `make bench` (sources .stack/env)")
    return value


def redis_db(url: str, db: int) -> str:
    """The same Redis server as `url`, database `db`."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{db}"))


@contextmanager
def bench_database(label: str) -> Iterator[ScratchDatabase]:
    """A migrated database `seedbank_bench_<label>_<hex>` (the workers' allowed names)."""
    with scratch_database(need("SEEDBANK_PG_SERVER_URL"), prefix=f"seedbank_bench_{label}") as db:
        yield db


def ensure_bucket(name: str = BUCKET) -> str:
    """The bench's evidence bucket with COMPLIANCE Object Lock, created on first use."""
    client: Any = boto3.client("s3", endpoint_url=need("SEEDBANK_S3_ENDPOINT_URL"))
    try:
        client.head_bucket(Bucket=name)
    except ClientError:
        client.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
        client.put_object_lock_configuration(
            Bucket=name,
            ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 1}},
            },
        )
    return name


def scaled_volumetry(data: dict[str, Any], fraction: float) -> dict[str, Any]:
    """A manifest's volumetry scaled by `fraction`, keeping the manifest's relations."""
    vol = {k: dict(v) for k, v in data["volumetry"].items()}
    for entry in vol.values():
        entry["count"] = scaled_count(int(entry["count"]), fraction)
    for child, parent in (("credit_limit", "bank_account"), ("loan", "contract")):
        vol[child]["count"] = min(vol[child]["count"], vol[parent]["count"])
    vol["installment"]["count"] = vol["loan"]["count"] * int(
        data.get("generation", {}).get("loan_term_months", 12)
    )
    return vol


def open_window(timezone: str) -> dict[str, str]:
    """An off-peak window open from an hour ago for twelve hours, in `timezone`: load and
    DR runs outside dev must start inside it, and the bench runs at any hour."""
    here = datetime.now(UTC).astimezone(ZoneInfo(timezone))
    return {
        "start": (here - timedelta(hours=1)).strftime("%H:00"),
        "end": (here + timedelta(hours=12)).strftime("%H:00"),
        "timezone": timezone,
    }


@dataclass(frozen=True)
class BenchTenant:
    env: str
    tenant: str
    profiles: Path
    rows: int

    def profile(self) -> Path:
        return self.profiles / self.env / f"{self.tenant}.yaml"


@contextmanager
def bench_tenant(
    env: str, root: Path, *, fraction: float = 1.0, batch_size: int | None = None
) -> Iterator[BenchTenant]:
    """profiles/<env>/acme.yaml as a fresh tenant `bench-<hex>` with its own salt (v1)."""
    data = yaml.safe_load((default_profiles_dir() / env / "acme.yaml").read_text())
    tenant = f"bench-{secrets.token_hex(4)}"
    data["metadata"]["tenant"] = tenant
    if fraction != 1.0:
        data["volumetry"] = scaled_volumetry(data, fraction)
    if batch_size is not None:
        data.setdefault("generation", {})["batch_size"] = batch_size
    data["window"] = open_window(data["window"]["timezone"])
    path = root / env / f"{tenant}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    rows = 1 + sum(int(v["count"]) for v in data["volumetry"].values())
    vault = VaultClient(need("VAULT_ADDR"), need("VAULT_TOKEN"))
    version = vault.write_new_salt(env, tenant)
    if version != data["pii"]["salt_version"]:
        raise SystemExit(f"bench: a fresh tenant's salt should be version 1, got {version}")
    try:
        yield BenchTenant(env, tenant, root, rows)
    finally:
        hvac.Client(
            url=need("VAULT_ADDR"), token=need("VAULT_TOKEN")
        ).secrets.kv.v2.delete_metadata_and_all_versions(
            path=salt_path(env, tenant), mount_point="secret"
        )
