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

from seedbank.redaction import redact


def redaction_processor(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    return dict(redact(dict(event_dict)))


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
            redaction_processor,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Bind `stage` to every log line inside, and log the stage's outcome and duration."""
    log = structlog.get_logger()
    structlog.contextvars.bind_contextvars(stage=name)
    started = time.monotonic()
    log.info("stage started")
    try:
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
