"""Progress of a run, per entity: a rich bar on a terminal, structured lines otherwise.

The entry point installs a reporter; stages only call `entity_started` / `batch_done`.
"""

from __future__ import annotations

from typing import Protocol

import structlog
from rich.progress import Progress

log = structlog.get_logger()


class Reporter(Protocol):
    def entity_started(self, entity: str, total: int) -> None: ...
    def batch_done(self, entity: str, rows: int, *, skipped: bool) -> None: ...
    def close(self) -> None: ...


class LogReporter:
    """One structured line per batch: for CI logs, Prefect workers and pipes."""

    def entity_started(self, entity: str, total: int) -> None:
        log.info("entity started", entity=entity, rows_expected=total)

    def batch_done(self, entity: str, rows: int, *, skipped: bool) -> None:
        log.info("batch done", entity=entity, rows=rows, skipped=skipped)

    def close(self) -> None:
        return None


class RichReporter:
    """A progress bar per entity on a terminal."""

    def __init__(self) -> None:
        self._progress = Progress(transient=False)
        self._tasks: dict[str, object] = {}
        self._progress.start()

    def entity_started(self, entity: str, total: int) -> None:
        self._tasks[entity] = self._progress.add_task(entity, total=max(total, 1))

    def batch_done(self, entity: str, rows: int, *, skipped: bool) -> None:
        del skipped
        task = self._tasks.get(entity)
        if task is not None:
            self._progress.advance(task, rows)  # type: ignore[arg-type]

    def close(self) -> None:
        self._progress.stop()


_reporter: Reporter = LogReporter()


def use(reporter: Reporter) -> None:
    global _reporter  # noqa: PLW0603  (installed once by the entry point)
    _reporter = reporter


def current() -> Reporter:
    return _reporter
