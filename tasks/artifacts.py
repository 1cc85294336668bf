"""Publish a run's artifacts to the Prefect API, from inside a flow run.

The UI is a view, not a stage: a publish that fails is logged and the run's outcome
stands. Outside a flow run (a unit test calling `flow.fn`) nothing is published.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.context import FlowRunContext

from seedbank.services.artifacts import RunArtifacts

log = structlog.get_logger()


def publish(build: Callable[[], RunArtifacts]) -> bool:
    """Build and create the markdown and table artifacts of this flow run; True when done.

    `build` is called here so that a report that cannot be rendered is logged like a
    failed publish instead of masking the run's own error.
    """
    if FlowRunContext.get() is None:
        return False
    key = "?"
    try:
        artifacts = build()
        key = artifacts.key
        create_markdown_artifact(
            markdown=artifacts.markdown, key=artifacts.key, description=artifacts.description
        )
        if artifacts.table:
            create_table_artifact(
                table=artifacts.table,
                key=artifacts.table_key,
                description=f"{artifacts.description}: per-entity counts and timings",
            )
    except Exception as exc:  # the run's outcome must not hang on the UI
        log.warning("prefect artifact not published", key=key, error=type(exc).__name__)
        return False
    return True
