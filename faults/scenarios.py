"""The scripted faults: each injects one, lets the run end, re-runs and checks the data."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from faults.world import ENV, CliRun, World

MID_RUN = 5
"""Checkpoints written before a "mid-run" fault is injected."""


@dataclass
class Outcome:
    name: str
    outcome: str = ""
    exit_code: int | None = None
    seconds_to_fail_closed: float | None = None
    seconds_to_recover: float | None = None
    message: str = ""
    rerun_exit_code: int | None = None
    rows_lost: int = 0
    rows_duplicated: int = 0
    digest_mismatch: bool = False
    verify_exit_code: int | None = None
    evidence_sealed: int = 0
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Campaign:
    world: World
    clean_digest: str = ""
    clean_seconds: float = 0.0
    worker_kills: int = 0
    results: list[Outcome] = field(default_factory=list)

    # --- the data check after every fault ------------------------------------------

    def recover(self, out: Outcome, restored_at: float) -> None:
        """Re-run at once, then: counts = manifest, no duplicates, same digest, verify, sealed."""
        rerun = self.world.seed().wait()
        out.rerun_exit_code = rerun.code
        out.seconds_to_recover = round(time.monotonic() - restored_at, 1)
        summary = rerun.summary
        counts, twice = self.world.stored()
        expected = self.world.expected()
        out.rows_lost = sum(max(0, expected[e] - counts.get(e, 0)) for e in expected)
        out.rows_duplicated = twice + sum(max(0, counts.get(e, 0) - expected[e]) for e in expected)
        out.digest_mismatch = summary.get("dataset_digest") != self.clean_digest
        verify = self.world.start("verify", "--tenant", self.world.tenant, "--env", ENV).wait()
        out.verify_exit_code = verify.code
        if summary.get("run_id"):
            out.evidence_sealed = self.world.evidence_rows(summary["run_id"])
        held = (
            rerun.code == 0
            and out.rows_lost == 0
            and out.rows_duplicated == 0
            and not out.digest_mismatch
            and verify.code == 0
            and out.evidence_sealed == 1
        )
        if not held:
            out.outcome = "DATA NOT HELD"
            out.detail["rerun"] = rerun.sentence or rerun.stderr[-400:]

    def purge(self) -> None:
        done = self.world.start(
            "purge", "--tenant", self.world.tenant, "--env", ENV, "--wait", "60"
        )
        if done.wait().code != 0:
            raise SystemExit(f"faults: the purge between scenarios failed: {done.sentence}")

    def failed_closed(self, out: Outcome, run: CliRun, fault_at: float) -> None:
        out.exit_code, out.message = run.code, run.sentence
        if run.code != 0 and run.ended is not None:
            out.seconds_to_fail_closed = round(run.ended - fault_at, 1)
        out.outcome = "completed" if run.code == 0 else f"failed closed (exit {run.code})"

    # --- scenarios -----------------------------------------------------------------

    def clean(self) -> None:
        run = self.world.seed().wait()
        if run.code != 0:
            raise SystemExit(f"faults: the clean run failed (exit {run.code}): {run.sentence}")
        self.clean_digest = str(run.summary["dataset_digest"])
        self.clean_seconds = run.seconds
        out = Outcome("clean run", outcome="completed", exit_code=0)
        out.detail["seconds"] = run.seconds
        self.recover(out, time.monotonic())
        self.results.append(out)

    def worker_sigkills(self, kills: int, *, whole_tree: bool = False) -> None:
        """SIGKILL a Celery pool process every 0.5 s while the run lasts (up to `kills`)."""
        self.purge()
        name = "whole worker SIGKILLed + restarted" if whole_tree else "pool processes SIGKILLed"
        out = Outcome(name)
        run = self.world.seed()
        self.world.wait_checkpoints(MID_RUN, run)
        fault_at = time.monotonic()
        done = 0
        while run.proc.poll() is None and done < kills:
            if whole_tree:
                self.world.stack.restart_worker()
                done += 1
                break
            if self.world.stack.kill_pool_child():
                done += 1
            time.sleep(0.5)
        self.worker_kills += done
        run.wait()
        self.failed_closed(out, run, fault_at)
        out.detail.update(kills=done, run_seconds=run.seconds, clean_seconds=self.clean_seconds)
        if run.code != 0:
            out.outcome = f"FAILED (exit {run.code})"
        self.recover(out, time.monotonic())
        self.results.append(out)

    def outage(
        self,
        name: str,
        *,
        down: Callable[[], None],
        up: Callable[[], None],
        at: int = MID_RUN,
        down_s: float | None = 10.0,
    ) -> None:
        """`down` once `at` checkpoints exist; `up` after `down_s` (or when the run ends)."""
        self.purge()
        out = Outcome(name)
        run = self.world.seed()
        reached = self.world.wait_checkpoints(at, run)
        fault_at = time.monotonic()
        down()
        if down_s is not None:
            deadline = fault_at + down_s
            while time.monotonic() < deadline and run.proc.poll() is None:
                time.sleep(0.1)
            up()
            restored_at = time.monotonic()
            run.wait()
        else:
            run.wait()
            up()
            restored_at = time.monotonic()
        self.failed_closed(out, run, fault_at)
        out.detail["fault_injected_mid_run"] = reached
        if run.summary.get("run_id") is None and run.code != 0:
            out.detail["seed_run_status"] = self._last_status()
        self.recover(out, restored_at)
        self.results.append(out)

    def cli_sigkill(self) -> None:
        self.purge()
        out = Outcome("CLI SIGKILLed mid-run")
        run = self.world.seed()
        self.world.wait_checkpoints(MID_RUN, run)
        run.proc.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        run.wait()
        self.failed_closed(out, run, killed_at)
        out.outcome = "killed"
        self.recover(out, killed_at)
        out.detail["killed_run_status_after_rerun"] = self._status_of_killed()
        self.results.append(out)

    def lock_takeover(self) -> None:
        """pg_terminate_backend on the run's lock session while a 2nd run waits for the lock.

        The second run (`--wait`) polls the lock every 0.5 s and takes it once the first
        run's session dies; the first must then stop writing. The first run's heartbeat
        re-takes a lock its dead session freed if it gets there first (by design), so the
        first CLI is held (SIGSTOP) until the second holds the lock: without that, one run
        in two here let the first win the race and both succeed one after the other.
        """
        self.purge()
        out = Outcome("lock session terminated + 2nd run")
        first = self.world.seed()
        pid = None
        while first.proc.poll() is None and pid is None:
            pid = self.world.lock_backend()
            time.sleep(0.1)
        self.world.wait_checkpoints(MID_RUN, first)
        # Hold the first run mid-flight (its worker frozen) until the second one polls.
        self.world.stack.pause_worker(paused=True)
        out.detail["checkpoints_at_pause"] = self.world.checkpoints()
        out.detail["batches"] = self.world.batches()
        second = self.world.start("--tenant", self.world.tenant, "--env", ENV, "--wait", "300")
        waiting = self.world.wait_polling(exclude=pid, run=second)
        first.proc.send_signal(signal.SIGSTOP)
        fault_at = time.monotonic()
        if pid is not None:
            self.world.terminate(pid)
        deadline = fault_at + 10.0  # the poller takes the freed lock within 0.5 s
        while time.monotonic() < deadline and self.world.lock_backend() in (None, pid):
            time.sleep(0.1)
        out.detail["second_took_the_lock"] = self.world.lock_backend() not in (None, pid)
        first.proc.send_signal(signal.SIGCONT)
        self.world.stack.pause_worker(paused=False)
        first.wait()
        second.wait()
        both = first.code == 0 and second.code == 0
        out.exit_code = first.code
        out.message = first.sentence
        if first.code and first.ended is not None:
            out.seconds_to_fail_closed = round(first.ended - fault_at, 1)
        out.outcome = "BOTH SUCCEEDED" if both else f"1st exit {first.code}, 2nd exit {second.code}"
        out.detail.update(
            lock_pid_found=pid is not None,
            second_was_waiting=waiting,
            second_exit_code=second.code,
            second_message=second.sentence,
        )
        self.recover(out, time.monotonic())
        self.results.append(out)

    def _last_status(self) -> str | None:
        with self.world.admin() as conn:
            row = conn.execute(
                "SELECT status FROM seed_run WHERE tenant_id = %s ORDER BY started_at DESC LIMIT 1",
                (self.world.tenant_id,),
            ).fetchone()
        return str(row[0]) if row else None

    def _status_of_killed(self) -> list[str]:
        with self.world.admin() as conn:
            rows = conn.execute(
                "SELECT status FROM seed_run WHERE tenant_id = %s ORDER BY started_at DESC LIMIT 3",
                (self.world.tenant_id,),
            ).fetchall()
        return [str(r[0]) for r in rows]
