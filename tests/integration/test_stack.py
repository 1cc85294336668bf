"""The local stack (`make up`) answers over real connections, and `up` is idempotent.

Needs a running stack: `make up` first. Skipped when `.stack/env` is missing.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import hvac
import psycopg
import pytest
import redis
from botocore.exceptions import ClientError

from tests.support.stackenv import read_stack_env

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

REPO = Path(__file__).resolve().parents[2]
STACK_DIR = Path(os.environ.get("SEEDBANK_STACK_DIR", REPO / ".stack"))


@pytest.fixture(scope="module")
def stack_env() -> dict[str, str]:
    path = STACK_DIR / "env"
    if not path.exists():
        pytest.skip(f"{path} missing: run `make up` first")
    return read_stack_env(path)


@pytest.fixture(scope="module")
def s3(stack_env: dict[str, str]) -> S3Client:
    return boto3.client(
        "s3",
        endpoint_url=stack_env["SEEDBANK_S3_ENDPOINT_URL"],
        aws_access_key_id=stack_env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=stack_env["AWS_SECRET_ACCESS_KEY"],
        region_name=stack_env["AWS_DEFAULT_REGION"],
    )


def test_env_file_has_exactly_the_agreed_names(stack_env: dict[str, str]) -> None:
    assert set(stack_env) == {
        "SEEDBANK_DATABASE_URL",
        "SEEDBANK_ADMIN_DATABASE_URL",
        "SEEDBANK_PG_SERVER_URL",
        "SEEDBANK_BROKER_URL",
        "SEEDBANK_REDIS_URL",
        "VAULT_ADDR",
        "VAULT_TOKEN",
        "SEEDBANK_S3_ENDPOINT_URL",
        "SEEDBANK_EVIDENCE_BUCKET",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_DEFAULT_REGION",
        "PREFECT_API_URL",
        "PREFECT_HOME",
        "SEEDBANK_API_BASE_URL",
        "SEEDBANK_API_TOKEN_KEY",
        "SEEDBANK_WORKER_METRICS_URL",
    }
    assert (STACK_DIR / "env").stat().st_mode & 0o077 == 0  # holds secrets


def test_postgres_answers_with_admin_url(stack_env: dict[str, str]) -> None:
    with psycopg.connect(stack_env["SEEDBANK_ADMIN_DATABASE_URL"]) as conn:
        row = conn.execute("SELECT 1, current_database()").fetchone()
    assert row == (1, "seedbank")


def test_redis_answers_on_broker_and_lock_dbs(stack_env: dict[str, str]) -> None:
    for name in ("SEEDBANK_BROKER_URL", "SEEDBANK_REDIS_URL"):
        client = redis.Redis.from_url(stack_env[name], socket_timeout=2)
        assert client.ping()
        client.close()


def test_vault_token_works_and_transit_key_exists(stack_env: dict[str, str]) -> None:
    client = hvac.Client(url=stack_env["VAULT_ADDR"], token=stack_env["VAULT_TOKEN"])
    assert client.is_authenticated()
    key = client.secrets.transit.read_key(name="seedbank-evidence")
    assert key["data"]["type"] == "ed25519"
    assert key["data"]["supports_signing"]


def test_evidence_bucket_defaults_to_compliance_lock(
    s3: S3Client, stack_env: dict[str, str]
) -> None:
    conf = s3.get_object_lock_configuration(Bucket=stack_env["SEEDBANK_EVIDENCE_BUCKET"])
    lock = conf["ObjectLockConfiguration"]
    assert lock.get("ObjectLockEnabled") == "Enabled"
    assert lock.get("Rule", {}).get("DefaultRetention") == {"Mode": "COMPLIANCE", "Days": 1}


def test_locked_version_cannot_be_deleted(s3: S3Client) -> None:
    # A fresh bucket: locked test objects must never land in the evidence bucket.
    bucket = f"seedbank-test-{secrets.token_hex(6)}"
    s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    put = s3.put_object(
        Bucket=bucket,
        Key="evidence.json",
        Body=b'{"ok": true}',
        ObjectLockMode="COMPLIANCE",
        ObjectLockRetainUntilDate=datetime.now(UTC) + timedelta(minutes=10),
    )
    with pytest.raises(ClientError) as refused:
        s3.delete_object(Bucket=bucket, Key="evidence.json", VersionId=put["VersionId"])
    assert refused.value.response["Error"]["Code"] == "AccessDenied"


def test_s3_refuses_unknown_credentials(stack_env: dict[str, str]) -> None:
    stranger = boto3.client(
        "s3",
        endpoint_url=stack_env["SEEDBANK_S3_ENDPOINT_URL"],
        aws_access_key_id="NOTAKEY",
        aws_secret_access_key=secrets.token_hex(20),
        region_name=stack_env["AWS_DEFAULT_REGION"],
    )
    with pytest.raises(ClientError):
        stranger.list_buckets()


def _get_json(url: str) -> object:
    with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 - local stack URL
        return json.load(resp)


def test_prefect_is_healthy_and_work_pool_exists(stack_env: dict[str, str]) -> None:
    api = stack_env["PREFECT_API_URL"]
    assert _get_json(f"{api}/health") is True
    pool = _get_json(f"{api}/work_pools/seedbank-process")
    assert isinstance(pool, dict)
    assert pool["type"] == "process"


def test_second_up_reuses_everything(stack_env: dict[str, str]) -> None:
    pids_dir = STACK_DIR / "pids"
    before = {p.name: p.read_text() for p in pids_dir.glob("*.pid")}
    assert before, "no pid files: the stack started nothing"
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "stack.py"), "up"],
        check=False,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    assert "started" not in done.stdout
    after = {p.name: p.read_text() for p in pids_dir.glob("*.pid")}
    assert after == before
    secrets_in_output = (stack_env["VAULT_TOKEN"], stack_env["AWS_SECRET_ACCESS_KEY"])
    assert not any(s in done.stdout + done.stderr for s in secrets_in_output)
