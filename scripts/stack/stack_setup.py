"""Health probes and one-time setup run against the services once they answer.

Client libraries are imported inside the functions: `down` and `status` stay fast
and need nothing outside the standard library.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import warnings
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.request import Request, urlopen

import stack_procs as procs
from stack_config import (
    DATABASE,
    EVIDENCE_BUCKET,
    HOST,
    REPO,
    S3_PORT,
    TRANSIT_KEY,
    VENV_BIN,
    WORK_POOL,
)

# --- PostgreSQL -------------------------------------------------------------------


def pg_initdb(pgdata: Path, sock: Path, user: str | None, log: Path) -> None:
    """Initialise the pgserver data dir the way pgserver does, owned by its user."""
    with warnings.catch_warnings():
        # pgserver asks platformdirs for XDG_RUNTIME_DIR at import: unset is fine here.
        warnings.simplefilter("ignore")
        from pgserver._commands import POSTGRES_BIN_PATH
        from pgserver.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

    pgdata.mkdir(exist_ok=True)
    sock.mkdir(exist_ok=True)
    if user is not None:
        ensure_user_exists(user)
        ensure_prefix_permissions(pgdata)  # the user must traverse every parent
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        ensure_folder_permissions(POSTGRES_BIN_PATH, 0o055)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o044)
        for path in {pgdata, sock}:
            os.chown(path, *_uid_gid(user))
    if (pgdata / "PG_VERSION").exists():
        return
    initdb = [str(POSTGRES_BIN_PATH / "initdb"), "-D", str(pgdata), "--auth=trust"]
    initdb += ["--auth-local=trust", "--encoding=utf8", "-U", "postgres"]
    with log.open("ab") as out:
        subprocess.run(
            initdb,
            check=True,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=pgdata,
            user=user,
            group=user,
            extra_groups=[] if user else None,
        )


def _uid_gid(user: str) -> tuple[int, int]:
    import pwd

    entry = pwd.getpwnam(user)
    return entry.pw_uid, entry.pw_gid


def pg_ready(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError:
        return False
    return True


def create_database(admin_url: str) -> None:
    """Create the application database only: roles and tables are the migrations' job."""
    import psycopg
    from psycopg import errors, sql

    with psycopg.connect(admin_url, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
        if found.fetchone() is not None:
            return
        with contextlib.suppress(errors.DuplicateDatabase):  # a concurrent `up` won
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))


# --- OpenBao ----------------------------------------------------------------------


def vault_transit(url: str, token: str) -> None:
    """Enable `transit/` and create the ed25519 evidence signing key, once."""
    import hvac
    from hvac.exceptions import InvalidPath

    client = hvac.Client(url=url, token=token)
    if "transit/" not in client.sys.list_mounted_secrets_engines()["data"]:
        client.sys.enable_secrets_engine("transit")
    try:
        client.secrets.transit.read_key(name=TRANSIT_KEY)
    except InvalidPath:
        client.secrets.transit.create_key(name=TRANSIT_KEY, key_type="ed25519")


# --- SeaweedFS S3 -----------------------------------------------------------------


class LazyS3:
    """One boto3 client per `up`, made on first use (boto3 is slow to import)."""

    def __init__(self, env: dict[str, str]) -> None:
        self._env = env
        self._client: Any = None

    def get(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            self._client = boto3.client(
                "s3",
                endpoint_url=self._env["SEEDBANK_S3_ENDPOINT_URL"],
                aws_access_key_id=self._env["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=self._env["AWS_SECRET_ACCESS_KEY"],
                region_name=self._env["AWS_DEFAULT_REGION"],
                config=Config(connect_timeout=2, read_timeout=10, retries={"max_attempts": 1}),
            )
        return self._client

    def answers(self) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        if not procs.tcp_open(HOST, S3_PORT):
            return False
        try:
            self.get().list_buckets()
        except (BotoCoreError, ClientError):
            return False
        return True


def evidence_bucket(s3: Any) -> None:
    """WORM bucket for evidence: object lock, COMPLIANCE, 1-day default retention."""
    from botocore.exceptions import ClientError

    try:
        s3.head_bucket(Bucket=EVIDENCE_BUCKET)
    except ClientError:
        s3.create_bucket(Bucket=EVIDENCE_BUCKET, ObjectLockEnabledForBucket=True)
    wanted = {"Mode": "COMPLIANCE", "Days": 1}
    try:
        conf = s3.get_object_lock_configuration(Bucket=EVIDENCE_BUCKET)
        current = conf["ObjectLockConfiguration"].get("Rule", {}).get("DefaultRetention")
    except ClientError:  # no lock configuration yet
        current = None
    if current != wanted:
        s3.put_object_lock_configuration(
            Bucket=EVIDENCE_BUCKET,
            ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": wanted},
            },
        )


# --- Prefect ----------------------------------------------------------------------


def work_pool(api: str, prefect_home: Path) -> None:
    """Create the process work pool with the CLI (it fills in the default job template)."""
    if procs.http_ok(f"{api}/work_pools/{WORK_POOL}"):
        return
    env = {
        **os.environ,
        "PREFECT_API_URL": api,
        "PREFECT_HOME": str(prefect_home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    done = subprocess.run(
        [str(VENV_BIN / "prefect"), "work-pool", "create", WORK_POOL, "--type", "process"],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0 and not procs.http_ok(f"{api}/work_pools/{WORK_POOL}"):
        raise RuntimeError(f"prefect work-pool create failed: {done.stdout}{done.stderr}")


K8S_WORK_POOL = "seedbank-k8s"
K8S_JOB_TEMPLATE = REPO / "deployments" / "kubernetes" / "base-job-template.json"


def work_pools(api: str, prefect_home: Path) -> None:
    work_pool(api, prefect_home)
    k8s_work_pool(api)


def k8s_work_pool(api: str) -> None:
    """Register the Kubernetes pool (no cluster needed), so `prefect deploy --all` can
    create its deployments; its template follows deployments/kubernetes/ on every `up`."""
    template = json.loads(K8S_JOB_TEMPLATE.read_text())
    url = f"{api}/work_pools/{K8S_WORK_POOL}"
    if not procs.http_ok(url):
        body = {"name": K8S_WORK_POOL, "type": "kubernetes", "base_job_template": template}
        _send(f"{api}/work_pools/", "POST", body)
        return
    with urlopen(url, timeout=5) as resp:  # noqa: S310 - fixed http://127.0.0.1 URL
        current = json.load(resp).get("base_job_template")
    if current != template:
        _send(url, "PATCH", {"base_job_template": template})


def _send(url: str, method: str, body: dict[str, Any]) -> None:
    request = Request(  # noqa: S310 - fixed http://127.0.0.1 URL
        url, data=json.dumps(body).encode(), method=method
    )
    request.add_header("Content-Type", "application/json")
    with urlopen(request, timeout=10):  # noqa: S310 - fixed http://127.0.0.1 URL
        pass


def worker_heartbeat(api: str, since: float) -> bool:
    """A worker of the pool reported in after our process started."""
    request = Request(  # noqa: S310 - fixed http://127.0.0.1 URL
        f"{api}/work_pools/{WORK_POOL}/workers/filter",
        data=b"{}",
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urlopen(request, timeout=2) as resp:  # noqa: S310 - fixed http://127.0.0.1 URL
            workers = json.load(resp)
    except OSError:
        return False
    beats = [w.get("last_heartbeat_time") for w in workers]
    return any(b and datetime.fromisoformat(b).timestamp() >= since - 1 for b in beats)
