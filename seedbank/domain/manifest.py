"""The versioned seed manifest (`profiles/<env>/<tenant>.yaml`): schema and parsing.

Pure: takes already-read text or data, never touches the file system or the clock.
Every validation failure becomes one `ManifestError` sentence that names the field
and the fix.
"""

from __future__ import annotations

import hashlib
import json
import re
from decimal import Decimal
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)

from seedbank.domain import strict_yaml
from seedbank.domain.errors import ManifestError
from seedbank.domain.manifest_types import (
    AsOf,
    Clock,
    Count,
    Hours,
    Money,
    Positive,
    Seconds,
    Text,
    Version,
    Zone,
)

#: "bench" is the benchmark env (`make bench`); the others are the platform's.
ENVS: tuple[str, ...] = ("dev", "homolog", "staging", "prod", "bench")
MODES: tuple[str, ...] = ("baseline", "load", "dr")
SLUG = re.compile(r"[a-z][a-z0-9-]{1,62}")
"""A tenant id; always matched whole (`SLUG.fullmatch`): `$` would let "acme\\n" through."""
MAX_MANIFEST_BYTES = 64 * 1024
"""The largest profile is ~1.5 KiB; anything near this limit is not a manifest."""

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
    tenant: Text
    version: Version
    profile: Text

    @field_validator("tenant")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.fullmatch(value):
            raise ValueError("must be a lowercase slug (letters, digits, '-'), 2-63 characters")
        return value


class Volume(_Strict):
    count: Count
    cap: Count

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
    base_seconds: Seconds = Field(gt=0, le=60)
    max_seconds: Seconds = Field(gt=0, le=600)
    jitter: Seconds = Field(ge=0, le=1)
    max_retries: StrictInt = Field(ge=0, le=20)

    @model_validator(mode="after")
    def _ordered(self) -> Backoff:
        if self.base_seconds > self.max_seconds:
            raise ValueError(
                f"base_seconds {self.base_seconds:g} is above max_seconds {self.max_seconds:g}"
            )
        return self


class RateLimit(_Strict):
    target_rpm: Positive
    cap_rpm: Positive
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

    baseline_hours: Hours | None = None
    load_hours: Hours
    dr_hours: Hours

    def hours(self, mode: str) -> int | None:
        return {
            "baseline": self.baseline_hours,
            "load": self.load_hours,
            "dr": self.dr_hours,
        }[mode]


class Budget(_Strict):
    max_usd: Money = Field(gt=0, le=1_000_000)
    alert_ratio: Money = Field(gt=0, le=1)
    # The cost model the planner prices a run with (NFR-005); defaults are list
    # prices of a managed PostgreSQL and a worker node, to be tuned per platform.
    usd_per_million_rows: Money = Field(default=Decimal("0.50"), ge=0, le=1_000)
    usd_per_gib: Money = Field(default=Decimal("0.25"), ge=0, le=1_000)
    usd_per_cpu_hour: Money = Field(default=Decimal("0.10"), ge=0, le=1_000)


class Window(_Strict):
    start: Clock
    end: Clock
    timezone: Zone

    @model_validator(mode="after")
    def _not_empty(self) -> Window:
        if self.start == self.end:
            raise ValueError("start and end are equal: the window would be empty")
        return self


class Pii(_Strict):
    salt_version: Version


class Generation(_Strict):
    loan_term_months: StrictInt = Field(default=12, ge=1, le=480)
    batch_size: StrictInt = Field(default=5_000, ge=1, le=50_000)


class Manifest(_Strict):
    metadata: Metadata
    mode: Literal["baseline", "load", "dr"]
    as_of: AsOf
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
    if len(text) > MAX_MANIFEST_BYTES:
        raise ManifestError(
            f"{source} is larger than {MAX_MANIFEST_BYTES // 1024} KiB, so it is not a manifest",
            fix="pass a profile such as profiles/dev/acme.yaml",
        )
    try:
        data: Any = strict_yaml.load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or getattr(exc, "context", None)
        why = f": {problem}" if problem else ""
        raise ManifestError(
            f"{source} is not valid YAML{where}{why}",
            fix="correct it and run `seed_data validate-profiles`",
        ) from None
    if not isinstance(data, dict):
        raise ManifestError(f"{source} must be a YAML mapping", fix="see profiles/dev/acme.yaml")
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        raise ManifestError(_first_problem(exc, source), fix=_fix_for(exc)) from None


def _first_problem(exc: ValidationError, source: str) -> str:
    error = exc.errors()[0]
    field = ".".join(str(part)[:40] for part in error["loc"])[:80] or "(top level)"
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
