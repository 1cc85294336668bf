"""The seedbank path as a user runs it: the `seed_data` CLI (the `seed` Prefect flow,
Celery batches, masking, checkpoints, every gate, sealed evidence), wall-clocked."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from bench.scratch import BenchTenant

VENV_BIN = Path(sys.executable).parent
BREAKGLASS = "make bench: performance benchmark into a scratch database"


@dataclass
class SeedRun:
    seconds: float
    summary: dict[str, Any]
    stages: dict[str, float] = field(default_factory=dict)
    windows: dict[str, tuple[float, float]] = field(default_factory=dict)
    """Per stage, its start and finish on the wall clock (epoch seconds, from the log)."""

    @property
    def rows(self) -> int:
        return int(sum(self.summary.get("counts", {}).values()))

    def gate_seconds(self) -> dict[str, float]:
        return {
            str(g["name"]): float(g.get("figures", {}).get("duration_s", 0.0))
            for g in self.summary.get("gates", [])
        }


def run_seed(
    tenant: BenchTenant, env: Mapping[str, str], log: Path, *, label: str, quiet: bool = False
) -> SeedRun:
    """Run `seed_data --tenant --env` once; progress lines go to stdout, logs to `log`."""
    argv = [str(VENV_BIN / "seed_data"), f"--tenant={tenant.tenant}", f"--env={tenant.env}"]
    if tenant.env != "dev":
        argv.append(f"--breakglass={BREAKGLASS}")  # manual runs outside dev need one (FR-017)
    stages: dict[str, float] = {}
    windows: dict[str, tuple[float, float]] = {}
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    # A fixed argv of our own venv's seed_data.
    proc = subprocess.Popen(  # noqa: S603
        argv, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stderr is not None
    assert proc.stdout is not None
    with log.open("w") as sink:  # one log per phase of the last run
        reader = threading.Thread(
            target=_follow,
            args=(proc.stderr, sink, stages, windows, label, started, quiet),
            daemon=True,
        )
        reader.start()
        out = proc.stdout.read()
        code = proc.wait()
        seconds = time.monotonic() - started
        reader.join(timeout=10)
        sink.write(out)
    if code != 0:
        raise SystemExit(f"bench: {label}: seed_data exited with {code}; see {log}")
    summary = json.loads(out.strip().splitlines()[-1])
    return SeedRun(seconds, summary, stages, windows)


def _follow(
    stream: IO[str],
    sink: IO[str],
    stages: dict[str, float],
    windows: dict[str, tuple[float, float]],
    label: str,
    started: float,
    quiet: bool,
) -> None:
    """Copy the flow's JSON log to `sink`; keep stage durations; echo entity starts."""
    for line in stream:
        sink.write(line)
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if not isinstance(event, dict):
            continue
        if event.get("event") == "stage finished" and "stage" in event:
            stages[str(event["stage"])] = float(event.get("duration_s", 0.0))
            _stage_window(windows, event)
        elif event.get("event") == "stage started" and "stage" in event:
            _stage_window(windows, event)
        if not quiet and event.get("event") in ("entity started", "stage started"):
            what = event.get("entity") or event.get("stage")
            print(f"  [{label} {time.monotonic() - started:6.1f} s] {event['event']}: {what}")
            sys.stdout.flush()


def _stage_window(windows: dict[str, tuple[float, float]], event: dict[str, Any]) -> None:
    """Keep a stage's start and finish from its log lines' timestamps (UTC, ISO 8601)."""
    try:
        when = datetime.fromisoformat(str(event["timestamp"]).replace("Z", "+00:00")).timestamp()
    except (KeyError, ValueError):
        return
    stage = str(event["stage"])
    start, _ = windows.get(stage, (when, when))
    windows[stage] = (start, when) if event["event"] == "stage finished" else (when, when)
