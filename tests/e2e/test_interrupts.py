"""Ctrl-C during a seed stops at a batch boundary and says what is written (issue 16).

The batches go through the stack's Celery worker; the interruption, the message, the
`seed_run` status and the audit row are the flow's (this process tree's) code.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.world import World

pytestmark = pytest.mark.e2e
BIN = Path(sys.executable).parent


def _seed(world: World) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(BIN / "seed_data"), f"--tenant={world.tenant}", f"--env={world.env}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sigint_mid_seed_stops_records_partial_and_the_rerun_completes(world: World) -> None:
    world.edit_profile(**{"generation.batch_size": 100})
    run = _seed(world)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and run.poll() is None:
        if world.query("SELECT count(*) FROM seed_checkpoint")[0][0] >= 5:
            break
        time.sleep(0.05)
    run.send_signal(signal.SIGINT)
    _, err = run.communicate(timeout=120)
    assert run.returncode == 130, err[-2000:]
    assert "Traceback" not in err
    assert "stopped by SIGINT at a batch boundary" in err
    assert "batches are written and checkpointed; a re-run writes only the missing batches" in err
    assert world.query("SELECT status FROM seed_run") == [("partial",)]
    assert ("interrupted", "failed") in [e[:2] for e in world.audit_events()]
    again = _seed(world)
    _, err = again.communicate(timeout=240)
    assert again.returncode == 0, err[-2000:]
