"""Status gauges read from the control tables at each scrape (NFR-003): lock leases and
expired datasets, the facts a dead or absent process cannot push itself.

A run that died holding its lease stops heart-beating, and an expurge that never ran
leaves nothing to count: only a reader of `seed_lease` / `seed_checkpoint` sees them.
The Celery worker's /metrics serves these (`seedbank.worker.jobs`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import structlog
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from seedbank.domain.errors import SeedbankError
from seedbank.services.seeding.policy import grace_period
from seedbank.services.status import TenantStatus, collect, targets
from seedbank.settings import Settings

log = structlog.get_logger()
TARGET = ("tenant", "env")

#: name -> help; every name here is exported at each scrape (tests/unit check the dashboards).
GAUGES: dict[str, str] = {
    "seedbank_status_up": "1 when the status query read the control tables, 0 when it failed.",
    "seedbank_lock_held": "1 while a live session holds the env/tenant advisory lock.",
    "seedbank_lock_heartbeat_age_seconds": "Seconds since the lock holder's last heartbeat.",
    "seedbank_lock_lease_overdue_seconds": "Seconds the lock's lease is past its expiry.",
    "seedbank_dataset_rows": "Rows a dataset's checkpoints record, per mode.",
    "seedbank_dataset_expires_timestamp_seconds": "When a dataset's TTL expires (Unix time).",
    "seedbank_expurge_overdue_seconds": "Seconds an expired dataset is past its grace period.",
}


class StatusCollector(Collector):
    def __init__(self, settings: Callable[[], Settings] = Settings) -> None:
        self._settings = settings

    def describe(self) -> Iterator[GaugeMetricFamily]:
        """The names, without a query: registering must not touch the database."""
        yield from _families().values()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        families = _families()
        up = families.pop("seedbank_status_up")
        try:
            settings = self._settings()
            now = datetime.now(UTC)
            pairs = targets(settings.profiles_dir, env=None, tenant=None)
            found = collect(settings.database_url, pairs, now=now, grace=grace_period())
        except SeedbankError as exc:  # database down: say so, do not fail the scrape
            log.warning("status metrics unavailable", error=exc.sentence())
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        for status in found:
            _add(families, status)
        yield from families.values()


def _families() -> dict[str, GaugeMetricFamily]:
    return {
        name: GaugeMetricFamily(name, text, labels=label_names(name))
        for name, text in GAUGES.items()
    }


def label_names(name: str) -> list[str]:
    if name == "seedbank_status_up":
        return []
    if name.startswith(("seedbank_dataset", "seedbank_expurge")):
        return [*TARGET, "mode"]
    return list(TARGET)


def _add(families: dict[str, GaugeMetricFamily], status: TenantStatus) -> None:
    target = [status.tenant, status.env]
    lock = status.lock
    families["seedbank_lock_held"].add_metric(target, 1 if lock and lock.held else 0)
    if lock is not None:
        families["seedbank_lock_heartbeat_age_seconds"].add_metric(target, lock.heartbeat_age_s)
        families["seedbank_lock_lease_overdue_seconds"].add_metric(target, lock.overdue_s)
    for d in status.datasets:
        labels = [*target, d.mode]
        families["seedbank_dataset_rows"].add_metric(labels, d.rows)
        families["seedbank_expurge_overdue_seconds"].add_metric(labels, d.overdue_s)
        if d.expires_at is not None:
            families["seedbank_dataset_expires_timestamp_seconds"].add_metric(
                labels, d.expires_at.timestamp()
            )
