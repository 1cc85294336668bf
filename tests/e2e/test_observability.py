"""One trace per run across Prefect and Celery; metrics; no PII in telemetry (issue 8)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest
import sentry_sdk
from celery.contrib.testing.worker import start_worker
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sentry_sdk.transport import Transport

from seedbank.cli import main
from seedbank.observability import alerts
from seedbank.observability.tracing import configure_tracing
from seedbank.worker.celery_app import make_app
from tests.support.world import World

pytestmark = pytest.mark.e2e
# A broker database of its own: only this test's in-process worker consumes it, so
# its spans are recorded in this process next to the flow's.
TRACE_BROKER = "redis://127.0.0.1:6379/3"
STAGES = (
    "guards",
    "lock",
    "salt-check",
    "worm-preflight",
    "purge-previous",
    "seed-entities",
    "verify",
    "publish-evidence",
)


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    configure_tracing("test", extra=SimpleSpanProcessor(exporter))
    yield exporter
    exporter.clear()


@pytest.fixture
def traced_worker(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("SEEDBANK_BROKER_URL", TRACE_BROKER)
    app = make_app(TRACE_BROKER)
    queue = f"seed.{world.env}.{world.tenant}.baseline"
    with start_worker(app, pool="solo", perform_ping_check=False, queues=[queue]):
        yield


def _seed(world: World, capsys: pytest.CaptureFixture[str]) -> tuple[dict[str, Any], str]:
    assert main([f"--tenant={world.tenant}", f"--env={world.env}"]) == 0
    captured = capsys.readouterr()
    return json.loads(captured.out.strip().splitlines()[-1]), captured.out + captured.err


def test_one_trace_spans_the_flow_its_stages_and_the_celery_jobs(
    world: World,
    spans: InMemorySpanExporter,
    traced_worker: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    summary, _ = _seed(world, capsys)
    finished = list(spans.get_finished_spans())
    roots = [
        s
        for s in finished
        if s.name == "seed run" and (s.attributes or {}).get("seedbank.run_id") == summary["run_id"]
    ]
    assert len(roots) == 1
    root = roots[0]
    trace_spans = [s for s in finished if s.context.trace_id == root.context.trace_id]
    by_id = {s.context.span_id: s for s in trace_spans}

    def descends_from(span: ReadableSpan, ancestor: ReadableSpan) -> bool:
        node = span
        while node.parent is not None and node.parent.span_id in by_id:
            node = by_id[node.parent.span_id]
            if node is ancestor:
                return True
        return False

    # Prefect's own task-run spans sit between the run and our stage spans.
    stage_spans = {
        s.name.removeprefix("stage "): s for s in trace_spans if s.name.startswith("stage ")
    }
    assert set(STAGES) <= set(stage_spans)
    assert all(descends_from(stage_spans[name], root) for name in STAGES)
    flow_spans = [s for s in trace_spans if s.parent is None]
    assert len(flow_spans) == 1  # Prefect's flow-run span is the trace's root
    assert descends_from(root, flow_spans[0])
    # Every batch job ran in the worker under the seeding stage: publish → run, linked
    # through the traceparent header the message carried across Redis.
    seeding = stage_spans["seed-entities"]
    runs = [s for s in trace_spans if s.name.startswith("run/seedbank.seed_batch")]
    publishes = [s for s in trace_spans if s.name.startswith("apply_async/seedbank.seed_batch")]
    assert len(runs) == summary["batches_written"] + summary["batches_skipped"]
    assert len(publishes) == len(runs)
    for job in runs:
        assert job.parent is not None
        assert by_id[job.parent.span_id].name.startswith("apply_async/")
        assert descends_from(job, seeding)


def _masked_values(world: World) -> set[str]:
    values: set[str] = set()
    with psycopg.connect(world.db.admin_url) as conn:
        for table, columns in (
            ("customer", "full_name, cpf, email, phone, birth_date::text"),
            ("advisor", "full_name, email, phone"),
            ("app_user", "full_name, email"),
            ("address", "street, zip_code"),
        ):
            for row in conn.execute(
                f"SELECT {columns} FROM {table} WHERE tenant_id = %s", (world.tenant_id,)
            ):
                values.update(str(v) for v in row)
    return values


class _CapturingTransport(Transport):
    """Keeps Sentry envelopes in memory: no Sentry server runs here."""

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        self.payloads: list[str] = []

    def capture_envelope(self, envelope: Any) -> None:
        self.payloads.append(envelope.serialize().decode(errors="replace"))


def test_no_pii_reaches_logs_spans_metric_labels_or_sentry(
    world: World,
    spans: InMemorySpanExporter,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    transport = _CapturingTransport()
    sentry_sdk.init(
        dsn="http://key@127.0.0.1:9/1",
        transport=transport,
        before_send=alerts.before_send,  # type: ignore[arg-type]
    )
    monkeypatch.setattr(alerts, "_initialised", True)
    try:
        _, logs = _seed(world, capsys)
        monkeypatch.setenv("VAULT_ADDR", "http://127.0.0.1:1")  # a fail-closed abort alerts
        assert main([f"--tenant={world.tenant}", f"--env={world.env}"]) == 6
        logs += capsys.readouterr().err
        sentry_sdk.flush()
    finally:
        sentry_sdk.init(dsn=None)
    assert any("failed closed" in p for p in transport.payloads), "no Sentry event was raised"
    metrics_text = httpx.get(os.environ["SEEDBANK_WORKER_METRICS_URL"], timeout=5).text
    span_text = json.dumps(
        [dict(s.attributes or {}) for s in spans.get_finished_spans()], default=str
    )
    masked = {v for v in _masked_values(world) if len(v) >= 6}
    assert len(masked) > 500
    haystacks = {
        "logs": logs,
        "spans": span_text,
        "metrics": metrics_text,
        "sentry": "\n".join(transport.payloads),
    }
    for name, text in haystacks.items():
        # Whole values only: a masked zip "00013739" must not match inside a float like
        # 0.00013739 of a histogram sum, or inside a hex trace id.
        leaked = [v for v in masked if re.search(rf"(?<![\w.]){re.escape(v)}(?!\w)", text)]
        assert leaked == [], f"{len(leaked)} PII values in {name}"
        assert not re.search(r"[\w.+-]+@example\.com", text), name


def test_worker_metrics_count_exactly_the_seeded_rows(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    summary, _ = _seed(world, capsys)
    text = httpx.get(os.environ["SEEDBANK_WORKER_METRICS_URL"], timeout=5).text
    counted: dict[str, float] = {}
    pattern = re.compile(r"^seedbank_rows_written_total\{(?P<labels>[^}]*)\} (?P<value>\S+)$")
    for line in text.splitlines():
        match = pattern.match(line)
        if match and f'tenant="{world.tenant}"' in match["labels"]:
            entity = re.search(r'entity="([^"]+)"', match["labels"])
            assert entity is not None
            counted[entity[1]] = counted.get(entity[1], 0) + float(match["value"])
    assert counted == {e: float(n) for e, n in summary["counts"].items()}
