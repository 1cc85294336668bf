"""A channel that lost its broker connection closes, or acks, without killing the worker,
and its unacknowledged delivery is not lost (seedbank.worker.kombu_guard)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from typing import Any

from kombu.connection import Connection
from kombu.entity import Exchange, Queue

import seedbank.worker.celery_app  # noqa: F401  (installs the guard, as in every worker)

URL = os.environ.get("SEEDBANK_REDIS_URL", "redis://127.0.0.1:6379/1")


def _lose_connection_holding(payload: dict[str, int], then: Callable[[Any, Any], None]) -> str:
    """Deliver `payload` unacked, drop the channel's connection as the broker's drop leaves
    it, then call `then(channel, message)`; returns the queue's name."""
    name = f"guard-{uuid.uuid4().hex[:10]}"
    queue = Queue(name, Exchange(name, type="direct"), routing_key=name)  # type: ignore[no-untyped-call]
    with Connection(URL) as conn:  # type: ignore[no-untyped-call]
        channel = conn.channel()
        conn.Producer(channel=channel).publish(
            payload, exchange=queue.exchange, routing_key=name, declare=[queue]
        )
        message = channel.basic_get(name, no_ack=False)
        assert message is not None  # delivered, not acked
        channel.connection.client = None
        then(channel, message)  # unguarded: AttributeError, and Celery stops the worker
    return name


def _delivered_again(name: str) -> Any:
    """Still in the unacked set: once its visibility timeout passes it is delivered again."""
    with Connection(URL, transport_options={"visibility_timeout": 0}) as conn:  # type: ignore[no-untyped-call]
        channel = conn.channel()
        channel.qos.restore_visible(num=1000)
        again = channel.basic_get(name, no_ack=True)
        channel.queue_delete(name)
        return again


def test_a_disconnected_channel_with_an_unacked_delivery_closes_and_keeps_it() -> None:
    name = _lose_connection_holding({"batch": 1}, lambda channel, _: channel.close())
    again = _delivered_again(name)
    assert again is not None
    assert again.payload == {"batch": 1}


def test_an_ack_without_a_connection_keeps_the_message_for_redelivery() -> None:
    """A batch that finished during a broker outage acks its message (late acks)."""
    name = _lose_connection_holding(
        {"batch": 2}, lambda channel, message: channel.basic_ack(message.delivery_tag)
    )
    again = _delivered_again(name)
    assert again is not None
    assert again.payload == {"batch": 2}
