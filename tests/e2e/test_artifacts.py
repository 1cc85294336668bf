"""What an operator sees in the Prefect UI: every flow run's report as artifacts (issue 18).

Read back through the Prefect API. The deployment tests go through the stack's process
worker (which runs the merged code); the in-process tests call the flows here, against
the same Prefect API, so the artifact path is proven on this branch's code too.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import psycopg
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
from prefect.client.schemas.objects import Artifact, FlowRun
from prefect.client.schemas.sorting import FlowRunSort

from flows.dr_drill import dr_drill as drill_flow
from flows.expurge import expurge as expurge_flow
from flows.seed import seed as seed_flow
from flows.verify import verify as verify_flow
from seedbank.cli import main
from tests.support.world import World, deployment_run

pytestmark = pytest.mark.e2e

GATES = ("counts", "referential", "rls-probe", "pii", "contract", "invariants", "determinism")
RAW_EMAIL = "maria.silva@gmail.com"


@pytest.fixture(autouse=True)
def _no_outside_api(monkeypatch: pytest.MonkeyPatch) -> None:
    # An API configured for the shared stack serves another database than the world's.
    monkeypatch.delenv("SEEDBANK_API_BASE_URL", raising=False)


def artifacts_of(flow_run_id: uuid.UUID) -> dict[str, Artifact]:
    """The flow run's artifacts by type (markdown, table), subflows excluded."""
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    by_type: dict[str, Artifact] = {}
    for artifact in found:
        assert artifact.type not in by_type, f"two {artifact.type} artifacts"
        by_type[str(artifact.type)] = artifact
    return by_type


def last_deployment_run(world: World) -> FlowRun:
    """The latest deployment flow run of this world's tenant (runs here are sequential)."""
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(sort=FlowRunSort.EXPECTED_START_TIME_DESC, limit=50)
    mine = [
        r
        for r in runs
        if r.parameters.get("tenant") == world.tenant and r.deployment_id is not None
    ]
    assert mine, f"no deployment flow run of {world.tenant} found"
    return mine[0]


def run_id_of(state: Any) -> uuid.UUID:
    return uuid.UUID(str(state.state_details.flow_run_id))


def unmask_one_email(world: World) -> str:
    row = str(world.query("SELECT id FROM customer ORDER BY id LIMIT 1")[0][0])
    with psycopg.connect(world.db.admin_url) as conn:
        conn.execute("UPDATE customer SET email = %s WHERE id = %s", (RAW_EMAIL, row))
    return row


def assert_seed_report(world: World, found: dict[str, Artifact]) -> None:
    assert {"markdown", "table"} <= set(found), f"artifacts of the run: {sorted(found)}"
    markdown, table = found["markdown"], found["table"]
    assert markdown.key == f"seedbank-{world.env}-{world.tenant}"
    assert table.key == f"seedbank-{world.env}-{world.tenant}-counts"
    text = str(markdown.data)
    assert text.startswith(f"# seedbank seed_run: {world.env}/{world.tenant} (baseline)")
    assert "SUCCEEDED" in text
    for gate in GATES:
        assert f"**{gate}**: passed" in text, gate
    key = world.query("SELECT object_key, version_id FROM seed_evidence")[0]
    assert f"evidence key `{key[0]}` version `{key[1]}`" in text
    assert "| budget |" in text  # the guards' verdicts
    rows = re.findall(r'"entity": ?"(\w+)"', str(table.data))
    assert "customer" in rows
    assert "salt" not in text.replace("salt version", "")


def assert_failed_verification(found: dict[str, Artifact], row: str) -> None:
    text = str(found["markdown"].data)
    assert "FAILED" in text
    assert "**Reason:** gate 'pii' failed: customer row" in text
    assert "**pii**: failed" in text
    assert row in text
    assert "**Fix:**" in text
    assert RAW_EMAIL not in text
    assert "gmail" not in text


def test_an_in_process_seed_and_failed_verify_publish_their_reports(world: World) -> None:
    state = seed_flow(tenant=world.tenant, env=world.env, return_state=True)
    assert state.is_completed(), state.message
    assert_seed_report(world, artifacts_of(run_id_of(state)))

    row = unmask_one_email(world)
    state = verify_flow(tenant=world.tenant, env=world.env, wait_seconds=0, return_state=True)
    assert state.is_failed()
    failed = artifacts_of(run_id_of(state))
    assert failed["markdown"].key == f"seedbank-{world.env}-{world.tenant}"
    assert_failed_verification(failed, row)


def test_a_refused_seed_still_says_why_in_the_tenant_history(world: World) -> None:
    world.edit_profile(**{"pii.salt_version": 7})
    state = seed_flow(tenant=world.tenant, env=world.env, return_state=True)
    assert state.is_failed()
    text = str(artifacts_of(run_id_of(state))["markdown"].data)
    assert "FAILED" in text
    assert "salt version" in text.lower()
    assert "**Fix:**" in text
    assert "evidence: not sealed" in text


def test_a_deployment_run_publishes_its_report_and_a_failed_verification_names_the_gate(
    world: World,
) -> None:
    """Through `prefect deployment run`: the stack's worker runs the merged code."""
    done = deployment_run(world, "seed/tenant", {"tenant": world.tenant, "env": world.env})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert_seed_report(world, artifacts_of(last_deployment_run(world).id))

    row = unmask_one_email(world)
    failed = deployment_run(
        world, "verify/tenant", {"tenant": world.tenant, "env": world.env, "wait_seconds": 0}
    )
    assert failed.returncode == 1
    assert_failed_verification(artifacts_of(last_deployment_run(world).id), row)


def test_status_shows_a_seeded_tenant_with_its_last_run_and_ttl(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    state = seed_flow(tenant=world.tenant, env=world.env, mode="load", return_state=True)
    assert state.is_completed(), state.message
    text = str(artifacts_of(run_id_of(state))["markdown"].data)
    assert "(TTL; `expurge` removes it)" in text
    (run_id,) = world.query("SELECT id FROM seed_run")[0]
    assert main(["status", f"--tenant={world.tenant}", f"--env={world.env}"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{world.env}/{world.tenant}\n  lock      free\n")
    assert re.search(rf"load +succeeded +[\d.]+ s  {run_id}", out), out
    assert re.search(r"load +[\d,]+ rows .* expires \S+ \S+ \(in 2d 23h\)", out), out
    assert "expurge   nothing to remove now" in out


def test_expurge_and_dr_drill_runs_publish_under_the_tenant_key(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    state = seed_flow(tenant=world.tenant, env=world.env, mode="load", return_state=True)
    assert state.is_completed(), state.message
    with psycopg.connect(world.db.admin_url) as conn:
        conn.execute(
            "UPDATE seed_checkpoint SET expires_at = now() - interval '1 hour'"
            " WHERE tenant_id = %s AND mode = 'load'",
            (world.tenant_id,),
        )
    assert main(["status", f"--tenant={world.tenant}", f"--env={world.env}"]) == 0
    assert "expurge   would remove now: load (" in capsys.readouterr().out
    state = expurge_flow(env=world.env, tenant=world.tenant, actor="test", return_state=True)
    assert state.is_completed(), state.message
    found = artifacts_of(run_id_of(state))
    text = str(found["markdown"].data)
    assert found["markdown"].key == f"seedbank-{world.env}-{world.tenant}"
    assert re.search(r"- load: \d+ rows removed", text), text
    assert f"evidence key `expurge/{world.env}/{world.tenant}/" in text
    assert "customer" in str(found["table"].data)

    state = seed_flow(tenant=world.tenant, env=world.env, mode="dr", return_state=True)
    assert state.is_completed(), state.message
    state = drill_flow(tenant=world.tenant, env=world.env, actor="test", return_state=True)
    assert state.is_completed(), state.message
    found = artifacts_of(run_id_of(state))  # the restore's own seed run has its own
    text = str(found["markdown"].data)
    assert text.startswith(f"# seedbank dr_drill: {world.env}/{world.tenant} (dr) — SUCCEEDED")
    assert "(equal: yes)" in text
    assert f"evidence key `dr-drills/{world.env}/{world.tenant}/" in text
    for gate in GATES:
        assert f"| {gate} | passed |" in text
