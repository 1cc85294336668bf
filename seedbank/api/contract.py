"""The `/api/v1` contract: a row's API representation and its validation (pure).

The packaged ``openapi.yaml`` is the contract; it is read once through
importlib.resources and every schema is compiled once (jsonschema_rs, formats
checked). No environment, no clock, no other I/O.

A representation is the row without ``tenant_id`` (the token scopes the tenant) and
``dataset`` (a seeding detail): ids become UUID strings, money a decimal string
rendered exactly as stored ("1234.50"), dates ISO-8601, instants RFC 3339 in UTC.
Rendering never repairs a value (``Decimal("1.5")`` stays ``"1.5"``), so a malformed
row shows up as a violation instead of being silently fixed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

import jsonschema_rs
import yaml

from seedbank.api.violations import describe
from seedbank.domain.models import DOMAIN_TABLES, table_name

ENTITY_RESOURCES: Mapping[str, str] = MappingProxyType(
    {
        "advisor": "advisors",
        "account_category": "account-categories",
        "supplier": "suppliers",
        "customer": "customers",
        "address": "addresses",
        "bank_account": "accounts",
        "credit_limit": "credit-limits",
        "contract": "contracts",
        "loan": "loans",
        "installment": "installments",
        "financial_transaction": "transactions",
    }
)
"""Table name -> path segment under /api/v1 (FK order: parents first)."""

RESOURCE_ENTITIES: Mapping[str, str] = MappingProxyType(
    {segment: entity for entity, segment in ENTITY_RESOURCES.items()}
)
SCHEMAS: Mapping[str, str] = MappingProxyType(
    {
        "advisor": "Advisor",
        "account_category": "AccountCategory",
        "supplier": "Supplier",
        "customer": "Customer",
        "address": "Address",
        "bank_account": "Account",
        "credit_limit": "CreditLimit",
        "contract": "Contract",
        "loan": "Loan",
        "installment": "Installment",
        "financial_transaction": "Transaction",
    }
)
"""Table name -> component schema of its representation."""

NO_RESOURCE: frozenset[str] = frozenset({"tenant", "app_user"})
"""Tables with no public resource: nothing to validate."""
HIDDEN_COLUMNS: frozenset[str] = frozenset({"tenant_id", "dataset"})


@dataclass(frozen=True)
class ContractViolation:
    """One field of one record that breaks the contract; never carries the value."""

    entity: str
    row_id: str
    field: str
    reason: str


@cache
def document() -> Mapping[str, Any]:
    """The parsed contract (shared: do not mutate)."""
    text = resources.files("seedbank.api").joinpath("openapi.yaml").read_text(encoding="utf-8")
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


# --- rendering ------------------------------------------------------------------------

Convert = Callable[[Any], Any]


def _uuid(value: Any) -> Any:
    return str(value) if isinstance(value, uuid.UUID) else _json(value)


def _decimal(value: Any) -> Any:
    # "f" keeps the stored exponent: numeric(18,2) renders with exactly two places.
    return format(value, "f") if isinstance(value, Decimal) else _json(value)


def _date(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else _json(value)


def _instant(value: Any) -> Any:
    if not isinstance(value, datetime):
        return _json(value)
    if value.utcoffset() is None:
        return value.isoformat()  # no offset: the schema rejects it
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


_JSON_SCALARS = (str, int, float, bool, type(None))


def _json(value: Any) -> Any:
    """Any value as JSON: known Python types by their API form, others as an object
    that no field schema accepts (so a wrong type is a violation, not a crash)."""
    if isinstance(value, _JSON_SCALARS):
        return value
    if isinstance(value, datetime):
        return _instant(value)
    for kind, convert in _BY_TYPE.items():
        if isinstance(value, kind):
            return convert(value)
    return {"unsupported_type": type(value).__name__}


_BY_TYPE: Mapping[type, Convert] = {
    uuid.UUID: _uuid,
    Decimal: _decimal,
    datetime: _instant,
    date: _date,
}
_COLUMN_CONVERTERS: Mapping[str, Mapping[str, Convert]] = {
    table_name(model): {
        c.name: _BY_TYPE.get(c.type.python_type, _json)
        for c in model.__table__.columns  # type: ignore[attr-defined]
    }
    for model in DOMAIN_TABLES
}


@dataclass(frozen=True)
class _Plan:
    fields: tuple[tuple[int, str, Convert], ...]
    id_at: int | None

    def render(self, row: Sequence[Any]) -> dict[str, Any]:
        return {name: convert(row[i]) for i, name, convert in self.fields if i < len(row)}

    def row_id(self, row: Sequence[Any]) -> str:
        if self.id_at is None or self.id_at >= len(row):
            return "?"
        return str(row[self.id_at])


def _check_entity(entity: str) -> None:
    if entity not in SCHEMAS and entity not in NO_RESOURCE:
        raise ValueError(f"unknown entity {entity!r}")


@cache
def _plan(entity: str, columns: tuple[str, ...]) -> _Plan:
    # A column the model does not know is rendered as is: the schema flags it.
    known = _COLUMN_CONVERTERS.get(entity, {})
    fields = tuple(
        (i, name, known.get(name, _json))
        for i, name in enumerate(columns)
        if name not in HIDDEN_COLUMNS
    )
    return _Plan(fields, columns.index("id") if "id" in columns else None)


def representation(entity: str, columns: Sequence[str], row: Sequence[Any]) -> dict[str, Any]:
    """A DB/factory row tuple (in ``columns`` order) as the API's JSON representation."""
    _check_entity(entity)
    return _plan(entity, tuple(columns)).render(row)


# --- validation -----------------------------------------------------------------------


@cache
def _validator(schema: str) -> jsonschema_rs.Validator:
    root = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": f"#/components/schemas/{schema}",
        "components": {"schemas": document()["components"]["schemas"]},
    }
    return jsonschema_rs.validator_for(root, validate_formats=True)


def _errors(
    entity: str, row_id: str, errors: Iterable[jsonschema_rs.ValidationError]
) -> list[ContractViolation]:
    return [
        ContractViolation(entity, row_id, field, reason)
        for error in errors
        for field, reason in describe(error.kind, error.instance_path)
    ]


def validate_rows(
    entity: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> list[ContractViolation]:
    """Every contract violation of a batch of rows (empty when all conform)."""
    _check_entity(entity)
    if entity in NO_RESOURCE:
        return []
    plan, validator = _plan(entity, tuple(columns)), _validator(SCHEMAS[entity])
    out: list[ContractViolation] = []
    for row in rows:
        body = plan.render(row)
        if not validator.is_valid(body):  # the slow, detailed pass only on failure
            out += _errors(entity, plan.row_id(row), validator.iter_errors(body))
    return out


def _body_id(body: Any) -> str:
    value = body.get("id") if isinstance(body, Mapping) else None
    return value if isinstance(value, str) else "?"


def validate_representation(entity: str, body: Any) -> list[ContractViolation]:
    """Violations of one JSON body returned by ``GET /api/v1/<resource>/{id}``."""
    validator = _validator(SCHEMAS[entity])
    if validator.is_valid(body):
        return []
    return _errors(entity, _body_id(body), validator.iter_errors(body))


def validate_page(entity: str, body: Any) -> list[ContractViolation]:
    """Violations of one list page; an item's violation names that item's id."""
    validator = _validator(f"{SCHEMAS[entity]}Page")
    if validator.is_valid(body):
        return []
    out: list[ContractViolation] = []
    for error in validator.iter_errors(body):
        path = list(error.instance_path)
        row_id = "(page)"
        if len(path) >= 2 and path[0] == "items" and isinstance(path[1], int):
            row_id = _body_id(body["items"][path[1]])
            path = path[2:]
        out += [
            ContractViolation(entity, row_id, field, reason)
            for field, reason in describe(error.kind, path)
        ]
    return out


def validate_problem(body: Any) -> list[ContractViolation]:
    """Violations of a problem+json error body."""
    validator = _validator("Problem")
    if validator.is_valid(body):
        return []
    return _errors("problem", "(problem)", validator.iter_errors(body))
