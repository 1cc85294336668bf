"""Gates `counts` and `determinism`: one read-back pass over the dataset feeds both.

The read-back folds every stored row with the generator's canonical encoding
(`factories.digest`), so the dataset digest of the database is comparable with the
generator's and with earlier runs' (order- and batching-independent). PostgreSQL builds
and digests the canonical bytes itself (`stored_fold`): only sums cross the wire. With a
reader (a committed dataset, `GateContext.reader`) each entity is split by id into two
lanes folded on two connections that share the gate transaction's snapshot, in the
background while the other gates run (`start_read_back`). Without one, the gate
connection folds everything.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import IsolationLevel, sql

from factories.digest import combine_folds, dataset_digest
from factories.spec import GENERATOR_VERSION
from seedbank.adapters.postgres import bind_tenant, connect
from seedbank.adapters.vault import Salt
from seedbank.gates.model import Failures, GateContext, GateResult, Reader
from seedbank.gates.rows import ENTITY_ORDER, dataset_filter
from seedbank.gates.stored_fold import UTF8_SETTINGS, fold_from_word_sums, fold_select

_HALF = "80000000-0000-0000-0000-000000000000"
Part = tuple[str, sql.Composable, tuple[Any, ...]]
Fold = tuple[str, int, int]  # entity, rows, fold


@dataclass(frozen=True)
class ReadBack:
    counts: dict[str, int]
    folds: dict[str, int]
    digest: str
    lanes: int


def _lanes(ctx: GateContext, *, split: bool) -> tuple[list[Part], list[Part]]:
    lanes: tuple[list[Part], list[Part]] = ([], [])
    for entity in ENTITY_ORDER:
        where, args = dataset_filter(entity, ctx.target)
        if not split or entity == "tenant":
            lanes[0].append((entity, where, args))
            continue
        for lane, op in zip(lanes, ("<", ">="), strict=True):
            part = sql.SQL("{} AND id {} %s::uuid").format(where, sql.SQL(op))
            lane.append((entity, part, (*args, _HALF)))
    return lanes


def start_read_back(ctx: GateContext) -> None:
    """Fold on two reader connections in the background while the other gates run on the
    gate connection (PostgreSQL folds, Python proves PII: both cores work)."""
    if ctx.reader is None or "readback" in ctx.shared or "readback_lanes" in ctx.shared:
        return
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="readback")
    reader, tenant_id = ctx.reader, ctx.target.tenant_id
    ctx.shared["readback_lanes"] = [
        pool.submit(_fold_on_reader, reader, tenant_id, lane) for lane in _lanes(ctx, split=True)
    ]
    pool.shutdown(wait=False)  # the threads end with their lane


def read_back(ctx: GateContext) -> ReadBack:
    cached = ctx.shared.get("readback")
    if isinstance(cached, ReadBack):
        return cached
    if ctx.reader is None:
        results = _fold_parts(ctx.conn, _lanes(ctx, split=False)[0])
    else:
        start_read_back(ctx)  # a no-op when the runner started it
        background: list[Future[list[Fold]]] = ctx.shared.pop("readback_lanes")
        results = [fold for lane in background for fold in lane.result()]
    counts = dict.fromkeys(ENTITY_ORDER, 0)
    folds = dict.fromkeys(ENTITY_ORDER, 0)
    for entity, found, fold in results:
        counts[entity] += found
        folds[entity] = combine_folds((folds[entity], fold))
    # Counts as stored, not as expected: a missing row must change the digest.
    lanes = 1 if ctx.reader is None else 2
    result = ReadBack(counts, folds, dataset_digest(folds, counts), lanes)
    ctx.shared["readback"] = result
    return result


# Freshly seeded tables have no statistics: the planner would walk the primary key for
# every row (2x slower, measured), and the two lanes already keep both cores busy.
_FOLD_SETTINGS = {
    "enable_bitmapscan": "off",
    "enable_indexscan": "off",
    "max_parallel_workers_per_gather": "0",
}


def _fold_parts(conn: psycopg.Connection, parts: Sequence[Part]) -> list[Fold]:
    settings = _FOLD_SETTINGS | UTF8_SETTINGS
    saved = {g: conn.execute("SELECT current_setting(%s)", (g,)).fetchone() for g in settings}
    for name, value in settings.items():
        conn.execute("SELECT set_config(%s, %s, true)", (name, value))
    out = []
    for entity, where, args in parts:
        row = conn.execute(fold_select(entity, where), args).fetchone()
        if row is None:  # an aggregate always answers one row
            raise RuntimeError("the fold query returned no row")
        out.append((entity, int(row[0]), fold_from_word_sums(row[1:])))
    # On an error the gate's savepoint rolls these settings back with everything else.
    for name, old in saved.items():
        if old is not None:
            conn.execute("SELECT set_config(%s, %s, true)", (name, old[0]))
    return out


def _fold_on_reader(reader: Reader, tenant_id: uuid.UUID, parts: Sequence[Part]) -> list[Fold]:
    with connect(reader.url) as conn:
        # The same snapshot as the gate connection: both halves see one dataset.
        conn.isolation_level = IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        conn.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(reader.snapshot)))
        bind_tenant(conn, tenant_id)
        try:
            return _fold_parts(conn, parts)
        finally:
            conn.rollback()


def counts_gate(ctx: GateContext) -> GateResult:
    spec = ctx.target.spec
    back = read_back(ctx)
    found = back.counts
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
            "read_lanes": back.lanes,
        },
    )


def determinism_gate(ctx: GateContext) -> GateResult:
    """The stored digest equals the generator's (this run) and the last successful run's
    with the same manifest and the same salt — its version *and* its value (fingerprint):
    a Vault that lost its data hands out another salt under the same version number."""
    target = ctx.target
    back = read_back(ctx)
    stored = back.digest
    row = None
    if ctx.salt is not None:
        row = ctx.conn.execute(
            "SELECT id, dataset_digest FROM seed_run WHERE tenant_id = %s AND env = %s"
            " AND mode = %s AND status = 'succeeded' AND dry_run = false"
            " AND manifest_digest = %s AND salt_version = %s AND salt_fingerprint = %s"
            " AND generator_version = %s"  # another dataset format made other rows
            " AND dataset_digest IS NOT NULL AND id IS DISTINCT FROM %s"
            " ORDER BY finished_at DESC NULLS LAST LIMIT 1",
            (
                target.tenant_id,
                target.env,
                target.mode,
                target.spec.manifest_digest,
                target.salt_version,
                Salt(target.salt_version, ctx.salt).fingerprint,
                GENERATOR_VERSION,
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
            " successful run with the same manifest digest and salt (its version and its value)"
        )
        return GateResult("determinism", "skipped", figures)
    return failures.result("determinism", figures)
