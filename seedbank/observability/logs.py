"""Logging set-up, once per process (CLI, flow run, Celery worker).

structlog renders JSON off a terminal and a console view on one; every line
passes the redaction processor last before rendering.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

import structlog
from opentelemetry import trace

from seedbank.observability.redaction import redact
from seedbank.observability.tracing import safe_attributes, tracer


def redaction_processor(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    return dict(redact(dict(event_dict)))


def _stderr_logger(*_args: Any) -> structlog.PrintLogger:
    # sys.stderr resolved per logger, not once: a test runner or a daemon may swap it.
    return structlog.PrintLogger(file=sys.stderr)


def configure_logging(*, json: bool | None = None, level: int = logging.INFO) -> None:
    use_json = not sys.stderr.isatty() if json is None else json
    renderer: Any = (
        structlog.processors.JSONRenderer(sort_keys=True)
        if use_json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            add_trace_ids,
            redaction_processor,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )


@contextmanager
def stage(name: str) -> Iterator[None]:
    """A span per stage, `stage` bound to every log line inside, outcome and duration logged."""
    log = structlog.get_logger()
    structlog.contextvars.bind_contextvars(stage=name)
    started = time.monotonic()
    bound = structlog.contextvars.get_contextvars()
    attributes = safe_attributes(
        {f"seedbank.{k}": v for k, v in bound.items() if k in {"run_id", "tenant", "env", "mode"}}
    )
    try:
        with tracer().start_as_current_span(f"stage {name}", attributes=attributes):
            log.info("stage started")
            yield
    except Exception as exc:
        log.warning(
            "stage failed",
            error=type(exc).__name__,
            duration_s=round(time.monotonic() - started, 3),
        )
        raise
    else:
        log.info("stage finished", duration_s=round(time.monotonic() - started, 3))
    finally:
        structlog.contextvars.unbind_contextvars("stage")


def add_trace_ids(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """trace_id/span_id of the current span on every line, to jump from logs to traces."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event_dict.setdefault("trace_id", f"{context.trace_id:032x}")
        event_dict.setdefault("span_id", f"{context.span_id:016x}")
    return event_dict
