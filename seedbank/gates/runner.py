"""Running the gates in order over one tenant-bound connection.

Each gate runs in its own savepoint, so a gate whose SQL fails is reported as failed
(with the SQLSTATE, never a message that might quote a value) and the others still
run. The caller owns the transaction: a normal run rolls it back after reading, a dry
run rolls back everything it wrote.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence

import psycopg
from psycopg.pq import TransactionStatus

from seedbank.adapters.postgres import bind_tenant, connect
from seedbank.gates.contract import contract_gate
from seedbank.gates.invariants import invariants_gate
from seedbank.gates.model import GateContext, GateFailure, GateResult, GateTarget, Reader
from seedbank.gates.pii import pii_gate
from seedbank.gates.readback import counts_gate, determinism_gate, start_read_back
from seedbank.gates.referential import referential_gate
from seedbank.gates.rls import rls_probe_gate
from seedbank.gates.smoke import SmokeConfig, api_smoke_gate

Gate = Callable[[GateContext], GateResult]

GATE_NAMES: tuple[str, ...] = (
    "counts",
    "referential",
    "rls-probe",
    "pii",
    "contract",
    "invariants",
    "determinism",
    "api-smoke",
)


def run_gates_rolled_back(
    url: str,
    tenant_id: uuid.UUID,
    target: GateTarget,
    *,
    salt: bytes | None,
    smoke: SmokeConfig | None = None,
) -> list[GateResult]:
    """Every gate over what the database at `url` holds now: on a connection of its own,
    bound to the tenant, in a transaction that is rolled back (the gates only read; the
    RLS probe's refused writes leave nothing)."""
    with connect(url) as conn, conn.transaction(force_rollback=True):
        bind_tenant(conn, tenant_id)
        return run_gates(conn, target, salt=salt, smoke=smoke)


def run_gates(
    conn: psycopg.Connection,
    target: GateTarget,
    *,
    salt: bytes | None,
    smoke: SmokeConfig | None = None,
    only: Sequence[str] | None = None,
) -> list[GateResult]:
    """Every gate (or those in `only`) over `conn`, which must be in a transaction bound
    to `target.tenant_id` (`seedbank.adapters.postgres.bind_tenant`)."""
    if conn.info.transaction_status is not TransactionStatus.INTRANS:
        raise ValueError("run_gates needs a connection inside a tenant-bound transaction")
    ctx = GateContext(conn=conn, target=target, salt=salt, reader=_reader(conn, target))
    gates: dict[str, Gate] = {
        "counts": counts_gate,
        "referential": referential_gate,
        "rls-probe": rls_probe_gate,
        "pii": pii_gate,
        "contract": contract_gate,
        "invariants": invariants_gate,
        "determinism": determinism_gate,
        "api-smoke": lambda c: api_smoke_gate(c, smoke),
    }
    results: list[GateResult] = []
    # Freshly seeded tables have no planner statistics (the application role may not
    # ANALYZE tables it does not own): estimating one row each, the planner nests loops
    # over aggregates, quadratic in the dataset (1.2 s for 900 accounts and 9,000
    # transactions, measured). Hash and merge joins stay linear whatever the estimates.
    row = conn.execute("SELECT current_setting('enable_nestloop')").fetchone()
    conn.execute("SELECT set_config('enable_nestloop', 'off', true)")
    try:
        _run(conn, ctx, gates, only, results)
    finally:
        conn.execute("SELECT set_config('enable_nestloop', %s, true)", (row[0] if row else "on",))
    return results


def _reader(conn: psycopg.Connection, target: GateTarget) -> Reader | None:
    """A second connection sees committed rows only: none for a dry run, nor for a
    transaction that wrote (it holds a transaction id) and would be judged on rows
    another connection cannot see."""
    if target.reader_url is None or target.dry_run:
        return None
    row = conn.execute(
        "SELECT CASE WHEN pg_current_xact_id_if_assigned() IS NULL THEN pg_export_snapshot() END"
    ).fetchone()
    return Reader(target.reader_url, str(row[0])) if row and row[0] else None


READ_BACK_GATES = ("counts", "determinism")
"""Gates fed by the full read-back: with a reader it runs in the background, so these
run last and the others overlap with it; results keep the order of GATE_NAMES."""


def _run(
    conn: psycopg.Connection,
    ctx: GateContext,
    gates: dict[str, Gate],
    only: Sequence[str] | None,
    results: list[GateResult],
) -> None:
    selected = [n for n in GATE_NAMES if only is None or n in only]
    if ctx.reader is not None and any(n in READ_BACK_GATES for n in selected):
        start_read_back(ctx)
        selected.sort(key=_overlap_order)  # stable: others keep their order
    for name in selected:
        started = time.monotonic()
        try:
            with conn.transaction():
                result = gates[name](ctx)
        except psycopg.Error as exc:
            result = GateResult(
                name,
                "failed",
                {"failures_total": 1},
                [GateFailure("database", None, None, f"the gate could not run ({_code(exc)})")],
            )
        result.figures["duration_s"] = round(time.monotonic() - started, 3)
        results.append(result)
    results.sort(key=lambda r: GATE_NAMES.index(r.name))


DIGEST_PROVEN_GATES = ("pii", "referential", "invariants")
"""Gates that wait for the read-back when it can prove them (`seedbank.gates.proof`):
they run after the others, so those still overlap with the background fold; `pii` first,
as it scans the tenant's other datasets before it waits."""


def _overlap_order(name: str) -> int:
    if name in READ_BACK_GATES:
        return 1 + len(DIGEST_PROVEN_GATES)
    if name in DIGEST_PROVEN_GATES:
        return 1 + DIGEST_PROVEN_GATES.index(name)
    return 0


def _code(exc: psycopg.Error) -> str:
    return f"SQLSTATE {exc.sqlstate}" if exc.sqlstate else type(exc).__name__


def failed(results: Sequence[GateResult]) -> list[GateResult]:
    return [r for r in results if r.failed]


def failure_sentence(results: Sequence[GateResult]) -> str:
    """One line naming each failed gate and its first finding (entity, row, field)."""
    parts = []
    for r in failed(results):
        total = int(r.figures.get("failures_total", len(r.failures)))
        first = r.failures[0].sentence() if r.failures else "no detail"
        more = f" (+{total - 1} more)" if total > 1 else ""
        parts.append(f"gate '{r.name}' failed: {first}{more}")
    return "; ".join(parts)
