"""Prometheus metrics (NFR-003): rows, batch durations, retries, guard refusals, outcomes.

Labels are tenant, env and mode only — bounded by the versioned profiles; run ids
go to logs and traces, never to labels (unbounded cardinality).
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    multiprocess,
    start_http_server,
)
from prometheus_client.registry import Collector

LABELS = ("tenant", "env", "mode")

ROWS_WRITTEN = Counter(
    "seedbank_rows_written_total", "Rows committed by batch jobs.", (*LABELS, "entity")
)
BATCHES = Counter(
    "seedbank_batches_total", "Batch jobs by outcome.", (*LABELS, "entity", "outcome")
)
BATCH_SECONDS = Histogram(
    "seedbank_batch_duration_seconds",
    "Wall time of one batch job (generate, mask, validate, write).",
    (*LABELS, "entity"),
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
)
BATCH_RETRIES = Counter("seedbank_batch_retries_total", "Batch job retries.", LABELS)
RUNS = Counter("seedbank_runs_total", "Seed runs by outcome.", (*LABELS, "outcome"))
GUARD_REFUSALS = Counter(
    "seedbank_guard_refusals_total",
    "Runs refused by a guard or a fail-closed check.",
    (*LABELS, "event"),
)
BATCH_STALLS = Counter(
    "seedbank_batch_stalls_total",
    "Batches that did not finish within the stall timeout and were re-dispatched.",
    LABELS,
)
# Gauges of the last run per tenant/env/mode: a flow run pushes them when it ends.
RUN_SECONDS = Gauge("seedbank_run_duration_seconds", "Wall time of the last seed run.", LABELS)
RUN_SLO_SECONDS = Gauge(
    "seedbank_run_slo_seconds", "The duration budget (SLO) of the last seed run.", LABELS
)
BUDGET_USED_RATIO = Gauge(
    "seedbank_budget_used_ratio",
    "The last run's estimated cost over the manifest's budget.max_usd (1 = all of it).",
    LABELS,
)
RATE_TOKENS_USED = Counter(
    "seedbank_rate_limit_tokens_used_total", "API smoke/load requests sent.", ("tenant", "env")
)
RATE_CAP_RPM = Gauge(
    "seedbank_rate_limit_cap_rpm",
    "The manifest's API cap in requests per minute.",
    ("tenant", "env"),
)


def serve(port: int, extra: Iterable[Collector] = (), *, addr: str = "127.0.0.1") -> None:
    """Expose /metrics on `port`; with PROMETHEUS_MULTIPROC_DIR set (a prefork Celery
    worker), the figures of every pool process are aggregated. `extra` collectors
    (the status gauges) are read at each scrape."""
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    for collector in extra:
        registry.register(collector)
    start_http_server(port, addr=addr, registry=registry)
