"""Throw-away databases: each test module gets its own, migrated, then dropped."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from seedbank.adapters.migrations import ScratchDatabase, scratch_database

__all__ = ["ScratchDatabase", "temporary_database"]


@contextmanager
def temporary_database(server_url: str, *, migrate: bool = True) -> Iterator[ScratchDatabase]:
    with scratch_database(server_url, prefix="seedbank_test", migrate=migrate) as db:
        yield db
