"""Gates `counts` and `determinism`: one read-back pass over the dataset feeds both.

The read-back folds every stored row with the generator's canonical encoding
(`factories.digest`), so the dataset digest of the database is comparable with the
generator's and with earlier runs' (order- and batching-independent).
"""

from __future__ import annotations

from dataclasses import dataclass

from factories.digest import combine_folds, dataset_digest, fold_rows
from seedbank.gates.model import Failures, GateContext, GateResult
from seedbank.gates.rows import COLUMNS, ENTITY_ORDER, dataset_select, stream


@dataclass(frozen=True)
class ReadBack:
    counts: dict[str, int]
    folds: dict[str, int]
    digest: str


def read_back(ctx: GateContext) -> ReadBack:
    cached = ctx.shared.get("readback")
    if isinstance(cached, ReadBack):
        return cached
    counts: dict[str, int] = {}
    folds: dict[str, int] = {}
    for entity in ENTITY_ORDER:
        query, args = dataset_select(entity, COLUMNS[entity], ctx.target)
        found, fold = 0, 0
        for chunk in stream(ctx.conn, query, args, name=f"readback_{entity}"):
            found += len(chunk)
            fold = combine_folds((fold, fold_rows(chunk)))
        counts[entity], folds[entity] = found, fold
    # Counts as stored, not as expected: a missing row must change the digest.
    result = ReadBack(counts, folds, dataset_digest(folds, counts))
    ctx.shared["readback"] = result
    return result


def counts_gate(ctx: GateContext) -> GateResult:
    spec = ctx.target.spec
    found = read_back(ctx).counts
    failures = Failures()
    for entity in ENTITY_ORDER:
        expected = spec.count(entity)
        if found[entity] != expected:
            failures.add(
                entity, None, None, f"has {found[entity]} rows, the manifest expects {expected}"
            )
    return failures.result(
        "counts",
        {
            "entities": len(ENTITY_ORDER),
            "rows": sum(found.values()),
            "expected_rows": sum(spec.count(e) for e in ENTITY_ORDER),
            "found": found,
        },
    )


def determinism_gate(ctx: GateContext) -> GateResult:
    """The stored digest equals the generator's (this run) and the last successful run's."""
    target = ctx.target
    back = read_back(ctx)
    stored = back.digest
    row = ctx.conn.execute(
        "SELECT id, dataset_digest FROM seed_run WHERE tenant_id = %s AND env = %s AND mode = %s"
        " AND status = 'succeeded' AND dry_run = false AND manifest_digest = %s"
        " AND salt_version = %s AND dataset_digest IS NOT NULL AND id IS DISTINCT FROM %s"
        " ORDER BY finished_at DESC NULLS LAST LIMIT 1",
        (
            target.tenant_id,
            target.env,
            target.mode,
            target.spec.manifest_digest,
            target.salt_version,
            target.run_id,
        ),
    ).fetchone()
    previous_run, previous = (str(row[0]), str(row[1])) if row else (None, None)
    figures = {
        "stored_digest": stored,
        "generated_digest": target.generated_digest,
        "previous_run_id": previous_run,
        "previous_digest": previous,
    }
    failures = Failures()
    if target.generated_folds is not None:
        for entity in ENTITY_ORDER:
            if back.folds[entity] != target.generated_folds.get(entity, 0):
                failures.add(
                    entity,
                    None,
                    None,
                    "the rows in the database differ from the rows this run generated",
                )
    if previous is not None and stored != previous:
        failures.add(
            "seed_run",
            previous_run,
            "dataset_digest",
            f"the rows in the database digest to {stored[:12]}…, but this last successful run"
            f" with the same manifest and salt version recorded {previous[:12]}…",
        )
    if target.generated_digest is None and previous is None:
        figures["reason"] = (
            "nothing to compare with: no digest from a generator in this process and no earlier"
            " successful run with the same manifest digest and salt version"
        )
        return GateResult("determinism", "skipped", figures)
    return failures.result("determinism", figures)
