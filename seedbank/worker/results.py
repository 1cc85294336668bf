"""The result backend: Celery's Redis backend, minus its subscription at every send.

Celery's Redis backend subscribes the sending process to each task's result channel the
moment the task is sent, so that a later `AsyncResult.get()` can wait on pub/sub. The
flow never waits that way: the dispatcher reads the results of a whole window with one
MGET per tick (`seedbank.services.seeding.dispatch`). The eager SUBSCRIBE was half of the
flow's CPU in a seeding stage (py-spy, 155 batches: ~1.5 ms per send) and left one
subscription per batch on the connection. `get()` still works: it subscribes to the
one result it waits for, then reads its stored state.
"""

from __future__ import annotations

from typing import Any

from celery.backends.redis import RedisBackend

BACKEND = f"{__name__}:PolledRedisBackend"
"""The backend's name for a `result_backend` URL (`<BACKEND>+redis://…`)."""


class PolledRedisBackend(RedisBackend):  # type: ignore[misc]  # Celery ships no stubs
    def on_task_call(self, producer: Any, task_id: str) -> None:
        """No subscription at send (module docstring)."""


def backend_url(redis_url: str) -> str:
    """`redis_url` as a result-backend setting that selects `PolledRedisBackend`."""
    return f"{BACKEND}+{redis_url}"
