"""The claim check's format (docs/decisions/0034): which payloads go to S3, under which key, what
the item keeps, and how a reader checks what it fetched; and the accepted size, from the platform's
limits."""

from __future__ import annotations

import base64
import hashlib
import json
import os

import pytest
from ingest import limits
from ingest.adapters import codec

BUCKET = "payload-bucket"
BASE: dict[str, codec.Scalar] = {
    "pk": "k",
    "event_id": "01900000-0000-7000-8000-000000000001",
    "source": "gh",
    "type": "push",
}


def _json_text(size: int) -> str:
    """JSON text of about ``size`` bytes that deflates well (one record repeated)."""
    return json.dumps([{"name": "item", "tags": ["a", "b"]}] * (size // 36))


def test_the_accepted_body_is_what_lambda_takes_after_base64_and_the_envelope() -> None:
    assert limits.LAMBDA_REQUEST_BYTES == 6_291_456
    assert limits.MAX_WEBHOOK_BYTES == 4_669_440
    carried = len(base64.b64encode(b"\0" * limits.MAX_WEBHOOK_BYTES))
    assert carried + limits.EVENT_ENVELOPE_BYTES <= limits.LAMBDA_REQUEST_BYTES
    one_more = len(base64.b64encode(b"\0" * (limits.MAX_WEBHOOK_BYTES + 3)))
    assert one_more + limits.EVENT_ENVELOPE_BYTES > limits.LAMBDA_REQUEST_BYTES
    assert (
        limits.MAX_WEBHOOK_BYTES < limits.MAX_INVOKED_BODY_BYTES < limits.API_GATEWAY_PAYLOAD_BYTES
    )
    assert limits.webhook_body_limit(payload_bucket=True) == limits.MAX_WEBHOOK_BYTES
    assert limits.webhook_body_limit(payload_bucket=False) == limits.MAX_INLINE_WEBHOOK_BYTES


def test_a_reader_inflates_up_to_the_largest_payload_accepted() -> None:
    assert codec.MAX_PAYLOAD_BYTES >= limits.MAX_WEBHOOK_BYTES
    assert codec.MAX_PAYLOAD_BYTES >= limits.MAX_BODY_BYTES


def test_items_within_the_budget_stay_in_the_table() -> None:
    small = {**BASE, "body": b"{}"}
    assert codec.encode_for(small, BUCKET) == (small, None)
    compressible = {**BASE, "data": _json_text(600 * 1024)}  # deflates far under 64 KiB
    item, claim = codec.encode_for(compressible, BUCKET)
    assert claim is None
    assert item[codec.CODEC_ATTRIBUTE] == codec.DEFLATE
    assert codec.item_size(item) <= codec.CLAIM_CHECK_ABOVE_BYTES


def test_without_a_bucket_nothing_goes_to_s3() -> None:
    record = {**BASE, "body": os.urandom(200 * 1024)}
    item, claim = codec.encode_for(record, None)
    assert claim is None
    assert item == codec.encode(record)


@pytest.mark.parametrize(
    ("name", "payload"),
    [
        ("body", os.urandom(codec.CLAIM_CHECK_ABOVE_BYTES)),  # incompressible: over once deflated
        ("body", os.urandom(2 * 1024 * 1024)),  # over the deflate bound: never deflated
        ("data", json.dumps(base64.b64encode(os.urandom(150 * 1024)).decode())),  # /events data
    ],
)
def test_a_payload_over_the_budget_is_referenced_by_its_digest(
    name: str, payload: str | bytes
) -> None:
    raw = payload.encode() if isinstance(payload, str) else payload
    digest = hashlib.sha256(raw).hexdigest()
    item, claim = codec.encode_for({**BASE, name: payload, "size": 7}, BUCKET)
    assert claim is not None
    assert (claim.bucket, claim.key, claim.body, claim.sha256) == (
        BUCKET,
        f"payloads/{digest}",
        raw,
        digest,
    )
    assert item == {
        **BASE,
        name: f"s3://{BUCKET}/payloads/{digest}",
        "size": 7,  # the contract's size is untouched
        "codec": "s3",
        "sha256": digest,
        "payload_size": len(raw),
    }
    assert codec.item_size(item) < codec.WRITE_UNIT_BYTES
    # A retried write (same bytes) names the same object: putting it again changes nothing.
    assert codec.encode_for({**BASE, name: payload, "size": 7}, BUCKET) == (item, claim)
    decoded = codec.decode(item, {claim.reference: raw}.__getitem__)
    assert decoded == {**BASE, name: payload, "size": 7}


def test_a_reader_refuses_an_object_that_is_not_the_one_the_item_names() -> None:
    body = os.urandom(100 * 1024)
    item, claim = codec.encode_for({**BASE, "body": body}, BUCKET)
    assert claim is not None
    damaged = bytearray(body)
    damaged[5] ^= 1
    with pytest.raises(codec.CodecError, match="SHA-256"):
        codec.decode(item, lambda _: bytes(damaged))
    with pytest.raises(codec.CodecError, match="bytes, not"):
        codec.decode(item, lambda _: body[:-1])
    with pytest.raises(codec.UnresolvedReference):
        codec.decode(item)
