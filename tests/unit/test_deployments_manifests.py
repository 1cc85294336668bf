"""The Kubernetes manifests under deployments/kubernetes/: strict schema validation
(offline, kubernetes-validate), the Argo CD hook, least privilege, restricted pods."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import typer
import yaml

from seedbank.cli import app
from seedbank.services.postsync import CANCEL_GRACE_S
from seedbank.settings import Settings

REPO = Path(__file__).resolve().parents[2]
KUBE = REPO / "deployments" / "kubernetes"
K8S_VERSION = "1.33.0"
IMAGE = "registry.example.com/seedbank/seedbank"
SECRET_NAMES = {
    "seedbank-postgres",
    "seedbank-redis",
    "seedbank-vault",
    "seedbank-s3",
    "seedbank-argocd",
    "seedbank-prefect",
}
SECRETISH = re.compile(r"TOKEN|PASSWORD|SECRET|CREDENTIAL|PRIVATE|_KEY\b|AUTH", re.IGNORECASE)


def _documents() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(KUBE.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                found.append((path.name, doc))
    return found


DOCS = _documents()


def _of_kind(kind: str) -> list[dict[str, Any]]:
    return [doc for _, doc in DOCS if doc["kind"] == kind]


def _one(kind: str, name: str) -> dict[str, Any]:
    (doc,) = [d for d in _of_kind(kind) if d["metadata"]["name"] == name]
    return doc


def _workloads() -> list[dict[str, Any]]:
    return _of_kind("Deployment") + _of_kind("Job")


@pytest.mark.parametrize(
    "doc", [d for _, d in DOCS], ids=[f"{f}:{d['kind']}/{d['metadata']['name']}" for f, d in DOCS]
)
def test_manifest_is_valid_kubernetes_in_strict_mode(doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_strict_validation_catches_a_misspelt_field() -> None:
    job = _one("Job", "seedbank-post-sync")
    broken = yaml.safe_load(yaml.safe_dump(job))
    broken["spec"]["template"]["spec"]["containers"][0]["envFromm"] = []
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


def test_kustomization_lists_every_manifest_and_generated_file() -> None:
    kustomization = yaml.safe_load((KUBE / "kustomization.yaml").read_text())
    manifests = {p.name for p in KUBE.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == manifests
    assert kustomization["namespace"] == "seedbank"
    for generator in kustomization["configMapGenerator"]:
        for name in generator["files"]:
            assert (KUBE / name).is_file(), name
    assert [i["name"] for i in kustomization["images"]] == [IMAGE]


def test_post_sync_hook_is_an_argo_cd_post_sync_job_running_the_gate() -> None:
    job = _one("Job", "seedbank-post-sync")
    assert job["metadata"]["annotations"] == {
        "argocd.argoproj.io/hook": "PostSync",
        "argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation",
    }
    assert job["spec"]["backoffLimit"] == 0  # a retried pod would start a second run
    (container,) = job["spec"]["template"]["spec"]["containers"]
    args = container["args"]
    assert args[:6] == ["seed_data", "post-sync", "--tenant", "$(TENANT)", "--env", "$(ENV)"]
    timeout = float(args[args.index("--timeout") + 1])
    assert job["spec"]["activeDeadlineSeconds"] > timeout + CANCEL_GRACE_S
    # Every $(VAR) comes from the post-sync ConfigMap, and the real CLI accepts the line.
    data = _one("ConfigMap", "seedbank-post-sync")["data"]
    refs = {m for a in args for m in re.findall(r"\$\((\w+)\)", a)}
    assert refs <= set(data), refs - set(data)
    resolved = [re.sub(r"\$\((\w+)\)", lambda m: data[m.group(1)], a) for a in args]
    command = typer.main.get_command(app).commands["post-sync"]  # type: ignore[attr-defined]
    context = command.make_context("post-sync", resolved[2:])
    assert (context.params["tenant"], context.params["env"]) == (data["TENANT"], data["ENV"])
    refs_from = {
        r.get("secretRef", r.get("configMapRef", {}))["name"] for r in container["envFrom"]
    }
    assert {"seedbank-post-sync", "seedbank-argocd", "seedbank-postgres"} <= refs_from


def _pod_specs() -> list[tuple[str, dict[str, Any]]]:
    return [(w["metadata"]["name"], w["spec"]["template"]["spec"]) for w in _workloads()]


def test_every_pod_meets_the_restricted_pod_security_standard() -> None:
    namespace = _one("Namespace", "seedbank")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for name, pod in _pod_specs():
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] != 0, name
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        for container in pod.get("initContainers", []) + pod["containers"]:
            where = f"{name}/{container['name']}"
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["capabilities"] == {"drop": ["ALL"]}, where
            for kind in ("requests", "limits"):
                assert set(container["resources"][kind]) == {"cpu", "memory"}, where
            assert container["image"].startswith(f"{IMAGE}:"), where
            mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
            assert "/tmp" in mounts, where  # noqa: S108 - HOME and PREFECT_HOME live there


def test_long_running_workers_are_probed_and_restarted() -> None:
    deployments = _of_kind("Deployment")
    assert {d["metadata"]["name"] for d in deployments} == {
        "prefect-worker",
        "celery-baseline",
        "celery-heavy",
    }
    for deployment in deployments:
        pod = deployment["spec"]["template"]["spec"]
        assert pod["restartPolicy"] == "Always"  # the kubelet is the supervisor
        for container in pod["containers"]:
            assert {"livenessProbe", "readinessProbe"} <= set(container), container["name"]


@pytest.mark.parametrize("cls", ["baseline", "heavy"])
def test_celery_probe_pings_its_own_worker_by_node_name(cls: str) -> None:
    pod = _one("Deployment", f"celery-{cls}")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    args = container["args"]
    assert args[0] == "celery-worker"
    assert args[args.index("--hostname") + 1] == f"{cls}@%h"
    for probe in ("livenessProbe", "readinessProbe"):
        command = " ".join(container[probe]["exec"]["command"])
        assert "celery -A seedbank.worker.celery_app inspect ping" in command
        assert f'-d "{cls}@$HOSTNAME"' in command
    assert pod["terminationGracePeriodSeconds"] >= 60  # warm shutdown of running batches


@pytest.mark.parametrize("cls", ["baseline", "heavy"])
def test_celery_workers_serve_metrics_prometheus_can_scrape(
    cls: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The alerts read the status gauges at each scrape of a worker (docs/observability.md):
    the port is set, listens beyond loopback, is declared and annotated, and the prefork
    pool's figures meet in a writable shared directory."""
    template = _one("Deployment", f"celery-{cls}")["spec"]["template"]
    (container,) = template["spec"]["containers"]
    env = {item["name"]: item["value"] for item in container["env"]}
    port = {p["name"]: p["containerPort"] for p in container["ports"]}["metrics"]
    annotations = template["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == env["SEEDBANK_WORKER_METRICS_PORT"] == str(port)
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in template["spec"]["volumes"]}
    assert "emptyDir" in volumes[mounts[env["PROMETHEUS_MULTIPROC_DIR"]]]
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    read = Settings()  # the values the worker will read are valid settings
    assert read.worker_metrics_port == port
    assert str(read.worker_metrics_addr) == "0.0.0.0"  # noqa: S104 - a pod's scrape target


def test_credentials_come_only_from_secrets_referenced_by_name() -> None:
    assert not _of_kind("Secret")
    for config in _of_kind("ConfigMap"):
        assert not [k for k in config["data"] if SECRETISH.search(k)], config["metadata"]["name"]
    referenced = set()
    for _, pod in _pod_specs():
        for container in pod.get("initContainers", []) + pod["containers"]:
            for item in container.get("env", []):
                assert not (SECRETISH.search(item["name"]) and "value" in item), item["name"]
            for source in container.get("envFrom", []):
                if "secretRef" in source:
                    referenced.add(source["secretRef"]["name"])
    assert referenced <= SECRET_NAMES
    readme = (REPO / "deployments" / "README.md").read_text()
    assert all(f"`{name}`" in readme for name in SECRET_NAMES)  # documented for operators


def test_only_the_prefect_worker_reaches_the_api_and_only_in_its_namespace() -> None:
    assert not _of_kind("ClusterRole")
    assert not _of_kind("ClusterRoleBinding")
    (role,) = _of_kind("Role")
    granted = {
        (group, resource, verb)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }
    assert granted == {
        ("batch", "jobs", "create"),
        ("batch", "jobs", "get"),
        ("batch", "jobs", "list"),
        ("batch", "jobs", "watch"),
        ("batch", "jobs", "delete"),
        ("", "pods", "get"),
        ("", "pods", "list"),
        ("", "pods", "watch"),
        ("", "pods/log", "get"),
        ("", "events", "create"),
    }
    (binding,) = _of_kind("RoleBinding")
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "prefect-worker", "namespace": "seedbank"}
    ]
    accounts = {a["metadata"]["name"]: a for a in _of_kind("ServiceAccount")}
    for name, pod in _pod_specs():
        account = pod["serviceAccountName"]
        assert account in accounts, name
        mounts = pod["automountServiceAccountToken"]
        assert mounts is (account == "prefect-worker"), name
        assert accounts[account]["automountServiceAccountToken"] is mounts, name
    worker = _one("Deployment", "prefect-worker")["spec"]["template"]["spec"]["containers"][0]
    observed = {e["name"]: e["value"] for e in worker["env"]}
    assert observed["PREFECT_INTEGRATIONS_KUBERNETES_OBSERVER_NAMESPACES"] == "seedbank"
