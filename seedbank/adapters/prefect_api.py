"""The few Prefect REST calls `seed_data post-sync` needs, over plain httpx.

Not prefect's own client: the hook makes five kinds of call, and their timeouts and
retries must be ours, so an unreachable API fails the hook in seconds, not minutes.
Reads PREFECT_API_URL, and PREFECT_API_KEY or PREFECT_API_AUTH_STRING when a server
needs them; neither credential is ever logged or put in an error.
"""

from __future__ import annotations

import base64
import os
import time
from dataclasses import dataclass
from typing import Any

import httpx

from seedbank.domain.errors import DependencyUnavailable, VerificationFailed
from seedbank.observability.redaction import scrub_text

#: States a flow run never leaves.
FINAL_STATES = frozenset({"COMPLETED", "FAILED", "CRASHED", "CANCELLED"})
ATTEMPTS = 3
BACKOFF_S = 0.5


@dataclass(frozen=True)
class RunState:
    flow_run_id: str
    type: str  # COMPLETED, FAILED, CRASHED, CANCELLED, CANCELLING, RUNNING, PENDING, ...
    name: str
    message: str

    @property
    def final(self) -> bool:
        return self.type in FINAL_STATES


def _auth_headers() -> dict[str, str]:
    if key := os.environ.get("PREFECT_API_KEY"):
        return {"Authorization": f"Bearer {key}"}
    if auth := os.environ.get("PREFECT_API_AUTH_STRING"):
        return {"Authorization": "Basic " + base64.b64encode(auth.encode()).decode()}
    return {}


class PrefectApi:
    def __init__(self, api_url: str, *, timeout_s: float = 10.0) -> None:
        self.url = api_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.url, headers=_auth_headers(), timeout=timeout_s, trust_env=True
        )

    @classmethod
    def from_env(cls) -> PrefectApi:
        url = os.environ.get("PREFECT_API_URL")
        if not url:
            raise DependencyUnavailable(
                "PREFECT_API_URL is not set, so the verification cannot be started",
                fix="set it to the Prefect server's /api URL (the seedbank-config ConfigMap)",
            )
        return cls(url)

    def close(self) -> None:
        self._http.close()

    def deployment(self, name: str) -> dict[str, Any] | None:
        """The deployment `flow/name`, or None when the server has none by that name."""
        flow, _, deployment = name.partition("/")
        response = self._call("GET", f"/deployments/name/{flow}/{deployment}", missing_ok=True)
        return None if response is None else dict(response.json())

    def create_flow_run(
        self,
        deployment_id: str,
        *,
        parameters: dict[str, Any],
        job_variables: dict[str, Any],
        tags: list[str],
    ) -> str:
        body = {"parameters": parameters, "job_variables": job_variables, "tags": tags}
        response = self._call("POST", f"/deployments/{deployment_id}/create_flow_run", json=body)
        assert response is not None
        return str(response.json()["id"])

    def state(self, flow_run_id: str) -> RunState:
        response = self._call("GET", f"/flow_runs/{flow_run_id}")
        assert response is not None
        state = response.json().get("state") or {}
        return RunState(
            flow_run_id=flow_run_id,
            type=str(state.get("type") or "SCHEDULED"),
            name=str(state.get("name") or "Scheduled"),
            message=str(state.get("message") or ""),
        )

    def cancel(self, flow_run_id: str, message: str) -> None:
        """Ask for cancellation: the worker stops the run's infrastructure, then marks it
        Cancelled (a run no worker picked up yet goes straight to Cancelled)."""
        body = {"state": {"type": "CANCELLING", "name": "Cancelling", "message": message}}
        self._call("POST", f"/flow_runs/{flow_run_id}/set_state", json=body)

    def _call(
        self, method: str, path: str, *, json: Any = None, missing_ok: bool = False
    ) -> httpx.Response | None:
        for attempt in range(ATTEMPTS):
            try:
                response = self._http.request(method, path, json=json)
            except httpx.TransportError as exc:
                if attempt == ATTEMPTS - 1:
                    raise DependencyUnavailable(
                        f"the Prefect API at {self.url} is unreachable ({type(exc).__name__})",
                        fix="check PREFECT_API_URL and that the Prefect server is up",
                    ) from None
            else:
                if response.status_code == 404 and missing_ok:
                    return None
                if response.status_code < 500:
                    break
                if attempt == ATTEMPTS - 1:
                    raise DependencyUnavailable(
                        f"the Prefect API at {self.url} answered {response.status_code}"
                        f" to {method} {path}",
                        fix="check the Prefect server's health and logs",
                    )
            time.sleep(BACKOFF_S * (attempt + 1))
        if response.is_error:
            raise VerificationFailed(
                f"the Prefect API refused {method} {path} ({response.status_code}:"
                f" {_detail(response)})",
                fix="correct the post-sync command's --deployment/--param values",
            )
        return response


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail", "")
    except ValueError:
        detail = response.text
    return scrub_text(str(detail), 300)
