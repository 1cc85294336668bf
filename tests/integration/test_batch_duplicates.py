"""A stalled batch re-sent while its first copy still runs is written once (issue 16)."""

from __future__ import annotations

import secrets
import threading

from factories.planner import plan
from seedbank.adapters.postgres import connect
from seedbank.adapters.sink import BatchSink
from seedbank.adapters.vault import Salt
from seedbank.services.seeding import stages
from seedbank.services.seeding.batches import BatchOutcome, execute_batch
from tests.support.databases import ScratchDatabase
from tests.support.inprocess import record, run_lock, small_manifest


def test_two_copies_of_one_batch_at_once_write_it_once(database: ScratchDatabase) -> None:
    manifest = small_manifest(mode="baseline", batch_size=2000)
    salt = Salt(version=1, value=secrets.token_bytes(32))
    run = stages.new_run(manifest, dry_run=False, actor="t")
    batches = list(plan(run.ctx.spec, 2000))
    with run_lock(database, run):
        record(database, run, salt)
        for batch in batches:
            if batch.entity == "financial_transaction":
                break
            with connect(database.app_url) as conn:
                execute_batch(BatchSink(conn), run.ctx, salt, batch)
        target = next(b for b in batches if b.entity == "financial_transaction")
        outcomes: list[BatchOutcome | Exception] = []
        start = threading.Barrier(2)

        def copy() -> None:
            with connect(database.app_url) as conn:
                sink = BatchSink(conn)
                start.wait()
                try:
                    outcomes.append(execute_batch(sink, run.ctx, salt, target))
                except Exception as exc:
                    outcomes.append(exc)

        copies = [threading.Thread(target=copy) for _ in range(2)]
        for t in copies:
            t.start()
        for t in copies:
            t.join()
    assert all(isinstance(o, BatchOutcome) for o in outcomes), outcomes
    written = sorted(o.skipped for o in outcomes if isinstance(o, BatchOutcome))
    assert written == [False, True]
