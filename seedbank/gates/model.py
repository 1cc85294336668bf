"""What a verification gate returns, and what every gate is given.

A gate's failure names the entity, the row id and the field, and says what rule the
value broke; it never carries the value itself (it may be PII, FR-003).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import psycopg

from factories.digest import dataset_digest
from factories.spec import ENTITIES, DatasetSpec

Status = Literal["passed", "failed", "skipped"]
MAX_LISTED_FAILURES = 50
"""Failures listed per gate; the total is always counted (`figures['failures_total']`)."""


@dataclass(frozen=True)
class GateFailure:
    entity: str
    row_id: str | None
    field: str | None
    reason: str

    def sentence(self) -> str:
        where = self.entity + (f" row {self.row_id}" if self.row_id else "")
        return f"{where}{f' field {self.field}' if self.field else ''}: {self.reason}"


@dataclass
class GateResult:
    name: str
    status: Status
    figures: dict[str, Any] = field(default_factory=dict)
    failures: list[GateFailure] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "figures": self.figures,
            "failures": [asdict(f) for f in self.failures],
        }


@dataclass(frozen=True)
class GateTarget:
    """The dataset under verification: one env/tenant/mode as its manifest describes it."""

    spec: DatasetSpec
    salt_version: int
    run_id: uuid.UUID | None = None
    generated_folds: Mapping[str, int] | None = None
    """Per-entity folds the generator produced in this run (None when verifying later)."""
    audit_url: str | None = None
    """Application-role URL for audit rows (their own connection, outside any dry run)."""
    actor: str = "seedbank-verify"
    dry_run: bool = False
    reader_url: str | None = None
    """Application-role URL for a second reading connection (a committed dataset only)."""

    @property
    def generated_digest(self) -> str | None:
        if self.generated_folds is None:
            return None
        return dataset_digest(self.generated_folds, {e: self.spec.count(e) for e in ENTITIES})

    @property
    def tenant_id(self) -> uuid.UUID:
        return self.spec.tenant_id

    @property
    def tenant(self) -> str:
        return self.spec.tenant

    @property
    def env(self) -> str:
        return self.spec.env

    @property
    def mode(self) -> str:
        return self.spec.mode


@dataclass(frozen=True)
class Reader:
    """A second connection's way in: its URL and the gate transaction's exported snapshot."""

    url: str
    snapshot: str


@dataclass
class GateContext:
    """One verification pass: a tenant-bound connection and what gates share."""

    conn: psycopg.Connection
    target: GateTarget
    salt: bytes | None
    reader: Reader | None = None
    shared: dict[str, Any] = field(default_factory=dict)


class Failures:
    """Collects a gate's failures: all are counted, the first `MAX_LISTED_FAILURES` kept."""

    def __init__(self) -> None:
        self.total = 0
        self.listed: list[GateFailure] = []
        self._seen: set[tuple[str, str | None, str | None]] = set()

    def add(self, entity: str, row_id: object, field: str | None, reason: str) -> None:
        rid = None if row_id is None else str(row_id)
        if (entity, rid, field) in self._seen:  # one finding per cell is enough
            return
        self._seen.add((entity, rid, field))
        self.total += 1
        if len(self.listed) < MAX_LISTED_FAILURES:
            self.listed.append(GateFailure(entity, rid, field, reason))

    def result(self, name: str, figures: dict[str, Any]) -> GateResult:
        figures["failures_total"] = self.total
        return GateResult(name, "failed" if self.total else "passed", figures, self.listed)
