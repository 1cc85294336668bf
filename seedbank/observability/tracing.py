"""OpenTelemetry traces: one trace per run, across Prefect stages and Celery batch jobs.

The exporter is chosen by the standard `OTEL_*` variables (OTLP/HTTP to the central
collector); with none set nothing is exported and nothing fails. The W3C
`traceparent`/`tracestate` travel in Celery message headers (instrumentation-celery).
"""

from __future__ import annotations

import os
from typing import Any

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.celery import CeleryInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from seedbank.observability.redaction import PII_KEYS, scrub_text

SERVICE = "seedbank"
_configured = False


def exporter_configured() -> bool:
    exporter = os.environ.get("OTEL_TRACES_EXPORTER", "")
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    )
    return exporter not in ("", "none") or bool(endpoint)


def configure_tracing(component: str, *, extra: SpanProcessor | None = None) -> None:
    """Install the tracer provider once per process; `extra` lets tests capture spans."""
    global _configured  # noqa: PLW0603  (one provider per process)
    if _configured:
        if extra is not None:
            provider = trace.get_tracer_provider()
            if isinstance(provider, TracerProvider):
                provider.add_span_processor(extra)
        return
    provider = TracerProvider(
        resource=Resource.create({"service.name": SERVICE, "seedbank.component": component})
    )
    if exporter_configured():
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    if extra is not None:
        provider.add_span_processor(extra)
    trace.set_tracer_provider(provider)
    CeleryInstrumentor().instrument(tracer_provider=provider)  # type: ignore[no-untyped-call]
    _configured = True


def tracer() -> trace.Tracer:
    return trace.get_tracer("seedbank")


def safe_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    """Span attributes without PII: catalogued keys dropped, free text scrubbed."""
    clean: dict[str, Any] = {}
    for key, value in attributes.items():
        if key.lower() in PII_KEYS or value is None:
            continue
        clean[key] = scrub_text(value) if isinstance(value, str) else value
    return clean
