"""`seed_data post-sync` (the Argo CD PostSync gate, FR-006) against the local Prefect
server and worker. Argo CD is the one stand-in: no cluster runs here, so a recording
HTTP server on 127.0.0.1 answers its two API calls. The verification deployment is
seed/tenant, run on the test's isolated world (verify/tenant lands separately)."""

from __future__ import annotations

import json
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import StateType

from seedbank.cli import main
from tests.support.world import World

pytestmark = pytest.mark.e2e

APP = "seedbank-dev-test"
# Argo CD's history during a PostSync hook: the revision being synced is not in it yet.
HISTORY = [
    {"id": 3, "revision": "1111111111111111111111111111111111111111"},
    {"id": 4, "revision": "2222222222222222222222222222222222222222"},
]
SYNCING = "3333333333333333333333333333333333333333"


@dataclass
class ArgoStandIn:
    """Answers GET /api/v1/applications/{app} and POST .../rollback; records both."""

    token: str
    refuse_rollback: bool = False
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    def rollbacks(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["method"] == "POST"]


def _handler(argo: ArgoStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _record(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            entry = {
                "method": self.command,
                "path": self.path,
                "body": body,
                "authorization": self.headers.get("Authorization"),
            }
            argo.requests.append(entry)
            return entry

        def _answer(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._record()
            if self.path != f"/api/v1/applications/{APP}":
                self._answer(404, {"error": "not found", "code": 5, "message": "not found"})
                return
            operation = {"phase": "Running", "operation": {"sync": {"revision": SYNCING}}}
            status = {"history": HISTORY, "operationState": operation}
            self._answer(200, {"metadata": {"name": APP}, "status": status})

        def do_POST(self) -> None:
            self._record()
            if argo.refuse_rollback:
                message = "rollback cannot be initiated when auto-sync is enabled"
                self._answer(400, {"error": message, "code": 9, "message": message})
                return
            self._answer(200, {"metadata": {"name": APP}})

        def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
            return

    return Handler


@pytest.fixture
def argo(monkeypatch: pytest.MonkeyPatch) -> Iterator[ArgoStandIn]:
    stand_in = ArgoStandIn(token=f"argo-test-{secrets.token_hex(12)}")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(stand_in))
    stand_in.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("ARGOCD_SERVER", stand_in.url)
    monkeypatch.setenv("ARGOCD_APP_NAME", APP)
    monkeypatch.setenv("ARGOCD_AUTH_TOKEN", stand_in.token)
    monkeypatch.delenv("SEEDBANK_ACTOR", raising=False)
    monkeypatch.delenv("GITHUB_ACTOR", raising=False)
    try:
        yield stand_in
    finally:
        server.shutdown()
        server.server_close()


def _post_sync(world: World, *extra: str, timeout: float = 180) -> int:
    job_env = {
        "SEEDBANK_DATABASE_URL": world.db.app_url,
        "SEEDBANK_EVIDENCE_BUCKET": world.bucket,
        "SEEDBANK_PROFILES_DIR": str(world.profiles),
    }
    argv = ["post-sync", f"--tenant={world.tenant}", f"--env={world.env}"]
    argv += ["--deployment=seed/tenant", f"--timeout={timeout:g}"]
    argv += [f"--job-env={key}={value}" for key, value in job_env.items()]
    return main([*argv, *extra])


def _summary(out: str) -> dict[str, Any]:
    line = next(x for x in reversed(out.splitlines()) if x.startswith('{"'))
    return dict(json.loads(line))


def _assert_one_rollback_to_previous(argo: ArgoStandIn) -> None:
    assert argo.rollbacks() == [
        {
            "method": "POST",
            "path": f"/api/v1/applications/{APP}/rollback",
            "body": {"id": 4, "prune": False},
            "authorization": f"Bearer {argo.token}",
        }
    ]


def _final_state(flow_run_id: str) -> tuple[StateType | None, list[StateType]]:
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(uuid.UUID(flow_run_id))
        history = [s.type for s in client.read_flow_run_states(uuid.UUID(flow_run_id))]
    return (run.state.type if run.state else None), history


def _post_sync_events(world: World) -> list[tuple[str, str]]:
    return [(e[0], e[1]) for e in world.audit_events() if e[0].startswith("post_sync")]


def _no_token_anywhere(argo: ArgoStandIn, world: World, *texts: str) -> None:
    for text in texts:
        assert argo.token not in text
    assert all(argo.token not in " ".join(event) for event in world.audit_events())


def test_passing_verification_exits_0_and_requests_no_rollback(
    world: World, argo: ArgoStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    code = _post_sync(world)
    took = time.monotonic() - started
    out, err = capsys.readouterr()
    assert code == 0, err[-2000:]
    summary = _summary(out)
    assert (summary["outcome"], summary["state"]) == ("passed", "Completed")
    assert argo.requests == []
    assert world.query("SELECT status FROM seed_run") == [("succeeded",)]
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(uuid.UUID(summary["flow_run_id"]))
    # Typed by the deployment's schema; the actor is the Argo CD app (FR-017).
    assert run.parameters == {"tenant": world.tenant, "env": world.env, "actor": f"argo:{APP}"}
    assert _post_sync_events(world) == [("post_sync_passed", "passed")]
    _no_token_anywhere(argo, world, out, err)
    print(f"post-sync pass took {took:.1f} s")


def test_failed_verification_rolls_back_once_to_the_previous_revision(
    world: World, argo: ArgoStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    world.edit_profile(**{"pii.salt_version": 7})  # Vault has version 1: the flow fails
    started = time.monotonic()
    code = _post_sync(world)
    took = time.monotonic() - started
    out, err = capsys.readouterr()
    assert code == 10, err[-2000:]
    assert "ended Failed" in err
    assert "to history id 4" in err
    _assert_one_rollback_to_previous(argo)
    summary = _summary(out)
    assert _final_state(summary["flow_run_id"])[0] == StateType.FAILED
    assert ("salt_mismatch", "refused") in [e[:2] for e in world.audit_events()]
    assert _post_sync_events(world) == [("post_sync_failed", "failed")]
    _no_token_anywhere(argo, world, out, err)
    print(f"post-sync failure took {took:.1f} s")


def test_hanging_verification_is_cancelled_at_the_timeout(
    world: World, argo: ArgoStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    # The seed flow waits up to 120 s for the env/tenant lock the test holds.
    lock = world.hold_lock()
    started = time.monotonic()
    try:
        # 12 s: the local worker takes ~6 s from Scheduled to Running; the run must be
        # running (and so really hanging) when the timeout cancels it.
        code = _post_sync(world, "--param=wait_seconds=120", timeout=12)
    finally:
        took = time.monotonic() - started
        lock.release()
    out, err = capsys.readouterr()
    assert code == 10, err[-2000:]
    assert "did not finish within 12 s" in err
    summary = _summary(out)
    assert summary["state"] == "Cancelled"
    final, history = _final_state(summary["flow_run_id"])
    assert final == StateType.CANCELLED
    # It was running, and the worker stopped it (a run not yet picked up would skip Cancelling).
    assert {StateType.RUNNING, StateType.CANCELLING} <= set(history), history
    _assert_one_rollback_to_previous(argo)
    assert world.domain_rows() == 0
    assert took < 12 + 60, took
    print(f"post-sync timeout took {took:.1f} s; states {[s.value for s in history]}")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_unreachable_prefect_api_exits_6_and_rolls_back(
    world: World,
    argo: ArgoStandIn,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{_closed_port()}/api")
    started = time.monotonic()
    code = _post_sync(world)
    took = time.monotonic() - started
    out, err = capsys.readouterr()
    assert code == 6, err[-2000:]
    assert "is unreachable" in err
    _assert_one_rollback_to_previous(argo)
    assert _post_sync_events(world) == [("post_sync_failed", "failed")]
    _no_token_anywhere(argo, world, out, err)
    print(f"post-sync unreachable API took {took:.1f} s")


def test_missing_deployment_and_a_refused_rollback_still_fail_closed(
    world: World, argo: ArgoStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    argo.refuse_rollback = True  # Argo CD says no while auto-sync is on
    code = main(
        ["post-sync", f"--tenant={world.tenant}", f"--env={world.env}", "--deployment=nope/none"]
    )
    out, err = capsys.readouterr()
    assert code == 10, err[-2000:]
    assert "nope/none does not exist" in err
    assert "NO rollback was requested" in err
    assert "auto-sync is enabled" in err
    assert len(argo.rollbacks()) == 1  # asked once, refused, not retried
    detail = _summary(out)["rollback"]
    assert (detail["requested"], detail["history_id"]) == (False, 4)
    assert _post_sync_events(world) == [("post_sync_failed", "failed")]
