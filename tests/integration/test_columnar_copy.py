"""The columnar path's binary COPY stream goes through the sink (staging table, RLS-bound
INSERT) and PostgreSQL stores exactly the rows the row path would: the server-side
read-back fold equals the generator's fold (issue 17)."""

from __future__ import annotations

import psycopg
from psycopg import sql

from factories.columnar import COLUMNAR, CopyPayload, encoded_batch
from factories.planner import generate_batch, plan
from seedbank.adapters.sink import BatchSink
from seedbank.gates.stored_fold import fold_from_word_sums, fold_select
from tests.support.checkpoints import checkpoint_of
from tests.support.databases import ScratchDatabase
from tests.unit.factories.support import GOLDEN_COUNTS, GOLDEN_SALT, golden_spec


def test_columnar_batches_store_the_rows_the_generator_folded(database: ScratchDatabase) -> None:
    # Batches of 64 cut loans' installments (term 6) and the loan/revolving contracts apart.
    credit = {"contract": 150, "loan": 100, "installment": 600}
    spec = golden_spec(counts={**GOLDEN_COUNTS, **credit, "financial_transaction": 700})
    folds: dict[str, int] = {}
    with psycopg.connect(database.app_url) as conn:
        sink = BatchSink(conn)
        for batch in plan(spec, 64):
            made = (
                encoded_batch(spec, batch, GOLDEN_SALT)
                if batch.entity in COLUMNAR
                else generate_batch(spec, batch, GOLDEN_SALT)
            )
            assert isinstance(made.rows, CopyPayload) == (batch.entity in COLUMNAR)
            written = sink.write(
                tenant_id=spec.tenant_id,
                table=batch.entity,
                columns=made.columns,
                rows=made.rows,
                checkpoint=checkpoint_of(spec, batch, made.digest),
                record_checkpoint=False,
            )
            assert written.rows == batch.stop - batch.start
            folds[batch.entity] = (folds.get(batch.entity, 0) + made.fold) % (1 << 256)
    with psycopg.connect(database.admin_url) as conn:
        for entity in COLUMNAR:
            row = conn.execute(
                fold_select(entity, sql.SQL("tenant_id = %s")), (spec.tenant_id,)
            ).fetchone()
            assert row is not None
            assert row[0] == spec.count(entity)
            assert fold_from_word_sums(row[1:]) == folds[entity]
