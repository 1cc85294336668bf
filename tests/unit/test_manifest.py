"""Manifest validation: every refusal names the field and the fix (issue 2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from seedbank.adapters.profiles import (
    check_target,
    default_profiles_dir,
    load_profile,
    validate_all,
)
from seedbank.domain.errors import ManifestError, ProfileNotFound, UsageError
from seedbank.domain.manifest import HARD_CAPS, parse_manifest

PROFILES = default_profiles_dir()


def _dev_acme() -> dict[str, Any]:
    data = yaml.safe_load((PROFILES / "dev" / "acme.yaml").read_text())
    assert isinstance(data, dict)
    return data


def _refusal(data: dict[str, Any]) -> str:
    with pytest.raises(ManifestError) as info:
        parse_manifest(yaml.safe_dump(data), source="m.yaml")
    return info.value.sentence()


def test_every_versioned_profile_is_valid() -> None:
    results = validate_all(PROFILES)
    assert {p.relative_to(PROFILES).as_posix() for p, _ in results} >= {
        f"{env}/{tenant}.yaml"
        for env in ("dev", "homolog", "staging", "prod")
        for tenant in ("acme", "globex")
    } | {"bench/acme.yaml"}
    assert [(p, e) for p, e in results if e is not None] == []


def test_env_volumes_scale_1_3_5_1() -> None:
    base = load_profile(PROFILES, env="dev", tenant="acme").manifest.volumetry.customer.count
    for env, factor in (("homolog", 3), ("staging", 5), ("prod", 1)):
        manifest = load_profile(PROFILES, env=env, tenant="acme").manifest
        assert manifest.volumetry.customer.count == base * factor


def test_bench_profile_is_at_the_caps() -> None:
    volumetry = load_profile(PROFILES, env="bench", tenant="acme").manifest.volumetry
    assert volumetry.financial_transaction.count == 1_000_000
    assert volumetry.customer.count == 50_000


def test_count_over_cap_is_refused() -> None:
    data = _dev_acme()
    data["volumetry"]["customer"] = {"count": 500, "cap": 400}
    sentence = _refusal(data)
    assert "volumetry.customer" in sentence
    assert "above its cap 400" in sentence


def test_cap_over_hard_cap_is_refused() -> None:
    data = _dev_acme()
    data["volumetry"]["financial_transaction"]["cap"] = HARD_CAPS["financial_transaction"] + 1
    assert "hard cap 1000000" in _refusal(data)


def test_unknown_key_is_refused_with_its_name() -> None:
    data = _dev_acme()
    data["volumetry"]["customers"] = {"count": 1, "cap": 1}
    sentence = _refusal(data)
    assert "'volumetry.customers' is not a known manifest field" in sentence
    assert "remove it or correct its spelling" in sentence


def test_missing_section_is_refused_with_its_name() -> None:
    data = _dev_acme()
    del data["window"]
    sentence = _refusal(data)
    assert "field 'window' is missing" in sentence
    assert "add it" in sentence


def test_naive_as_of_is_refused() -> None:
    data = _dev_acme()
    data["as_of"] = "2026-06-30T12:00:00"
    assert "'as_of' is invalid" in _refusal(data)


def test_target_rpm_above_80_percent_of_cap_is_refused() -> None:
    data = _dev_acme()
    data["rate_limit"]["target_rpm"] = 290
    assert "above 80% of cap_rpm" in _refusal(data)


def test_installments_must_match_loans_times_term() -> None:
    data = _dev_acme()
    data["volumetry"]["installment"]["count"] = 7
    assert "loan.count x generation.loan_term_months = 1200" in _refusal(data)


def test_broken_yaml_is_refused() -> None:
    with pytest.raises(ManifestError, match="not valid YAML"):
        parse_manifest("metadata: [", source="m.yaml")


def test_digest_is_stable_and_sensitive() -> None:
    one = parse_manifest(yaml.safe_dump(_dev_acme()), source="m")
    data = _dev_acme()
    assert parse_manifest(yaml.safe_dump(data), source="m").digest() == one.digest()
    data["volumetry"]["customer"]["count"] = 199
    assert parse_manifest(yaml.safe_dump(data), source="m").digest() != one.digest()


def test_unknown_tenant_names_the_path_and_the_known_tenants() -> None:
    with pytest.raises(ProfileNotFound) as info:
        load_profile(PROFILES, env="dev", tenant="initech")
    sentence = info.value.sentence()
    assert "profiles/dev/initech.yaml" in sentence
    assert "acme, globex" in sentence


def test_profile_for_another_tenant_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "globex.yaml"
    path.write_text((PROFILES / "dev" / "acme.yaml").read_text())
    with pytest.raises(ManifestError, match="declares env=dev tenant=acme"):
        load_profile(PROFILES, env="dev", tenant="globex", explicit=path)


def test_dump_inputs_are_refused(tmp_path: Path) -> None:
    dump = tmp_path / "prod.sql"
    dump.write_text("COPY customer FROM stdin;")
    with pytest.raises(ManifestError, match="synthetic data"):
        load_profile(PROFILES, env="dev", tenant="acme", explicit=dump)


@pytest.mark.parametrize(
    ("env", "tenant", "needle"),
    [
        (None, "acme", "--env is required"),
        ("dev", None, "--tenant is required"),
        ("qa", "acme", "unknown env 'qa'"),
        ("dev", "Acme Corp", "not a valid slug"),
    ],
)
def test_bad_targets_are_usage_errors(env: str | None, tenant: str | None, needle: str) -> None:
    with pytest.raises(UsageError, match=needle):
        check_target(env=env, tenant=tenant)
