"""The benchmark harness's pure parts: scaling arithmetic, table, targets and JSON line."""

from __future__ import annotations

import json

import pytest

from bench.components import ComponentCpu, ComponentSampler
from bench.lifecycle import HomologPair, LifecycleRun
from bench.phases import SeedPhase
from bench.probes import MemoryPeak
from bench.report import (
    Measurement,
    Repeated,
    StageCores,
    cpu_budget,
    final_json,
    ratio,
    render_table,
    scale_seconds,
    scaled_count,
    speedup_apart,
    targets,
)
from bench.run import _single_rows, homolog_rows, lifecycle_rows
from bench.seeding import SeedRun, _stage_window


def test_a_sample_scales_linearly_to_the_full_volume() -> None:
    assert scale_seconds(149_000, 30.0, 1_490_000) == pytest.approx(300.0)
    assert Measurement("x", 1_490_000, 300.0).rows_per_s == pytest.approx(4_966.67, abs=0.01)


def test_an_empty_sample_cannot_be_scaled() -> None:
    with pytest.raises(ValueError, match="at least one row"):
        scale_seconds(0, 1.0, 10)


def test_ratio_and_rates_do_not_divide_by_zero() -> None:
    assert ratio(5.0, 0.0) == 0.0
    assert ratio(45_000, 90_000) == 0.5
    assert Measurement("x", 10, 0.0).rows_per_s == 0.0


def test_scaled_counts_keep_non_empty_entities_non_empty() -> None:
    assert scaled_count(12, 0.02) == 1
    assert scaled_count(0, 0.5) == 0
    assert scaled_count(1_000_000, 0.1) == 100_000


def test_the_table_lines_up_and_compares_every_path_with_the_ceiling() -> None:
    ceiling = Measurement("ceiling", 1_000_000, 10.0)
    seed = Measurement("seedbank", 1_000_000, 20.0, note="end to end")
    naive = Measurement("naive", 1_000_000, 200.0, projected=True)
    lines = render_table([ceiling, seed, naive], ceiling).splitlines()
    assert lines[0].split() == ["path", "rows", "seconds", "rows/s", "x", "ceiling"]
    assert set(lines[1]) <= {"-", " "}
    assert lines[2].split()[-2:] == ["100,000", "1.00"]
    assert lines[3].split()[-4:] == ["1,000,000", "20.0", "50,000", "0.50"]
    assert "naive (projected)" in lines[4]
    assert lines[4].split()[-1] == "0.05"
    assert len({len(line) for line in lines[:5]}) == 1, "columns must line up"
    assert lines[-1] == "  seedbank: end to end"


def test_the_final_line_is_one_json_object_with_the_agreed_keys() -> None:
    line = final_json(
        ceiling=Measurement("c", 1_487_700, 20.0),
        seedbank=Measurement("s", 1_487_700, 40.0),
        workers=2,
        peak_worker_rss_mb=151.26,
    )
    assert "\n" not in line
    assert json.loads(line) == {
        "ceiling_rows_per_s": 74385,
        "seedbank_rows_per_s": 37192,
        "ratio": 0.5,
        "rows": 1_487_700,
        "workers": 2,
        "peak_worker_rss_mb": 151.3,
    }


def test_targets_judge_each_figure_in_its_own_direction() -> None:
    goals = {
        g.name: g
        for g in targets(
            ratio_to_ceiling=0.49,
            dev_seconds=31.0,
            peak_rss_mb=120.0,
            worker_speedup=1.69,
            verify_share=0.25,
            core_s_ratio=2.01,
        )
    }
    assert not goals["seedbank / ceiling (stretch 0.7)"].met
    assert not goals["dev baseline end to end, s"].met
    assert goals["peak Celery worker process RSS, MB"].met
    assert not goals["2 workers / 1 worker (seeding stage)"].met
    assert goals["verify stage / seeding stage"].met
    assert not goals["core-seconds, seedbank / ceiling"].met
    assert "SHORT" in goals["dev baseline end to end, s"].line()
    skipped = targets(ratio_to_ceiling=0.6, dev_seconds=None, peak_rss_mb=1.0, worker_speedup=None)
    assert [g.name for g in skipped] == [
        "seedbank / ceiling (stretch 0.7)",
        "peak Celery worker process RSS, MB",
    ]


def test_the_cpu_budget_sets_core_seconds_used_beside_what_the_target_leaves() -> None:
    budget = cpu_budget(
        cores=2, seedbank_s=50.6, seedbank_busy=0.88, ceiling_s=14.4, ceiling_busy=0.95
    )
    assert round(budget.used_core_s, 1) == 89.1
    assert round(budget.ceiling_core_s, 1) == 27.4
    assert round(budget.target_core_s, 1) == 57.6  # 0.5x: the same rows in 28.8 s on 2 cores
    assert "89 core-s" in budget.line()
    assert "leaves 58 core-s" in budget.line()


def test_the_lifecycle_figures_join_the_final_line_as_rates_and_seconds() -> None:
    cycle = LifecycleRun(seed_rows=1_000, seed_s=50.0)
    cycle.seconds = {
        "purge_s": 4.0,
        "expurge_s": 5.0,
        "forget_s": 2.0,
        "dr_drill_first_s": 51.0,
        "dr_drill_s": 55.0,
    }
    cycle.rows = {"purge": 1_000, "expurge": 1_000, "forget": 1_001, "dr_drill": 1_000}
    cycle.dr_digest_equal = True
    homolog = HomologPair(rows=16_464, seed_s=8.0, drill_first_s=8.4, drill_s=8.6, restore_s=7.9)
    line = final_json(
        ceiling=Measurement("c", 1_000, 1.0),
        seedbank=Measurement("s", 1_000, 2.0),
        workers=2,
        peak_worker_rss_mb=100.0,
        extra={**cycle.figures(), **homolog.figures()},
    )
    figures = json.loads(line)
    assert figures["purge_rows_per_s"] == 250
    assert figures["forget_rows_per_s"] == 500
    assert figures["dr_drill_first_s"] == 51.0
    assert figures["dr_drill_s"] == 55.0
    assert figures["dr_drill_vs_seed"] == 1.1
    assert figures["dr_digest_equal"] == 1.0
    assert figures["homolog_seed_s"] == 8.0
    assert figures["homolog_dr_drill_first_s"] == 8.4
    assert figures["homolog_dr_drill_s"] == 8.6
    assert figures["homolog_dr_drill_vs_seed"] == 1.075
    assert figures["homolog_rows"] == 16_464
    assert figures["ratio"] == 0.5  # the seeding figures are unchanged


def test_the_table_has_a_row_per_drill_naming_its_expected_digest_source() -> None:
    cycle = LifecycleRun(seed_rows=1_000, seed_s=50.0)
    cycle.seconds = {
        **{f"{k}_s": 1.0 for k in ("purge", "load_seed", "load_rerun", "expurge", "forget")},
        "dr_drill_first_s": 51.0,
        "dr_restore_first_s": 49.0,
        "dr_drill_s": 55.0,
        "dr_restore_s": 50.0,
    }
    cycle.rows = dict.fromkeys(("purge", "load_rerun", "expurge", "forget"), 1_000)
    cycle.rows |= {"dr_drill_first": 1_000, "dr_drill": 1_000}
    cycle.dr_sources = {"dr_drill_first": "generator", "dr_drill": "sealed-evidence"}
    rows = {m.name: m for m in lifecycle_rows(cycle)}
    first = rows["lifecycle: DR drill, first (empty DR target)"]
    assert first.seconds == 51.0
    assert first.note.startswith("expected digest: generator;")
    second = rows["lifecycle: DR drill (loss of the dr dataset)"]
    assert "expected digest: sealed-evidence" in second.note
    assert second.note.endswith("1.10 x the seed (50.0 s)")
    homolog = HomologPair(rows=16_464, seed_s=8.0, drill_first_s=8.4, drill_s=8.6)
    homolog.sources = {"first": "generator", "second": "sealed-evidence"}
    pair = homolog_rows(homolog)
    assert [m.seconds for m in pair] == [8.0, 8.4, 8.6]
    assert pair[2].note.endswith("1.07 x the seed (8.0 s)")


def test_the_homolog_figures_are_the_mean_of_the_pairs_each_listed() -> None:
    runs = [
        HomologPair(rows=16_464, seed_s=6.0, drill_first_s=8.7, drill_s=7.4, digest_equal=True),
        HomologPair(rows=16_464, seed_s=8.0, drill_first_s=7.3, drill_s=7.6, digest_equal=True),
    ]
    mean = HomologPair.mean(runs)
    assert (mean.seed_s, mean.drill_first_s, mean.drill_s) == (7.0, 8.0, 7.5)
    assert mean.figures()["homolog_pairs"] == 2
    assert mean.figures()["homolog_dr_drill_vs_seed"] == round(7.5 / 7.0, 3)
    assert "6.0 / 8.7 / 7.4 s; 8.0 / 7.3 / 7.6 s" in homolog_rows(mean)[0].note
    runs[1].digest_equal = False
    assert not HomologPair.mean(runs).digest_equal  # one differing pair shows


def test_a_repeated_figure_is_judged_by_its_mean_and_shows_each_value_in_order() -> None:
    figure = Repeated((30.0, 36.0))
    assert figure.mean == pytest.approx(33.0)
    assert figure.text() == "30.0 / 36.0 s"
    assert Repeated((7.25,)).text(unit="") == "7.2"
    with pytest.raises(ValueError, match="at least one measurement"):
        Repeated(())


def _phase(seconds: float, seeding: float, verify: float = 1.0) -> SeedPhase:
    run = SeedRun(
        seconds,
        {"counts": {"financial_transaction": 1000}},
        {"seed-entities": seeding, "verify": verify},
    )
    return SeedPhase(run, MemoryPeak(), cpu_busy=0.9)


def test_two_workers_against_one_compare_the_means_of_both_sides() -> None:
    twos = Repeated((10.0, 14.0))
    rows, speedup = _single_rows([_phase(25.0, 20.0), _phase(31.0, 28.0)], twos, 1000)
    assert speedup == pytest.approx(24.0 / 12.0)
    assert [m.seconds for m in rows] == [pytest.approx(28.0), pytest.approx(24.0)]
    assert "20.0 / 28.0 s" in rows[1].note
    assert "10.0 / 14.0 s" in rows[1].note
    # a 1-worker run of another volume is shown, never compared
    assert _single_rows([_phase(25.0, 20.0)], twos, 999)[1] is None
    assert _single_rows([], twos, 1000) == ([], None)


def test_two_workers_against_one_taken_apart_multiplies_back_to_the_speedup() -> None:
    one = StageCores(seconds=40.0, work_core_s=46.0, other_core_s=8.0)  # 1.15 cores of work
    two = StageCores(seconds=28.0, work_core_s=50.6, other_core_s=8.4)  # 1.81 cores, 1.1x cost
    line = speedup_apart(one, two, cores=2)
    assert "1.15 -> 1.81 cores (x1.57)" in line
    assert "x1.10 the core-s" in line
    assert f"= {40.0 / 28.0:.2f}" in line  # gain / cost is the stage's speedup itself
    assert "2 cores allow 1.48" in line  # (2 - 0.30) / 1.15
    assert "no CPU figures" in speedup_apart(one, StageCores(28.0, 0.0, 0.0), cores=2)


def test_a_window_of_a_phase_interpolates_between_the_samples_around_it() -> None:
    sampler = ComponentSampler("seedbank_bench_x", None)
    sampler._series = [
        (100.0, ComponentCpu(workers=0.0, postgres=0.0, machine=0.0)),
        (101.0, ComponentCpu(workers=1.0, postgres=0.5, machine=2.0)),
        (102.0, ComponentCpu(workers=3.0, postgres=1.5, machine=4.0)),
    ]
    inside = sampler.window(100.5, 101.5)
    assert (inside.workers, inside.postgres, inside.machine) == (1.5, 0.75, 2.0)
    whole = sampler.window(50.0, 500.0)  # clamped to the first and last samples
    assert (whole.workers, whole.machine) == (3.0, 4.0)


def test_a_stage_window_comes_from_its_started_and_finished_log_lines() -> None:
    windows: dict[str, tuple[float, float]] = {}
    line = {"event": "stage started", "stage": "seed-entities"}
    _stage_window(windows, line | {"timestamp": "2026-11-30T15:38:24.000000Z"})
    _stage_window(
        windows, line | {"event": "stage finished", "timestamp": "2026-11-30T15:38:54.5Z"}
    )
    start, stop = windows["seed-entities"]
    assert stop - start == pytest.approx(30.5)
    _stage_window(windows, {"event": "stage started", "stage": "verify", "timestamp": "bad"})
    assert "verify" not in windows
