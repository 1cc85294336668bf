"""Connection settings, read from the environment (see `.stack/env` locally).

Only entry points and adapters' wiring read these; the pure core never does.
"""

from __future__ import annotations

import re
import sys
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict
from pydantic import (
    AliasChoices,
    Field,
    IPvAnyAddress,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from seedbank.adapters.profiles import default_profiles_dir
from seedbank.domain.errors import UsageError


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, env_ignore_empty=True)

    def __init__(self, **values: Any) -> None:
        """A malformed variable is the user's input: one sentence, exit 2, never its value
        (it may be a URL with a password or a token)."""
        try:
            super().__init__(**values)
        except ValidationError as exc:
            first = exc.errors()[0]
            name = ".".join(str(part) for part in first["loc"]) or "a setting"
            why = str(first["msg"]).removeprefix("Value error, ")
            raise UsageError(
                f"environment variable {name} is invalid: {why[:1].lower()}{why[1:]}",
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
    set_based_references: bool = Field(
        default=True, validation_alias="SEEDBANK_SET_BASED_REFERENCES"
    )
    """Check a batch's foreign keys once, set-based, where the role may (migration 0007);
    false keeps PostgreSQL's per-row trigger checks (same guarantee, ~2x the server CPU)."""
    batch_expires_seconds: float = Field(
        default=3600.0, gt=0, validation_alias="SEEDBANK_BATCH_EXPIRES_SECONDS"
    )
    profiles_dir: Path = Field(
        default_factory=default_profiles_dir,
        validation_alias=AliasChoices("SEEDBANK_PROFILES_DIR"),
    )
    # Read here, not from os.environ where they are used: each is bounded, and a malformed
    # one is refused up front in one sentence (exit 2) instead of failing mid-run.
    slo_seconds: float | None = Field(
        default=None, gt=0, le=7 * 24 * 3600, allow_inf_nan=False,
        validation_alias="SEEDBANK_SLO_SECONDS",
    )  # fmt: skip
    """Overrides the env's duration budget (NFR-001)."""
    expurge_grace_hours: float = Field(
        default=24.0, ge=0, le=24 * 366, allow_inf_nan=False,
        validation_alias="SEEDBANK_EXPURGE_GRACE_HOURS",
    )  # fmt: skip
    tenant_concurrency: int = Field(
        default=2, ge=1, le=256, validation_alias="SEEDBANK_TENANT_CONCURRENCY"
    )
    worker_databases: str = Field(
        default=r"seedbank(_[a-z0-9_]+)?", max_length=200,
        validation_alias="SEEDBANK_WORKER_DATABASES",
    )  # fmt: skip
    """A regular expression of the database names a Celery worker may write to."""
    worker_metrics_port: int | None = Field(
        default=None, ge=1, le=65535, validation_alias="SEEDBANK_WORKER_METRICS_PORT"
    )
    worker_metrics_addr: IPvAnyAddress = Field(
        default=IPv4Address("127.0.0.1"), validation_alias="SEEDBANK_WORKER_METRICS_ADDR"
    )
    """Where a worker's /metrics listens: loopback locally, 0.0.0.0 in a pod (scraped)."""
    pushgateway_url: str | None = Field(default=None, validation_alias="SEEDBANK_PUSHGATEWAY_URL")
    api_base_url: str | None = Field(default=None, validation_alias="SEEDBANK_API_BASE_URL")
    api_token: SecretStr | None = Field(default=None, validation_alias="SEEDBANK_API_TOKEN")
    api_token_key: SecretStr | None = Field(default=None, validation_alias="SEEDBANK_API_TOKEN_KEY")
    env_name: str | None = Field(default=None, max_length=64, validation_alias="SEEDBANK_ENV_NAME")
    dr_database_url: str | None = Field(default=None, validation_alias="SEEDBANK_DR_DATABASE_URL")

    @field_validator("*", mode="before")
    @classmethod
    def _one_printable_line(cls, value: Any) -> Any:
        """No setting holds a control character or a newline (an empty one is unset)."""
        if isinstance(value, str) and (len(value) > 2048 or not value.isprintable()):
            raise ValueError("it must be one line of printable text (at most 2048 characters)")
        return value

    @field_validator("database_url", "admin_database_url", "dr_database_url")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        if value is not None:
            _url(value, ("postgresql://", "postgres://"))
            try:  # the same parser psycopg connects with; its message may hold the password
                conninfo_to_dict(value)
            except psycopg.Error:
                raise ValueError("it is not a valid PostgreSQL connection URL") from None
        return value

    @field_validator("broker_url", "redis_url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        return _url(value, ("redis://", "rediss://"))

    @field_validator("vault_addr", "s3_endpoint_url", "pushgateway_url", "api_base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        return None if value is None else _url(value, ("http://", "https://")).rstrip("/")

    @field_validator("worker_databases")
    @classmethod
    def _pattern(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error:
            raise ValueError("it is not a valid regular expression") from None
        return value


def _url(value: str, schemes: tuple[str, ...]) -> str:
    if not value.startswith(schemes) or " " in value:
        raise ValueError(f"it must be a URL starting with {' or '.join(schemes)}")
    try:
        urlsplit(value).port  # noqa: B018 - parsing it is the check
    except ValueError:
        raise ValueError("its port is not a number from 0 to 65535") from None
    return value


def settings_or_exit() -> Settings:
    """Settings for a process that Celery or Prefect imports: a malformed variable ends it
    with the one sentence and exit 2, never a traceback from inside an import."""
    try:
        return Settings()
    except UsageError as exc:
        sys.stderr.write(f"seedbank: error: {exc.sentence()}\n")
        raise SystemExit(UsageError.exit_code) from None
