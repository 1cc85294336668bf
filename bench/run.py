"""`make bench`: seedbank end to end beside PostgreSQL's COPY ceiling and a naive peer.

    python -m bench.run [--scale F] [--workers N] [--sample F] [--batch-size N] ...

Prints progress lines, a table, the targets, and ONE final JSON line. Every database
is a scratch one (`seedbank_bench_*`), dropped after its phase; the Celery workers are
the bench's own, on Redis databases of their own. Figures: docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import psycopg

from bench import components, phases, report, scaling, scratch, workers
from bench.ceiling import CeilingRun
from bench.lifecycle import HomologPair, LifecycleRun
from bench.naive import NaiveRun
from bench.phases import SeedPhase, say
from bench.report import Measurement, Repeated
from bench.scratch import REPORTS
from factories.spec import ENTITIES


def arguments(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench", description=(__doc__ or "").splitlines()[0])
    p.add_argument("--scale", type=float, default=1.0, help="fraction of the bench volume")
    p.add_argument("--workers", type=int, default=2, help="Celery pool processes and loaders")
    p.add_argument("--sample", type=float, default=0.1, help="naive peer's sample fraction")
    p.add_argument("--batch-size", type=int, default=None, help="override generation.batch_size")
    p.add_argument("--single-scale", type=float, default=None, help="scale of the 1-worker run")
    p.add_argument("--skip-single", action="store_true", help="no 1-worker run")
    p.add_argument("--skip-naive", action="store_true", help="no naive peer")
    p.add_argument("--skip-dev", action="store_true", help="no dev baseline")
    p.add_argument(
        "--skip-lifecycle", action="store_true", help="no purge/re-run/expurge/DR/forget timings"
    )
    p.add_argument(
        "--repeat",
        type=int,
        choices=range(1, 4),
        default=2,
        metavar="{1,2,3}",
        help="runs of the ceiling, the 2-worker and the 1-worker seed each (their mean is judged)",
    )
    return p.parse_args(argv)


def competing_load() -> list[str]:
    """Other engineers' test suites distort every figure: name them in the output."""
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True, check=False)  # noqa: S607
    return [line.strip() for line in out.stdout.splitlines() if "pytest" in line]


def machine() -> dict[str, Any]:
    with psycopg.connect(scratch.need("SEEDBANK_PG_SERVER_URL")) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"nproc": os.cpu_count(), "ram_gib": round(ram, 1), "postgres": row[0] if row else "?"}


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    REPORTS.mkdir(parents=True, exist_ok=True)
    busy = competing_load()
    for line in busy:
        say(f"WARNING: another test run shares the CPUs, figures will be distorted: {line[:90]}")
    scratch.ensure_bucket()
    wlog, env = REPORTS / "celery.log", phases.bench_env()
    wlog.unlink(missing_ok=True)  # the workers of this run only
    batch, repeat = args.batch_size, args.repeat
    machine_scaling = scaling.Scaling()
    with tempfile.TemporaryDirectory(prefix="bench-profiles-") as tmp:
        root = Path(tmp)
        # Cross-phase ratios compare phases minutes apart on a VM whose speed drifts: each
        # side is measured `repeat` times, in the order ceiling, 2 workers, 1 worker (x
        # repeat), 2 workers, ceiling, so that a drift during the run weighs on both sides.
        ceilings = [phases.ceiling_phase(root, fraction=args.scale, loaders=args.workers)]
        with workers.celery_workers(args.workers, env, wlog) as pool:
            dev = None
            if not args.skip_dev:
                dev = phases.seed_phase("dev", "dev", root, pool, fraction=1.0, batch_size=None)
            if not args.skip_single:
                machine_scaling.extend(_scaling("before the 2-worker run"))
            seeds = [
                phases.seed_phase(
                    "seedbank",
                    "bench",
                    root,
                    pool,
                    fraction=args.scale,
                    batch_size=batch,
                    lifecycle=not args.skip_lifecycle,
                )
            ]
            homolog = None if args.skip_lifecycle else phases.homolog_phase(root)
        singles: list[SeedPhase] = []
        if not args.skip_single:
            fraction = args.single_scale or args.scale
            with workers.celery_workers(1, env, wlog) as pool1:
                singles += [
                    phases.seed_phase(
                        _nth("single", k), "bench", root, pool1, fraction=fraction, batch_size=batch
                    )
                    for k in range(repeat)
                ]
            machine_scaling.extend(_scaling("after the 1-worker run"))
        if repeat > 1:
            with workers.celery_workers(args.workers, env, wlog) as pool:
                seeds += [
                    phases.seed_phase(
                        _nth("seedbank", k),
                        "bench",
                        root,
                        pool,
                        fraction=args.scale,
                        batch_size=batch,
                    )
                    for k in range(1, repeat)
                ]
        ceilings += [
            phases.ceiling_phase(
                root, fraction=args.scale, loaders=args.workers, label=_nth("ceiling", k)
            )
            for k in range(1, repeat)
        ]
        ceiling_scaling = None
        if not args.skip_single:
            one_loader, _ = phases.ceiling_phase(
                root, fraction=args.scale, loaders=1, label="ceiling-1-loader"
            )
            ceiling_scaling = one_loader.seconds / ceilings[-1][0].seconds  # the one beside it
        naive_run = (
            None if args.skip_naive else phases.naive_phase(root, fraction=args.scale * args.sample)
        )
    figures = summarise(
        args,
        seeds,
        singles,
        dev,
        ceilings,
        naive_run,
        homolog=homolog,
        machine_scaling=machine_scaling,
        ceiling_scaling=ceiling_scaling,
    )
    figures["cpu_by_component"] = components.report()
    figures["seeding_stage_cpu"] = _seeding_cores([dev, seeds[0], *singles, *seeds[1:]])
    figures["machine"], figures["competing_test_runs"] = machine(), busy
    (REPORTS / "last.json").write_text(json.dumps(figures, indent=2, default=str))
    print(figures["final_json"])  # the one machine-readable line, last
    return 0


def _nth(label: str, k: int) -> str:
    """The phase label of repetition k (0: the label itself); also names its database."""
    return label if k == 0 else f"{label}_{k + 1}"


def _scaling(when: str) -> scaling.Scaling:
    measured = scaling.measure(scratch.need("SEEDBANK_PG_SERVER_URL"))
    say(
        f"machine, {when}: two busy processes do {measured.median()} x one's work (2 = 2"
        f" cores); {measured.speed()}"
    )
    return measured


def _stage(phase: SeedPhase, name: str) -> float:
    return phase.run.stages.get(name, 0.0)


def _each(label: str, figure: Repeated) -> str:
    return f"mean of {len(figure.values)} runs ({label}: {figure.text()})"


def summarise(
    args: argparse.Namespace,
    seeds: list[SeedPhase],
    singles: list[SeedPhase],
    dev: SeedPhase | None,
    ceilings: list[tuple[CeilingRun, float]],
    naive_run: NaiveRun | None,
    *,
    homolog: HomologPair | None = None,
    machine_scaling: scaling.Scaling | None = None,
    ceiling_scaling: float | None = None,
) -> dict[str, Any]:
    """Print the table, the per-entity comparison and the targets; return every figure.

    Figures judged across phases (the ratio to the ceiling, core-seconds, 2 workers / 1)
    take the mean of every repetition of each side; the per-entity, stage and gate lines
    are the first 2-worker run's (the one the lifecycle steps follow).
    """
    main_run, ceiling_run = seeds[0], ceilings[0][0]
    seed_run, rows = main_run.run, main_run.run.rows
    ceiling_s = Repeated(tuple(c.seconds for c, _ in ceilings))
    seed_s = Repeated(tuple(p.run.seconds for p in seeds))
    seeding = Repeated(tuple(_stage(p, "seed-entities") for p in seeds))
    verify = Repeated(tuple(_stage(p, "verify") for p in seeds))
    ceiling_busy = sum(b * c.seconds for c, b in ceilings) / sum(ceiling_s.values)
    seedbank_busy = sum(p.cpu_busy * p.run.seconds for p in seeds) / sum(seed_s.values)
    repeated = len(ceilings) > 1
    ceil = Measurement(
        f"ceiling: binary COPY, {args.workers} loaders, rows pre-generated",
        ceiling_run.rows,
        ceiling_s.mean,
        note=f"CPU {ceiling_busy:.0%} busy during the loads"
        + (f"; {_each('each', ceiling_s)}" if repeated else ""),
    )
    seed = Measurement(
        f"seedbank: seed flow end to end, {args.workers} Celery workers",
        rows,
        seed_s.mean,
        note="CLI start to sealed evidence: guards, lock, salt, WORM, batches, every gate;"
        f" CPU {seedbank_busy:.0%} busy" + (f"; {_each('each', seed_s)}" if len(seeds) > 1 else ""),
    )
    table = [ceil, seed, Measurement("seedbank: seeding stage only", rows, seeding.mean)]
    one_rows, speedup = _single_rows(singles, seeding, rows)
    table += one_rows
    if naive_run is not None:
        projected = report.scale_seconds(naive_run.rows, naive_run.seconds, rows)
        table.append(
            Measurement(
                "naive: factory-boy build + SQLModel add_all",
                rows,
                projected,
                projected=True,
                note=f"{naive_run.rows:,}-row sample in {naive_run.seconds:.1f} s (build"
                f" {naive_run.build_s:.1f} s, ORM {naive_run.persist_s:.1f} s), scaled linearly",
            )
        )
    if dev is not None:
        table.append(Measurement("dev baseline: end to end", dev.run.rows, dev.run.seconds))
    cycle = main_run.lifecycle
    if cycle is not None:
        table += lifecycle_rows(cycle)
    if homolog is not None:
        table += homolog_rows(homolog)
    print("\n" + report.render_table(table, ceil))
    found = seed_run.summary.get("counts", {})
    counts = {e: int(found.get(e, 0)) for e in ENTITIES}  # FK order
    # seedbank: from the entity's release (its parents written) to its last batch; entities
    # overlap, so these do not add up. Ceiling: one entity at a time, a barrier after each.
    print("\nper entity (wall s; seedbank's entities overlap, the ceiling's do not):")
    timings = seed_run.summary.get("timings_s", {})
    print(report.render_entities(counts, timings, ceiling_run.per_entity))
    print(f"seedbank stages (s): {seed_run.stages}")
    print(f"seedbank gates (s): {seed_run.gate_seconds()}")
    mem = max((p.memory for p in seeds), key=lambda m: m.process_rss_mb)
    print(
        f"worker memory peaks (MB): one process RSS {mem.process_rss_mb:.0f}; whole tree RSS"
        f" {mem.tree_rss_mb:.0f}, PSS {mem.tree_pss_mb:.0f} ({mem.samples} samples);"
        f" worker CPU {mem.cpu_s:.1f} s over the run"
    )
    budget = report.cpu_budget(
        cores=os.cpu_count() or 1,
        seedbank_s=seed_s.mean,
        seedbank_busy=seedbank_busy,
        ceiling_s=ceiling_s.mean,
        ceiling_busy=ceiling_busy,
    )
    goals = report.targets(
        ratio_to_ceiling=report.ratio(seed.rows_per_s, ceil.rows_per_s),
        dev_seconds=dev.run.seconds if dev else None,
        peak_rss_mb=mem.process_rss_mb,
        worker_speedup=speedup,
        verify_share=verify.mean / seeding.mean if seeding.mean else None,
        core_s_ratio=budget.used_core_s / budget.ceiling_core_s if budget.ceiling_core_s else None,
    )
    print("targets:" + "".join("\n" + g.line() for g in goals))
    _print_repetitions(ceilings, seeds, singles, seeding)
    one, two = _stage_cores(singles), _stage_cores(seeds)
    if one is not None and two is not None:
        print("  " + report.speedup_apart(one, two, os.cpu_count() or 1))
    scaled = machine_scaling.median() if machine_scaling else {}
    if scaled and speedup is not None:
        print(
            f"  beside it, this machine now: two processes of seedbank-shaped work do {scaled} x"
            " one's (2.0 = two cores)"
        )
    if ceiling_scaling is not None:
        print(
            f"  and the COPY ceiling itself (no seedbank): {args.workers} loaders / 1 loader"
            f" {ceiling_scaling:.2f} x (beside the last 2-loader ceiling)"
        )
    print(budget.line())
    return {
        "args": vars(args),
        "table": [asdict(m) | {"rows_per_s": m.rows_per_s} for m in table],
        "stages": seed_run.stages,
        "gates": seed_run.gate_seconds(),
        "entity_timings": seed_run.summary.get("timings_s"),
        "ceiling_per_entity": ceiling_run.per_entity,
        "memory": asdict(mem),
        "cpu_busy": {"seedbank": seedbank_busy, "ceiling": ceiling_busy},
        "cpu_core_seconds": asdict(budget),
        "repetitions": {
            "ceiling_s": ceiling_s.values,
            "seedbank_s": seed_s.values,
            "seeding_s": seeding.values,
            "verify_s": verify.values,
            "single_seeding_s": [_stage(p, "seed-entities") for p in singles],
        },
        "single": {"stages": singles[0].run.stages, "seconds": singles[0].run.seconds}
        if singles
        else None,
        "dev": {"stages": dev.run.stages, "seconds": dev.run.seconds} if dev else None,
        "speedup_seeding_stage": speedup,
        "ceiling_loaders_speedup": ceiling_scaling,
        "machine_scaling": (asdict(machine_scaling) | {"median": scaled})
        if machine_scaling
        else None,
        "targets": [asdict(g) | {"met": g.met} for g in goals],
        "lifecycle": asdict(cycle) if cycle else None,
        "homolog": asdict(homolog) if homolog else None,
        "final_json": report.final_json(
            ceiling=ceil,
            seedbank=seed,
            workers=args.workers,
            peak_worker_rss_mb=mem.process_rss_mb,
            extra={**(cycle.figures() if cycle else {}), **(homolog.figures() if homolog else {})},
        ),
    }


def _single_rows(
    singles: list[SeedPhase], seeding: Repeated, rows: int
) -> tuple[list[Measurement], float | None]:
    """The 1-worker table rows, and 2 workers / 1 on the seeding stage (their means)."""
    if not singles:
        return [], None
    one_s = Repeated(tuple(p.run.seconds for p in singles))
    one_seeding = Repeated(tuple(_stage(p, "seed-entities") for p in singles))
    one_rows = singles[0].run.rows
    note = (
        _each("1 worker", one_seeding) + f"; 2 workers: {seeding.text()}"
        if len(singles) > 1
        else ""
    )
    table = [
        Measurement("seedbank: end to end, 1 Celery worker", one_rows, one_s.mean),
        Measurement("seedbank: seeding stage, 1 worker", one_rows, one_seeding.mean, note=note),
    ]
    same = one_rows == rows and one_seeding.mean > 0 and seeding.mean > 0
    return table, one_seeding.mean / seeding.mean if same else None


def _stage_cores(phases: list[SeedPhase]) -> report.StageCores | None:
    """The seeding stages of these phases together (their sums: a mean over repetitions)."""
    found = [p.seeding_cpu for p in phases if p.seeding_cpu is not None]
    if not found:
        return None
    return report.StageCores(
        seconds=sum(s for _, s in found),
        work_core_s=sum(c.workers + c.postgres for c, _ in found),
        other_core_s=sum(c.flow + c.rest for c, _ in found),
    )


def _seeding_cores(phases: list[SeedPhase | None]) -> dict[str, dict[str, float]]:
    """One line per seed phase (in the order run): its seeding stage's cores in use."""
    out = {}
    for phase in phases:
        if phase is not None and phase.seeding_cpu is not None:
            cpu, seconds = phase.seeding_cpu
            print(cpu.cores_line(phase.label, seconds))
            out[phase.label] = asdict(cpu) | {"seconds": seconds}
    return out


def _print_repetitions(
    ceilings: list[tuple[CeilingRun, float]],
    seeds: list[SeedPhase],
    singles: list[SeedPhase],
    seeding: Repeated,
) -> None:
    """Each repetition's own ratio beside the means the targets judge (the noise, shown)."""
    if len(ceilings) > 1 or len(seeds) > 1:
        each = [
            f"{c.seconds / p.run.seconds:.2f}" for (c, _), p in zip(ceilings, seeds, strict=False)
        ]
        shares = [
            f"{_stage(p, 'verify') / _stage(p, 'seed-entities'):.2f}"
            for p in seeds
            if _stage(p, "seed-entities")
        ]
        print(
            f"  each repetition apart, in order: seedbank / ceiling {', '.join(each)};"
            f" verify / seeding {', '.join(shares)}"
        )
    if len(singles) > 1 and seeding.mean:
        alone = [f"{_stage(p, 'seed-entities') / seeding.mean:.2f}" for p in singles]
        print(f"  each 1-worker run against the mean 2-worker seeding: {', '.join(alone)}")


def lifecycle_rows(cycle: LifecycleRun) -> list[Measurement]:
    """One table row per lifecycle step (rows deleted, or restored, per second)."""
    sec, rows, src = cycle.seconds, cycle.rows, cycle.dr_sources
    vs_seed = f"{{:.2f}} x the seed ({cycle.seed_s:.1f} s)"
    return [
        Measurement("lifecycle: purge (baseline)", rows["purge"], sec["purge_s"],
                    note=vs_seed.format(sec["purge_s"] / cycle.seed_s)),
        Measurement("lifecycle: load re-run (purge + seed)", rows["load_rerun"],
                    sec["load_rerun_s"], note=f"first load seed {sec['load_seed_s']:.1f} s"),
        Measurement("lifecycle: expurge (expired load)", rows["expurge"], sec["expurge_s"],
                    note=vs_seed.format(sec["expurge_s"] / cycle.seed_s)),
        Measurement("lifecycle: DR drill, first (empty DR target)", rows["dr_drill_first"],
                    sec["dr_drill_first_s"], note=f"expected digest: {src['dr_drill_first']};"
                    f" restore {sec['dr_restore_first_s']:.1f} s; "
                    + vs_seed.format(sec["dr_drill_first_s"] / cycle.seed_s)),
        Measurement("lifecycle: DR drill (loss of the dr dataset)", rows["dr_drill"],
                    sec["dr_drill_s"], note=f"expected digest: {src['dr_drill']}; restore"
                    f" {sec['dr_restore_s']:.1f} s; digests"
                    f" {'equal' if cycle.dr_digest_equal else 'DIFFER'}; "
                    + vs_seed.format(sec["dr_drill_s"] / cycle.seed_s)),
        Measurement("lifecycle: forget (dr dataset + tenant)", rows["forget"], sec["forget_s"],
                    note=vs_seed.format(sec["forget_s"] / cycle.seed_s)),
    ]  # fmt: skip


def homolog_rows(pair: HomologPair) -> list[Measurement]:
    """The homolog volume: a fresh seed, and DR drills of it beside it."""
    vs_seed = f"{{:.2f}} x the seed ({pair.seed_s:.1f} s)"
    each = "; ".join(f"{s:.1f} / {f:.1f} / {d:.1f} s" for s, f, d in pair.pairs)
    mean = f"mean of {len(pair.pairs)} pairs (seed / first drill / drill: {each})"
    return [
        Measurement("homolog: fresh seed", pair.rows, pair.seed_s, note=mean if pair.pairs else ""),
        Measurement("homolog: DR drill, first (empty DR target)", pair.rows, pair.drill_first_s,
                    note=f"expected digest: {pair.sources.get('first')}; "
                    + vs_seed.format(pair.drill_first_s / pair.seed_s)),
        Measurement("homolog: DR drill (loss of the dr dataset)", pair.rows, pair.drill_s,
                    note=f"expected digest: {pair.sources.get('second')}; restore"
                    f" {pair.restore_s:.1f} s; digests"
                    f" {'equal' if pair.digest_equal else 'DIFFER'}; "
                    + vs_seed.format(pair.drill_s / pair.seed_s)),
    ]  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
