from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.world import World, isolated_world


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    url = os.environ.get("SEEDBANK_PG_SERVER_URL")
    if not url:
        pytest.fail("SEEDBANK_PG_SERVER_URL is not set: run the suite with `make test`")
    return url


@pytest.fixture
def world(pg_server_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with isolated_world(pg_server_url, tmp_path, monkeypatch) as w:
        yield w
