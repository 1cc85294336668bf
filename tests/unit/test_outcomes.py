"""What a failed run says it left in the database, and outages mapped to exit 6 (issue 16)."""

from __future__ import annotations

import httpx
import psycopg
import redis
from kombu.exceptions import OperationalError as KombuOperationalError

from factories.planner import plan
from seedbank.domain.errors import LeaseLost, VaultUnavailable, VerificationFailed, WormUnavailable
from seedbank.gates import GateResult
from seedbank.services.seeding import outcomes, stages
from tests.support.inprocess import small_manifest


def _run(mode: str = "baseline") -> stages.RunState:
    return stages.new_run(small_manifest(mode=mode), dry_run=False, actor="t")


def _all_batches(run: stages.RunState) -> None:
    ctx = run.ctx
    run.recorded = True
    run.batches = [
        {"entity": b.entity, "start": b.start, "stop": b.stop, "skipped": False}
        for b in plan(ctx.spec, ctx.manifest.generation.batch_size)
    ]


def test_written_and_verified_but_not_sealed_says_so() -> None:
    run = _run()
    _all_batches(run)
    run.gates = [GateResult(name="counts", status="passed")]
    exc = VaultUnavailable("Vault is unreachable", fix="start it; nothing was written")
    assert outcomes.tell_truth(run, exc) == outcomes.UNSEALED
    assert "nothing was written" not in exc.sentence()
    assert exc.sentence().endswith(
        "the dataset is written and verified; its evidence is not sealed: re-run to seal it."
    )
    assert str(exc) == exc.sentence()


def test_load_mode_rerun_recreates() -> None:
    run = _run("load")
    _all_batches(run)
    exc = WormUnavailable("the WORM store failed", fix="nothing was written")
    assert outcomes.tell_truth(run, exc) == outcomes.UNVERIFIED
    assert "re-run to recreate, verify and seal it" in exc.sentence()


def test_partial_seed_counts_the_batches() -> None:
    run = _run()
    _all_batches(run)
    total = len(run.batches)
    run.batches = run.batches[:3]
    exc = VaultUnavailable("Vault is unreachable", fix="nothing was written")
    assert outcomes.tell_truth(run, exc) == outcomes.PARTIAL
    assert f"3 of {total} batches are written and checkpointed" in exc.sentence()


def test_before_the_first_write_the_message_stays() -> None:
    run = _run()
    exc = VaultUnavailable("Vault is unreachable", fix="start it; nothing was written")
    assert outcomes.tell_truth(run, exc) == outcomes.FAILED
    assert exc.sentence().endswith("nothing was written.")


def test_verification_and_lease_loss_keep_their_own_fix() -> None:
    run = _run()
    _all_batches(run)
    failed = VerificationFailed("gate counts failed", fix="purge and reseed")
    assert outcomes.tell_truth(run, failed) == outcomes.FAILED
    assert failed.fix == "purge and reseed"
    lost = LeaseLost("lost the lock", fix="batches written before are kept")
    outcomes.tell_truth(run, lost)
    assert lost.fix == "batches written before are kept"


def test_outages_map_to_exit_6() -> None:
    for raw in (
        redis.exceptions.ConnectionError("Connection refused"),
        redis.exceptions.TimeoutError("timed out"),
        KombuOperationalError("broker down"),
        psycopg.errors.AdminShutdown("terminating connection"),
        psycopg.OperationalError("server closed the connection"),
        httpx.ConnectError("[Errno 111] Connection refused"),
    ):
        mapped = outcomes.as_error(raw)
        assert mapped is not None, raw
        assert mapped.exit_code == 6
        assert mapped.sentence().count(".") == 1  # one sentence, no library text
    assert outcomes.as_error(ValueError("a bug")) is None


def test_cleanup_never_replaces_the_error() -> None:
    with outcomes.cleanup("releasing"):
        raise psycopg.errors.AdminShutdown("dead")


def test_prefect_failing_after_a_sealed_run_says_nothing_is_left_to_do() -> None:
    run = _run()
    _all_batches(run)
    run.gates = [GateResult(name="counts", status="passed")]
    run.evidence = {"bucket": "b", "key": "k"}
    exc = outcomes.as_error(httpx.ConnectError("refused"))
    assert exc is not None
    outcomes.tell_truth(run, exc)
    assert exc.exit_code == 6
    assert exc.sentence().endswith("its evidence sealed: nothing to re-run.")
