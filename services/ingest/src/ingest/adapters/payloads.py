"""Payloads held by reference in S3 (the claim check, docs/decisions/0034): the only code that
touches the S3 client.

The client is botocore's (no boto3, no s3transfer: one ``PutObject`` of at most a few MB) and is
built on the first payload that needs it; the ``/events`` path never imports this module. One
attempt per call: the caller retries what passes (:mod:`ingest.adapters.dynamodb`, inside the
request's write deadline), as it does for the table.
"""

from __future__ import annotations

import base64
import threading
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

from ingest.adapters import codec
from ingest.adapters.sessions import service_session

#: S3's answers for an object or bucket that is not there: the payload is gone (expired, deleted).
_MISSING = frozenset({"NoSuchKey", "NoSuchBucket", "404"})


def parse_reference(reference: str) -> tuple[str, str]:
    """``(bucket, key)`` of ``s3://BUCKET/KEY``."""
    bucket, _, key = reference.removeprefix("s3://").partition("/")
    if not reference.startswith("s3://") or not bucket or not key:
        raise codec.CodecError(f"not a payload reference: {reference[:80]!r}")
    return bucket, key


class PayloadObjects:
    """Puts payloads (the function) and reads them back (every reader)."""

    def __init__(
        self,
        *,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        read_timeout: float | None = None,
        client: Any = None,
    ) -> None:
        """``read_timeout`` makes a reader's client (the CLI): patient, with the SDK's retries."""
        self._endpoint_url = endpoint_url
        self._region_name = region_name
        self._read_timeout = read_timeout
        self._client = client
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._create()
        return self._client

    def _create(self) -> Any:
        retries: Any = {"mode": "standard", "total_max_attempts": 1}
        if self._read_timeout is not None:
            retries = {"mode": "standard", "max_attempts": 5}
        options: dict[str, Any] = {
            "retries": retries,
            "connect_timeout": 1,
            "read_timeout": self._read_timeout or 3,
            "tcp_keepalive": True,
            "max_pool_connections": 32,
        }
        if self._endpoint_url:  # an emulator on an address, not a bucket's DNS name
            options["s3"] = {"addressing_style": "path"}
        return service_session("s3").create_client(
            "s3",
            endpoint_url=self._endpoint_url,
            region_name=self._region_name,
            config=Config(**options),
        )

    def put(self, claim: codec.Claim) -> None:
        """One ``PutObject`` of the payload; S3 checks the bytes against their SHA-256."""
        checksum = base64.b64encode(bytes.fromhex(claim.sha256)).decode("ascii")
        self.client.put_object(
            Bucket=claim.bucket,
            Key=claim.key,
            Body=claim.body,
            ChecksumSHA256=checksum,
            ContentType="application/octet-stream",
        )

    def fetch(self, reference: str) -> bytes:
        """The bytes a reference names; a missing object is an undecodable payload."""
        bucket, key = parse_reference(reference)
        try:
            answer = self.client.get_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _MISSING:
                raise codec.CodecError(f"the payload at {reference} is gone ({code})") from None
            raise
        body: bytes = answer["Body"].read()
        return body

    def ensure_bucket(self, bucket: str) -> None:
        """Create ``bucket`` if it does not exist (``ingest serve``'s emulator; in AWS the bucket
        is modules/event-store's)."""
        try:
            self.client.head_bucket(Bucket=bucket)
            return
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code", "")) not in _MISSING:
                raise
        self.client.create_bucket(Bucket=bucket)
