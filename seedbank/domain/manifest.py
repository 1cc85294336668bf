"""The versioned seed manifest (`profiles/<env>/<tenant>.yaml`): schema and parsing.

Pure: takes already-read text or data, never touches the file system or the clock.
Every validation failure becomes one `ManifestError` sentence that names the field
and the fix.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import time
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from seedbank.domain.errors import ManifestError

#: "bench" is the benchmark env (`make bench`); the others are the platform's.
ENVS: tuple[str, ...] = ("dev", "homolog", "staging", "prod", "bench")
MODES: tuple[str, ...] = ("baseline", "load", "dr")
SLUG = re.compile(r"^[a-z][a-z0-9-]{1,62}$")

#: Hard caps per entity (spec, Assumptions & Defaults): no manifest may exceed them.
HARD_CAPS: dict[str, int] = {
    "app_user": 10_000,
    "advisor": 10_000,
    "account_category": 1_000,
    "supplier": 50_000,
    "customer": 50_000,
    "address": 100_000,
    "bank_account": 100_000,
    "credit_limit": 100_000,
    "contract": 200_000,
    "loan": 200_000,
    "installment": 2_400_000,
    "financial_transaction": 1_000_000,
}
ENTITIES: tuple[str, ...] = tuple(HARD_CAPS)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Metadata(_Strict):
    env: Literal["dev", "homolog", "staging", "prod", "bench"]
    tenant: str
    version: int = Field(ge=1)
    profile: str = Field(min_length=1)

    @field_validator("tenant")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError("must be a lowercase slug (letters, digits, '-'), 2-63 characters")
        return value


class Volume(_Strict):
    count: int = Field(ge=0)
    cap: int = Field(ge=0)

    @model_validator(mode="after")
    def _within_cap(self) -> Volume:
        if self.count > self.cap:
            raise ValueError(f"count {self.count} is above its cap {self.cap}")
        return self


class Volumetry(_Strict):
    app_user: Volume
    advisor: Volume
    account_category: Volume
    supplier: Volume
    customer: Volume
    address: Volume
    bank_account: Volume
    credit_limit: Volume
    contract: Volume
    loan: Volume
    installment: Volume
    financial_transaction: Volume

    @model_validator(mode="after")
    def _hard_caps(self) -> Volumetry:
        for entity, hard in HARD_CAPS.items():
            cap = getattr(self, entity).cap
            if cap > hard:
                raise ValueError(f"{entity}.cap {cap} is above the hard cap {hard}")
        return self

    def counts(self) -> dict[str, int]:
        return {entity: getattr(self, entity).count for entity in ENTITIES}


class Backoff(_Strict):
    base_seconds: float = Field(gt=0, le=60)
    max_seconds: float = Field(gt=0, le=600)
    jitter: float = Field(ge=0, le=1)
    max_retries: int = Field(ge=0, le=20)


class RateLimit(_Strict):
    target_rpm: int = Field(gt=0)
    cap_rpm: int = Field(gt=0)
    backoff: Backoff

    @model_validator(mode="after")
    def _target_within_cap(self) -> RateLimit:
        if self.target_rpm > self.cap_rpm * 0.8:
            raise ValueError(
                f"target_rpm {self.target_rpm} is above 80% of cap_rpm {self.cap_rpm} (NFR-002)"
            )
        return self


class Ttl(_Strict):
    """Hours a dataset of each mode lives before the expurge removes it (None: kept)."""

    baseline_hours: int | None = Field(default=None, gt=0)
    load_hours: int = Field(gt=0)
    dr_hours: int = Field(gt=0)

    def hours(self, mode: str) -> int | None:
        return {
            "baseline": self.baseline_hours,
            "load": self.load_hours,
            "dr": self.dr_hours,
        }[mode]


class Budget(_Strict):
    max_usd: Decimal = Field(gt=0)
    alert_ratio: Decimal = Field(gt=0, le=1)
    # The cost model the planner prices a run with (NFR-005); defaults are list
    # prices of a managed PostgreSQL and a worker node, to be tuned per platform.
    usd_per_million_rows: Decimal = Field(default=Decimal("0.50"), ge=0)
    usd_per_gib: Decimal = Field(default=Decimal("0.25"), ge=0)
    usd_per_cpu_hour: Decimal = Field(default=Decimal("0.10"), ge=0)


class Window(_Strict):
    start: time
    end: time
    timezone: str

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value


class Pii(_Strict):
    salt_version: int = Field(ge=1)


class Generation(_Strict):
    loan_term_months: int = Field(default=12, ge=1, le=480)
    batch_size: int = Field(default=5_000, ge=1, le=50_000)


class Manifest(_Strict):
    metadata: Metadata
    mode: Literal["baseline", "load", "dr"]
    as_of: AwareDatetime
    volumetry: Volumetry
    rate_limit: RateLimit
    ttl: Ttl
    budget: Budget
    window: Window
    pii: Pii
    generation: Generation = Generation()

    @model_validator(mode="after")
    def _relations(self) -> Manifest:
        vol, term = self.volumetry, self.generation.loan_term_months
        if vol.installment.count != vol.loan.count * term:
            raise ValueError(
                f"volumetry.installment.count must be loan.count x generation.loan_term_months"
                f" = {vol.loan.count * term}, not {vol.installment.count}"
            )
        for child, parent in (("credit_limit", "bank_account"), ("loan", "contract")):
            if getattr(vol, child).count > getattr(vol, parent).count:
                raise ValueError(f"volumetry.{child}.count must not exceed {parent}.count")
        for child, parents in _PARENTS.items():
            if getattr(vol, child).count:
                for parent in parents:
                    if not getattr(vol, parent).count:
                        raise ValueError(
                            f"volumetry.{parent}.count must be > 0 when {child}.count is > 0"
                        )
        return self

    def digest(self) -> str:
        """SHA-256 of the canonical JSON of the validated manifest."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


_PARENTS: dict[str, tuple[str, ...]] = {
    "supplier": ("account_category",),
    "customer": ("advisor",),
    "address": ("customer",),
    "bank_account": ("customer", "account_category"),
    "credit_limit": ("bank_account",),
    "contract": ("customer", "credit_limit"),
    "loan": ("contract",),
    "financial_transaction": ("bank_account",),
}


def parse_manifest(text: str, *, source: str) -> Manifest:
    """Parse and validate manifest text; `source` names it in error messages."""
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ManifestError(
            f"{source} is not valid YAML{where}", fix="correct the YAML syntax"
        ) from None
    if not isinstance(data, dict):
        raise ManifestError(f"{source} must be a YAML mapping", fix="see profiles/dev/acme.yaml")
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        raise ManifestError(_first_problem(exc, source), fix=_fix_for(exc)) from None


def _first_problem(exc: ValidationError, source: str) -> str:
    error = exc.errors()[0]
    field = ".".join(str(part) for part in error["loc"]) or "(top level)"
    kind = error["type"]
    if kind == "missing":
        return f"{source}: field '{field}' is missing"
    if kind == "extra_forbidden":
        return f"{source}: field '{field}' is not a known manifest field"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{source}: field '{field}' is invalid: {message}"


def _fix_for(exc: ValidationError) -> str:
    kind = exc.errors()[0]["type"]
    if kind == "missing":
        return "add it (see profiles/dev/acme.yaml for a complete manifest)"
    if kind == "extra_forbidden":
        return "remove it or correct its spelling"
    return "correct the value and run `seed_data validate-profiles`"


def check_identity(manifest: Manifest, *, env: str, tenant: str, source: str) -> None:
    """A profile must describe the env/tenant its path names."""
    meta = manifest.metadata
    if (meta.env, meta.tenant) != (env, tenant):
        raise ManifestError(
            f"{source} declares env={meta.env} tenant={meta.tenant}, not env={env} tenant={tenant}",
            fix="make metadata.env and metadata.tenant match the profile's path",
        )
