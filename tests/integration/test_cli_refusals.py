"""User errors end in one sentence, a documented exit code and an audit row (issues 2, 4)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from seedbank.cli import main
from tests.support.databases import ScratchDatabase

SEED_DATA = Path(sys.executable).parent / "seed_data"


@pytest.fixture(autouse=True)
def _scratch_audit(database: ScratchDatabase, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEEDBANK_DATABASE_URL", database.app_url)


def _audit_rows(database: ScratchDatabase) -> list[tuple[str, str]]:
    with psycopg.connect(database.admin_url) as conn:  # the owner sees every tenant's audit
        return [
            (str(e), str(r))
            for e, r in conn.execute("SELECT event, reason FROM seed_audit ORDER BY at").fetchall()
        ]


@pytest.mark.parametrize(
    ("argv", "code", "needle"),
    [
        ([], 2, "--tenant is required"),
        (["--tenant=acme"], 2, "--env is required"),
        (["--tenant=acme", "--env=qa"], 2, "unknown env 'qa'"),
        (["--tenant=acme", "--env=dev", "--bogus"], 2, "No such option: --bogus"),
        (["--tenant=acme", "--env=dev", "--wait=-1"], 2, "--wait must be zero or more"),
        (
            ["--tenant=initech", "--env=dev"],
            3,
            "no versioned profile for tenant 'initech'",
        ),
    ],
)
def test_user_errors_are_one_sentence(
    argv: list[str], code: int, needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == code
    err = capsys.readouterr().err
    assert needle in err
    assert err.count("\n") == 1
    assert err.startswith("seed_data: error: ")


def test_refusals_are_audited_without_a_run(database: ScratchDatabase) -> None:
    with psycopg.connect(database.admin_url) as conn:
        conn.execute("DELETE FROM seed_audit")
    assert main(["--tenant=initech", "--env=dev"]) == 3
    rows = _audit_rows(database)
    assert [event for event, _ in rows] == ["profile_missing"]
    assert "initech" in rows[0][1]


def test_installed_entry_point_never_prints_a_traceback() -> None:
    result = subprocess.run(
        [str(SEED_DATA), "--tenant=acme", "--env=nowhere"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "unknown env" in result.stderr


def test_a_non_utf8_tenant_is_refused_and_audited_escaped(database: ScratchDatabase) -> None:
    """Issue 15: the refusal's audit used to die on the lone surrogate (exit 1)."""
    with psycopg.connect(database.admin_url) as conn:
        conn.execute("DELETE FROM seed_audit")
    result = subprocess.run(
        [os.fsencode(SEED_DATA), b"--tenant=acme\xff", b"--env=dev"],
        capture_output=True,
        env={**os.environ, "SEEDBANK_DATABASE_URL": database.app_url},
        check=False,
    )
    err = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 2, err
    assert err.count("\n") == 1
    assert "tenant id 'acme\\udcff' is not a valid slug" in err
    assert [event for event, _ in _audit_rows(database)] == ["usage"]


@pytest.mark.parametrize(
    ("argv", "code", "needle"),
    [
        (["plan", "--tenant=acme", "--env=dev", "--mode=bogus"], 2, "--mode 'bogus' is unknown"),
        (["verify-evidence", "bogus", "--tenant=acme", "--env=dev"], 2, "run id 'bogus'"),
        (["--tenant=acme", "--env=dev", "--profile=/dev/zero"], 3, "is not a regular file"),
        (["--tenant=acme", "--env=dev", "--wait=nan"], 2, "--wait must be"),
    ],
)
def test_issue_15_reproducers_end_in_their_documented_code(
    argv: list[str], code: int, needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == code
    err = capsys.readouterr().err
    assert needle in err
    assert err.count("\n") == 1


def test_a_malformed_setting_in_a_fresh_process_is_the_cli_sentence() -> None:
    """In a fresh process `plan` imports the Celery app before reading Settings: the
    sentence must still be the CLI's, exit 2, without the value."""
    result = subprocess.run(
        [str(SEED_DATA), "plan", "--tenant=acme", "--env=dev"],
        capture_output=True,
        text=True,
        env={**os.environ, "SEEDBANK_SLO_SECONDS": "s3cr3t"},
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("seed_data: error: environment variable SEEDBANK_SLO_SECONDS")
    assert result.stderr.count("\n") == 1
    assert "s3cr3t" not in result.stderr
