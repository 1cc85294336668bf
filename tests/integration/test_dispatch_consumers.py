"""A run's start waits a little for a worker to answer (issue 17's fault campaign: a run
started as Redis came back found the worker still in its reconnect back-off and failed
with exit 11), and still fails closed when none ever does."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from celery import Celery

from seedbank.domain.errors import SeedingFailed
from seedbank.services.seeding.dispatch import Dispatcher, DispatchTarget
from seedbank.worker.celery_app import CONFIG

VENV_BIN = Path(sys.executable).parent
LATE_S = 3.0


def _broker() -> str:
    """A Redis database of its own: no worker of the stack listens there."""
    base = os.environ.get("SEEDBANK_REDIS_URL", "redis://127.0.0.1:6379/1")
    return base.rsplit("/", 1)[0] + "/13"


def _dispatcher(url: str, patience_s: float) -> Dispatcher:
    app = Celery("consumers-test", broker=url, backend=url)
    app.conf.update(CONFIG)
    target = DispatchTarget(uuid.uuid4(), uuid.uuid4(), "unused", f"seed.test.{uuid.uuid4().hex}")
    return Dispatcher(app, target, stall_s=60, expires_s=60, start_patience_s=patience_s)


def test_no_worker_at_all_fails_closed_after_the_patience() -> None:
    dispatcher = _dispatcher(_broker(), patience_s=3.0)
    started = time.monotonic()
    with pytest.raises(SeedingFailed, match="no Celery worker answered within 3 s"):
        dispatcher.ensure_consumers()
    assert time.monotonic() - started >= 3.0


def test_a_worker_that_answers_late_is_waited_for(tmp_path: Path) -> None:
    url = _broker()
    env = {**os.environ, "SEEDBANK_BROKER_URL": url}
    env.pop("SEEDBANK_WORKER_METRICS_PORT", None)  # the stack's worker serves that port
    name = f"late-{uuid.uuid4().hex[:8]}@{socket.gethostname()}"
    argv = [str(VENV_BIN / "celery"), "-A", "seedbank.worker.celery_app", "worker"]
    argv += ["-c", "1", "--pool", "solo", "-Q", "seed.default", "-n", name]
    log = (tmp_path / "worker.log").open("wb")
    procs: list[subprocess.Popen[bytes]] = []

    def start_late() -> None:
        time.sleep(LATE_S)  # after the first ask has found nobody
        procs.append(subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT))

    starter = threading.Thread(target=start_late)
    starter.start()
    try:
        _dispatcher(url, patience_s=60.0).ensure_consumers()
    finally:
        starter.join()
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)
        log.close()
