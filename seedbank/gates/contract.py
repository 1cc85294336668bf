"""Gate `contract` (FR-004, US2-AC2): records read back validate against `/api/v1`.

A sample per entity (all rows of a small entity) is read back and validated by
`seedbank.api.contract.validate_rows`; the sample size is reported.
"""

from __future__ import annotations

from seedbank.api.contract import NO_RESOURCE, validate_rows
from seedbank.gates.model import Failures, GateContext, GateResult
from seedbank.gates.rows import COLUMNS, ENTITY_ORDER, dataset_select

SAMPLE = 500
"""Rows per entity validated; an entity with fewer rows is validated whole."""


def contract_gate(ctx: GateContext, *, sample: int = SAMPLE) -> GateResult:
    failures = Failures()
    sampled: dict[str, int] = {}
    # Tables the API does not expose (tenant, app_user) have nothing to validate: listed.
    uncovered: list[str] = [e for e in ENTITY_ORDER if e in NO_RESOURCE]
    for entity in ENTITY_ORDER:
        if entity in uncovered:
            continue
        columns = COLUMNS[entity]
        query, args = dataset_select(entity, columns, ctx.target, limit=sample)
        rows = ctx.conn.execute(query, args).fetchall()
        try:
            violations = validate_rows(entity, columns, rows)
        except (LookupError, ValueError):  # a seeded table the contract does not know
            failures.add(entity, None, None, "has no representation in the /api/v1 contract")
            continue
        sampled[entity] = len(rows)
        for v in violations:
            failures.add(str(v.entity), v.row_id, v.field, str(v.reason))
    return failures.result(
        "contract",
        {
            "sample_per_entity": sampled,
            "validated": sum(sampled.values()),
            "sample_cap": sample,
            "entities_without_contract": uncovered,
        },
    )
