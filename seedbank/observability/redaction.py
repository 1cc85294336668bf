"""Redaction of PII from anything that leaves the process as a log line or event (pure).

Two layers: every field the PII catalog names is dropped by key, wherever it
appears; then email, CPF and phone patterns in any string are scrubbed, as a last
line of defence for values that slipped into free text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from factories.pii.catalog import PII_CATALOG

REDACTED = "[redacted]"
PII_KEYS: frozenset[str] = frozenset(
    {field for fields in PII_CATALOG.values() for field in fields}
    | {"salt", "token", "password", "secret", "vault_token", "aws_secret_access_key"}
)
_PATTERNS = (
    # e-mail. Anchored at the start of a token (the lookbehind) so a long run of word
    # characters is scanned once, not once per position: linear, not quadratic.
    re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    re.compile(r"\b\d{3}\.?\d{3}\.?\d{3}-?\d{2}\b"),  # CPF, with or without punctuation
    re.compile(r"\+?\b55\s?\(?\d{2}\)?\s?9?\d{4}-?\d{4}\b"),  # Brazilian phone
)


def scrub_text(text: str, limit: int | None = None) -> str:
    """`text` with PII patterns scrubbed; cut to `limit` characters first when given (a
    margin is kept so an address cut in half is still recognised, then the rest is cut)."""
    if limit is not None:
        text = text[: limit + 64]
    for pattern in _PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text if limit is None else text[:limit]


def redact(value: Any) -> Any:
    """A copy of `value` with catalogued keys removed and PII patterns scrubbed."""
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, Mapping):
        return {
            k: (REDACTED if str(k).lower() in PII_KEYS else redact(v)) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(redact(v) for v in value)
    return value
