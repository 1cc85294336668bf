"""``factories/`` stays pure: no clock, no uuid4, no unseeded randomness, no I/O."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3] / "factories"
SOURCES = sorted(ROOT.rglob("*.py"))

FORBIDDEN_MODULES = {
    "random", "secrets", "time", "os", "socket", "requests", "httpx", "urllib", "psycopg",
    "psycopg2", "sqlalchemy.orm", "logging", "structlog", "subprocess", "pathlib", "io",
    "shutil", "tempfile", "boto3", "hvac", "redis", "celery", "prefect",
}  # fmt: skip
FORBIDDEN_ATTRS = {
    ("uuid", "uuid4"), ("uuid", "uuid1"), ("datetime", "now"), ("datetime", "utcnow"),
    ("datetime", "today"), ("date", "today"), ("time", "time"), ("os", "environ"),
    ("os", "getenv"), ("logging", "basicConfig"), ("random", "random"), ("random", "seed"),
}  # fmt: skip
FORBIDDEN_NAMES = {"open", "uuid4", "uuid1", "getenv", "environ", "basicConfig", "input", "print"}
ALLOWED_SEEDBANK = {"seedbank.domain.models"}


def _import_violations(node: ast.AST, where: str) -> list[str]:
    found: list[str] = []
    if isinstance(node, ast.Import):
        modules = [a.name for a in node.names]
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        packages = {"seedbank", "seedbank.domain"}
        modules = [f"{base}.{a.name}" if base in packages else base for a in node.names]
        found += [f"{where} imports {a.name}" for a in node.names if a.name in FORBIDDEN_NAMES]
    else:
        return found
    for mod in modules:
        if mod in FORBIDDEN_MODULES or mod.split(".")[0] in FORBIDDEN_MODULES:
            found.append(f"{where} imports {mod}")
        if mod.startswith("seedbank") and mod not in ALLOWED_SEEDBANK:
            found.append(f"{where} imports {mod} (only seedbank.domain.models is pure)")
    return found


def _use_violations(node: ast.AST, where: str, in_function: set[int]) -> list[str]:
    found: list[str] = []
    if isinstance(node, ast.Attribute):
        if isinstance(node.value, ast.Name) and (node.value.id, node.attr) in FORBIDDEN_ATTRS:
            found.append(f"{where} uses {node.value.id}.{node.attr}")
        if node.attr in {"now", "utcnow", "today", "uuid4"}:
            found.append(f"{where} uses .{node.attr}")
    if isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
        found.append(f"{where} uses {node.id}")
    is_faker = isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Faker"
    if is_faker and id(node) not in in_function:
        found.append(f"{where} builds a Faker at import time")
    return found


def _violations(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    in_function = {
        id(n)
        for fn in ast.walk(tree)
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef)
        for n in ast.walk(fn)
    }
    found: list[str] = []
    for node in ast.walk(tree):
        where = f"{path.relative_to(root.parent)}:{getattr(node, 'lineno', 0)}"
        found += _import_violations(node, where)
        found += _use_violations(node, where, in_function)
    return found


def test_sources_are_found() -> None:
    assert len(SOURCES) >= 10


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT.parent)))
def test_module_is_pure(path: Path) -> None:
    assert _violations(path) == []


def test_the_scanner_catches_what_it_must(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import os, random, socket\nimport uuid\nfrom datetime import datetime\n"
        "from seedbank.adapters import vault\nfrom seedbank import settings\n"
        "from faker import Faker\nFAKE = Faker()\n"
        "x = uuid.uuid4(); t = datetime.now(); e = os.environ; f = open('x')\n"
        "v = random.random()\n"
    )
    text = "\n".join(_violations(bad, tmp_path))
    for needle in ("os", "random", "socket", "uuid.uuid4", ".now", "os.environ", "open",
                   "seedbank.adapters", "seedbank.settings", "Faker at import"):  # fmt: skip
        assert needle in text, needle
