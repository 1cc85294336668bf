"""The dispatcher reads which batches have finished in one Redis round trip (issue 17):
a stored SUCCESS or FAILURE counts as settled, a pending or started task does not."""

from __future__ import annotations

import os
import uuid

import pytest
from celery import Celery

from seedbank.domain.errors import BrokerUnavailable
from seedbank.services.seeding.dispatch import Dispatcher, DispatchTarget


def _dispatcher(url: str) -> Dispatcher:
    app = Celery("settled-test", broker=url, backend=url)
    target = DispatchTarget(uuid.uuid4(), uuid.uuid4(), "unused", "unused")
    return Dispatcher(app, target, stall_s=60, expires_s=60)


def test_only_finished_results_are_settled() -> None:
    dispatcher = _dispatcher(os.environ.get("SEEDBANK_REDIS_URL", "redis://127.0.0.1:6379/1"))
    backend = dispatcher._app.backend
    done, failed, started, pending = (str(uuid.uuid4()) for _ in range(4))
    backend.store_result(done, {"entity": "loan", "start": 0, "stop": 1}, "SUCCESS")
    backend.store_result(failed, ValueError("boom"), "FAILURE")
    backend.store_result(started, None, "STARTED")
    results = [dispatcher._app.AsyncResult(i) for i in (done, failed, started, pending)]
    assert dispatcher._settled(results) == {done, failed}
    for task_id in (done, failed, started):
        backend.forget(task_id)


def test_an_unreachable_backend_is_the_broker_down_exit() -> None:
    dispatcher = _dispatcher("redis://127.0.0.1:1/0")
    with pytest.raises(BrokerUnavailable):
        dispatcher._settled([dispatcher._app.AsyncResult(str(uuid.uuid4()))])
