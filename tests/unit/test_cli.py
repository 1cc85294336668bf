"""The CLI turns every user error into one sentence and a documented exit code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from seedbank.cli import main
from seedbank.errors import EXIT_CODES

SEED_DATA = Path(sys.executable).parent / "seed_data"


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


def test_validate_profiles_reports_each_file(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["validate-profiles"]) == 0
    out = capsys.readouterr().out
    assert "ok      " in out
    assert "0 invalid" in out


def test_validate_profiles_fails_on_a_bad_profile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev" / "acme.yaml").write_text("mode: baseline\n")
    assert main(["validate-profiles", f"--root={tmp_path}"]) == 3
    assert "field 'metadata' is missing" in capsys.readouterr().out


def test_exit_codes_are_distinct() -> None:
    assert len(set(EXIT_CODES.values())) == len(EXIT_CODES)


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
