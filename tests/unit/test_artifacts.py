"""The Prefect artifacts of a run, built from its report (pure; issue 18)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from seedbank.domain.errors import LockHeld, VerificationFailed
from seedbank.gates import GateFailure, GateResult
from seedbank.services import conformance
from seedbank.services.artifacts import (
    artifact_key,
    drill_artifacts,
    expurge_artifacts,
    failure_of,
    run_artifacts,
)

ROW = "00021ffc-e4cc-5a30-90af-d191790b91ed"
GATE_NAMES = ("counts", "referential", "rls-probe", "pii", "contract", "invariants", "determinism")
EVIDENCE = {
    "bucket": "seedbank-evidence",
    "key": "runs/dev/acme/r1.json",
    "version_id": "v42",
    "sha256": "ab" * 32,
    "retain_until": "2027-11-30T00:00:00+00:00",
}


def gates(*, failed: str | None = None) -> list[GateResult]:
    out = []
    for name in GATE_NAMES:
        if name == failed:
            failure = GateFailure("customer", ROW, "email", "not proven masked by the checker")
            out.append(GateResult(name, "failed", {"failures_total": 1}, [failure]))
        else:
            out.append(GateResult(name, "passed", {"duration_s": 0.1, "rows": 5}))
    return out


def report(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "kind": "seed_run",
        "run_id": "r1",
        "env": "dev",
        "tenant": "acme",
        "mode": "baseline",
        "dry_run": False,
        "manifest_digest": "cd" * 32,
        "manifest_version": "1",
        "salt_version": 1,
        "started_at": "2026-11-30T06:00:00+00:00",
        "finished_at": "2026-11-30T06:00:04.500000+00:00",
        "expires_at": None,
        "outcome": "succeeded",
        "counts": {"tenant": 1, "customer": 200, "address": 200},
        "expected_counts": {"tenant": 1, "customer": 200, "address": 200},
        "timings_s": {"tenant": 0.1, "customer": 0.5, "address": 0.25},
        "batches": [],
        "dataset_digest": "ef" * 32,
        "policy": {
            "estimate": {"seconds": 0.3, "usd": "0.0030"},
            "slo_seconds": 300.0,
            "verdicts": [
                {"guard": "budget", "outcome": "warn", "reason": "85% of budget", "figures": {}}
            ],
        },
        "verification": conformance.verification_section(gates(), None),
    }
    return {**base, **changes}


@pytest.mark.parametrize(
    ("parts", "key"),
    [
        (("dev", "acme"), "seedbank-dev-acme"),
        (("Dev", "Bank_One.BR"), "seedbank-dev-bank-one-br"),
        (("dev", "--acme--"), "seedbank-dev-acme"),
        (("dev", None), "seedbank-dev"),
        (("dev", "ação/../x"), "seedbank-dev-a-o-x"),
    ],
)
def test_keys_are_valid_prefect_artifact_keys(parts: tuple[str | None, ...], key: str) -> None:
    assert artifact_key(*parts) == key


def test_a_succeeded_run_names_every_gate_the_digest_the_guards_and_the_evidence() -> None:
    built = run_artifacts(report(), evidence=EVIDENCE)
    assert (built.key, built.table_key) == ("seedbank-dev-acme", "seedbank-dev-acme-counts")
    text = built.markdown
    assert text.startswith("# seedbank seed_run: dev/acme (baseline) — SUCCEEDED")
    for name in GATE_NAMES:
        assert f"**{name}**: passed" in text
    assert f"dataset digest `{'ef' * 32}`" in text
    assert "evidence key `runs/dev/acme/r1.json` version `v42`" in text
    assert "| budget | warn | 85% of budget |" in text
    assert "(4.5 s)" in text
    assert "**Reason:**" not in text
    assert built.table == [
        {"entity": "tenant", "expected": 1, "rows": 1, "seconds": 0.1, "rows_per_s": 10},
        {"entity": "customer", "expected": 200, "rows": 200, "seconds": 0.5, "rows_per_s": 400},
        {"entity": "address", "expected": 200, "rows": 200, "seconds": 0.25, "rows_per_s": 800},
    ]


def test_a_failed_verification_names_the_gate_and_the_row_not_the_value() -> None:
    failed = gates(failed="pii")
    exc = VerificationFailed(
        "gate 'pii' failed: customer row " + ROW + " field email: not proven masked",
        fix="purge and reseed once the cause is fixed",
    )
    doc = report(outcome="failed", verification=conformance.verification_section(failed, None))
    text = run_artifacts(doc, failure=failure_of(exc)).markdown
    assert "— FAILED" in text
    assert f"**Reason:** gate 'pii' failed: customer row {ROW} field email" in text
    assert "**Fix:** purge and reseed once the cause is fixed" in text
    assert "**pii**: failed" in text
    assert f"| customer | {ROW} | email |" in text
    assert "evidence: not sealed" in text


def test_a_run_refused_before_its_gates_says_so_and_how_to_fix_it() -> None:
    exc = LockHeld("another seed run holds the lock for dev/acme", fix="retry with --wait=60")
    built = run_artifacts(
        {"kind": "seed_run", "env": "dev", "tenant": "acme", "mode": None},
        failure=failure_of(exc),
    )
    assert built.key == "seedbank-dev-acme"
    assert "**Reason:** another seed run holds the lock for dev/acme." in built.markdown
    assert "**Fix:** retry with --wait=60" in built.markdown
    assert "Verification: not run" in built.markdown
    assert built.table == []


def test_a_bug_is_reported_without_its_message() -> None:
    failure = failure_of(KeyError("maria.silva@gmail.com"))
    assert failure is not None
    assert failure.reason == "internal error (KeyError)"
    assert failure_of(None) is None


def test_expurge_and_drill_artifacts_share_the_tenant_key() -> None:
    purged = expurge_artifacts(
        {
            "env": "dev",
            "tenant": "acme",
            "purged": {"load": {"customer": 10, "address": 5}},
            "skipped": None,
            "evidence": {**EVIDENCE, "key": "expurge/dev/acme/x.json"},
        }
    )
    assert purged.key == "seedbank-dev-acme"
    assert "- load: 15 rows removed" in purged.markdown
    assert "evidence key `expurge/dev/acme/x.json`" in purged.markdown
    assert purged.table[0] == {"mode": "load", "entity": "customer", "rows_removed": 10}
    nothing = expurge_artifacts({"env": "dev", "tenant": "acme", "purged": {}, "skipped": None})
    assert "nothing expired" in nothing.markdown

    drill = drill_artifacts(
        {
            "kind": "dr_drill",
            "drill_id": "d1",
            "env": "dev",
            "tenant": "acme",
            "expected_source": "sealed-evidence",
            "expected_from": {"run_id": "r0", "key": "runs/dev/acme/r0.json", "version_id": "v7"},
            "expected_dataset_digest": "aa",
            "restored_dataset_digest": "aa",
            "digest_equal": True,
            "restore_seconds": 12.5,
            "target_seconds": 2400.0,
            "rto_seconds": 3600.0,
            "within_target": True,
            "within_rto": True,
            "rows_lost": 7,
            "counts": {"customer": 3},
            "gates": [g.as_dict() for g in gates()],
            "evidence": {**EVIDENCE, "key": "dr-drills/dev/acme/d1.json"},
        }
    )
    assert drill.key == "seedbank-dev-acme"
    assert "(equal: yes)" in drill.markdown
    assert "source: sealed evidence of DR run `r0` (key `runs/dev/acme/r0.json`" in drill.markdown
    assert "RTO 3600.0 s (met)" in drill.markdown
    for name in GATE_NAMES:
        assert f"| {name} | passed |" in drill.markdown
    assert json.dumps(drill.table)


def test_a_verification_table_has_no_timing_columns_and_the_evidence_can_be_rechecked() -> None:
    doc = report(kind="verify", timings_s=None)
    built = run_artifacts(doc, evidence=EVIDENCE)
    assert built.table[1] == {"entity": "customer", "expected": 200, "rows": 200}
    assert "`seed_data verify-evidence r1 --tenant=acme --env=dev`" in built.markdown


def test_a_first_drill_says_its_expected_digest_is_the_generators() -> None:
    drill = drill_artifacts(
        {
            "kind": "dr_drill",
            "drill_id": "d1",
            "env": "dev",
            "tenant": "acme",
            "expected_source": "generator",
            "expected_from": None,
            "expected_dataset_digest": "aa",
            "restored_dataset_digest": "aa",
            "determinism_gate": "passed",
            "digest_equal": True,
            "restore_seconds": 1.5,
            "rows_lost": 0,
        }
    )
    assert "source: the generator" in drill.markdown
    assert "determinism gate: passed" in drill.markdown
    assert "sealed evidence" not in drill.markdown
