"""Sentry: alerts for fail-closed aborts and budget warnings, with PII redaction.

Initialised only when SENTRY_DSN is set; `before_send` applies the same redaction
as the logs, so no raw or masked PII value can leave in an event.
"""

from __future__ import annotations

import os
from typing import Any

import sentry_sdk

from seedbank.observability.redaction import redact

_initialised = False


def before_send(event: dict[str, Any], _hint: dict[str, Any]) -> dict[str, Any]:
    return dict(redact(event))


def init_sentry(component: str) -> bool:
    global _initialised  # noqa: PLW0603  (once per process)
    dsn = os.environ.get("SENTRY_DSN")
    if not dsn or _initialised:
        return _initialised
    sentry_sdk.init(
        dsn=dsn,
        before_send=before_send,  # type: ignore[arg-type]
        send_default_pii=False,
        include_local_variables=False,
        server_name=component,
        # A label only (bounded by Settings at each entry point); this layer reads no Settings.
        environment=os.environ.get("SEEDBANK_ENV_NAME"),
    )
    _initialised = True
    return True


def alert(message: str, *, level: str = "error", **tags: str) -> None:
    """Raise a Sentry event (no-op without SENTRY_DSN)."""
    if not _initialised:
        return
    with sentry_sdk.new_scope() as scope:
        for key, value in tags.items():
            scope.set_tag(key, value)
        sentry_sdk.capture_message(message, level=level)  # type: ignore[arg-type]
