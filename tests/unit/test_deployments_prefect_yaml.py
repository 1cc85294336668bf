"""prefect.yaml (definitions, pools, Kubernetes variants) and the CI example workflow."""

from __future__ import annotations

import ast
import json
import re
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
POOLS = {"seedbank-process", "seedbank-k8s"}


def _prefect() -> dict[str, Any]:
    return dict(yaml.safe_load((REPO / "prefect.yaml").read_text()))


def _flow_name(entrypoint: str) -> str:
    """The `@flow(name=...)` of an entrypoint, read from its source (no import)."""
    path, _, function = entrypoint.partition(":")
    tree = ast.parse((REPO / path).read_text())
    (node,) = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == function]
    for decorator in node.decorator_list:
        if isinstance(decorator, ast.Call):
            for keyword in decorator.keywords:
                if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                    return str(keyword.value.value)
    return function.replace("_", "-")


def test_every_deployment_has_an_existing_entrypoint_and_a_known_pool() -> None:
    names = set()
    for deployment in _prefect()["deployments"]:
        flow = _flow_name(deployment["entrypoint"])  # fails when the file or flow is missing
        names.add(f"{flow}/{deployment['name']}")
        assert deployment["work_pool"]["name"] in POOLS
        assert deployment["description"]
    assert {"seed/tenant", "seed/tenant-k8s"} <= names


def test_kubernetes_variants_mirror_the_local_deployments() -> None:
    deployments = _prefect()["deployments"]
    local = {d["name"]: d for d in deployments if d["work_pool"]["name"] == "seedbank-process"}
    k8s = {d["name"]: d for d in deployments if d["work_pool"]["name"] == "seedbank-k8s"}
    assert set(k8s) == {f"{name}-k8s" for name in local}
    for name, deployment in local.items():
        twin = k8s[f"{name}-k8s"]
        for key in ("entrypoint", "parameters", "tags", "description"):
            assert twin.get(key) == deployment.get(key), (name, key)
        assert twin["work_pool"]["job_variables"]["image"] == "{{ $SEEDBANK_IMAGE }}"
        # `prefect deploy --name '*/*-k8s'` (the cluster's command) picks only the twins.
        assert fnmatch(f"x/{twin['name']}", "*/*-k8s")
        assert not fnmatch(f"x/{name}", "*/*-k8s")


def test_the_pool_names_agree_everywhere() -> None:
    kube = REPO / "deployments" / "kubernetes"
    worker = next(
        doc
        for doc in yaml.safe_load_all((kube / "prefect-worker.yaml").read_text())
        if doc["kind"] == "Deployment"
    )
    init_args = worker["spec"]["template"]["spec"]["initContainers"][0]["args"]
    assert init_args[init_args.index("create") + 1] == "seedbank-k8s"
    assert "seedbank-k8s" in (REPO / "deployments" / "entrypoint.sh").read_text()
    setup = (REPO / "scripts" / "stack" / "stack_setup.py").read_text()
    assert 'K8S_WORK_POOL = "seedbank-k8s"' in setup
    assert 'deployments" / "kubernetes" / "base-job-template.json"' in setup
    json.loads((kube / "base-job-template.json").read_text())


def _workflow() -> dict[str, Any]:
    data = yaml.safe_load((REPO / "deployments" / "ci" / "github-actions.yml").read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads a bare `on` as true
    return dict(data)


def _runs(job: dict[str, Any]) -> str:
    return "\n".join(str(step.get("run", "")) for step in job["steps"])


def test_ci_checks_a_pull_request_as_fr_005_asks() -> None:
    workflow = _workflow()
    assert "pull_request" in workflow["on"]
    checks = workflow["jobs"]["checks"]
    commands = _runs(checks)
    for needed in (
        "seed_data validate-profiles",
        "make conformance",
        "--cov-fail-under=85",
        "cyclonedx-py environment",
        "pip-audit",
    ):
        assert needed in commands, needed
    uploads = [s for s in checks["steps"] if str(s.get("uses", "")).startswith("actions/upload")]
    assert uploads[0]["with"]["path"] == "reports/"
    assert uploads[0]["if"] == "always()"


def test_ci_deploys_only_from_main_under_the_ci_identity() -> None:
    workflow = _workflow()
    assert "workflow_dispatch" not in workflow["on"]  # no manual path
    assert workflow["env"]["SEEDBANK_ACTOR"].startswith("ci:")  # FR-017 execution context
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "checks"
    assert "github.ref == 'refs/heads/main'" in deploy["if"]
    assert deploy["environment"] == "staging"
    assert deploy["permissions"]["id-token"] == "write"  # OIDC, no stored cluster keys
    commands = _runs(deploy)
    assert "prefect --no-prompt deploy --name '*/*-k8s'" in commands
    assert "hadolint deployments/Dockerfile" in commands
    secrets = re.findall(r"\$\{\{\s*secrets\.(\w+)", json.dumps(deploy))
    assert set(secrets) <= {"GITHUB_TOKEN", "PREFECT_API_AUTH_STRING"}
