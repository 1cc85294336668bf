"""The collector tuning of a `seed_data` process (seedbank.cli.collector)."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys

import pytest

from seedbank.cli import collector
from seedbank.cli.common import importing_flow

PROBE = """
import gc, json
from seedbank.cli import collector
collector.own_process()
before = gc.get_freeze_count()
with collector.importing():
    off_inside = not gc.isenabled()
    import decimal  # noqa: F401
frozen = gc.get_freeze_count()
print(json.dumps([off_inside, gc.isenabled(), before, frozen]))
"""


def test_in_its_own_process_imports_run_without_collection_and_stay_frozen() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True
    ).stdout
    off_inside, enabled_after, before, frozen = json.loads(out)
    assert off_inside
    assert enabled_after
    assert frozen > before  # what the imports built is out of later passes


def test_a_caller_of_main_keeps_its_collector_as_it_is() -> None:
    frozen = gc.get_freeze_count()
    with collector.importing():
        assert gc.isenabled()
    collector.before_exit()
    assert gc.get_freeze_count() == frozen


def test_a_flow_import_quiets_prefects_console_unless_the_user_chose_a_level(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", raising=False)
    with importing_flow():
        assert os.environ["PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"] == "CRITICAL"
    monkeypatch.setenv("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "DEBUG")
    with importing_flow():
        assert os.environ["PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"] == "DEBUG"
    assert gc.isenabled()  # a caller of main(argv) keeps its collector
