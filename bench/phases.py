"""The bench's phases, each in its own scratch database dropped at its end."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from pathlib import Path

import psycopg
import redis

from bench import ceiling, naive, scratch, seeding, workers
from bench.components import MEASURED, ComponentCpu, ComponentSampler, PhaseFigures
from bench.lifecycle import HomologPair, LifecycleRun, run_homolog_pair, run_lifecycle
from bench.probes import CpuMeter, MemoryPeak, WalMeter
from bench.scratch import REPORTS, BenchTenant
from factories.spec import DatasetSpec
from seedbank.adapters.migrations import ScratchDatabase
from seedbank.adapters.vault import VaultClient
from seedbank.domain.manifest import parse_manifest
from seedbank.services.seeding.dataset import dataset_spec


def say(text: str) -> None:
    print(f"bench {time.strftime('%H:%M:%S')} {text}", flush=True)


def bench_env(
    db: ScratchDatabase | None = None, tenant: BenchTenant | None = None
) -> dict[str, str]:
    """The stack's env with the bench's Redis databases, bucket, database and profiles."""
    env = dict(os.environ)
    env.pop("SEEDBANK_API_BASE_URL", None)  # the stack's API serves the demo database only
    env["SEEDBANK_BROKER_URL"] = scratch.redis_db(env["SEEDBANK_BROKER_URL"], scratch.BROKER_DB)
    env["SEEDBANK_REDIS_URL"] = scratch.redis_db(env["SEEDBANK_REDIS_URL"], scratch.SLOTS_DB)
    env["SEEDBANK_EVIDENCE_BUCKET"] = scratch.BUCKET
    if db is not None:
        env["SEEDBANK_DATABASE_URL"] = db.app_url
        env["SEEDBANK_ADMIN_DATABASE_URL"] = db.admin_url
    if tenant is not None:
        env["SEEDBANK_PROFILES_DIR"] = str(tenant.profiles)
    return env


def quiet_server() -> None:
    """Start each phase from a flushed server and empty bench queues (fair comparisons)."""
    for db in (scratch.BROKER_DB, scratch.SLOTS_DB):
        redis.Redis.from_url(scratch.redis_db(scratch.need("SEEDBANK_REDIS_URL"), db)).flushdb()
    with psycopg.connect(scratch.need("SEEDBANK_PG_SERVER_URL"), autocommit=True) as conn:
        conn.execute("CHECKPOINT")
    time.sleep(2)


@dataclass(frozen=True)
class SeedPhase:
    run: seeding.SeedRun
    memory: MemoryPeak
    cpu_busy: float
    lifecycle: LifecycleRun | None = None
    """Purge, load re-run, expurge, DR drill and forget of this dataset (issue 14)."""
    label: str = ""
    seeding_cpu: tuple[ComponentCpu, float] | None = None
    """Core-seconds within the seeding stage alone, and the stage's seconds (the stage the
    2-workers / 1 target judges, without start-up and verify)."""


def seed_phase(
    label: str,
    env_name: str,
    root: Path,
    pool: workers.Workers,
    *,
    fraction: float,
    batch_size: int | None,
    lifecycle: bool = False,
) -> SeedPhase:
    quiet_server()
    tenant = scratch.bench_tenant(env_name, root, fraction=fraction, batch_size=batch_size)
    with tenant as t, scratch.bench_database(label) as db:
        say(f"{label}: seeding {t.rows:,} rows of {env_name} ({t.tenant}) into {db.name}")
        pool.sampler.take()
        cpu, wal = CpuMeter(), WalMeter(scratch.need("SEEDBANK_PG_SERVER_URL"))
        with ComponentSampler(db.name, pool.pid) as parts:
            run = seeding.run_seed(t, bench_env(db, t), REPORTS / f"{label}.log", label=label)
        MEASURED[label] = PhaseFigures(parts.result, wal.written(), run.rows)
        stage = run.windows.get("seed-entities")
        seeding_cpu = (parts.window(*stage), stage[1] - stage[0]) if stage else None
        phase = SeedPhase(
            run, pool.sampler.take(), cpu.busy(), label=label, seeding_cpu=seeding_cpu
        )
        say(f"{label}: {run.rows:,} rows in {run.seconds:.1f} s; stages (s) {run.stages}")
        if lifecycle:
            cycle = run_lifecycle(
                t, db, bench_env(db, t), REPORTS, seed_rows=run.rows, seed_s=run.seconds, say=say
            )
            phase = replace(phase, lifecycle=cycle)
    return phase


HOMOLOG_PAIRS = 2


def homolog_phase(root: Path) -> HomologPair:
    """profiles/homolog/acme.yaml's volume as a bench tenant in its own database: a fresh
    seed of it, then DR drills of it (issue 14: the drill within 10 % of the seed); twice,
    each in a database of its own, and the mean of both."""
    runs = []
    for _ in range(HOMOLOG_PAIRS):
        quiet_server()
        with scratch.bench_tenant("homolog", root) as t, scratch.bench_database("homolog") as db:
            say(f"homolog: {t.rows:,} rows of homolog ({t.tenant}) into {db.name}")
            runs.append(run_homolog_pair(t, bench_env(db, t), REPORTS, say=say))
    return HomologPair.mean(runs)


def _spec_and_salt(t: BenchTenant) -> tuple[DatasetSpec, bytes]:
    manifest = parse_manifest(t.profile().read_text(), source=str(t.profile()))
    vault = VaultClient(scratch.need("VAULT_ADDR"), scratch.need("VAULT_TOKEN"))
    return dataset_spec(manifest), vault.read_salt(t.env, t.tenant, version=1).value


def ceiling_phase(
    root: Path, *, fraction: float, loaders: int, label: str = "ceiling"
) -> tuple[ceiling.CeilingRun, float]:
    """The same rows (same manifest, a salt of its own) COPYed by `loaders` processes."""
    quiet_server()
    with scratch.bench_tenant("bench", root, fraction=fraction) as t:
        spec, salt = _spec_and_salt(t)
        with scratch.bench_database("ceiling") as db:
            say(f"{label}: {loaders} loader(s) generate {t.rows:,} rows (not timed), then COPY")
            cpu, wal = CpuMeter(), WalMeter(scratch.need("SEEDBANK_PG_SERVER_URL"))
            with ComponentSampler(db.name, None) as parts:  # includes the untimed generation
                run = ceiling.run_ceiling(db.admin_url, spec, salt, loaders=loaders, cpu=cpu)
            busy = cpu.busy()
            MEASURED[label] = PhaseFigures(parts.result, wal.written(), run.rows)
            stored = ceiling.stored_rows(db.admin_url)
    if stored != run.rows:
        raise SystemExit(f"bench: the ceiling stored {stored} rows, expected {run.rows}")
    say(f"{label}: {run.rows:,} rows in {run.seconds:.1f} s ({run.rows / run.seconds:,.0f} rows/s)")
    return run, busy


def naive_phase(root: Path, *, fraction: float) -> naive.NaiveRun:
    quiet_server()
    with scratch.bench_tenant("bench", root, fraction=fraction) as t:
        spec, salt = _spec_and_salt(t)
        with scratch.bench_database("naive") as db:
            say(f"naive: factory-boy build + SQLModel add_all of {t.rows:,} rows ({fraction:.0%})")
            run = naive.run_naive(db.app_url, spec, salt)
    say(f"naive: {run.rows:,} rows in {run.seconds:.1f} s (build {run.build_s:.1f} s)")
    return run
