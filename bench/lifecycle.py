"""The lifecycle at bench volume (issue 14): on the bench dataset just seeded, time what
replaces or removes it — purge, a load-mode re-run (purges first), expurge of an expired
dataset, a DR drill (regenerate + digest equality) and forget — each through the
`seed_data` CLI, as an operator runs it.

Order, in the main phase's database and tenant: purge the baseline; seed a load dataset
(not timed); re-run it (timed: purge + seed); expire it and expurge it; DR drill (seeds
the dr dataset); forget the tenant (removes the dr dataset).
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import yaml

from bench import seeding
from bench.scratch import BenchTenant
from factories.spec import ENTITIES
from seedbank.adapters.migrations import ScratchDatabase

LOG_NAME = "lifecycle.log"


@dataclass
class LifecycleRun:
    seed_rows: int
    seed_s: float
    seconds: dict[str, float] = field(default_factory=dict)
    """purge_s, load_seed_s, load_rerun_s, expurge_s, dr_drill_s (dr_restore_s: its seed),
    forget_s."""
    rows: dict[str, int] = field(default_factory=dict)
    """Rows each step deleted (or the drill restored)."""
    dr_digest_equal: bool = False

    def figures(self) -> dict[str, float]:
        """The keys of the final JSON line: seconds and rows/s of each step."""
        out: dict[str, float] = {k: round(v, 2) for k, v in self.seconds.items()}
        for step in ("purge", "expurge", "forget"):
            if self.seconds.get(f"{step}_s"):
                out[f"{step}_rows_per_s"] = round(self.rows[step] / self.seconds[f"{step}_s"])
        out["dr_digest_equal"] = float(self.dr_digest_equal)
        return out


def _cli(argv: list[str], env: Mapping[str, str], log: Path, label: str) -> tuple[float, str]:
    """Run `seed_data <argv>`; wall seconds and stdout. A failure ends the bench."""
    started = time.monotonic()
    done = subprocess.run(  # noqa: S603 - our own venv's seed_data, fixed arguments
        [str(seeding.VENV_BIN / "seed_data"), *argv],
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.monotonic() - started
    with log.open("a") as sink:
        sink.write(f"== {label}: exit {done.returncode} in {seconds:.1f} s\n")
        sink.write(done.stderr[-20_000:] + done.stdout[-5_000:])
    if done.returncode != 0:
        raise SystemExit(f"bench: lifecycle {label}: seed_data exited {done.returncode}; see {log}")
    return seconds, done.stdout


def _set_mode(t: BenchTenant, mode: str) -> None:
    data = yaml.safe_load(t.profile().read_text())
    data["mode"] = mode
    t.profile().write_text(yaml.safe_dump(data, sort_keys=False))


def _expire(db: ScratchDatabase, mode: str) -> None:
    """Back-date the dataset's TTL (the owner role: what time passing would do)."""
    with psycopg.connect(db.admin_url) as conn:
        conn.execute(
            "UPDATE seed_checkpoint SET expires_at = now() - interval '1 hour' WHERE mode = %s",
            (mode,),
        )


def _rows(db: ScratchDatabase) -> int:
    """Rows of every domain table (exact counts: the deltas are the figures' numerators)."""
    query = " UNION ALL ".join(f'SELECT count(*) FROM "{e}"' for e in ENTITIES)
    with psycopg.connect(db.admin_url) as conn:
        rows = conn.execute(query).fetchall()  # entity names are our own constants
    return sum(int(r[0]) for r in rows)


def run_lifecycle(
    t: BenchTenant,
    db: ScratchDatabase,
    env: Mapping[str, str],
    log_dir: Path,
    *,
    seed_rows: int,
    seed_s: float,
    say: Callable[[str], None],
) -> LifecycleRun:
    """Every lifecycle step on the freshly seeded baseline dataset of `t` in `db`."""
    log = log_dir / LOG_NAME
    log.unlink(missing_ok=True)
    target = [f"--tenant={t.tenant}", f"--env={t.env}"]
    out = LifecycleRun(seed_rows, seed_s)
    emit = say

    def step(name: str, argv: list[str]) -> str:
        before = _rows(db)
        seconds, stdout = _cli(argv, env, log, name)
        out.seconds[f"{name}_s"] = seconds
        out.rows[name] = abs(before - _rows(db))
        emit(f"lifecycle: {name} in {seconds:.1f} s ({out.rows[name]:,} rows changed)")
        return stdout

    step("purge", ["purge", *target, "--mode=baseline"])
    _set_mode(t, "load")
    out.seconds["load_seed_s"] = seeding.run_seed(
        t, env, log_dir / "load.log", label="load", quiet=True
    ).seconds
    emit(f"lifecycle: load dataset seeded in {out.seconds['load_seed_s']:.1f} s (not a step)")
    rerun = seeding.run_seed(t, env, log_dir / "load-rerun.log", label="load-rerun", quiet=True)
    out.seconds["load_rerun_s"] = rerun.seconds
    out.rows["load_rerun"] = rerun.rows
    emit(f"lifecycle: load re-run (purge first) in {rerun.seconds:.1f} s; stages {rerun.stages}")
    _expire(db, "load")
    step("expurge", ["expurge", *target])
    _set_mode(t, "baseline")  # the drill switches to dr itself
    stdout = step("dr_drill", ["dr-drill", *target, f"--breakglass={seeding.BREAKGLASS}"])
    drill = json.loads(stdout.strip().splitlines()[-1])
    out.dr_digest_equal = bool(drill.get("digest_equal"))
    out.seconds["dr_restore_s"] = float(drill.get("restore_seconds", 0.0))
    step("forget", ["forget", *target])
    return out
