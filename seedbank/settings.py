"""Connection settings, read from the environment (see `.stack/env` locally).

Only entry points and adapters' wiring read these; the pure core never does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from seedbank.adapters.profiles import default_profiles_dir
from seedbank.domain.errors import UsageError


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    def __init__(self, **values: Any) -> None:
        """A malformed variable is the user's input: one sentence, exit 2, never its value
        (it may be a URL with a password or a token)."""
        try:
            super().__init__(**values)
        except ValidationError as exc:
            first = exc.errors()[0]
            name = ".".join(str(part) for part in first["loc"]) or "a setting"
            raise UsageError(
                f"environment variable {name} is invalid: {first['msg'][:1].lower()}"
                f"{first['msg'][1:]}",
                fix=f"correct {name} or unset it to use its default (docs/operations.md)",
            ) from None

    database_url: str = Field(
        default="postgresql://seedbank_app@127.0.0.1:5432/seedbank",
        validation_alias="SEEDBANK_DATABASE_URL",
    )
    admin_database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:5432/seedbank",
        validation_alias="SEEDBANK_ADMIN_DATABASE_URL",
    )
    broker_url: str = Field(
        default="redis://127.0.0.1:6379/0", validation_alias="SEEDBANK_BROKER_URL"
    )
    redis_url: str = Field(
        default="redis://127.0.0.1:6379/1", validation_alias="SEEDBANK_REDIS_URL"
    )
    vault_addr: str = Field(default="http://127.0.0.1:8200", validation_alias="VAULT_ADDR")
    vault_token: SecretStr | None = Field(default=None, validation_alias="VAULT_TOKEN")
    vault_kv_mount: str = Field(default="secret", validation_alias="SEEDBANK_VAULT_KV_MOUNT")
    vault_transit_key: str = Field(
        default="seedbank-evidence", validation_alias="SEEDBANK_VAULT_TRANSIT_KEY"
    )
    s3_endpoint_url: str | None = Field(default=None, validation_alias="SEEDBANK_S3_ENDPOINT_URL")
    evidence_bucket: str = Field(
        default="seedbank-evidence", validation_alias="SEEDBANK_EVIDENCE_BUCKET"
    )
    evidence_retention_days: int = Field(
        default=1, ge=1, validation_alias="SEEDBANK_EVIDENCE_RETENTION_DAYS"
    )
    batch_stall_seconds: float = Field(
        default=60.0, gt=0, validation_alias="SEEDBANK_BATCH_STALL_SECONDS"
    )
    batch_window: int = Field(default=16, ge=1, validation_alias="SEEDBANK_BATCH_WINDOW")
    """Batches in flight per run: at least twice the Celery worker processes, so none idles."""
    batch_expires_seconds: float = Field(
        default=3600.0, gt=0, validation_alias="SEEDBANK_BATCH_EXPIRES_SECONDS"
    )
    profiles_dir: Path = Field(
        default_factory=default_profiles_dir,
        validation_alias=AliasChoices("SEEDBANK_PROFILES_DIR"),
    )
