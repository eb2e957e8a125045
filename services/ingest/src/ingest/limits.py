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
#: A webhook body: one DynamoDB item holds at most 400 KB.
MAX_WEBHOOK_BYTES: Final = 256 * 1024
#: A DynamoDB item.
MAX_ITEM_BYTES: Final = 400 * 1024
#: Listing index partitions one source's events spread over (``LISTING_SHARDS``): the default,
#: and the most a writer may use (readers query every one of them).
DEFAULT_LISTING_SHARDS: Final = 16
MAX_LISTING_SHARDS: Final = 64
