"""Bearer tokens of the reference API: one per env/tenant, HMAC-signed.

``<env>.<tenant>.<expires>.<signature>``: env and tenant are slugs (no dots), expires
is a Unix time in whole seconds, and the signature is base64url(HMAC-SHA256(key,
"seedbank-api/v1" + the first three parts)). The key is the service's secret
(SEEDBANK_API_TOKEN_KEY); a token never travels in a URL and is never logged.
"""

from __future__ import annotations

import base64
import hmac
import re
import time
from dataclasses import dataclass

_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
_CONTEXT = b"seedbank-api/v1\x1f"
DEFAULT_TTL_S = 3_600
MIN_KEY_CHARS = 32


@dataclass(frozen=True)
class TenantScope:
    env: str
    tenant: str


def _signature(key: str, payload: str) -> str:
    if len(key) < MIN_KEY_CHARS:
        raise ValueError(f"the token key must have at least {MIN_KEY_CHARS} characters")
    mac = hmac.digest(key.encode(), _CONTEXT + payload.encode(), "sha256")
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def mint_token(
    key: str, *, env: str, tenant: str, ttl_s: int = DEFAULT_TTL_S, now: float | None = None
) -> str:
    """A token for env/tenant that expires ``ttl_s`` seconds after ``now`` (default: now)."""
    for name, value in (("env", env), ("tenant", tenant)):
        if not _SLUG.fullmatch(value):
            raise ValueError(f"{name} must be a slug ([a-z0-9-]), got {value!r}")
    if ttl_s <= 0:
        raise ValueError("ttl_s must be positive")
    issued = time.time() if now is None else now
    payload = f"{env}.{tenant}.{int(issued) + ttl_s}"
    return f"{payload}.{_signature(key, payload)}"


def verify_token(key: str, token: str, *, now: float) -> TenantScope | None:
    """The env/tenant a valid, unexpired token names; None for anything else."""
    parts = token.split(".")
    if len(parts) != 4:
        return None
    env, tenant, expires, signature = parts
    if not (_SLUG.fullmatch(env) and _SLUG.fullmatch(tenant) and expires.isdigit()):
        return None
    expected = _signature(key, f"{env}.{tenant}.{expires}")
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        return None
    if int(expires) <= now:
        return None
    return TenantScope(env, tenant)
