"""The pure part of the benchmark: measurements, scaling arithmetic, table and JSON line."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Measurement:
    """One path's figure: `rows` loaded in `seconds` of wall time."""

    name: str
    rows: int
    seconds: float
    projected: bool = False
    """True when `seconds` is scaled up from a sample (see `scale_seconds`)."""
    note: str = ""
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class Repeated:
    """One figure measured more than once in a run, in the order measured, judged by its
    mean: on this VM one phase can run 20-40 % faster or slower than the phase a minute
    before, so a ratio across phases needs each side measured on both sides of the other."""

    values: tuple[float, ...]

    def __post_init__(self) -> None:
        if not self.values:
            raise ValueError("a repeated figure needs at least one measurement")

    @property
    def mean(self) -> float:
        return sum(self.values) / len(self.values)

    def text(self, unit: str = " s") -> str:
        """`31.0 / 33.2 s` (in order), or the one value."""
        return " / ".join(f"{v:.1f}" for v in self.values) + unit


def scale_seconds(sample_rows: int, sample_seconds: float, full_rows: int) -> float:
    """Wall time of `full_rows` at the sample's rate (linear: per-row work dominates)."""
    if sample_rows <= 0:
        raise ValueError("a sample needs at least one row")
    return sample_seconds * full_rows / sample_rows


def ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, 0 when there is nothing to compare with."""
    return numerator / denominator if denominator > 0 else 0.0


def scaled_count(count: int, fraction: float) -> int:
    """A count scaled down for a sample, never below 1 when it was not 0."""
    return 0 if count == 0 else max(1, round(count * fraction))


def render_table(rows: Sequence[Measurement], ceiling: Measurement | None) -> str:
    """A fixed-width table: path, rows, seconds, rows/s and the share of the ceiling."""
    header = ("path", "rows", "seconds", "rows/s", "x ceiling")
    body = [
        (
            m.name + (" (projected)" if m.projected else ""),
            f"{m.rows:,}",
            f"{m.seconds:,.1f}",
            f"{m.rows_per_s:,.0f}",
            f"{ratio(m.rows_per_s, ceiling.rows_per_s):.2f}" if ceiling else "-",
        )
        for m in rows
    ]
    widths = [max(len(r[i]) for r in (header, *body)) for i in range(len(header))]
    lines = [
        "  ".join(
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i])
            for i, cell in enumerate(line)
        )
        for line in (header, *body)
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    notes = [f"  {m.name}: {m.note}" for m in rows if m.note]
    return "\n".join(lines + (["notes:", *notes] if notes else []))


def final_json(
    *,
    ceiling: Measurement,
    seedbank: Measurement,
    workers: int,
    peak_worker_rss_mb: float,
    extra: Mapping[str, float] | None = None,
) -> str:
    """The one machine-readable line `make bench` ends with (`extra`: lifecycle figures)."""
    return json.dumps(
        {
            "ceiling_rows_per_s": round(ceiling.rows_per_s),
            "seedbank_rows_per_s": round(seedbank.rows_per_s),
            "ratio": round(ratio(seedbank.rows_per_s, ceiling.rows_per_s), 3),
            "rows": seedbank.rows,
            "workers": workers,
            "peak_worker_rss_mb": round(peak_worker_rss_mb, 1),
            **(extra or {}),
        }
    )


@dataclass(frozen=True)
class Target:
    name: str
    value: float
    goal: float
    higher_is_better: bool = True

    @property
    def met(self) -> bool:
        return self.value >= self.goal if self.higher_is_better else self.value <= self.goal

    def line(self) -> str:
        sign = ">=" if self.higher_is_better else "<="
        verdict = "met" if self.met else "SHORT"
        return f"  {self.name:<44} {self.value:>9.2f}  (target {sign} {self.goal:g})  {verdict}"


def targets(
    *,
    ratio_to_ceiling: float,
    dev_seconds: float | None,
    peak_rss_mb: float,
    worker_speedup: float | None,
    verify_share: float | None = None,
    core_s_ratio: float | None = None,
) -> list[Target]:
    """The issue's targets (benchmark figures, never a timed test)."""
    out = [
        Target("seedbank / ceiling (stretch 0.7)", ratio_to_ceiling, 0.5),
        Target("peak Celery worker process RSS, MB", peak_rss_mb, 300, higher_is_better=False),
    ]
    if core_s_ratio is not None:
        out.append(
            Target("core-seconds, seedbank / ceiling", core_s_ratio, 2, higher_is_better=False)
        )
    if verify_share is not None:
        out.append(
            Target("verify stage / seeding stage", verify_share, 0.25, higher_is_better=False)
        )
    if dev_seconds is not None:
        out.append(Target("dev baseline end to end, s", dev_seconds, 30, higher_is_better=False))
    if worker_speedup is not None:
        out.append(Target("2 workers / 1 worker (seeding stage)", worker_speedup, 1.7))
    return out


def render_entities(
    counts: Mapping[str, int], seedbank: Mapping[str, float], ceiling: Mapping[str, float]
) -> str:
    """Per entity level: seedbank's wall time beside the ceiling's (where the gap is)."""
    lines = [f"  {'entity':<22} {'rows':>10} {'seedbank s':>10} {'ceiling s':>10} {'x ceiling':>9}"]
    for entity, rows in counts.items():
        ours, best = seedbank.get(entity, 0.0), ceiling.get(entity, 0.0)
        lines.append(
            f"  {entity:<22} {rows:>10,} {ours:>10.2f} {best:>10.2f} {ratio(best, ours):>9.2f}"
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class StageCores:
    """What one seeding stage used: its seconds, the core-seconds of the Celery workers and
    their PostgreSQL backends (the work), and of everything else on the machine."""

    seconds: float
    work_core_s: float
    other_core_s: float

    @property
    def work_cores(self) -> float:
        return self.work_core_s / self.seconds if self.seconds > 0 else 0.0

    @property
    def other_cores(self) -> float:
        return self.other_core_s / self.seconds if self.seconds > 0 else 0.0


def speedup_apart(one: StageCores, two: StageCores, cores: int) -> str:
    """2 workers / 1 as (cores the work got) / (its core-seconds for the same rows), and the
    speedup the machine would allow at one worker's cost per row: every core not taken by
    the other processes of the 2-worker stage, against the cores one worker's work kept."""
    if min(one.work_core_s, two.work_core_s, one.work_cores) <= 0:
        return "2 workers / 1 taken apart: no CPU figures for the seeding stages"
    gain = two.work_cores / one.work_cores
    cost = two.work_core_s / one.work_core_s
    bound = (cores - two.other_cores) / one.work_cores
    return (
        f"2 workers / 1 taken apart (seeding stages): the work (workers + their backends) ran"
        f" on {one.work_cores:.2f} -> {two.work_cores:.2f} cores (x{gain:.2f}) and cost"
        f" x{cost:.2f} the core-s for the same rows = {gain / cost:.2f}; everything else (flow,"
        f" services, hypervisor steal) took {one.other_cores:.2f} -> {two.other_cores:.2f}"
        f" cores; at one worker's cost per row, {cores} cores allow {bound:.2f}"
    )


@dataclass(frozen=True)
class CpuBudget:
    """Core-seconds a run used beside what the target ratio would leave it."""

    used_core_s: float
    ceiling_core_s: float
    target_core_s: float
    """All cores, fully busy, for the time `ratio` x the ceiling allows."""

    def line(self) -> str:
        return (
            f"CPU: seedbank used {self.used_core_s:.0f} core-s, the ceiling"
            f" {self.ceiling_core_s:.0f}; the target ratio leaves {self.target_core_s:.0f}"
            " core-s even at 100 % use"
        )


def cpu_budget(
    *,
    cores: int,
    seedbank_s: float,
    seedbank_busy: float,
    ceiling_s: float,
    ceiling_busy: float,
    ratio: float = 0.5,
) -> CpuBudget:
    """seedbank's and the ceiling's CPU (busy share x wall x cores) beside the budget that
    `ratio` x the ceiling's rows/s allows (the same rows in ceiling_s / ratio seconds)."""
    return CpuBudget(
        used_core_s=seedbank_busy * seedbank_s * cores,
        ceiling_core_s=ceiling_busy * ceiling_s * cores,
        target_core_s=ceiling_s / ratio * cores,
    )
