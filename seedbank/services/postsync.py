"""The run of `seed_data post-sync` (see seedbank/cli/postsync.py for the contract):
start the verification, wait, cancel on timeout, and on failure roll back and audit."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
import structlog

from factories.spec import tenant_uuid
from seedbank.adapters import audit
from seedbank.adapters.argocd import ArgoCd, ArgoSettings, Rollback
from seedbank.adapters.prefect_api import PrefectApi, RunState
from seedbank.domain.errors import (
    MESSAGE_LIMIT,
    SeedbankError,
    UsageError,
    VerificationFailed,
    one_line,
)
from seedbank.observability.redaction import scrub_text

log = structlog.get_logger()


@dataclass(frozen=True)
class PostSyncRequest:
    tenant: str
    env: str
    deployment: str
    timeout_s: float
    params: dict[str, str]
    job_env: dict[str, str]
    actor: str


POLL_S = 1.0
#: How long a cancelled run may take to reach Cancelled (the worker stops its process).
CANCEL_GRACE_S = 60.0
TAGS = ["seedbank", "post-sync"]
BLOCKED = "promotion stays blocked until the verification passes"
FIX = f"read the verification flow run in Prefect, fix the cause and sync again; {BLOCKED}"


Echo = Callable[[str, bool], None]
"""Where the run's lines go: `(line, to_stderr)`; the CLI passes the terminal."""


def run_post_sync(request: PostSyncRequest, *, database_url: str, echo: Echo) -> dict[str, Any]:
    started = time.monotonic()
    result: dict[str, Any] = {
        "env": request.env,
        "tenant": request.tenant,
        "deployment": request.deployment,
        "flow_run_id": None,
        "state": None,
    }
    failure: SeedbankError | None = None
    try:
        _verify(request, result, started)
    except UsageError:
        raise  # the hook is misconfigured: nothing was verified, nothing to roll back
    except SeedbankError as exc:
        failure = exc
    except Exception as exc:  # a bug must still fail closed, with the rollback
        failure = VerificationFailed(
            f"the post-sync check failed unexpectedly ({type(exc).__name__}:"
            f" {scrub_text(str(exc), 200)})"
        )
    result["duration_s"] = round(time.monotonic() - started, 2)
    if failure is None:
        result["outcome"] = "passed"
        _audit(database_url, request, result, echo, reason="post-deploy verification passed")
        echo(json.dumps({"event": "post-sync passed", **result}, sort_keys=True), False)
        return result
    rollback = _rollback()
    result.update(outcome="failed", rollback=rollback.detail(), exit_code=failure.exit_code)
    fix = f"{failure.fix.rstrip('.')}, then sync again; {BLOCKED}" if failure.fix else FIX
    # The rollback's outcome is what the operator acts on: cut the cause, never the outcome.
    summary = rollback.summary()
    cause = one_line(failure.message.rstrip("."), max(MESSAGE_LIMIT - len(summary) - 2, 80))
    error = type(failure)(f"{cause}; {summary}", fix=fix)
    _audit(database_url, request, result, echo, reason=error.sentence())
    echo(json.dumps({"event": "post-sync failed", **result}, sort_keys=True), False)
    raise error from None


def _verify(request: PostSyncRequest, result: dict[str, Any], started: float) -> None:
    api = PrefectApi.from_env()
    target = f"post-deploy verification {request.deployment} of {request.env}/{request.tenant}"
    try:
        deployment = api.deployment(request.deployment)
        if deployment is None:
            raise VerificationFailed(
                f"the verification deployment {request.deployment} does not exist on the"
                f" Prefect API at {api.url}",
                fix="apply it with `prefect deploy` (prefect.yaml)",
            )
        schema = deployment.get("parameter_openapi_schema") or {}
        raw = {"tenant": request.tenant, "env": request.env, **request.params}
        parameters = coerce_params(raw, schema)
        if "actor" in (schema.get("properties") or {}):
            parameters.setdefault("actor", request.actor)  # FR-017: who promoted
        run_id = api.create_flow_run(
            str(deployment["id"]),
            parameters=parameters,
            job_variables={"env": request.job_env} if request.job_env else {},
            tags=TAGS,
        )
        result["flow_run_id"] = run_id
        log.info("verification started", flow_run_id=run_id, deployment=request.deployment)
        state = _wait(api, run_id, until=started + request.timeout_s)
        if state is None:
            log.warning("verification timed out: cancelling", flow_run_id=run_id)
            api.cancel(run_id, f"seed_data post-sync: no result within {request.timeout_s:g} s")
            state = _wait(api, run_id, until=time.monotonic() + CANCEL_GRACE_S) or api.state(run_id)
            result["state"] = state.name
            if state.type != "COMPLETED":  # it may have finished just as we cancelled
                raise VerificationFailed(
                    f"{target} did not finish within {request.timeout_s:g} s, so its flow run"
                    f" {run_id} was cancelled (now {state.name})"
                )
        result["state"] = state.name
        if state.type != "COMPLETED":
            why = f": {scrub_text(state.message, 200)}" if state.message else ""
            raise VerificationFailed(f"{target} ended {state.name} (flow run {run_id}){why}")
    finally:
        api.close()


def _wait(api: PrefectApi, run_id: str, *, until: float) -> RunState | None:
    """The run's final state, or None when `until` passes first."""
    last = ""
    while True:
        state = api.state(run_id)
        if state.name != last:
            log.info("verification state", flow_run_id=run_id, state=state.name)
            last = state.name
        if state.final:
            return state
        if time.monotonic() >= until:
            return None
        time.sleep(POLL_S)


def _rollback() -> Rollback:
    argo = ArgoSettings()
    if not (argo.server and argo.app_name and argo.token):
        rollback = Rollback(
            argo.app_name,
            False,
            error="ARGOCD_SERVER, ARGOCD_APP_NAME and ARGOCD_AUTH_TOKEN are not all set",
        )
    else:
        client = ArgoCd(argo.server, argo.app_name, argo.token, app_namespace=argo.app_namespace)
        try:
            rollback = client.rollback_to_previous()
        finally:
            client.close()
    log.warning("rollback", **rollback.detail())
    return rollback


def _audit(
    url: str, request: PostSyncRequest, result: dict[str, Any], echo: Echo, *, reason: str
) -> None:
    passed = result["outcome"] == "passed"
    who = audit.Subject(
        tenant_uuid(request.env, request.tenant), request.env, request.tenant, request.actor
    )
    try:
        audit.note(
            url,
            who,
            event="post_sync_passed" if passed else "post_sync_failed",
            outcome="passed" if passed else "failed",
            reason=reason,
            detail=result,
        )
    except (SeedbankError, psycopg.Error) as exc:  # the outcome stands; say the trail missed it
        echo(
            f"seed_data: warning: the post-sync outcome was not audited ({type(exc).__name__})",
            True,
        )


def parse_pairs(values: list[str], option: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key.strip():
            raise UsageError(
                f"{option} {value!r} is not key=value", fix=f"e.g. {option} name=value"
            )
        pairs[key.strip()] = text
    return pairs


def _types(prop: dict[str, Any]) -> set[str]:
    found = prop.get("type")
    types = set(found) if isinstance(found, list) else {found} if found else set()
    for option in prop.get("anyOf", []) + prop.get("oneOf", []):
        types |= _types(option)
    return types


def coerce_params(raw: dict[str, str], schema: dict[str, Any]) -> dict[str, Any]:
    """Type `key=value` strings by the deployment's parameter schema: a string parameter
    stays a string (`tenant=123` is the tenant "123"), anything else is read as JSON."""
    properties: dict[str, Any] = schema.get("properties") or {}
    typed: dict[str, Any] = {}
    for key, text in raw.items():
        if key not in properties:
            raise UsageError(
                f"{key!r} is not a parameter of the verification deployment",
                fix=f"use one of {', '.join(sorted(properties)) or '(none)'}",
            )
        if "string" in _types(properties[key]):
            typed[key] = text
            continue
        try:
            typed[key] = json.loads(text)
        except ValueError:
            typed[key] = text  # the server's schema check names the problem
    return typed
