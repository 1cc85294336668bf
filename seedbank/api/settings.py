"""Settings of the reference read service, read from the environment (.stack/env)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    token_key: SecretStr = Field(validation_alias="SEEDBANK_API_TOKEN_KEY")
    burst_seconds: float = Field(
        default=2.0,
        gt=0,
        le=60,
        validation_alias="SEEDBANK_API_BURST_SECONDS",
        description="Bucket capacity in seconds of the tenant's cap (burst allowance)",
    )
    cap_rpm_override: int | None = Field(
        default=None,
        gt=0,
        validation_alias="SEEDBANK_API_CAP_RPM",
        description="Enforce this cap for every tenant instead of the profile's (tests)",
    )
    pool_size: int = Field(default=4, ge=1, le=32, validation_alias="SEEDBANK_API_DB_POOL")
    profile_ttl_seconds: float = Field(
        default=30.0, ge=0, validation_alias="SEEDBANK_API_PROFILE_TTL_SECONDS"
    )
