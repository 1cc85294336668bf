"""Fuzzed manifests: mutations of the repo's own profiles, as a hostile user would write them.

Each case is either accepted, and then every pure step downstream works on it, or
refused as a `ManifestError` (exit 3) in one bounded sentence naming the field or line.
"""

from __future__ import annotations

import re
import time
from datetime import time as clock
from typing import Any

import yaml
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from seedbank.domain.errors import ManifestError
from seedbank.domain.manifest import Manifest, parse_manifest
from tests.support.fuzz import (
    PROFILES,
    SECONDS_LIMIT,
    assert_refusal_sentence,
    exercise,
    hostile_values,
    leaf_paths,
    profile_data,
    with_value,
)


def fuzz(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))


BASES = {path: profile_data(path) for path in PROFILES}
TEXTS = {path: path.read_text(encoding="utf-8") for path in PROFILES}


def _parse(text: str) -> Manifest | ManifestError:
    started = time.monotonic()
    try:
        result: Manifest | ManifestError = parse_manifest(text, source="fuzz.yaml")
    except ManifestError as exc:
        result = exc
    assert time.monotonic() - started < SECONDS_LIMIT, "parsing took too long"
    return result


def _check(text: str, *, names: tuple[str, ...]) -> Manifest | None:
    result = _parse(text)
    if isinstance(result, ManifestError):
        event("refused")
        assert result.exit_code == 3
        assert_refusal_sentence(result.sentence(), names=names)
        return None
    event("accepted")
    exercise(result)
    return result


@fuzz(200)
@given(
    base=st.sampled_from(PROFILES),
    data=st.data(),
    value=hostile_values,
)
@example(base=PROFILES[0], data=None, value="x" * 20_000).via("a huge time zone")
def test_a_mutated_field_is_accepted_and_usable_or_refused_by_name(
    base: Any, data: Any, value: Any
) -> None:
    original = BASES[base]
    paths = leaf_paths(original)
    path = ("window", "timezone") if data is None else data.draw(st.sampled_from(paths))
    try:
        text = yaml.safe_dump(with_value(original, path, value), sort_keys=False)
    except RecursionError:  # PyYAML's emitter itself cannot write it: nothing to parse
        return
    # The sentence names the deepest key of the mutated path, or the YAML line.
    _check(text, names=(*path, "line"))


YAML11 = [
    "yes", "no", "on", "off", "y", "n", "~", "0x1F", "0o17", "017", "1_000", "12:30:00",
    "22:00", "2026-01-01", ".inf", "-.nan", "1e3", "+1", "0b101", "true", "Null",
]  # fmt: skip


def _scalar_lines(text: str) -> list[int]:
    return [
        i
        for i, line in enumerate(text.splitlines())
        if re.match(r"^\s+\w+: [^{\[]", line) or re.match(r"^\w+: [^{\[\s]", line)
    ]


@fuzz(100)
@given(base=st.sampled_from(PROFILES), data=st.data())
@example(base=PROFILES[0], data=None).via("unquoted start: 22:00")
def test_unquoting_a_value_either_keeps_its_meaning_or_is_refused(base: Any, data: Any) -> None:
    text = TEXTS[base]
    if data is None:
        mutated = text.replace('start: "22:00"', "start: 22:00")
    else:
        quoted = re.findall(r'"([^"\n]*)"', text)
        target = data.draw(st.sampled_from(quoted))
        mutated = text.replace(f'"{target}"', target, 1)
    result = _parse(mutated)
    if isinstance(result, ManifestError):
        assert_refusal_sentence(result.sentence(), names=("field", "line"))
        return
    original = parse_manifest(text, source="fuzz.yaml")
    assert result == original, "an unquoted value was read as something else"


def _numeric_paths(data: dict[str, Any]) -> list[tuple[str, ...]]:
    def value(path: tuple[str, ...]) -> Any:
        node: Any = data
        for key in path:
            node = node[key]
        return node

    return [p for p in leaf_paths(data) if type(value(p)) in (int, float)]


@fuzz(150)
@given(
    base=st.sampled_from(PROFILES),
    data=st.data(),
    number=st.one_of(
        st.integers(min_value=-2, max_value=10_000),
        st.integers(min_value=0, max_value=20_000_000),
        st.floats(min_value=0, max_value=700),
    ),
)
def test_a_number_at_any_bound_is_accepted_and_usable_or_refused_by_name(
    base: Any, data: Any, number: float
) -> None:
    """Plausible numbers, many of them accepted: the arithmetic downstream must hold."""
    original = BASES[base]
    path = data.draw(st.sampled_from(_numeric_paths(original)))
    text = yaml.safe_dump(with_value(original, path, number), sort_keys=False)
    _check(text, names=(*path, "line"))


#: What a YAML 1.2 reader makes of each form; any other reading is a silent surprise.
MEANS: dict[str, tuple[Any, ...]] = {
    "~": (None,), "Null": (None,), "0x1F": (31,), "0o17": (15,), "017": (17,), "1e3": (1000,),
    "+1": (1,), "1_000": (1000,),
}  # fmt: skip


def _path_of(lines: list[str], index: int) -> tuple[str, ...]:
    key = lines[index].split(":", 1)[0]
    if not key.startswith(" "):
        return (key,)
    section = next(line for line in reversed(lines[:index]) if not line.startswith((" ", "#")))
    return (section.split(":", 1)[0], key.strip())


@fuzz(150)
@given(base=st.sampled_from(PROFILES), data=st.data(), form=st.sampled_from(YAML11))
@example(base=PROFILES[0], data=None, form="true").via("version: true")
def test_yaml_1_1_forms_never_change_a_value_silently(base: Any, data: Any, form: str) -> None:
    lines = TEXTS[base].splitlines()
    index = (
        next(i for i, line in enumerate(lines) if "version:" in line)
        if data is None
        else data.draw(st.sampled_from(_scalar_lines(TEXTS[base])))
    )
    path = _path_of(lines, index)
    lines[index] = f"{lines[index].split(':', 1)[0]}: {form}"
    manifest = _check("\n".join(lines) + "\n", names=(path[-1], "line"))
    if manifest is not None:
        value: Any = manifest.model_dump(mode="python")
        for key in path:
            value = value[key]
        assert value in MEANS.get(form, ()) or str(value) == form, (
            f"{'.'.join(path)}: {form} was read as {value!r}"
        )


@fuzz(100)
@given(base=st.sampled_from(PROFILES), data=st.data())
@example(base=PROFILES[0], data=None).via("mode twice")
def test_a_duplicate_key_is_refused_with_its_name(base: Any, data: Any) -> None:
    lines = TEXTS[base].splitlines()
    if data is None:
        index = next(i for i, line in enumerate(lines) if line.startswith("mode:"))
        duplicate = "mode: load"
    else:
        index = data.draw(st.sampled_from(_scalar_lines(TEXTS[base])))
        duplicate = lines[index]
    lines.insert(index + 1, duplicate)
    result = _parse("\n".join(lines) + "\n")
    assert isinstance(result, ManifestError), "a duplicate key was accepted"
    key = duplicate.split(":", 1)[0].strip()
    assert_refusal_sentence(result.sentence(), names=(f"'{key}'",))


@fuzz(150)
@given(
    base=st.sampled_from(PROFILES),
    data=st.data(),
    junk=st.one_of(
        st.integers(min_value=100, max_value=5_000).map(lambda n: "[" * n),
        st.integers(min_value=100, max_value=5_000).map(lambda n: "{a: " * n),
        st.text(max_size=60),
        st.sampled_from(
            [
                "\x00",
                "\ufeff",
                "&a [1, *a]",
                "!!python/object:os.system ls",
                "!!binary AAAA",
                "*nope",
                "? [a, b]\n: c",
                "<<: {mode: dr}",
            ]
        ),
    ),
)
@example(base=PROFILES[0], data=None, junk="[" * 2_000).via("2,000 nested [")
def test_arbitrary_text_in_a_profile_never_crashes(base: Any, data: Any, junk: str) -> None:
    text = TEXTS[base]
    at = len(text) // 2 if data is None else data.draw(st.integers(0, len(text)))
    _check(text[:at] + junk + text[at:], names=("field", "line", "YAML", "manifest"))


def test_the_unmutated_profiles_are_accepted_and_usable() -> None:
    """The fuzz's starting points: if these were refused, every mutation would be too."""
    for path in PROFILES:
        manifest = parse_manifest(TEXTS[path], source=str(path))
        exercise(manifest)
        assert parse_manifest(yaml.safe_dump(BASES[path]), source=str(path)) == manifest
        assert manifest.window.start == clock.fromisoformat(str(BASES[path]["window"]["start"]))


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    unit=st.text(alphabet="a.@-_+ 9(", min_size=1, max_size=6),
    times=st.integers(min_value=1, max_value=20_000),
)
@example(unit="a", times=1 << 20).via("a 1 MiB time zone reaching the redaction")
def test_redaction_is_linear_on_hostile_text(unit: str, times: int) -> None:
    from seedbank.observability.redaction import scrub_text  # noqa: PLC0415  lazy: only when used

    text = (unit * times)[: 1 << 20]
    started = time.monotonic()
    scrub_text(text)
    assert time.monotonic() - started < SECONDS_LIMIT
