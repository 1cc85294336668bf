"""A guard around one kombu Redis transport failure: a worker that lost its broker lives on.

When the broker drops the connection, Celery's consumer closes it before reconnecting.
Closing a channel puts its unacknowledged deliveries back on their queue
(`QoS.restore_unacked`); when the transport has already let go of its connection, kombu
fails there with AttributeError ('NoneType' object has no attribute 'hostname'), not with
a connection error, and Celery calls that unrecoverable and stops the worker (`make
faults`, "Redis down 10 s mid-run": every later run found no worker to consume). Those
deliveries are still in the broker's unacked set: like a SIGKILLed worker's they come
back after the visibility timeout, and the flow re-dispatches a stalled batch long before
(its checkpoint makes a second copy a no-op). So with no connection left the restore is
skipped instead of attempted.

The same holds for a late acknowledgement that lands while the connection
is gone: a batch that finished during the outage acks its message, kombu fails on the
missing connection ('NoneType' object has no attribute 'client') and Celery stops the
worker (`make faults`, session 8). The message then stays in the unacked set, comes back
after the visibility timeout and is skipped by its checkpoint.
"""

from __future__ import annotations

from typing import Any

from kombu.transport import redis as kombu_redis
from kombu.transport import virtual

_restore_unacked = kombu_redis.QoS.restore_unacked
_ack = kombu_redis.QoS.ack


def _disconnected(qos: Any) -> bool:
    transport = getattr(qos.channel, "connection", None)
    return getattr(transport, "client", None) is None


def _restore_unless_disconnected(self: Any, client: Any = None) -> None:
    if client is None and _disconnected(self):
        self._delivered.clear()  # still in the broker's unacked set; see the module doc
        return
    _restore_unacked(self, client)  # type: ignore[no-untyped-call]


def _ack_unless_disconnected(self: Any, delivery_tag: Any) -> None:
    if _disconnected(self):  # forget it here only: the broker's unacked set keeps it
        virtual.QoS.ack(self, delivery_tag)  # type: ignore[no-untyped-call]
        return
    _ack(self, delivery_tag)  # type: ignore[no-untyped-call]


def install() -> None:
    """Idempotent: the worker's app and the flow's both import the Celery app."""
    kombu_redis.QoS.restore_unacked = _restore_unless_disconnected  # type: ignore[method-assign]
    kombu_redis.QoS.ack = _ack_unless_disconnected  # type: ignore[method-assign]
