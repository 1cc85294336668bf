"""A DR drill points its process at the DR database only while it runs."""

from __future__ import annotations

import os

import pytest

from flows.dr_drill import _dr_target

DR = "postgresql://127.0.0.1:5432/dr_target"


@pytest.mark.parametrize("before", [None, "postgresql://127.0.0.1:5432/primary"])
def test_the_database_url_is_what_it_was_after_the_drill(
    before: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEEDBANK_DR_DATABASE_URL", DR)
    if before is None:
        monkeypatch.delenv("SEEDBANK_DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("SEEDBANK_DATABASE_URL", before)
    with _dr_target():
        assert os.environ["SEEDBANK_DATABASE_URL"] == DR
    assert os.environ.get("SEEDBANK_DATABASE_URL") == before
