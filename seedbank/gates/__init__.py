"""Verification gates (FR-004, FR-026, SC-002): each proves one property of a seeded
dataset and returns figures and failures that never carry a PII value.

`run_gates` runs them over a connection bound to the tenant (the application role),
after a normal seed, inside the dry-run transaction, or by `seed_data verify`.
"""

from seedbank.gates.model import GateFailure, GateResult, GateTarget
from seedbank.gates.runner import (
    GATE_NAMES,
    failed,
    failure_sentence,
    run_gates,
    run_gates_rolled_back,
)
from seedbank.gates.smoke import SmokeConfig, smoke_config

__all__ = [
    "GATE_NAMES",
    "GateFailure",
    "GateResult",
    "GateTarget",
    "SmokeConfig",
    "failed",
    "failure_sentence",
    "run_gates",
    "run_gates_rolled_back",
    "smoke_config",
]
