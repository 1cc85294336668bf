"""The `up`, `down` and `status` commands."""

from __future__ import annotations

import fcntl
import json
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import stack_procs as procs
import stack_services as services
from stack_config import HOST, Settings, stack_env, write_env_file
from stack_services import (
    DEFAULT_STOP_GRACE,
    LEADER_SIGNAL,
    MARKERS,
    ORDER,
    STOP_GRACE,
    WORKERS,
    Plan,
    Service,
)


class StackError(RuntimeError):
    """A failure worth one clear line to the user (never holds a secret)."""


@contextmanager
def locked(cfg: Settings) -> Iterator[None]:
    """Serialise `up`/`down`, so two of them never start twin servers."""
    cfg.ensure_dirs()
    with (cfg.root / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def say(message: str) -> None:
    print(message, flush=True)


# --- up ---------------------------------------------------------------------------


def up(cfg: Settings) -> int:
    started = time.monotonic()
    with locked(cfg):
        plan = services.make_plan(cfg)
        env = stack_env(cfg, plan.pg, plan.redis_port)
        write_env_file(cfg, env)  # before any start: children read the same values
        svcs = services.build(cfg, plan, env)
        _save_plan(cfg, plan, svcs)
        if not plan.celery:
            say("celery          skipped  (module seedbank.worker not importable yet)")
        errors = _start_all(cfg, svcs)
    if errors:
        for error in errors:
            print(f"error: {error}", file=sys.stderr)
        return 1
    say(f"stack up in {time.monotonic() - started:.1f}s; env: {cfg.env_file}")
    return 0


def _start_all(cfg: Settings, svcs: list[Service]) -> list[str]:
    """Start every service in its own thread; each waits only for what it needs."""
    ready = {svc.name: threading.Event() for svc in svcs}
    failed: set[str] = set()
    errors: list[str] = []

    def run(svc: Service) -> None:
        try:
            say(_bring_up(cfg, svc, ready, failed))
        except Exception as exc:  # reported below and makes `up` exit 1
            failed.add(svc.name)
            errors.append(f"{svc.name}: {exc}")
        finally:
            ready[svc.name].set()

    _parallel([partial(run, svc) for svc in svcs])
    return errors


def _bring_up(
    cfg: Settings, svc: Service, ready: dict[str, threading.Event], failed: set[str]
) -> str:
    for dep in svc.needs:
        ready[dep].wait()
        if dep in failed:
            raise StackError(f"not started because {dep} failed")
    t0 = time.monotonic()
    pid, since, verb = None, 0.0, "external"
    if svc.managed:
        pid = procs.running_pid(cfg.pids, svc.name, MARKERS[svc.name])
        verb = "reused"
        if pid is None:
            pid, since, verb = _start(cfg, svc), time.time(), "started"
    _wait_healthy(cfg, svc, pid, since)
    if svc.setup is not None:
        svc.setup()
    shown = pid if pid is not None else "-"
    return f"{svc.name:15} {verb:8} pid {shown:<8} {svc.address} ({time.monotonic() - t0:.1f}s)"


def _start(cfg: Settings, svc: Service) -> int:
    assert svc.argv is not None
    if svc.port is not None and procs.tcp_open(HOST, svc.port):
        raise StackError(
            f"port {svc.port} is taken by a process this stack did not start; stop it "
            "or run `make down` if it is a leftover"
        )
    if svc.prepare is not None:
        svc.prepare()
    log = cfg.log(svc.name)
    proc = procs.spawn(
        svc.argv, env=svc.env, log=log, cwd=svc.cwd, user=svc.user, drop_stdout=svc.drop_stdout
    )
    procs.pid_file(cfg.pids, svc.name).write_text(f"{proc.pid}\n")
    return proc.pid


def _wait_healthy(cfg: Settings, svc: Service, pid: int | None, since: float) -> None:
    deadline = time.monotonic() + cfg.timeout
    while not svc.healthy(since):
        if pid is not None and not procs.is_alive(pid):
            raise StackError(f"exited before it was healthy; see {cfg.log(svc.name)}")
        if time.monotonic() > deadline:
            where = cfg.log(svc.name) if svc.managed else svc.address
            raise StackError(f"not healthy after {cfg.timeout:.0f}s; see {where}")
        time.sleep(0.25)


def _save_plan(cfg: Settings, plan: Plan, svcs: list[Service]) -> None:
    """Non-secret facts for `status`: who runs each service and where."""
    state = {
        s.name: {"mode": "managed" if s.managed else "external", "address": s.address} for s in svcs
    }
    if not plan.celery:
        state["celery"] = {"mode": "skipped", "address": "seedbank.worker missing"}
    cfg.plan_file.write_text(json.dumps(state, indent=2) + "\n")


# --- down -------------------------------------------------------------------------


def down(cfg: Settings) -> int:
    """Stop what `up` started (pid files only): workers first, then servers."""
    if not cfg.pids.is_dir():
        say("nothing to stop")
        return 0
    with locked(cfg):
        names = [p.stem for p in sorted(cfg.pids.glob("*.pid"))]
        stages = [
            [n for n in names if n in WORKERS],
            [n for n in names if n not in WORKERS],
        ]
        results: list[bool] = []
        for stage in stages:
            _parallel([partial(_stop_into, cfg, n, results) for n in stage])
    return 0 if all(results) else 1


def _parallel(jobs: list[Callable[[], None]]) -> None:
    threads = [threading.Thread(target=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _stop_into(cfg: Settings, name: str, results: list[bool]) -> None:
    results.append(_stop(cfg, name))


def _stop(cfg: Settings, name: str) -> bool:
    path = procs.pid_file(cfg.pids, name)
    pid = procs.read_pid(cfg.pids, name)
    marker = MARKERS.get(name, name)
    if pid is None or (procs.is_alive(pid) and marker not in procs.cmdline(pid)):
        say(f"{name:15} stale pid file removed")  # pid reused by a stranger: hands off
        path.unlink(missing_ok=True)
        return True
    # The leader may be gone while its children live on: the group id is its pid.
    if not procs.group_members(pid):
        say(f"{name:15} was not running")
        path.unlink(missing_ok=True)
        return True
    t0 = time.monotonic()
    sig = LEADER_SIGNAL.get(name)
    stopped = procs.stop_group(
        pid,
        sig or signal.SIGTERM,
        leader_only=sig is not None,
        grace=STOP_GRACE.get(name, DEFAULT_STOP_GRACE),
    )
    if stopped:
        path.unlink(missing_ok=True)
    verb = "stopped " if stopped else "DID NOT STOP"
    say(f"{name:15} {verb} pid {pid:<8} ({time.monotonic() - t0:.1f}s)")
    return stopped


# --- status -----------------------------------------------------------------------


def status(cfg: Settings) -> int:
    plan = _load_plan(cfg.plan_file)
    say(f"{'service':15} {'state':9} {'pid':8} address")
    for name in ORDER:
        entry = plan.get(name, {})
        state, pid = _state(cfg, name, entry.get("mode"))
        say(f"{name:15} {state:9} {pid:8} {entry.get('address', '-')}")
    return 0


def _state(cfg: Settings, name: str, mode: str | None) -> tuple[str, str]:
    pid = procs.read_pid(cfg.pids, name)
    if mode in ("external", "skipped"):
        return mode, "-"
    if pid is None:
        return "stopped", "-"
    if procs.running_pid(cfg.pids, name, MARKERS[name]) is None:
        return "dead", str(pid)
    return "running", str(pid)


def _load_plan(path: Path) -> dict[str, dict[str, str]]:
    try:
        data: dict[str, dict[str, str]] = json.loads(path.read_text())
        return data
    except (OSError, ValueError):
        return {}
