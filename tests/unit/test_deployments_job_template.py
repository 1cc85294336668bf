"""The Kubernetes work pool's base job template (deployments/kubernetes/base-job-template.json):
the same variables and placeholders as prefect-kubernetes' default, our safe defaults, and
a rendered flow-run Job that is valid Kubernetes."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml
from prefect.client.schemas.objects import FlowRun
from prefect.utilities.templating import apply_values
from prefect_kubernetes.worker import (  # type: ignore[import-untyped]
    KubernetesWorker,
    KubernetesWorkerJobConfiguration,
)

REPO = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO / "deployments" / "kubernetes" / "base-job-template.json"
K8S_VERSION = "1.33.0"
PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def _template() -> dict[str, Any]:
    return dict(json.loads(TEMPLATE_PATH.read_text()))


def _default() -> dict[str, Any]:
    return dict(KubernetesWorker.get_default_base_job_template())


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _leaves(value, (*path, index))
    else:
        yield path, node


def _at(node: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        node = node[key]
    return node


def test_every_variable_of_prefect_kubernetes_is_kept_with_its_type() -> None:
    ours, default = _template()["variables"], _default()["variables"]
    assert set(ours["properties"]) == set(default["properties"])
    for name, spec in default["properties"].items():
        mine = ours["properties"][name]
        for key in ("type", "anyOf", "enum", "additionalProperties", "minimum"):
            assert mine.get(key) == spec.get(key), (name, key)
    assert ours["definitions"] == default["definitions"]


def test_every_placeholder_of_the_default_stays_where_the_worker_expects_it() -> None:
    ours = _template()["job_configuration"]
    for path, value in _leaves(_default()["job_configuration"]):
        if isinstance(value, str) and PLACEHOLDER.search(value):
            assert _at(ours, path) == value, path
    variables = set(_template()["variables"]["properties"])
    used = {m for _, v in _leaves(ours) if isinstance(v, str) for m in PLACEHOLDER.findall(v)}
    assert used <= variables, used - variables


def test_defaults_pick_the_namespace_account_image_and_limits() -> None:
    props = _template()["variables"]["properties"]
    defaults = {name: spec.get("default") for name, spec in props.items()}
    assert defaults["namespace"] == "seedbank"
    assert defaults["service_account_name"] == "seedbank-flow-run"
    assert defaults["image"].startswith("registry.example.com/seedbank/seedbank:")
    assert defaults["backoff_limit"] == 0  # Prefect reschedules an evicted run itself
    assert all(defaults[k] for k in ("cpu_request", "cpu_limit", "memory_request", "memory_limit"))
    rbac = list(yaml.safe_load_all((TEMPLATE_PATH.parent / "rbac.yaml").read_text()))
    (account,) = [d for d in rbac if d["metadata"]["name"] == defaults["service_account_name"]]
    assert account["automountServiceAccountToken"] is False


def _rendered_job() -> dict[str, Any]:
    """The Job the worker would submit for a flow run, built by prefect-kubernetes itself
    (the API-free half of `from_template_and_values`: defaults, then the flow run)."""
    template = _template()
    defaults = {
        name: spec["default"]
        for name, spec in template["variables"]["properties"].items()
        if "default" in spec
    }
    values = {**defaults, "env": {"SEEDBANK_EXAMPLE": "1"}}
    config = KubernetesWorkerJobConfiguration(**apply_values(template["job_configuration"], values))
    config.prepare_for_flow_run(FlowRun(flow_id=uuid.uuid4(), name="post-sync-check"))
    return dict(config.job_manifest)


def test_the_rendered_flow_run_job_is_valid_kubernetes() -> None:
    job = _rendered_job()
    pod = job["spec"]["template"]["spec"]
    # prefect-kubernetes refuses a template without these two (they are Job fields, not
    # Pod fields; the API server drops them with a warning): strip them, validate the rest.
    assert (pod.pop("parallelism"), pod.pop("completions")) == (1, 1)
    kubernetes_validate.validate(job, K8S_VERSION, strict=True)
    (container,) = pod["containers"]
    env = {item["name"]: item.get("value") for item in container["env"]}
    assert env["SEEDBANK_EXAMPLE"] == "1"
    assert "PREFECT__FLOW_RUN_ID" in env
    assert container["args"] == ["prefect", "flow-run", "execute"]
    secrets = [s["secretRef"]["name"] for s in container["envFrom"] if "secretRef" in s]
    assert secrets == ["seedbank-postgres", "seedbank-redis", "seedbank-vault", "seedbank-s3"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["automountServiceAccountToken"] is False
    assert job["metadata"]["namespace"] == "seedbank"


def test_prefect_kubernetes_rejects_a_template_that_loses_a_required_field() -> None:
    template = _template()
    del template["job_configuration"]["job_manifest"]["spec"]["template"]["spec"]["restartPolicy"]
    with pytest.raises(ValueError, match="restartPolicy"):
        KubernetesWorkerJobConfiguration(**apply_values(template["job_configuration"], {}))
