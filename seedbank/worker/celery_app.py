"""The Celery app (`celery -A seedbank.worker.celery_app worker`).

Configuration measured to behave (STACK-NOTES "Celery"): late acks with redelivery
when a worker dies, prefetch 1, short broker timeouts and few publish retries so a
broker outage fails the run closed within seconds.
"""

from __future__ import annotations

from celery import Celery

from seedbank.worker import kombu_guard
from seedbank.worker.results import backend_url

kombu_guard.install()

DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/0"


def make_app(broker_url: str) -> Celery:
    """A Celery app on `broker_url` (also the result backend, `seedbank.worker.results`),
    configured as below."""
    celery = Celery(
        "seedbank",
        broker=broker_url,
        backend=backend_url(broker_url),
        include=["seedbank.worker.jobs"],
    )
    celery.conf.update(CONFIG)
    return celery


CONFIG = dict(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    result_expires=24 * 3600,
    task_default_queue="seed.default",
    broker_connection_retry_on_startup=True,
    broker_connection_max_retries=3,
    broker_connection_timeout=3,
    broker_transport_options={
        "socket_timeout": 3,
        "socket_connect_timeout": 3,
        # A batch whose worker was SIGKILLed comes back after this long; the flow's
        # stall detector re-dispatches much sooner.
        "visibility_timeout": 600,
        # Kombu's BRPOP wait (1 s by default): a queue a run adds (`add_consumer`) is
        # only listened to once the pending BRPOP returns, so a run's first batch sat
        # ~0.9 s in its queue. 10 idle BRPOPs a second per worker node cost nothing.
        "polling_interval": 0.1,
    },
    redis_socket_timeout=3,
    redis_socket_connect_timeout=3,
    result_backend_transport_options={"retry_policy": {"timeout": 3.0}},
    task_publish_retry=True,
    task_publish_retry_policy={
        "max_retries": 2,
        "interval_start": 0.2,
        "interval_step": 0.5,
        "interval_max": 1.0,
    },
    worker_send_task_events=False,
    worker_hijack_root_logger=False,
)

#: The worker's app (`celery -A seedbank.worker.celery_app worker`).
from seedbank.domain.errors import UsageError  # noqa: E402
from seedbank.settings import Settings  # noqa: E402


def _broker_url() -> str:
    """The CLI imports this module before it reads Settings itself and refuses a malformed
    variable in its own sentence; the worker refuses it when it imports its jobs module
    (`settings_or_exit`). Neither may die here with a traceback."""
    try:
        return Settings().broker_url
    except UsageError:
        return DEFAULT_BROKER_URL


app = make_app(_broker_url())
