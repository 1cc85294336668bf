"""Shared pieces of the hostile-input fuzz tests (tests/unit/test_fuzz_*.py).

Every case ends either accepted, and then every downstream pure step must work, or
refused with its documented exit code and one bounded sentence. These helpers hold
the hostile values, the profiles they mutate and the checks each case must pass.
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from factories.planner import BatchSpec, generate_batch
from seedbank.domain import guards
from seedbank.domain.manifest import Manifest
from seedbank.services.seeding.batches import RunContext
from seedbank.services.seeding.dataset import dataset_spec

ROOT = Path(__file__).resolve().parents[2]
PROFILES = sorted((ROOT / "profiles").glob("*/*.yaml"))
SENTENCE_LIMIT = 500
"""No error a user sees is longer than this (characters)."""
SECONDS_LIMIT = 10.0
"""Generous: a case taking this long is a hang or a quadratic path, not a slow machine."""
DOCUMENTED_EXIT_CODES = frozenset({0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})
"""README's table, minus 1 (our bugs only)."""
UNREACHABLE = {
    # Nothing a fuzz case runs may touch the shared stack: every service is a closed port.
    "SEEDBANK_DATABASE_URL": "postgresql://seedbank_app@127.0.0.1:1/seedbank",
    "SEEDBANK_ADMIN_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/seedbank",
    "SEEDBANK_BROKER_URL": "redis://127.0.0.1:1/0",
    "SEEDBANK_REDIS_URL": "redis://127.0.0.1:1/1",
    "VAULT_ADDR": "http://127.0.0.1:1",
    "PREFECT_API_URL": "http://127.0.0.1:1/api",
    "SEEDBANK_S3_ENDPOINT_URL": "http://127.0.0.1:1",
}
FUZZ_SALT = b"fuzz-only salt, thirty-two bytes+"


def profile_data(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def leaf_paths(data: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every key path of a nested mapping, sections included."""
    paths: list[tuple[str, ...]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            path = (*prefix, str(key))
            paths.append(path)
            paths += leaf_paths(value, path)
    return paths


def with_value(data: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    copy: dict[str, Any] = yaml.safe_load(yaml.safe_dump(data))
    node = copy
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return copy


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


CONTROL = "".join(chr(c) for c in (*range(0, 9), 11, 12, *range(14, 32), 127))

hostile_scalars = st.one_of(
    st.booleans(),
    st.none(),
    st.integers(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([2**63, -(2**63) - 1, 10**18, 10**12, 0, -1, 10**4000]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        [
            "1E-999999999",
            "1E+999999999",
            "NaN",
            "-Infinity",
            "sNaN",
            "0",
            "-0",
            "22:00",
            "24:00",
            "America",
            "Etc",
            "../../etc/passwd",
            "America/Sao_Paulo\x00",
            "UTC",
            "2026-06-30",
            "2026-06-30T12:00:00",
            "0001-01-01T00:00:00+14:00",
            "9999-12-31T23:59:59-14:00",
            "acme\n",
            "a" * 300,
            "x" * 20_000,
            "a@b." + "a" * 5_000,
            "9" * 5_000,
        ]
    ),
    st.text(max_size=40),
    st.text(alphabet=CONTROL, min_size=1, max_size=5),
)
hostile_values = st.one_of(
    hostile_scalars,
    st.lists(hostile_scalars, max_size=3),
    st.dictionaries(st.text(max_size=8), hostile_scalars, max_size=3),
    st.integers(min_value=50, max_value=3_000).map(_nested),
)


@dataclass
class Outcome:
    code: int
    out: str
    err: str
    seconds: float


@contextmanager
def environ(values: dict[str, str]) -> Iterator[None]:
    """`os.environ` with `values` set, restored afterwards (hypothesis cannot use monkeypatch)."""
    saved = dict(os.environ)
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run_cli(argv: list[str], env: dict[str, str] | None = None) -> Outcome:
    """`seed_data argv` in this process, with a terminal's strict UTF-8 stdout."""
    from prefect.settings import PREFECT_API_URL, temporary_settings  # noqa: PLC0415

    from seedbank.cli import main  # noqa: PLC0415  lazy: only when used

    values = {**UNREACHABLE, **(env or {})}
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict")
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="backslashreplace")
    started = time.monotonic()
    # Prefect reads its settings once, at its first import in the process: an earlier test
    # that imported it under the real stack's env would let a valid vector start a flow run
    # on the shared Prefect server. Its settings context follows the fuzz env instead.
    with (
        environ(values),
        temporary_settings(updates={PREFECT_API_URL: values["PREFECT_API_URL"]}),
        redirect_stdout(out),
        redirect_stderr(err),
    ):
        code = main(argv)
    seconds = time.monotonic() - started
    texts = []
    for stream in (out, err):
        stream.flush()
        buffer = stream.buffer
        assert isinstance(buffer, io.BytesIO)
        texts.append(buffer.getvalue().decode("utf-8", "backslashreplace"))
    return Outcome(code, texts[0], texts[1], seconds)


def assert_refusal_sentence(sentence: str, *, names: tuple[str, ...] = ()) -> None:
    """One line, bounded, no traceback; naming one of `names` when given."""
    assert "\n" not in sentence.rstrip("\n"), f"more than one line: {sentence[:300]!r}"
    assert len(sentence) <= SENTENCE_LIMIT, f"{len(sentence)} characters: {sentence[:300]!r}"
    assert "Traceback" not in sentence
    if names:
        assert any(name in sentence for name in names), f"names none of {names}: {sentence!r}"


def assert_cli_outcome(outcome: Outcome, *, names: tuple[str, ...] = ()) -> None:
    assert outcome.code != 1, f"internal error: {outcome.err[:400]!r}"
    assert outcome.code in DOCUMENTED_EXIT_CODES | {130}, outcome.code
    assert outcome.seconds < SECONDS_LIMIT, f"took {outcome.seconds:.1f} s"
    assert "Traceback" not in outcome.err
    if outcome.code != 0:
        errors = [line for line in outcome.err.splitlines() if line.startswith("seed_data: error:")]
        assert len(errors) == 1, f"expected one error line: {outcome.err[:600]!r}"
        others = [
            line
            for line in outcome.err.splitlines()
            if line and not line.startswith(("seed_data: error:", "seed_data: warning:"))
        ]
        assert not others, f"stray stderr lines: {others[:3]!r}"
        assert_refusal_sentence(errors[0], names=names)


NOW = datetime(2026, 7, 1, 3, 0, tzinfo=UTC)


def exercise(manifest: Manifest) -> None:
    """Every pure step downstream of an accepted manifest must work on it."""
    # A run stores its manifest as JSON and every Celery job validates it again.
    stored = json.loads(json.dumps(manifest.model_dump(mode="json")))
    assert Manifest.model_validate(stored) == manifest
    est = guards.estimate(manifest)
    guards.budget_verdict(manifest, est)
    for mode in ("baseline", "load", "dr"):
        copy = manifest.model_copy(update={"mode": mode})
        guards.window_verdict(copy, env="prod", mode=mode, now=NOW)
        spec = dataset_spec(copy)
        for started in (NOW, NOW + timedelta(days=365 * 5)):
            ctx = RunContext(
                run_id=spec.tenant_id,
                tenant_id=spec.tenant_id,
                manifest=copy,
                spec=spec,
                started_at=started,
            )
            expires = ctx.expires_at
            if expires is not None:
                expires.isoformat()
    spec = dataset_spec(manifest)
    for entity, count in manifest.volumetry.counts().items():
        for index in {0, count - 1} if count else set():
            generate_batch(spec, BatchSpec(entity, index, index + 1), FUZZ_SALT)
    manifest.digest()
