"""Lock, worker loss and the Prefect deployment path of the seed flow (issue 4)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import StateType
from prefect.client.schemas.sorting import FlowRunSort
from prefect.states import AwaitingRetry

from seedbank.cli import main
from tests.support.stackenv import REPO
from tests.support.world import World, deployment_run

pytestmark = pytest.mark.e2e
BIN = Path(sys.executable).parent


def test_second_run_is_refused_while_the_lock_is_held(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    lock = world.hold_lock()
    try:
        assert main([f"--tenant={world.tenant}", f"--env={world.env}"]) == 5
        err = capsys.readouterr().err
        assert "another seed run holds the lock" in err
        assert "test-holder" in err
    finally:
        lock.release()
    assert world.domain_rows() == 0
    assert [e[:2] for e in world.audit_events()] == [("lock_held", "refused")]


def test_waiting_run_proceeds_when_the_lock_is_released(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    lock = world.hold_lock()
    releaser = threading.Timer(2.0, lock.release)
    releaser.start()
    started = time.monotonic()
    try:
        assert main([f"--tenant={world.tenant}", f"--env={world.env}", "--wait=30"]) == 0
    finally:
        releaser.join()
    assert time.monotonic() - started >= 2.0
    assert world.domain_rows() > 0
    capsys.readouterr()


def _celery_worker_pids() -> tuple[int, list[int]]:
    supervisor = int((REPO / ".stack" / "pids" / "celery.pid").read_text().split()[0])
    children = subprocess.run(
        ["pgrep", "-P", str(supervisor)], capture_output=True, text=True, check=False
    ).stdout.split()
    return supervisor, [int(p) for p in children]


def _descendants(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    found = [int(p) for p in out.stdout.split()]
    return found + [d for child in found for d in _descendants(child)]


def test_sigkilled_worker_mid_run_still_yields_exact_counts(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Many small batches, so the kill lands mid-run; a short stall timeout re-dispatches.
    world.edit_profile(**{"generation.batch_size": 100})
    monkeypatch.setenv("SEEDBANK_BATCH_STALL_SECONDS", "6")
    run = subprocess.Popen(
        [str(BIN / "seed_data"), f"--tenant={world.tenant}", f"--env={world.env}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done = world.query("SELECT count(*) FROM seed_checkpoint")[0][0]
        if done >= 5:
            break
        time.sleep(0.05)
    _, workers = _celery_worker_pids()
    assert workers, "no Celery worker under the stack's supervisor"
    victims = [p for w in workers for p in (w, *_descendants(w))]
    for pid in victims:
        os.kill(pid, signal.SIGKILL)
    out, err = run.communicate(timeout=240)
    assert run.returncode == 0, err[-2000:]
    summary = json.loads(out.strip().splitlines()[-1])
    planned = summary["batches_written"] + summary["batches_skipped"]
    assert world.query("SELECT count(*) FROM seed_checkpoint") == [(planned,)]
    counts = summary["counts"]
    for entity, count in counts.items():
        assert world.query(f"SELECT count(*) FROM {entity}") == [(count,)], entity
    _, restarted = _celery_worker_pids()
    assert restarted, "the supervisor did not restart the worker"
    assert set(restarted).isdisjoint(workers)


def _deployment_run(world: World) -> subprocess.CompletedProcess[str]:
    return deployment_run(world, "seed/tenant", {"tenant": world.tenant, "env": world.env})


def test_deployment_run_exits_0_on_success_and_1_when_a_guard_fails(world: World) -> None:
    ok = _deployment_run(world)
    assert ok.returncode == 0, ok.stdout[-2000:] + ok.stderr[-2000:]
    assert world.query("SELECT status FROM seed_run") == [("succeeded",)]
    world.edit_profile(**{"pii.salt_version": 7})
    failed = _deployment_run(world)
    assert failed.returncode == 1
    assert ("salt_mismatch", "refused") in [e[:2] for e in world.audit_events()]


def test_a_failed_flow_run_retried_like_the_ui_does_completes(world: World) -> None:
    """The UI's Retry puts the same flow run back to AwaitingRetry; the worker re-runs it."""
    world.edit_profile(**{"pii.salt_version": 9})
    failed = _deployment_run(world)
    assert failed.returncode == 1
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(sort=FlowRunSort.EXPECTED_START_TIME_DESC, limit=30)
        mine = [
            r
            for r in runs
            if r.parameters.get("tenant") == world.tenant and r.state_type == StateType.FAILED
        ]
        assert len(mine) == 1
        run_id = mine[0].id
        world.edit_profile(**{"pii.salt_version": 1})  # the operator fixes the cause
        client.set_flow_run_state(run_id, AwaitingRetry(), force=True)
        deadline = time.monotonic() + 180
        state = client.read_flow_run(run_id).state
        while time.monotonic() < deadline and (state is None or not state.is_final()):
            time.sleep(1)
            state = client.read_flow_run(run_id).state
    assert state is not None
    assert state.type == StateType.COMPLETED, state
    assert world.query("SELECT status FROM seed_run ORDER BY started_at") == [("succeeded",)]
