"""The broker options reach kombu's Redis transport (a misspelt key is silently ignored)."""

from __future__ import annotations

from seedbank.worker.celery_app import make_app


def test_a_new_queue_is_listened_to_within_a_tenth_of_a_second() -> None:
    app = make_app("redis://127.0.0.1:1/0")  # never connected: the transport is only built
    with app.connection_for_read() as conn:
        transport = conn.transport
        assert transport.brpop_timeout == 0.1  # kombu's default, 1 s, delayed a run's first batch
        assert conn.transport_options["visibility_timeout"] == 600
