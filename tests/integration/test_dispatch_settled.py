"""The dispatcher reads which batches have finished in one Redis round trip (issue 17):
a stored SUCCESS or FAILURE counts as settled, with its value, a pending or started task
does not; sending a batch subscribes to nothing (`seedbank.worker.results`)."""

from __future__ import annotations

import os
import uuid

import pytest
import redis
from celery import Celery

from seedbank.domain.errors import BrokerUnavailable
from seedbank.services.seeding.dispatch import Dispatcher, DispatchTarget
from seedbank.worker.celery_app import make_app


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
    settled = dispatcher._settled(results)
    assert settled is not None
    assert set(settled) == {done, failed}
    assert settled[done]["result"] == {"entity": "loan", "start": 0, "stop": 1}
    assert isinstance(settled[failed]["result"], ValueError)
    for task_id in (done, failed, started):
        backend.forget(task_id)


def test_an_unreachable_backend_is_the_broker_down_exit() -> None:
    dispatcher = _dispatcher("redis://127.0.0.1:1/0")
    with pytest.raises(BrokerUnavailable):
        dispatcher._settled([dispatcher._app.AsyncResult(str(uuid.uuid4()))])


def test_sending_subscribes_to_nothing_and_get_still_answers() -> None:
    url = os.environ.get("SEEDBANK_REDIS_URL", "redis://127.0.0.1:6379/1")
    app, client = make_app(url), redis.Redis.from_url(url)
    queue = f"settled-test-{uuid.uuid4().hex}"  # nobody consumes it
    try:
        result = app.send_task("seedbank.seed_batch", kwargs={}, queue=queue, expires=60)
        channel = app.backend.get_key_for_task(result.id)
        assert client.pubsub_numsub(channel) == [(channel, 0)]
        app.backend.store_result(result.id, {"rows": 3}, "SUCCESS")
        assert result.get(timeout=5) == {"rows": 3}
    finally:
        client.delete(queue)
        app.backend.forget(result.id)
