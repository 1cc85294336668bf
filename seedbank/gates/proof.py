"""One-pass verification: when the read-back proves the stored rows are the generated ones,
a gate whose full scan would re-prove what the generator guarantees by construction
takes a catalogue proof instead (issue 17).

The digest proof: every entity's stored fold and row count equal the folds this run's
generator produced (`GateTarget.generated_folds`) and the manifest's counts. The fold
is a sum of SHA-256 row digests over every column, tenant_id and ids included, so any
changed, missing or extra row breaks it (the `determinism` and `counts` gates fail on
it too). The generator's own proof: each reference is computed as the id of a parent
index below that parent's count in the same dataset namespace (`factories.rows`;
tests/unit/factories hold every generated reference resolvable).

The catalogue proof: every foreign key the gate would check is a validated constraint
whose triggers are enabled, and every table has row-level security enabled and forced,
for a role that does not bypass it. (seedbank's own batches may silence those triggers
inside their transaction; they then check and lock their parents set-based before the
commit, `seedbank.adapters.references`: every committed row passed one check or the
other.) Without a digest proof (`verify` later, a dry run that tampers, a mismatch) or
with a catalogue gap, the gate scans as before. `invariants` takes the digest proof
alone: its rules are about this dataset's rows only, which the digest pins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from seedbank.gates.model import GateContext
from seedbank.gates.readback import read_back
from seedbank.gates.rows import COLUMNS, ENTITY_ORDER


@dataclass(frozen=True)
class Proof:
    proven: bool
    reason: str


def digest_proof(ctx: GateContext) -> Proof:
    """Do the stored rows digest to exactly this run's generated rows?"""
    generated = ctx.target.generated_folds
    if generated is None:
        return Proof(False, "no generator folds in this process (verify after the run)")
    back = read_back(ctx)
    spec = ctx.target.spec
    for entity in ENTITY_ORDER:
        if back.counts[entity] != spec.count(entity) or back.folds[entity] != generated.get(
            entity, 0
        ):
            return Proof(False, "the stored rows differ from the generated rows")
    return Proof(True, "stored rows digest-equal to the generated rows")


def foreign_key_gaps(ctx: GateContext, keys: Sequence[tuple[str, str, str]]) -> list[str]:
    """(child, column, parent) keys without a validated, trigger-enabled FK constraint."""
    rows = ctx.conn.execute(
        "SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text,"
        " c.convalidated AND NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgconstraint = c.oid"
        " AND t.tgenabled = 'D')"
        " FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid"
        " AND a.attnum = ANY (c.conkey) WHERE c.contype = 'f'"
        " AND c.connamespace = 'public'::regnamespace"
    ).fetchall()
    sound = {(str(r[0]), str(r[1]), str(r[2])) for r in rows if r[3]}
    return [f"{c}.{col} -> {p}" for c, col, p in keys if (c, col, p) not in sound]


def rls_gaps(ctx: GateContext, tables: Sequence[str]) -> list[str]:
    """Tables whose RLS is not enabled and forced, or a role that bypasses it."""
    role = ctx.conn.execute(
        "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"
    ).fetchone()
    if role is None or role[0]:
        return ["the gate's role bypasses row-level security"]
    rows = ctx.conn.execute(
        "SELECT relname FROM pg_class c WHERE relnamespace = 'public'::regnamespace"
        " AND relkind = 'r' AND relrowsecurity AND relforcerowsecurity"
        " AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid)"
        " AND relname = ANY (%s)",
        (list(tables),),
    ).fetchall()
    secured = {str(r[0]) for r in rows}
    return [t for t in tables if t not in secured]


def column_gaps(ctx: GateContext) -> list[str]:
    """Stored columns of the domain tables that the generator (and so the digest) does not
    cover: the PII catalogue and the model classify every column the digest proves."""
    rows = ctx.conn.execute(
        "SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
        " WHERE c.relnamespace = 'public'::regnamespace AND c.relname = ANY (%s)"
        " AND a.attnum > 0 AND NOT a.attisdropped",
        (list(ENTITY_ORDER),),
    ).fetchall()
    return sorted(f"{t}.{c}" for t, c in rows if c not in COLUMNS[str(t)])
