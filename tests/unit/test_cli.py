"""The CLI turns every user error into one sentence and a documented exit code."""

from __future__ import annotations

from pathlib import Path

import pytest

from seedbank.cli import main
from seedbank.errors import EXIT_CODES


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
