"""The dry run (FR-026): generation, masking, writes and checks in one rolled-back transaction."""

from __future__ import annotations

from seedbank.adapters.postgres import bind_tenant, connect
from seedbank.bootstrap import Wiring
from seedbank.services.seeding import stages


def dry_run_body(w: Wiring, run: stages.RunState) -> None:
    with connect(w.settings.database_url) as conn:
        try:
            with conn.transaction(force_rollback=True):
                bind_tenant(conn, run.ctx.tenant_id)
                stages.record_run(w, run, conn)
                stages.seed_in_transaction(run, conn)
                stages.verify(w, run, conn)
        finally:
            run.recorded = False  # rolled back with everything else
