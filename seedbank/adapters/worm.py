"""The WORM evidence store: S3 with Object Lock in COMPLIANCE mode (FR-022, FR-023).

`preflight` runs before any data write: the bucket must exist with Object Lock
enabled and a COMPLIANCE default retention, and an intent object must be written;
anything else aborts the run with nothing written.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from seedbank.domain.errors import WormMisconfigured, WormUnavailable

CLIENT_CONFIG = Config(
    connect_timeout=3, read_timeout=10, retries={"max_attempts": 2, "mode": "standard"}
)


@dataclass(frozen=True)
class StoredObject:
    bucket: str
    key: str
    version_id: str
    sha256: str
    retain_until: datetime


def s3_client(endpoint_url: str | None) -> Any:
    return boto3.client("s3", endpoint_url=endpoint_url, config=CLIENT_CONFIG)


class WormStore:
    def __init__(self, client: Any, bucket: str) -> None:
        self._s3 = client
        self.bucket = bucket

    def _unavailable(self, what: str, exc: Exception) -> WormUnavailable:
        code = exc.response["Error"].get("Code", "") if isinstance(exc, ClientError) else ""
        reason = code or type(exc).__name__
        return WormUnavailable(
            f"the WORM evidence store failed to {what} in bucket {self.bucket!r} ({reason})",
            fix="start it with `make up` or check SEEDBANK_S3_ENDPOINT_URL; nothing was written",
        )

    def check_object_lock(self) -> str:
        """Raise unless the bucket enforces COMPLIANCE retention; returns the default mode."""
        try:
            config = self._s3.get_object_lock_configuration(Bucket=self.bucket)
        except ClientError as exc:
            code = exc.response["Error"].get("Code", "")
            if code in {"ObjectLockConfigurationNotFoundError", "NoSuchBucket", "404"}:
                raise WormMisconfigured(
                    f"evidence bucket {self.bucket!r} "
                    + ("does not exist" if code == "NoSuchBucket" else "has no Object Lock"),
                    fix="create it with Object Lock and a COMPLIANCE default retention",
                ) from None
            raise self._unavailable("read the Object Lock configuration", exc) from None
        except (BotoCoreError, EndpointConnectionError) as exc:
            raise self._unavailable("read the Object Lock configuration", exc) from None
        lock = config.get("ObjectLockConfiguration", {})
        mode = lock.get("Rule", {}).get("DefaultRetention", {}).get("Mode")
        if lock.get("ObjectLockEnabled") != "Enabled" or mode != "COMPLIANCE":
            raise WormMisconfigured(
                f"evidence bucket {self.bucket!r} does not enforce COMPLIANCE retention"
                f" (Object Lock {lock.get('ObjectLockEnabled', 'absent')}, default mode {mode})",
                fix="enable Object Lock with a COMPLIANCE default retention on it",
            )
        return str(mode)

    def put_json(
        self, key: str, document: dict[str, Any], *, retain_until: datetime
    ) -> StoredObject:
        """Write a JSON document under COMPLIANCE retention until `retain_until`."""
        body = json.dumps(document, sort_keys=True, indent=2, default=str).encode()
        return self.put_bytes(key, body, retain_until=retain_until)

    def put_bytes(self, key: str, body: bytes, *, retain_until: datetime) -> StoredObject:
        sha = hashlib.sha256(body).hexdigest()
        try:
            response = self._s3.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentType="application/json",
                ObjectLockMode="COMPLIANCE",
                ObjectLockRetainUntilDate=retain_until,
                Metadata={"sha256": sha},
            )
        except (ClientError, BotoCoreError) as exc:
            raise self._unavailable(f"write {key}", exc) from None
        return StoredObject(
            bucket=self.bucket,
            key=key,
            version_id=str(response.get("VersionId", "")),
            sha256=sha,
            retain_until=retain_until,
        )

    def get_bytes(self, key: str, version_id: str | None = None) -> bytes:
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if version_id:
            kwargs["VersionId"] = version_id
        try:
            return bytes(self._s3.get_object(**kwargs)["Body"].read())
        except (ClientError, BotoCoreError) as exc:
            raise self._unavailable(f"read {key}", exc) from None

    def retention(self, key: str, version_id: str) -> dict[str, Any]:
        try:
            return dict(
                self._s3.get_object_retention(Bucket=self.bucket, Key=key, VersionId=version_id)[
                    "Retention"
                ]
            )
        except (ClientError, BotoCoreError) as exc:
            raise self._unavailable(f"read the retention of {key}", exc) from None
