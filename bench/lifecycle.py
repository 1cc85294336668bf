"""The lifecycle at bench volume (issue 14): on the bench dataset just seeded, time what
replaces or removes it — purge, a load-mode re-run (purges first), expurge of an expired
dataset, two DR drills and forget — each through the `seed_data` CLI, as an operator
runs it; and the DR drill of the homolog volume beside a fresh seed of it.

Order, in the main phase's database and tenant: purge the baseline; seed a load dataset
(not timed); re-run it (timed: purge + seed); expire it and expurge it; a first DR drill
on the empty DR target (its expected digest: the generator's; nothing lost); a second one
(expected: the digest the first one sealed; the loss: the purge of the dr dataset);
forget the tenant (removes the dr dataset).
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    """purge_s, load_seed_s, load_rerun_s, expurge_s, dr_drill_first_s, dr_drill_s
    (dr_restore_first_s, dr_restore_s: their seeds), forget_s."""
    rows: dict[str, int] = field(default_factory=dict)
    """Rows each step deleted (or the drill restored); dr_lost*: the drills' loss."""
    dr_digest_equal: bool = False
    """Both drills' digests equal."""
    dr_sources: dict[str, str] = field(default_factory=dict)
    """Each drill's expected-digest source (`generator`, `sealed-evidence`)."""

    def figures(self) -> dict[str, float]:
        """The keys of the final JSON line: seconds and rows/s of each step."""
        out: dict[str, float] = {k: round(v, 2) for k, v in self.seconds.items()}
        for step in ("purge", "expurge", "forget"):
            if self.seconds.get(f"{step}_s"):
                out[f"{step}_rows_per_s"] = round(self.rows[step] / self.seconds[f"{step}_s"])
        if self.seconds.get("dr_drill_s") and self.seed_s:
            out["dr_drill_vs_seed"] = round(self.seconds["dr_drill_s"] / self.seed_s, 3)
        out["dr_digest_equal"] = float(self.dr_digest_equal)
        return out


@dataclass
class HomologPair:
    """A fresh seed of the homolog volume and DR drills of it (issue 14's 10 % target)."""

    rows: int
    seed_s: float
    drill_first_s: float = 0.0
    """The first drill: empty DR target, expected digest from the generator."""
    drill_s: float = 0.0
    """The second drill: the loss of the dr dataset, expected digest from its sealed run."""
    restore_s: float = 0.0
    sources: dict[str, str] = field(default_factory=dict)
    digest_equal: bool = False
    pairs: list[tuple[float, float, float]] = field(default_factory=list)
    """Each measured (seed, first drill, drill) when this is the mean of several."""

    @classmethod
    def mean(cls, runs: list[HomologPair]) -> HomologPair:
        """One pair's figures as the mean of `runs` (a ~7 s CLI run varies by ±1.5 s here:
        one pair alone can read 0.8 x or 1.3 x)."""
        n = len(runs)
        return cls(
            rows=runs[0].rows,
            seed_s=sum(r.seed_s for r in runs) / n,
            drill_first_s=sum(r.drill_first_s for r in runs) / n,
            drill_s=sum(r.drill_s for r in runs) / n,
            restore_s=sum(r.restore_s for r in runs) / n,
            sources=runs[-1].sources,
            digest_equal=all(r.digest_equal for r in runs),
            pairs=[(r.seed_s, r.drill_first_s, r.drill_s) for r in runs],
        )

    def figures(self) -> dict[str, float]:
        return {
            "homolog_rows": self.rows,
            "homolog_pairs": len(self.pairs) or 1,
            "homolog_seed_s": round(self.seed_s, 2),
            "homolog_dr_drill_first_s": round(self.drill_first_s, 2),
            "homolog_dr_drill_s": round(self.drill_s, 2),
            "homolog_dr_restore_s": round(self.restore_s, 2),
            "homolog_dr_drill_vs_seed": round(self.drill_s / self.seed_s, 3) if self.seed_s else 0,
            "homolog_dr_digest_equal": float(self.digest_equal),
        }


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


def _drill(
    t: BenchTenant, env: Mapping[str, str], log: Path, label: str
) -> tuple[float, dict[str, Any]]:
    """One `seed_data dr-drill` of `t`: wall seconds and its report."""
    argv = ["dr-drill", f"--tenant={t.tenant}", f"--env={t.env}"]
    seconds, stdout = _cli([*argv, f"--breakglass={seeding.BREAKGLASS}"], env, log, label)
    report: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    return seconds, report


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
    equal = True
    for name in ("dr_drill_first", "dr_drill"):
        seconds, drill = _drill(t, env, log, name)
        out.seconds[f"{name}_s"] = seconds
        out.seconds[name.replace("drill", "restore") + "_s"] = float(drill["restore_seconds"])
        out.rows[name] = sum(int(n) for n in drill["counts"].values())  # restored
        out.rows[name.replace("drill", "lost")] = int(drill["rows_lost"])
        out.dr_sources[name] = str(drill.get("expected_source"))
        equal = equal and bool(drill.get("digest_equal"))
        emit(
            f"lifecycle: {name} in {seconds:.1f} s (expected digest: {drill['expected_source']};"
            f" {drill['rows_lost']:,} rows lost, restore {drill['restore_seconds']:.1f} s)"
        )
    out.dr_digest_equal = equal
    step("forget", ["forget", *target])
    return out


def run_homolog_pair(
    t: BenchTenant, env: Mapping[str, str], log_dir: Path, *, say: Callable[[str], None]
) -> HomologPair:
    """A fresh seed of `t` (the homolog volume), then two DR drills of it (first on the
    empty DR target, then the steady state: loss of the dr dataset, sealed expectation)."""
    log = log_dir / "homolog.log"
    log.unlink(missing_ok=True)
    seeded = seeding.run_seed(t, env, log_dir / "homolog-seed.log", label="homolog", quiet=True)
    pair = HomologPair(seeded.rows, seeded.seconds)
    say(f"homolog: fresh seed of {seeded.rows:,} rows in {seeded.seconds:.1f} s")
    pair.drill_first_s, first = _drill(t, env, log, "homolog dr-drill (first)")
    pair.drill_s, second = _drill(t, env, log, "homolog dr-drill")
    pair.restore_s = float(second["restore_seconds"])
    pair.sources = {"first": first["expected_source"], "second": second["expected_source"]}
    pair.digest_equal = bool(first["digest_equal"]) and bool(second["digest_equal"])
    say(
        f"homolog: DR drill {pair.drill_s:.1f} s ({pair.drill_s / seeded.seconds:.2f} x the"
        f" seed; expected digest: {second['expected_source']}, {second['rows_lost']:,} rows"
        f" lost); first drill {pair.drill_first_s:.1f} s ({first['expected_source']})"
    )
    return pair
