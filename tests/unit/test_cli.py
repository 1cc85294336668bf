"""The CLI turns every user error into one sentence and a documented exit code."""

from __future__ import annotations

from pathlib import Path

import pytest

from seedbank.cli import main
from seedbank.domain.errors import EXIT_CODES


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


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("validate-profiles", "migrate", "purge", "salt"):
        assert command in out


def test_exit_codes_are_distinct() -> None:
    assert len(set(EXIT_CODES.values())) == len(EXIT_CODES)


@pytest.mark.parametrize(
    ("variable", "value"),
    [("SEEDBANK_BATCH_WINDOW", "0"), ("SEEDBANK_BATCH_STALL_SECONDS", "s3cr3t-not-a-number")],
)
def test_a_malformed_setting_is_one_sentence_and_exit_2_without_its_value(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    assert main(["plan", "--tenant=acme", "--env=dev"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"seed_data: error: environment variable {variable} is invalid: ")
    assert err.count("\n") == 1
    assert "s3cr3t" not in err
    assert "Traceback" not in err
