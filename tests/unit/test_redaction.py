"""Redaction drops catalogued PII fields and scrubs PII patterns (issue 4, item 10)."""

from __future__ import annotations

import json

import structlog

from seedbank.observability.logs import redaction_processor
from seedbank.observability.redaction import REDACTED, redact, scrub_text


def test_catalogued_keys_are_dropped_at_any_depth() -> None:
    event = {"event": "row", "row": {"cpf": "52998224725", "email": "a@b.io", "id": 7}}
    out = redact(event)
    assert out["row"] == {"cpf": REDACTED, "email": REDACTED, "id": 7}


def test_patterns_are_scrubbed_from_free_text() -> None:
    text = "customer maria.souza@gmail.com cpf 529.982.247-25 phone +55 11 91234-5678 ok"
    scrubbed = scrub_text(text)
    for raw in ("maria.souza@gmail.com", "529.982.247-25", "91234-5678"):
        assert raw not in scrubbed
    assert scrubbed.endswith(" ok")


def test_secrets_are_dropped_too() -> None:
    assert redact({"salt": "c2FsdA==", "vault_token": "hvs.x"}) == {
        "salt": REDACTED,
        "vault_token": REDACTED,
    }


def test_log_lines_carry_no_pii() -> None:
    with structlog.testing.capture_logs(processors=[redaction_processor]) as logs:
        structlog.get_logger().info(
            "batch failed for ana@example.com", full_name="Ana Maria", rows=3
        )
    line = json.dumps(logs)
    assert "ana@example.com" not in line
    assert "Ana Maria" not in line
    assert logs[0]["rows"] == 3
