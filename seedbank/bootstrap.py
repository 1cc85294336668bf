"""Wiring: the one place adapters are built from settings (one builder per client)."""

from __future__ import annotations

from dataclasses import dataclass

from celery import Celery
from psycopg.conninfo import conninfo_to_dict

from seedbank.adapters.vault import VaultClient
from seedbank.adapters.worm import WormStore, s3_client
from seedbank.settings import Settings
from seedbank.worker.celery_app import make_app


@dataclass(frozen=True)
class Wiring:
    settings: Settings
    vault: VaultClient
    worm: WormStore
    celery: Celery

    @property
    def database(self) -> str:
        """The target database's name: the only database fact a batch message carries."""
        return str(conninfo_to_dict(self.settings.database_url).get("dbname", ""))


def vault_client(settings: Settings) -> VaultClient:
    token = settings.vault_token.get_secret_value() if settings.vault_token else None
    return VaultClient(settings.vault_addr, token, kv_mount=settings.vault_kv_mount)


def worm_store(settings: Settings, bucket: str | None = None) -> WormStore:
    """The WORM evidence store: the configured bucket, or `bucket` (an indexed object's)."""
    return WormStore(s3_client(settings.s3_endpoint_url), bucket or settings.evidence_bucket)


def wire(settings: Settings | None = None) -> Wiring:
    settings = settings or Settings()
    return Wiring(
        settings=settings,
        vault=vault_client(settings),
        worm=worm_store(settings),
        celery=make_app(settings.broker_url),
    )
