"""The campaign's tenant, database, salt and bucket, and the CLI runs against them."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import psycopg
import yaml
from botocore.exceptions import ClientError

from factories.planner import plan
from factories.spec import ENTITIES, tenant_uuid
from faults.stack import HOST, FaultStack, need
from seedbank.adapters.migrations import ScratchDatabase
from seedbank.adapters.profiles import default_profiles_dir
from seedbank.adapters.vault import VaultClient
from seedbank.domain.manifest import Manifest
from seedbank.services.seeding.dataset import dataset_spec

VENV_BIN = Path(sys.executable).parent
BUCKET = "seedbank-faults-evidence"
"""One bucket for every campaign: locked evidence cannot be deleted for a day."""
BATCH_SIZE = 100
ENV = "dev"


@dataclass
class CliRun:
    argv: list[str]
    proc: subprocess.Popen[str]
    started: float
    ended: float | None = None
    code: int | None = None
    stdout: str = ""
    stderr: str = ""

    def wait(self, timeout: float = 900) -> CliRun:
        out, err = self.proc.communicate(timeout=timeout)
        self.ended, self.code = time.monotonic(), self.proc.returncode
        self.stdout, self.stderr = out, err
        return self

    @property
    def seconds(self) -> float:
        return round((self.ended or time.monotonic()) - self.started, 1)

    @property
    def summary(self) -> dict[str, Any]:
        for line in reversed(self.stdout.splitlines()):
            if line.startswith("{") and '"seed finished"' in line:
                return dict(json.loads(line))
        return {}

    @property
    def sentence(self) -> str:
        lines = [ln for ln in self.stderr.splitlines() if ln.startswith("seed_data: ")]
        return lines[-1] if lines else ""


@dataclass
class World:
    stack: FaultStack
    db: ScratchDatabase
    tenant: str
    profiles: Path
    manifest: Manifest
    env: dict[str, str] = field(default_factory=dict)
    runs: list[CliRun] = field(default_factory=list)

    @property
    def tenant_id(self) -> Any:
        return tenant_uuid(ENV, self.tenant)

    def expected(self) -> dict[str, int]:
        spec = dataset_spec(self.manifest)
        return {e: spec.count(e) for e in ENTITIES}

    def batches(self) -> int:
        return sum(1 for _ in plan(dataset_spec(self.manifest), BATCH_SIZE))

    def start(self, *args: str) -> CliRun:
        argv = [str(VENV_BIN / "seed_data"), *args]
        # Our own venv's entry point with fixed arguments.
        proc = subprocess.Popen(  # noqa: S603
            argv, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        run = CliRun(argv, proc, time.monotonic())
        self.runs.append(run)
        return run

    def seed(self) -> CliRun:
        return self.start("--tenant", self.tenant, "--env", ENV)

    def admin(self) -> psycopg.Connection:
        return psycopg.connect(self.db.admin_url, autocommit=True, connect_timeout=3)

    def checkpoints(self) -> int:
        try:
            with self.admin() as conn:
                row = conn.execute(
                    "SELECT count(*) FROM seed_checkpoint WHERE tenant_id = %s", (self.tenant_id,)
                ).fetchone()
        except psycopg.OperationalError:
            return -1
        return int(row[0]) if row else 0

    def wait_checkpoints(self, n: int, run: CliRun, timeout: float = 300) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and run.proc.poll() is None:
            if self.checkpoints() >= n:
                return True
            time.sleep(0.1)
        return False

    def stored(self) -> tuple[dict[str, int], int]:
        """Rows per entity of the baseline dataset, and rows stored twice (same id)."""
        counts: dict[str, int] = {}
        twice = 0
        with self.admin() as conn:
            for entity in ENTITIES:
                where = "tenant_id = %s" + ("" if entity == "tenant" else " AND dataset = %s")
                args = (self.tenant_id,) if entity == "tenant" else (self.tenant_id, "baseline")
                key = "tenant_id" if entity == "tenant" else "id"
                row = conn.execute(
                    f"SELECT count(*), count(DISTINCT {key}) FROM {entity} WHERE {where}",
                    args,
                ).fetchone()
                assert row is not None
                counts[entity] = int(row[0])
                twice += int(row[0]) - int(row[1])
        return counts, twice

    def run_status(self, run_id: str) -> str | None:
        with self.admin() as conn:
            row = conn.execute("SELECT status FROM seed_run WHERE id = %s", (run_id,)).fetchone()
        return str(row[0]) if row else None

    def evidence_rows(self, run_id: str) -> int:
        with self.admin() as conn:
            row = conn.execute(
                "SELECT count(*) FROM seed_evidence WHERE run_id = %s AND kind = 'run_report'",
                (run_id,),
            ).fetchone()
        return int(row[0]) if row else 0

    def lock_backend(self) -> int | None:
        with self.admin() as conn:
            row = conn.execute(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND database ="
                " (SELECT oid FROM pg_database WHERE datname = current_database())"
            ).fetchone()
        return int(row[0]) if row else None

    def wait_polling(self, *, exclude: int | None, run: CliRun, timeout: float = 120) -> bool:
        """Until another session polls the run lock (a run started with --wait)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and run.proc.poll() is None:
            with self.admin() as conn:
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND query LIKE 'SELECT pg_try_advisory_lock%%' AND pid <> %s",
                    (exclude or 0,),
                ).fetchone()
            if row and row[0]:
                return True
            time.sleep(0.1)
        return False

    def terminate(self, pid: int) -> None:
        with self.admin() as conn:
            conn.execute("SELECT pg_terminate_backend(%s)", (pid,))


def ensure_bucket(endpoint: str) -> None:
    client: Any = boto3.client("s3", endpoint_url=endpoint)
    try:
        client.head_bucket(Bucket=BUCKET)
    except ClientError:
        client.create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True)
        client.put_object_lock_configuration(
            Bucket=BUCKET,
            ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 1}},
            },
        )


def make_world(stack: FaultStack, db: ScratchDatabase) -> World:
    """dev/acme as a fresh tenant `faults-<hex>` (batches of 100), its salt, its env."""
    tenant = f"faults-{secrets.token_hex(4)}"
    data = yaml.safe_load((default_profiles_dir() / ENV / "acme.yaml").read_text())
    data["metadata"]["tenant"] = tenant
    data["generation"]["batch_size"] = BATCH_SIZE
    profiles = stack.root / "profiles"
    path = profiles / ENV / f"{tenant}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    VaultClient(need("VAULT_ADDR"), need("VAULT_TOKEN")).write_new_salt(ENV, tenant)
    ensure_bucket(need("SEEDBANK_S3_ENDPOINT_URL"))
    env = dict(os.environ)
    env.pop("SEEDBANK_WORKER_METRICS_PORT", None)
    repo = str(Path(__file__).resolve().parents[1])
    proxies = stack.proxies
    env.update(
        {
            "PYTHONPATH": repo,
            "SEEDBANK_DATABASE_URL": db.app_url,
            "SEEDBANK_ADMIN_DATABASE_URL": db.admin_url,
            "SEEDBANK_PG_SERVER_URL": stack.pg_server_url,
            "SEEDBANK_BROKER_URL": f"redis://{HOST}:{stack.redis_port}/0",
            "SEEDBANK_REDIS_URL": f"redis://{HOST}:{stack.redis_port}/1",
            "VAULT_ADDR": f"http://{proxies['vault'].address}",
            "SEEDBANK_S3_ENDPOINT_URL": f"http://{proxies['s3'].address}",
            "PREFECT_API_URL": f"http://{proxies['prefect'].address}/api",
            "SEEDBANK_EVIDENCE_BUCKET": BUCKET,
            "SEEDBANK_PROFILES_DIR": str(profiles),
            "SEEDBANK_ACTOR": "faults",
        }
    )
    return World(stack, db, tenant, profiles, Manifest.model_validate(data), env)
