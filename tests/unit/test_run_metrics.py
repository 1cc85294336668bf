"""The last run's gauges the dashboard and alert rules read (issue 18)."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from seedbank.adapters.profiles import default_profiles_dir, load_profile
from seedbank.domain.errors import GuardRefused
from seedbank.services.seeding.stages import new_run
from seedbank.services.seeding.telemetry import record_outcome


@pytest.mark.parametrize("refused", [False, True])
def test_a_finished_run_sets_its_duration_slo_and_budget_use(
    refused: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SEEDBANK_PUSHGATEWAY_URL", raising=False)
    monkeypatch.delenv("SEEDBANK_SLO_SECONDS", raising=False)
    manifest = load_profile(default_profiles_dir(), env="dev", tenant="acme").manifest
    run = new_run(manifest, dry_run=False, actor="test", mode="load")
    # A refused run never got its policy outcome: the gauges come from the manifest.
    record_outcome(run, GuardRefused("over budget", fix="lower it") if refused else None)
    labels = {"tenant": "acme", "env": "dev", "mode": "load"}
    assert REGISTRY.get_sample_value("seedbank_run_slo_seconds", labels) == 300
    duration = REGISTRY.get_sample_value("seedbank_run_duration_seconds", labels)
    assert duration is not None
    assert duration >= 0
    ratio = REGISTRY.get_sample_value("seedbank_budget_used_ratio", labels)
    assert ratio is not None
    assert 0 < ratio < 1
