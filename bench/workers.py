"""The bench's own Celery worker, on its own broker database, with a memory sampler."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil  # type: ignore[import-untyped]  # no stubs pinned; comes with Prefect

from bench.probes import MemorySampler
from seedbank.worker.celery_app import make_app

VENV_BIN = Path(sys.executable).parent
READY_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Workers:
    pid: int
    concurrency: int
    sampler: MemorySampler


@contextmanager
def celery_workers(concurrency: int, env: Mapping[str, str], log: Path) -> Iterator[Workers]:
    """`celery worker -c N --pool prefork -Q seed.default -n bench-N@host`, stopped after."""
    name = f"bench-{concurrency}-{os.getpid()}@{socket.gethostname()}"
    argv = [str(VENV_BIN / "celery"), "-A", "seedbank.worker.celery_app", "worker"]
    argv += ["-c", str(concurrency), "--pool", "prefork", "-Q", "seed.default", "-n", name]
    argv += ["--loglevel", "WARNING"]
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        # A fixed argv of our own venv's celery.
        proc = subprocess.Popen(argv, env=dict(env), stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        _wait_ready(env["SEEDBANK_BROKER_URL"], name, proc)
        sampler = MemorySampler(proc.pid)
        sampler.start()
        try:
            yield Workers(proc.pid, concurrency, sampler)
        finally:
            sampler.stop()
    finally:
        _stop(proc)


def _wait_ready(broker_url: str, name: str, proc: subprocess.Popen[bytes]) -> None:
    app = make_app(broker_url)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"bench: the Celery worker exited with {proc.returncode}")
        replies = app.control.ping(destination=[name], timeout=1.0)
        if replies:
            return
    raise SystemExit(f"bench: the Celery worker {name} did not answer within {READY_TIMEOUT_S} s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Warm shutdown of our worker (SIGTERM), then SIGKILL of its own tree if it hangs."""
    if proc.poll() is not None:
        return
    children = psutil.Process(proc.pid).children(recursive=True)
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        for child in children:
            if child.is_running():
                child.kill()
        proc.kill()
        proc.wait(timeout=10)
