"""Foreign keys checked per batch, set-based (issue 17): a batch whose parent is missing
is refused whole, by the per-batch check where the role may silence the per-row
triggers and by the triggers where it may not; the parents it references stay locked
until it commits, as the triggers would lock them."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import sql

from factories.batch import BatchSpec
from factories.planner import GeneratedBatch, generate_batch, plan
from factories.spec import DatasetSpec
from seedbank.adapters.postgres import bind_tenant
from seedbank.adapters.references import foreign_keys
from seedbank.adapters.sink import BatchSink
from seedbank.domain.errors import SeedingFailed
from tests.support.checkpoints import checkpoint_of
from tests.support.databases import ScratchDatabase
from tests.unit.factories.support import GOLDEN_COUNTS, GOLDEN_SALT, golden_spec


def _write_until(
    sink: BatchSink, spec: DatasetSpec, last: str, *, skip: str = ""
) -> list[tuple[BatchSpec, GeneratedBatch]]:
    """Write every batch before entity `last`'s first (leaving out `skip`'s); that batch
    is returned unwritten."""
    held: list[tuple[BatchSpec, GeneratedBatch]] = []
    for batch in plan(spec, 50):
        if batch.entity == skip:
            continue
        made = generate_batch(spec, batch, GOLDEN_SALT)
        if batch.entity == last:  # batches come parents first: all it needs is written
            held.append((batch, made))
            return held
        sink.write(
            tenant_id=spec.tenant_id,
            table=batch.entity,
            columns=made.columns,
            rows=made.rows,
            checkpoint=checkpoint_of(spec, batch),
            record_checkpoint=False,
        )
    return held


@pytest.mark.parametrize("set_based", [True, False])
def test_a_batch_whose_parents_are_missing_is_refused_whole(
    database: ScratchDatabase, set_based: bool
) -> None:
    spec = golden_spec(counts=GOLDEN_COUNTS, tenant=f"refs-{set_based}".lower())
    with psycopg.connect(database.app_url) as conn:
        sink = BatchSink(conn, set_based_references=set_based)
        # Credit limits reference bank accounts: write what comes before but the accounts.
        held = _write_until(sink, spec, "credit_limit", skip="bank_account")
        assert sink.set_based_references is set_based
        batch, made = held[0]
        failure = SeedingFailed if set_based else psycopg.errors.ForeignKeyViolation
        with pytest.raises(failure) as caught:
            sink.write(
                tenant_id=spec.tenant_id,
                table=batch.entity,
                columns=made.columns,
                rows=made.rows,
                checkpoint=checkpoint_of(spec, batch),
                record_checkpoint=False,
            )
        if set_based:
            assert "bank_account row(s) that do not exist" in str(caught.value)
    with psycopg.connect(database.admin_url) as conn:
        stored = conn.execute(
            "SELECT count(*) FROM credit_limit WHERE tenant_id = %s", (spec.tenant_id,)
        ).fetchone()
        assert stored == (0,)


def test_the_batch_check_locks_the_parents_it_references(database: ScratchDatabase) -> None:
    spec = golden_spec(counts=GOLDEN_COUNTS, tenant="refs-locks")
    with psycopg.connect(database.app_url) as conn:
        sink = BatchSink(conn)
        held = _write_until(sink, spec, "installment")
        assert sink.set_based_references  # the migration granted it on this server
        batch, made = held[0]
        staging, types = sink.staging(batch.entity, made.columns)
        with conn.transaction(force_rollback=True):
            bind_tenant(conn, spec.tenant_id)
            sink.copy_rows(staging, batch.entity, made.columns, types, made.rows)
            loan_id = made.rows[0][made.columns.index("loan_id")]
            with psycopg.connect(database.admin_url, autocommit=True) as other:
                other.execute("SET lock_timeout = '500ms'")
                other.execute("SET session_replication_role = replica")  # no child check
                with pytest.raises(psycopg.errors.LockNotAvailable):
                    other.execute(
                        sql.SQL("DELETE FROM loan WHERE tenant_id = %s AND id = %s"),
                        (spec.tenant_id, loan_id),
                    )


def test_foreign_keys_are_read_from_the_catalogue(database: ScratchDatabase) -> None:
    with psycopg.connect(database.admin_url) as conn:
        keys = {k.name: k for k in foreign_keys(conn, "financial_transaction")}
    assert {(k.columns, k.parent, k.parent_columns) for k in keys.values()} == {
        (("tenant_id", "account_id"), "bank_account", ("tenant_id", "id")),
        (("tenant_id", "supplier_id"), "supplier", ("tenant_id", "id")),
    }
