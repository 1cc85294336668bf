"""What every command shares: who is acting (for the audit trail), and how a command
imports the Prefect flow it runs."""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator
from contextlib import contextmanager

from seedbank.cli import collector


def actor_identity() -> str:
    """Who started the run, for the audit trail: CI, Argo, or a person at a terminal."""
    for variable, label in (
        ("SEEDBANK_ACTOR", ""),
        ("GITHUB_ACTOR", "ci:"),
        ("ARGOCD_APP_NAME", "argo:"),
    ):
        value = os.environ.get(variable)
        if value:
            return f"{label}{value}"
    return f"manual:{getpass.getuser()}"


@contextmanager
def importing_flow() -> Iterator[None]:
    """Around a command's lazy import of its Prefect flow (~5 s, Prefect itself).

    Prefect's own console lines (with tracebacks) would bury our one-line errors; its logs
    still reach the Prefect API and UI. `collector` spares the import its collections.
    """
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
    with collector.importing():
        yield
