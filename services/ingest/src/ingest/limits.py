"""The service's size limits (the contract's, and DynamoDB's): standard library only, so the tools'
cost model and the local gateway read them without importing anything else."""

from __future__ import annotations

from typing import Final

#: A request body (``POST /events``; API Gateway's own limit is higher).
MAX_BODY_BYTES: Final = 1024 * 1024
#: Events in one batch.
MAX_BATCH_EVENTS: Final = 500
#: One event, serialized.
MAX_EVENT_BYTES: Final = 256 * 1024

# The platform (docs/decisions/0034): API Gateway's HTTP API passes a body of up to 10 MB to a
# Lambda function whose synchronous request (API Gateway's event, the body inside it) is at most
# 6 MiB; a binary body travels base64-encoded (4 bytes per 3), a text body as a JSON string.
#: API Gateway HTTP API's payload quota.
API_GATEWAY_PAYLOAD_BYTES: Final = 10 * 1024 * 1024
#: Lambda's synchronous invocation request.
LAMBDA_REQUEST_BYTES: Final = 6 * 1024 * 1024
#: Kept for the rest of API Gateway's event: the request line and headers (at most 10,240 bytes,
#: an HTTP API quota) once as ``headers`` and again in parts, JSON-quoted, and ``requestContext``.
EVENT_ENVELOPE_BYTES: Final = 64 * 1024
#: The most body bytes that can reach the function at all (a text body that needs no escaping).
MAX_INVOKED_BODY_BYTES: Final = LAMBDA_REQUEST_BYTES - EVENT_ENVELOPE_BYTES
#: A webhook body, binary or text: the most whose base64 form fits Lambda's request beside the
#: envelope (4,669,440 bytes). A text body fits while at most a third of it needs JSON escaping.
MAX_WEBHOOK_BYTES: Final = MAX_INVOKED_BODY_BYTES // 4 * 3
#: A webhook body when the deployment has no payload bucket (``PAYLOAD_BUCKET`` unset): it must fit
#: one DynamoDB item.
MAX_INLINE_WEBHOOK_BYTES: Final = 256 * 1024
#: A DynamoDB item.
MAX_ITEM_BYTES: Final = 400 * 1024
#: Listing index partitions one source's events spread over (``LISTING_SHARDS``): the default,
#: and the most a writer may use (readers query every one of them).
DEFAULT_LISTING_SHARDS: Final = 16
MAX_LISTING_SHARDS: Final = 64


def webhook_body_limit(*, payload_bucket: bool) -> int:
    """The largest webhook body accepted: the platform's with a payload bucket, else one item's."""
    return MAX_WEBHOOK_BYTES if payload_bucket else MAX_INLINE_WEBHOOK_BYTES
