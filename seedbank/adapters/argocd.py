"""Rolling an Argo CD application back to its previous revision (FR-006), over its API.

ARGOCD_SERVER (base URL), ARGOCD_APP_NAME, ARGOCD_AUTH_TOKEN (bearer; a project role
token allowed `sync` on the app) and optionally ARGOCD_APP_NAMESPACE come from the
environment. The token lives in a SecretStr and only ever in the request header.

Argo CD refuses a rollback while auto-sync is on, or while another operation runs on
the app; such a refusal is reported, not retried (deployments/README.md).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from seedbank.observability.redaction import scrub_text

ATTEMPTS = 2


class ArgoSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    server: str | None = Field(default=None, validation_alias="ARGOCD_SERVER")
    app_name: str | None = Field(default=None, validation_alias="ARGOCD_APP_NAME")
    app_namespace: str | None = Field(default=None, validation_alias="ARGOCD_APP_NAMESPACE")
    token: SecretStr | None = Field(default=None, validation_alias="ARGOCD_AUTH_TOKEN")


@dataclass(frozen=True)
class Rollback:
    """What became of the rollback request; goes to the audit trail as is."""

    app: str | None
    requested: bool
    history_id: int | None = None
    revision: str | None = None
    error: str | None = None

    def summary(self) -> str:
        if self.requested:
            return (
                f"rollback of Argo CD application {self.app} to history id {self.history_id}"
                f" (revision {self.revision}) was requested"
            )
        return f"NO rollback was requested ({self.error})"

    def detail(self) -> dict[str, Any]:
        return {
            "app": self.app,
            "requested": self.requested,
            "history_id": self.history_id,
            "revision": self.revision,
            "error": self.error,
        }


def _revision(entry: Mapping[str, Any]) -> str:
    revisions = entry.get("revisions")  # multi-source applications
    return ",".join(map(str, revisions)) if revisions else str(entry.get("revision") or "")


def previous_deployment(app: Mapping[str, Any]) -> tuple[int, str] | None:
    """(history id, revision) of the latest deployment of another revision than the one
    being verified. During a PostSync hook the running sync is not in the history yet;
    run later, it is the last entry: either way, skip entries of the current revision."""
    status = app.get("status") or {}
    operation = status.get("operationState") or {}
    current = (
        _revision(operation.get("syncResult") or {})
        or _revision((operation.get("operation") or {}).get("sync") or {})
        or _revision(status.get("sync") or {})
    )
    for entry in reversed(list(status.get("history") or [])):
        revision = _revision(entry)
        if revision != current and entry.get("id") is not None:
            return int(entry["id"]), revision
    return None


class ArgoCd:
    def __init__(
        self,
        server: str,
        app: str,
        token: SecretStr,
        *,
        app_namespace: str | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        self.app = app
        self._params = {"appNamespace": app_namespace} if app_namespace else {}
        self._http = httpx.Client(
            base_url=server.rstrip("/"),
            headers={"Authorization": f"Bearer {token.get_secret_value()}"},
            timeout=timeout_s,
            trust_env=True,  # SSL_CERT_FILE: the cluster's CA for argocd-server's TLS
        )

    def close(self) -> None:
        self._http.close()

    def rollback_to_previous(self) -> Rollback:
        """One rollback request to the previous deployed revision; never raises."""
        path = f"/api/v1/applications/{self.app}"
        history_id: int | None = None
        revision: str | None = None
        try:
            app = self._send("GET", path).json()
            previous = previous_deployment(app)
            if previous is None:
                return Rollback(self.app, False, error="the application has no earlier revision")
            history_id, revision = previous
            self._send("POST", f"{path}/rollback", json={"id": history_id, "prune": False})
        except _Refused as exc:
            return Rollback(self.app, False, history_id, revision, error=str(exc))
        return Rollback(self.app, True, history_id=history_id, revision=revision)

    def _send(self, method: str, path: str, json: Any = None) -> httpx.Response:
        # A GET may be repeated; the rollback POST only when it surely never left (connect
        # error): sending it twice is never right, and a 4xx refusal is an answer.
        retry_on = httpx.TransportError if method == "GET" else httpx.ConnectError
        for attempt in range(ATTEMPTS):
            try:
                response = self._http.request(method, path, json=json, params=self._params)
            except retry_on as exc:
                if attempt == ATTEMPTS - 1:
                    raise _Refused(f"Argo CD is unreachable ({type(exc).__name__})") from None
            except httpx.TransportError as exc:
                raise _Refused(f"Argo CD did not answer ({type(exc).__name__})") from None
            else:
                if method != "GET" or response.status_code < 500 or attempt == ATTEMPTS - 1:
                    break
            time.sleep(0.5)
        if response.is_error:
            raise _Refused(f"Argo CD answered {response.status_code}: {_message(response)}")
        return response


class _Refused(Exception):
    """Argo CD could not be asked, or said no."""


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
        text = body.get("message") or body.get("error") or ""
    except ValueError:
        text = response.text
    return scrub_text(str(text), 200)
