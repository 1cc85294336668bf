"""Fuzzed command lines through the real `seed_data` entry point, in this process.

Every service is a closed port (tests/support/fuzz.py), so a vector that happens to be
valid fails closed (exit 6) instead of touching the shared stack. No vector may end
as an internal error (exit 1), print more than one error sentence, or take long.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.support.fuzz import PROFILES, assert_cli_outcome, run_cli

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
NON_UTF8 = os.fsdecode(b"acme\xff")
"""What Python makes of a non-UTF-8 argv byte: a lone surrogate."""

COMMANDS: list[list[str]] = [
    [],
    ["plan"],
    ["purge"],
    ["verify"],
    ["verify-evidence"],
    ["verify-evidence", "bogus"],
    ["verify-evidence", "00000000-0000-0000-0000-000000000000"],
    ["validate-profiles"],
    ["salt", "init"],
    ["forget"],
    ["load-test"],
    ["bogus-command"],
]
texts = st.text(max_size=30)
tenants = st.one_of(
    st.sampled_from(["acme", "globex", "initech", "", "A", "a", "a" * 64, "acme\n", NON_UTF8]),
    texts,
)
envs = st.one_of(st.sampled_from(["dev", "homolog", "staging", "prod", "bench", "qa", ""]), texts)
modes = st.one_of(st.sampled_from(["baseline", "load", "dr", "bogus", "", "LOAD"]), texts)
numbers = st.one_of(
    st.sampled_from(["0", "-1", "nan", "inf", "-inf", "1e309", "abc", "", "9" * 400, "0x10"]),
    st.floats().map(str),
)


def _paths(tmp: Path) -> list[str]:
    fifo = tmp / "fifo.yaml"
    if not fifo.exists():
        os.mkfifo(fifo)
    (tmp / "dir.yaml").mkdir(exist_ok=True)
    return [
        "/dev/zero",
        "/dev/null",
        str(tmp / "dir.yaml"),
        str(fifo),
        str(tmp / "missing.yaml"),
        str(PROFILES[0]),
        "/etc/shadow",
        "x" * 5_000,
        "",
    ]


@pytest.fixture(scope="module")
def paths(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    return _paths(tmp_path_factory.mktemp("fuzzpaths"))


def _options(paths: list[str]) -> st.SearchStrategy[list[str]]:
    option = st.one_of(
        tenants.map(lambda v: f"--tenant={v}"),
        envs.map(lambda v: f"--env={v}"),
        modes.map(lambda v: f"--mode={v}"),
        numbers.map(lambda v: f"--wait={v}"),
        numbers.map(lambda v: f"--duration={v}"),
        st.sampled_from(paths).map(lambda v: f"--profile={v}"),
        st.sampled_from(paths).map(lambda v: f"--root={v}"),
        st.sampled_from(["--dry-run", "--help", "--bogus", "--tenant", "--", "-x"]),
        texts.map(lambda v: f"--breakglass={v}"),
        texts,
    )
    return st.lists(option, max_size=6)


@FUZZ
@given(data=st.data())
@example(data=["plan", "--tenant=acme", "--env=dev", "--mode=bogus"]).via("plan --mode=bogus")
@example(data=["--tenant=" + NON_UTF8, "--env=dev"]).via("a non-UTF-8 --tenant")
@example(data=["verify-evidence", "bogus", "--tenant=acme", "--env=dev"]).via("bogus run id")
@example(data=["--tenant=acme", "--env=dev", "--profile=/dev/zero"]).via("/dev/zero profile")
@example(data=["--tenant=acme", "--env=dev"]).via("a valid vector: Prefect unreachable, exit 6")
@example(data=["validate-profiles", "--root=" + "x" * 3000]).via("a --root name too long")
def test_any_argument_vector_ends_in_a_documented_code_and_one_sentence(
    data: st.DataObject | list[str], paths: list[str]
) -> None:
    if isinstance(data, list):
        argv = data
    else:
        command = data.draw(st.sampled_from(COMMANDS))
        argv = [*command, *data.draw(_options(paths))]
    outcome = run_cli(argv)
    assert_cli_outcome(outcome)
    if "--mode=bogus" in argv and "--help" not in argv and outcome.code != 0:
        assert outcome.code == 2 or "--mode" not in outcome.err


@pytest.mark.parametrize(
    ("argv", "code", "needle"),
    [
        (["plan", "--tenant=acme", "--env=dev", "--mode=bogus"], 2, "mode"),
        (["--tenant=" + NON_UTF8, "--env=dev"], 2, "tenant"),
        (["verify-evidence", "bogus", "--tenant=acme", "--env=dev"], 2, "run id"),
        (["--tenant=acme", "--env=dev", "--profile=/dev/zero"], 3, "/dev/zero"),
        (["load-test", "--tenant=acme", "--env=dev", "--duration=nan"], 2, "--duration"),
        (["load-test", "--tenant=acme", "--env=dev", "--duration=inf"], 2, "--duration"),
        (["load-test", "--tenant=acme", "--env=dev", "--duration=0.5"], 2, "--duration"),
        (["post-sync", "--tenant=acme", "--env=dev", "--timeout=nan"], 2, "--timeout"),
        (["post-sync", "--tenant=acme", "--env=dev", "--timeout=-inf"], 2, "--timeout"),
        # Valid: it must stop at the fuzz env's closed Prefect port, even when an earlier
        # test imported Prefect with the live stack's API URL (a stage log = a real flow run).
        (["--tenant=acme", "--env=dev"], 6, "Prefect API"),
    ],
)
def test_the_issue_reproducers_end_in_their_documented_code(
    argv: list[str], code: int, needle: str
) -> None:
    outcome = run_cli(argv)
    assert_cli_outcome(outcome, names=(needle,))
    assert outcome.code == code, outcome.err


def test_a_directory_or_fifo_profile_is_refused_as_not_a_file(paths: list[str]) -> None:
    for path in (p for p in paths if p.endswith(("dir.yaml", "fifo.yaml"))):
        outcome = run_cli(["--tenant=acme", "--env=dev", f"--profile={path}"])
        assert outcome.code == 3
        assert_cli_outcome(outcome, names=("not a regular file",))
