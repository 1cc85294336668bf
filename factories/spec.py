"""What one dataset is: the inputs every generated value is a pure function of.

``DatasetSpec`` is built by the manifest layer from a validated manifest; the count
rules live here (``implied_counts`` / ``validate_counts``) so the manifest layer and
the generator agree on them. Parents are found by index arithmetic, so the counts
must make every arithmetic parent exist (see ``validate_counts``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from seedbank.domain.models import DOMAIN_TABLES, table_name

GENERATOR_VERSION = "2026.3"
"""Bump on any change of generated output; golden digests pin the current one."""

PROJECT_NAMESPACE = uuid.UUID("24d5c9e6-3f63-58fb-ae01-98f5144b4961")
"""Root of every seedbank uuid5: uuid5(NAMESPACE_URL, "https://seedbank.invalid/ids").
Never change it: every id would move."""

ENTITIES: tuple[str, ...] = tuple(table_name(m) for m in DOMAIN_TABLES)
"""Entity table names in foreign-key order (parents first)."""

MODES: Mapping[str, int] = {"baseline": 1, "load": 2, "dr": 3}
"""Seeding modes and the digit that leads their business numbers (no cross-mode clash)."""

MAX_TERM_MONTHS = 480
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
_ENV = re.compile(r"[a-z0-9][a-z0-9-]{0,15}")
_DIGEST = re.compile(r"[0-9a-f]{64}")

# child -> parents whose count must be >= 1 when the child has rows.
_NEEDS_PARENT: Mapping[str, tuple[str, ...]] = {
    "customer": ("advisor",),
    "supplier": ("account_category",),
    "address": ("customer",),
    "bank_account": ("customer", "account_category"),
    "contract": ("credit_limit",),
    "financial_transaction": ("bank_account",),
}
# child -> parent it maps to one-to-one (child i -> parent i), so child <= parent.
_AT_MOST: Mapping[str, str] = {"credit_limit": "bank_account", "loan": "contract"}


def tenant_uuid(env: str, tenant: str) -> uuid.UUID:
    """The tenant_id of one env/tenant pair (one RLS scope)."""
    return uuid.uuid5(PROJECT_NAMESPACE, f"{env}/{tenant}")


class FrozenCounts(Mapping[str, int]):
    """Immutable, hashable counts so a ``DatasetSpec`` can key memo tables."""

    __slots__ = ("_items",)

    def __init__(self, counts: Mapping[str, int]) -> None:
        self._items = dict(sorted(counts.items()))

    def __getitem__(self, key: str) -> int:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(tuple(self._items.items()))

    def __repr__(self) -> str:
        return f"FrozenCounts({self._items!r})"


def implied_counts(counts: Mapping[str, int], loan_term_months: int) -> dict[str, int]:
    """Counts with the derived ones filled in: ``installment = loan * term``.

    Missing entities count 0; ``tenant`` is always 1 row and is not listed.
    """
    out = {e: int(counts.get(e, 0)) for e in ENTITIES if e != "tenant"}
    out["installment"] = out["loan"] * loan_term_months
    return out


def validate_counts(counts: Mapping[str, int], loan_term_months: int) -> list[str]:
    """Every problem with ``counts`` (empty when valid), in readable sentences."""
    problems: list[str] = []
    known = set(ENTITIES) - {"tenant"}
    for name in sorted(set(counts) - known):
        extra = " (tenant is always 1 row)" if name == "tenant" else ""
        problems.append(f"unknown entity {name!r} in counts{extra}")
    for name in sorted(known - set(counts)):
        problems.append(f"missing count for entity {name!r}")
    for name, n in sorted(counts.items()):
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            problems.append(f"count of {name!r} must be a non-negative integer, got {n!r}")
    if problems:
        return problems
    if not 1 <= loan_term_months <= MAX_TERM_MONTHS:
        problems.append(f"loan_term_months must be in 1..{MAX_TERM_MONTHS}, got {loan_term_months}")
    for child, parents in _NEEDS_PARENT.items():
        for parent in parents:
            if counts[child] > 0 and counts[parent] == 0:
                problems.append(f"{child} has {counts[child]} rows but {parent} has none")
    for child, parent in _AT_MOST.items():
        if counts[child] > counts[parent]:
            problems.append(
                f"{child} ({counts[child]}) cannot exceed {parent} ({counts[parent]}):"
                f" {child} i belongs to {parent} i"
            )
    expected = counts["loan"] * loan_term_months
    if counts["installment"] != expected:
        problems.append(
            f"installment must equal loan * loan_term_months = {counts['loan']} *"
            f" {loan_term_months} = {expected}, got {counts['installment']}"
        )
    return problems


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset of one env/tenant/mode; immutable and hashable.

    Row keys and ids come from (tenant, env, mode, entity, index, GENERATOR_VERSION);
    as_of, counts and the loan term shape values (dates, parents, balances).
    ``manifest_digest`` is carried for checkpoints and evidence but is not key
    material: a manifest edit that changes none of these inputs (a batch size, a
    rate limit) regenerates identical rows.
    """

    tenant: str
    env: str
    mode: str
    as_of: datetime
    counts: Mapping[str, int]
    loan_term_months: int
    manifest_digest: str

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not _SLUG.fullmatch(self.tenant):
            problems.append(f"tenant must be a slug ([a-z0-9-], <= 64), got {self.tenant!r}")
        if not _ENV.fullmatch(self.env):
            problems.append(f"env must be a slug ([a-z0-9-], <= 16), got {self.env!r}")
        if self.mode not in MODES:
            problems.append(f"mode must be one of {sorted(MODES)}, got {self.mode!r}")
        if self.as_of.tzinfo is None or self.as_of.utcoffset() is None:
            problems.append("as_of must be timezone-aware")
        if not _DIGEST.fullmatch(self.manifest_digest):
            problems.append("manifest_digest must be 64 lowercase hex characters (SHA-256)")
        problems += validate_counts(self.counts, self.loan_term_months)
        if problems:
            raise ValueError("invalid DatasetSpec: " + "; ".join(problems))
        object.__setattr__(self, "counts", FrozenCounts(self.counts))

    def count(self, entity: str) -> int:
        """Rows of ``entity`` in this dataset (``tenant`` is always 1)."""
        return 1 if entity == "tenant" else self.counts[entity]

    @property
    def tenant_id(self) -> uuid.UUID:
        return tenant_uuid(self.env, self.tenant)
