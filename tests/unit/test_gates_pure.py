"""Pure parts of the gates: the raw-PII scanner, failure bookkeeping, the report."""

from __future__ import annotations

import json
import secrets
from datetime import date

import pytest

from factories.keys import cpf_check_digits
from factories.pii import Masker, PiiChecker
from seedbank.gates.model import MAX_LISTED_FAILURES, Failures, GateFailure, GateResult
from seedbank.gates.pii import raw_pii
from seedbank.services import conformance

SALT = secrets.token_bytes(32)
TENANT = "t-unit"
RAW_CPF = "529982247" + cpf_check_digits("529982247")


@pytest.fixture(scope="module")
def checker() -> PiiChecker:
    return PiiChecker(SALT, TENANT)


@pytest.mark.parametrize(
    "text",
    [
        "maria.silva@gmail.com",
        "contato: joao@empresa.com.br, obrigado",
        "+55 11 91234-5678",
        "(21) 98765-4321",
        "ligar 11 91234-5678 amanhã",
        RAW_CPF,
        f"{RAW_CPF[:3]}.{RAW_CPF[3:6]}.{RAW_CPF[6:9]}-{RAW_CPF[9:]}",
    ],
)
def test_raw_pii_is_found_and_the_reason_never_quotes_it(text: str, checker: PiiChecker) -> None:
    reason = raw_pii(text, checker)
    assert reason is not None
    for fragment in (text, "maria", "91234", RAW_CPF, "gmail"):
        assert fragment not in reason


def test_masked_values_and_ordinary_numbers_are_not_pii(checker: PiiChecker) -> None:
    masker = Masker(SALT, TENANT, date(2026, 6, 30))
    for field, raw in (("email", "maria.silva@gmail.com"), ("phone", "+55 11 912345678")):
        assert raw_pii(str(masker.mask("customer", field, raw)), checker) is None
    assert raw_pii(str(masker.mask("customer", "cpf", RAW_CPF)), checker) is None
    for text in (
        "someone@example.com",
        "ops@seedbank.invalid",
        "12345678901234",  # an account number: 14 digits
        "CT100000000001234",
        "12345678900",  # 11 digits with wrong check digits: not a CPF
        "PIX enviado",
        "00123456",
        f"ana.silva.f{RAW_CPF}@example.com",  # an 11-digit run inside a hex tag
        f"ana.silva.{RAW_CPF}b@example.com",
    ):
        assert raw_pii(text, checker) is None, text


def test_a_cpf_masked_for_another_tenant_is_not_proven(checker: PiiChecker) -> None:
    other = Masker(SALT, "t-other", date(2026, 6, 30)).mask("customer", "cpf", RAW_CPF)
    assert raw_pii(str(other), checker) is not None


def test_without_a_salt_cpfs_cannot_be_judged_but_emails_still_are() -> None:
    assert raw_pii(RAW_CPF, None) is None
    assert raw_pii("maria.silva@gmail.com", None) is not None


def test_failures_are_counted_all_listed_up_to_the_cap_and_one_per_cell() -> None:
    failures = Failures()
    for i in range(MAX_LISTED_FAILURES + 10):
        failures.add("customer", f"id-{i}", "email", "not proven masked")
    failures.add("customer", "id-0", "email", "again")
    result = failures.result("pii", {})
    assert result.status == "failed"
    assert result.figures["failures_total"] == MAX_LISTED_FAILURES + 10
    assert len(result.failures) == MAX_LISTED_FAILURES
    assert Failures().result("pii", {}).status == "passed"


def _gates() -> list[GateResult]:
    return [
        GateResult("counts", "passed", {"rows": 3, "found": {"tenant": 1, "customer": 2}}),
        GateResult(
            "pii",
            "failed",
            {"failures_total": 1},
            [GateFailure("customer", "0f0e", "email", "not proven masked by the checker")],
        ),
        GateResult("api-smoke", "skipped", {"reason": "SEEDBANK_API_BASE_URL not set"}),
    ]


def test_conformance_report_has_every_section_and_fails_with_a_failed_gate() -> None:
    report = {
        "kind": "seed_run",
        "run_id": "r1",
        "env": "dev",
        "tenant": "acme",
        "mode": "baseline",
        "dry_run": True,
        "outcome": "failed",
        "expected_counts": {"tenant": 1, "customer": 2},
        "batches": [{"entity": "customer", "skipped": False}],
        "verification": conformance.verification_section(_gates(), {"target_rpm": 240}),
    }
    doc = conformance.document(report)
    assert not doc["passed"]
    assert list(doc["sections"]) == [key for key, _, _ in conformance.SECTIONS]
    assert doc["sections"]["pii"]["status"] == "failed"
    assert doc["sections"]["rate_limit"]["note"] == "SEEDBANK_API_BASE_URL not set"
    assert doc["sections"]["volumetry"]["found"] == {"tenant": 1, "customer": 2}
    text = conformance.markdown(doc)
    for title in ("## PII", "## Contracts", "## Volumetry", "## Idempotency", "## Rate limit"):
        assert title in text
    assert "| customer | 0f0e | email | not proven masked by the checker |" in text
    json.dumps(doc)  # serialisable as is


def test_gate_table_names_gate_entity_row_and_field() -> None:
    lines = conformance.gate_table(_gates())
    assert any(line.split()[:2] == ["pii", "failed"] for line in lines)
    assert "  pii: customer row 0f0e field email: not proven masked by the checker" in lines
