from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.databases import ScratchDatabase, temporary_database


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    url = os.environ.get("SEEDBANK_PG_SERVER_URL")
    if not url:
        pytest.fail("SEEDBANK_PG_SERVER_URL is not set: run the suite with `make test`")
    return url


@pytest.fixture(scope="module")
def database(pg_server_url: str) -> Iterator[ScratchDatabase]:
    with temporary_database(pg_server_url) as db:
        yield db
