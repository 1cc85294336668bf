"""The anonymisation salt and the evidence signature, in Vault/OpenBao.

One KV v2 secret per env/tenant; its KV version is the `salt_version`. The salt is
read into memory for a run, never written to disk, never logged, never sent in a
Celery message or a Prefect parameter (ARCHITECTURE "PII").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

import hvac
import requests

from seedbank.domain.errors import SaltMismatch, VaultUnavailable

TIMEOUT_S = 5
SALT_BYTES = 32


@dataclass(frozen=True)
class Salt:
    version: int
    value: bytes

    def __repr__(self) -> str:  # never print the salt itself
        return f"Salt(version={self.version}, value=<redacted>)"

    @property
    def fingerprint(self) -> str:
        """HMAC of a constant under the salt: tells two salts apart, reveals neither."""
        return hmac.new(self.value, b"seedbank/salt-fingerprint", hashlib.sha256).hexdigest()[:16]


def salt_path(env: str, tenant: str) -> str:
    return f"seedbank/{env}/{tenant}/salt"


class VaultClient:
    def __init__(self, addr: str, token: str | None, *, kv_mount: str = "secret") -> None:
        self._addr = addr
        self._kv_mount = kv_mount
        self._client = hvac.Client(url=addr, token=token, timeout=TIMEOUT_S)

    def _call(self, what: str, fn: Any, /, *, raise_unparsed: bool = False, **kwargs: Any) -> Any:
        try:
            return fn(**kwargs)
        except hvac.exceptions.InvalidPath:
            raise  # "not there" is the caller's to judge
        except hvac.exceptions.InvalidRequest as exc:
            if raise_unparsed:
                raise  # a request Vault refused to parse: the caller judges it
            raise VaultUnavailable(
                f"Vault at {self._addr} failed on {what} ({type(exc).__name__})",
                fix="check the Vault server's log; nothing was written",
            ) from None
        except (requests.ConnectionError, requests.Timeout):
            raise VaultUnavailable(
                f"Vault at {self._addr} is unreachable while reading {what}",
                fix="start it with `make up` (or check VAULT_ADDR); nothing was written",
            ) from None
        except (hvac.exceptions.Forbidden, hvac.exceptions.Unauthorized):
            raise VaultUnavailable(
                f"Vault at {self._addr} denied access to {what}",
                fix="use a token whose policy allows it (VAULT_TOKEN); nothing was written",
            ) from None
        except hvac.exceptions.VaultError as exc:
            raise VaultUnavailable(
                f"Vault at {self._addr} failed on {what} ({type(exc).__name__})",
                fix="check the Vault server's log; nothing was written",
            ) from None

    def current_salt_version(self, env: str, tenant: str) -> int | None:
        """The salt's current KV version, or None when no salt exists yet."""
        try:
            meta = self._call(
                f"the salt metadata of {env}/{tenant}",
                self._client.secrets.kv.v2.read_secret_metadata,
                path=salt_path(env, tenant),
                mount_point=self._kv_mount,
            )
        except hvac.exceptions.InvalidPath:
            return None
        return int(meta["data"]["current_version"])

    def read_salt(self, env: str, tenant: str, *, version: int) -> Salt:
        """Read exactly `version` of the env/tenant salt, or fail closed."""
        try:
            response = self._call(
                f"salt version {version} of {env}/{tenant}",
                self._client.secrets.kv.v2.read_secret_version,
                path=salt_path(env, tenant),
                version=version,
                mount_point=self._kv_mount,
                raise_on_deleted_version=True,
            )
        except hvac.exceptions.InvalidPath:
            raise SaltMismatch(
                f"Vault has no salt version {version} for {env}/{tenant}",
                fix="create it with `seed_data salt init` (dev/CI) or fix pii.salt_version",
            ) from None
        encoded = response["data"]["data"].get("salt")
        if not isinstance(encoded, str):
            raise SaltMismatch(
                f"the Vault secret for {env}/{tenant} has no 'salt' field",
                fix="rotate it with `seed_data salt rotate`",
            )
        return Salt(version=version, value=base64.b64decode(encoded))

    def write_new_salt(self, env: str, tenant: str) -> int:
        """Write a fresh random salt as a new KV version; returns that version."""
        response = self._call(
            f"a new salt for {env}/{tenant}",
            self._client.secrets.kv.v2.create_or_update_secret,
            path=salt_path(env, tenant),
            secret={"salt": base64.b64encode(secrets.token_bytes(SALT_BYTES)).decode()},
            mount_point=self._kv_mount,
        )
        return int(response["data"]["version"])

    def sign(self, key: str, payload: bytes) -> str:
        """Sign `payload` with the transit key; returns Vault's `vault:vN:…` signature."""
        response = self._call(
            "the evidence signature",
            self._client.secrets.transit.sign_data,
            name=key,
            hash_input=base64.b64encode(payload).decode(),
        )
        return str(response["data"]["signature"])

    def verify(self, key: str, payload: bytes, signature: str) -> bool:
        """Whether `signature` is transit key `key`'s signature of `payload`; a signature
        Vault cannot even parse (no prefix, bad base64, unknown key version) is not valid.
        A missing key is still Vault's failure, not the evidence's."""
        try:
            response = self._call(
                "the evidence signature check",
                self._client.secrets.transit.verify_signed_data,
                name=key,
                hash_input=base64.b64encode(payload).decode(),
                signature=signature,
                raise_unparsed=True,
            )
        except hvac.exceptions.InvalidRequest as exc:
            if "key not found" in str(exc):
                raise VaultUnavailable(
                    f"Vault at {self._addr} has no transit key {key} to check the signature",
                    fix="check SEEDBANK_VAULT_TRANSIT_KEY (`make up` creates the local one)",
                ) from None
            return False
        return bool(response["data"]["valid"])
