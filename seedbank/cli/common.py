"""What every command shares: who is acting, for the audit trail."""

from __future__ import annotations

import getpass
import os


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
