"""Validation of command-line arguments, before anything is locked, written or audited.

Each check raises `UsageError` (exit 2) with one sentence naming the option; values are
quoted back cut short and escaped (`shown`), so a hostile argument cannot flood the
terminal or break the audit trail's encoding.
"""

from __future__ import annotations

import math
import uuid

from seedbank.domain.errors import UsageError
from seedbank.domain.manifest import MODES
from seedbank.domain.manifest_types import shown

MAX_WAIT_SECONDS = 24 * 3600.0


def check_mode(mode: str | None) -> str | None:
    """`--mode`, when given, is one of the manifest's modes."""
    if mode is not None and mode not in MODES:
        raise UsageError(f"--mode {shown(mode)} is unknown", fix=f"use one of {', '.join(MODES)}")
    return mode


def check_wait(wait: float) -> float:
    """`--wait` is a finite number of seconds, at most a day."""
    if not math.isfinite(wait) or not 0 <= wait <= MAX_WAIT_SECONDS:
        raise UsageError(
            "--wait must be zero or more seconds, at most a day",
            fix="pass e.g. --wait=60",
        )
    return wait


def check_seconds(option: str, value: float, *, low: float, high: float, example: str) -> float:
    """A seconds option is a finite number in [`low`, `high`]; NaN and infinities are
    refused here because a range check alone lets NaN through (every comparison is false)."""
    if not math.isfinite(value) or not low <= value <= high:
        raise UsageError(
            f"{option} must be from {low:g} to {high:g} seconds",
            fix=f"pass e.g. {option}={example}",
        )
    return value


def check_run_id(run_id: str) -> uuid.UUID:
    """A run id is the UUID the seed printed."""
    try:
        return uuid.UUID(run_id)
    except ValueError:
        raise UsageError(
            f"run id {shown(run_id)} is not a UUID",
            fix="pass the run id the seed printed (a UUID)",
        ) from None
