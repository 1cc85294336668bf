"""Fuzzed `SEEDBANK_*` settings through the real entry points, in this process.

A malformed value ends in exit 2 and one sentence naming the variable, never its value
(it may hold a password); an accepted one must leave every reader working.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from tests.support.fuzz import UNREACHABLE, assert_cli_outcome, run_cli

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
VARIABLES = [
    "SEEDBANK_DATABASE_URL",
    "SEEDBANK_ADMIN_DATABASE_URL",
    "SEEDBANK_BROKER_URL",
    "SEEDBANK_REDIS_URL",
    "SEEDBANK_VAULT_KV_MOUNT",
    "SEEDBANK_VAULT_TRANSIT_KEY",
    "SEEDBANK_S3_ENDPOINT_URL",
    "SEEDBANK_EVIDENCE_BUCKET",
    "SEEDBANK_EVIDENCE_RETENTION_DAYS",
    "SEEDBANK_BATCH_STALL_SECONDS",
    "SEEDBANK_BATCH_WINDOW",
    "SEEDBANK_SET_BASED_REFERENCES",
    "SEEDBANK_BATCH_EXPIRES_SECONDS",
    "SEEDBANK_PROFILES_DIR",
    "SEEDBANK_SLO_SECONDS",
    "SEEDBANK_EXPURGE_GRACE_HOURS",
    "SEEDBANK_TENANT_CONCURRENCY",
    "SEEDBANK_WORKER_DATABASES",
    "SEEDBANK_WORKER_METRICS_PORT",
    "SEEDBANK_WORKER_METRICS_ADDR",
    "SEEDBANK_PUSHGATEWAY_URL",
    "SEEDBANK_API_BASE_URL",
    "SEEDBANK_ENV_NAME",
    "SEEDBANK_DR_DATABASE_URL",
    "SEEDBANK_ACTOR",
]
MARKER = "s3cr3t"
values = st.one_of(
    st.sampled_from(
        [
            "abc",
            "nan",
            "inf",
            "-1",
            "0",
            "1e309",
            "9" * 400,
            "",
            " ",
            "garbage",
            f"postgresql://u:{MARKER}@127.0.0.1:notaport/db",
            f"{MARKER}\nsecond line",
            f"x{MARKER}\x01",
            "(((((((((a*)*)*)*)*)*)*",
            "/nonexistent/profiles",
            "/dev/zero",
            "70000",
        ]
    ),
    st.text(max_size=40),
    st.integers().map(str),
    st.floats().map(str),
)


def _check(variable: str, value: str) -> None:
    assume("\x00" not in value)  # no process environment can hold a NUL
    outcome = run_cli(["plan", "--tenant=acme", "--env=dev"], {variable: value})
    names = (variable,) if outcome.code == 2 else ()
    assert_cli_outcome(outcome, names=names)
    assert outcome.code in {0, 2, 3, 6}, outcome.err
    if MARKER in value:
        assert MARKER not in outcome.err + outcome.out


@FUZZ
@given(variable=st.sampled_from(VARIABLES), value=values)
@example(variable="SEEDBANK_SLO_SECONDS", value="abc").via("SLO not a number")
@example(variable="SEEDBANK_EXPURGE_GRACE_HOURS", value="abc").via("grace not a number")
@example(variable="SEEDBANK_DATABASE_URL", value="garbage").via("a garbage database URL")
@example(
    variable="SEEDBANK_PROFILES_DIR", value=f"postgresql://u:{MARKER}@127.0.0.1:notaport/db"
).via("a credential in a path that the error names")
def test_a_setting_is_accepted_and_usable_or_refused_by_name(variable: str, value: str) -> None:
    _check(variable, value)


@pytest.mark.parametrize("value", ["nan", "-1", "inf", "0"])
def test_an_slo_must_be_a_finite_positive_number(value: str) -> None:
    outcome = run_cli(["plan", "--tenant=acme", "--env=dev"], {"SEEDBANK_SLO_SECONDS": value})
    assert outcome.code == 2, outcome.out[-300:]
    assert_cli_outcome(outcome, names=("SEEDBANK_SLO_SECONDS",))


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SEEDBANK_TENANT_CONCURRENCY", "abc"),
        ("SEEDBANK_WORKER_DATABASES", "(unclosed"),
        ("SEEDBANK_BROKER_URL", "garbage"),
        ("SEEDBANK_WORKER_METRICS_ADDR", "0.0.0.0.0"),
        ("SEEDBANK_WORKER_METRICS_ADDR", "metrics.example.com"),
    ],
)
def test_importing_the_worker_never_tracebacks_on_a_bad_setting(variable: str, value: str) -> None:
    """Celery imports these modules itself: a bad value must surface as one sentence."""
    env = {**UNREACHABLE, variable: value, "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", "import seedbank.worker.jobs, seedbank.worker.celery_app"],
        env={**env, "PYTHONPATH": str(__import__("pathlib").Path(__file__).parents[2])},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr[-600:]
