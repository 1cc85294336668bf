"""Read `.stack/env` (written by `make up`) so tests reach the project's own services."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STACK_ENV = REPO / ".stack" / "env"


def read_stack_env(path: Path = STACK_ENV) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw_line in path.read_text().splitlines():
        line = raw_line.strip()
        if not line.startswith("export "):
            continue
        name, _, raw = line.removeprefix("export ").partition("=")
        parts = shlex.split(raw)
        values[name] = parts[0] if parts else ""
    return values


# The stack's API serves the demo database, never a test's world: a test that needs
# the API starts its own (tests/support/api_server.py).
NOT_FOR_TESTS = frozenset({"SEEDBANK_API_BASE_URL"})


def apply_stack_env() -> None:
    """Fill in every stack setting the environment does not already set."""
    for name, value in read_stack_env().items():
        if name not in NOT_FOR_TESTS:
            os.environ.setdefault(name, value)
