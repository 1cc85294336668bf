"""The `/api/v1` contract: every generated row conforms; a broken field is named, never shown."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from factories.context import RowContext
from factories.rows import COLUMNS, SCENARIOS, masked_row
from factories.spec import ENTITIES
from seedbank.api.contract import (
    ENTITY_RESOURCES,
    HIDDEN_COLUMNS,
    NO_RESOURCE,
    SCHEMAS,
    ContractViolation,
    document,
    representation,
    validate_page,
    validate_representation,
    validate_rows,
)
from tests.unit.factories.support import GOLDEN_SALT, generate_all, golden_spec, rows_by_entity

ROWS = rows_by_entity(generate_all(golden_spec(), batch_size=7))


def test_every_entity_is_either_a_resource_or_has_none() -> None:
    assert set(ENTITY_RESOURCES) | NO_RESOURCE == set(ENTITIES)
    assert set(ENTITY_RESOURCES) == set(SCHEMAS)


def test_the_document_has_list_and_get_for_every_resource_and_matches_the_models() -> None:
    doc = document()
    for entity, segment in ENTITY_RESOURCES.items():
        assert "get" in doc["paths"][f"/api/v1/{segment}"], segment
        assert "get" in doc["paths"][f"/api/v1/{segment}/{{id}}"], segment
        schema = doc["components"]["schemas"][SCHEMAS[entity]]
        fields = [c for c in COLUMNS[entity] if c not in HIDDEN_COLUMNS]
        assert list(schema["properties"]) == fields, entity
        assert schema["required"] == fields, entity
        assert schema["additionalProperties"] is False


@pytest.mark.parametrize("entity", ENTITIES)
def test_every_generated_batch_conforms(entity: str) -> None:
    assert ROWS[entity], entity
    assert validate_rows(entity, COLUMNS[entity], ROWS[entity]) == []


@pytest.mark.parametrize(
    ("entity", "scenario"),
    [(entity, s) for entity, names in sorted(SCENARIOS.items()) for s in sorted(names)],
)
def test_every_sad_path_scenario_still_conforms(entity: str, scenario: str) -> None:
    rc = RowContext(golden_spec(), GOLDEN_SALT)
    rows = [masked_row(rc, entity, i, scenario) for i in range(3)]
    assert validate_rows(entity, COLUMNS[entity], rows) == []


def test_tables_without_a_resource_are_not_validated() -> None:
    assert validate_rows("tenant", ("anything",), [("x",)]) == []
    assert validate_rows("app_user", COLUMNS["app_user"], [(None,) * 3]) == []
    with pytest.raises(ValueError, match="unknown entity"):
        validate_rows("ledger", ("id",), [])


def test_the_representation_hides_scope_and_renders_api_types() -> None:
    cols = COLUMNS["financial_transaction"]
    row = dict(zip(cols, ROWS["financial_transaction"][0], strict=True))
    row.update(amount=Decimal("1234.50"), supplier_id=None)
    row["booked_at"] = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
    body = representation("financial_transaction", cols, tuple(row.values()))
    assert set(body) == set(cols) - HIDDEN_COLUMNS
    assert body["amount"] == "1234.50"
    assert body["booked_at"] == "2025-03-01T09:30:00Z"
    assert body["supplier_id"] is None
    assert body["id"] == str(row["id"])
    assert validate_representation("financial_transaction", body) == []


def _broken(entity: str, **values: Any) -> tuple[tuple[str, ...], list[tuple[Any, ...]], str]:
    cols = COLUMNS[entity]
    row = list(ROWS[entity][0])
    for name, value in values.items():
        row[cols.index(name)] = value
    return cols, [tuple(row)], str(row[cols.index("id")])


BROKEN: list[tuple[str, str, Any]] = [
    ("loan", "term_months", -12),
    ("loan", "status", "zombie-status"),
    ("loan", "principal", Decimal("1500.505")),
    ("loan", "monthly_rate", Decimal("0.0125")),
    ("financial_transaction", "amount", 12.5),
    ("financial_transaction", "amount", "12,50"),
    ("financial_transaction", "kind", "refund-ish"),
    ("financial_transaction", "booked_at", datetime(2025, 3, 1, 9, 30)),  # noqa: DTZ001 - naive on purpose
    ("financial_transaction", "supplier_id", "supplier-42"),
    ("bank_account", "balance", Decimal("-0.5")),
    ("bank_account", "status", "frozen-solid"),
    ("customer", "cpf", "123.456.789-09"),
    ("customer", "email", "maria silva at gmail"),
    ("customer", "birth_date", "31/12/1990"),
    ("customer", "phone", "(11) 98888-7777"),
    ("address", "zip_code", "01310-100"),
    ("installment", "number", 0),
    ("credit_limit", "used", Decimal("-10.00")),
]


@pytest.mark.parametrize(("entity", "field", "value"), BROKEN)
def test_a_broken_field_is_named_with_its_row_and_never_shows_the_value(
    entity: str, field: str, value: Any
) -> None:
    cols, rows, row_id = _broken(entity, **{field: value})
    found = validate_rows(entity, cols, rows)
    assert found, (entity, field)
    assert {v.field for v in found} == {field}
    for violation in found:
        assert (violation.entity, violation.row_id) == (entity, row_id)
        rendered = representation(entity, cols, rows[0])[field]
        # The row id is shown on purpose (and may contain a short value such as "0").
        without_id = repr(violation).replace(repr(violation.row_id), "")
        for shown in {str(value), str(rendered), repr(value)}:
            assert shown not in violation.reason
            assert shown not in without_id


def test_missing_unexpected_and_wrongly_typed_fields_are_violations() -> None:
    cols = COLUMNS["customer"]
    row = ROWS["customer"][0]
    missing = validate_rows("customer", cols[:-1], [row[:-1]])
    assert [(v.field, v.reason) for v in missing] == [("created_at", "is required but missing")]
    extra = validate_rows("customer", (*cols, "score"), [(*row, 700)])
    assert [v.field for v in extra] == ["score"]
    odd = validate_rows(
        "customer",
        cols,
        [tuple(b"x" if c == "full_name" else v for c, v in zip(cols, row, strict=True))],
    )
    assert [(v.field, v.reason) for v in odd] == [("full_name", "must be of type string")]


def test_a_page_violation_names_the_item_it_belongs_to() -> None:
    cols = COLUMNS["loan"]
    items = [representation("loan", cols, r) for r in ROWS["loan"][:3]]
    items[1]["term_months"] = 0
    found = validate_page("loan", {"items": items, "next_cursor": None})
    assert found == [
        ContractViolation("loan", items[1]["id"], "term_months", "is below the minimum 1")
    ]
    assert validate_page("loan", {"items": items[:1]})[0].field == "next_cursor"


def test_ids_of_other_shapes_are_rejected() -> None:
    cols, rows, _ = _broken("advisor", id=str(uuid.uuid4()).upper())
    assert [v.field for v in validate_rows("advisor", cols, rows)] == ["id"]
