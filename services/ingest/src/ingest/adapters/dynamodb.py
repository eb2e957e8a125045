"""DynamoDB storage adapter: the only code that touches the DynamoDB client.

Records are plain dicts of ``str | int | bytes``; marshalling is done here by hand because the
generic TypeSerializer costs more than the whole rest of the request on the hot path.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ingest.adapters.failures import describe as _describe
from ingest.adapters.failures import is_retryable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Scalar = str | int | bytes
Record = dict[str, Scalar]

BY_SOURCE_INDEX = "by_source"
_INTEGER = re.compile(r"-?[0-9]{1,4000}")
_BATCH_LIMIT = 25
_BATCH_ATTEMPTS = 6
# How long one request may spend retrying unprocessed batch items before it answers 503.
# Well inside the function timeout (10 s) and API Gateway's 30 s, so the producer hears back.
BATCH_RETRY_BUDGET_SECONDS = 3.0

# Fail fast and answer 503: the producer retries, and a Lambda that waits out 10 legacy retries
# only burns money while API Gateway times out.
_CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3},
    connect_timeout=1,
    read_timeout=2,
    tcp_keepalive=True,
    max_pool_connections=32,  # batches write conditional events in parallel
    parameter_validation=False,  # requests are built here, not by callers: skip re-checking them
)


def dynamodb_session() -> botocore.session.Session:
    """A botocore session that creates DynamoDB clients without scanning every service model.

    Before loading a model, botocore checks the service name against a scan of all the service
    directories it ships (~400 of them, ~40 ms of cold start). This session only ever makes
    DynamoDB clients, so the check is answered from DynamoDB's own directory alone (and falls back
    to the full scan for a model type DynamoDB does not ship).
    """
    session = botocore.session.get_session()
    loader = session.get_component("data_loader")
    scan_all = loader.list_available_services

    def list_available_services(type_name: str) -> list[str]:
        if loader.list_api_versions("dynamodb", type_name):
            return ["dynamodb"]
        return list(scan_all(type_name))

    loader.list_available_services = list_available_services
    return session


class StorageUnavailable(Exception):
    """The table could not take the write (throttled, failing, unreachable): answer 503."""

    retryable = True


class StorageBroken(Exception):
    """The request can never succeed as deployed (table missing, access denied, invalid request,
    no credentials): retrying will not help, so it is not a 503."""

    retryable = False


def _storage_error(exc: Exception) -> StorageUnavailable | StorageBroken:
    """Sort an SDK failure into "retry later" (503) and "the deployment is broken" (500)."""
    if is_retryable(exc):
        return StorageUnavailable(_describe(exc))
    return StorageBroken(_describe(exc))


@dataclass(frozen=True)
class PutOutcome:
    stored: bool
    existing: Record | None = None


def _marshal(record: Mapping[str, Scalar]) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for name, value in record.items():
        if isinstance(value, str):
            item[name] = {"S": value}
        elif isinstance(value, bytes):
            item[name] = {"B": value}
        else:
            item[name] = {"N": str(value)}
    return item


def _unmarshal(item: Mapping[str, Any]) -> Record:
    record: Record = {}
    for name, typed in item.items():
        ((kind, value),) = typed.items()
        if kind == "N":
            # Every number this project writes is an integer; one written by someone else (1.5)
            # stays visible as its text rather than failing the whole read.
            record[name] = int(value) if _INTEGER.fullmatch(value) else str(value)
        elif kind in ("S", "B"):
            record[name] = value
        else:  # attributes written by someone else: keep them visible as text
            record[name] = str(value)
    return record


class EventStore:
    """Conditional and batched writes, point reads and time-ordered queries on the events table."""

    def __init__(
        self,
        table_name: str,
        *,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        client: DynamoDBClient | None = None,
        read_timeout: float | None = None,
    ) -> None:
        """``read_timeout`` loosens the request path's fail-fast 2 s for readers that page through
        large results (the CLI)."""
        self.table_name = table_name
        config = _CLIENT_CONFIG
        if read_timeout is not None:
            config = config.merge(Config(read_timeout=read_timeout))
        # botocore directly: boto3 would add its resource layer and s3transfer to the cold start.
        self._client: DynamoDBClient = client or dynamodb_session().create_client(  # type: ignore[assignment]
            "dynamodb", endpoint_url=endpoint_url, region_name=region_name, config=config
        )

    @property
    def client(self) -> DynamoDBClient:
        return self._client

    def put_if_absent(self, record: Record) -> PutOutcome:
        """Store ``record`` unless its ``pk`` exists; on conflict return the stored item."""
        try:
            self._client.put_item(
                TableName=self.table_name,
                Item=_marshal(record),
                ConditionExpression="attribute_not_exists(pk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                old: Any = exc.response.get("Item")
                return PutOutcome(stored=False, existing=_unmarshal(old) if old else None)
            raise _storage_error(exc) from exc
        except BotoCoreError as exc:
            raise _storage_error(exc) from exc
        return PutOutcome(stored=True)

    def put_many(self, records: Sequence[Record]) -> None:
        """Unconditional BatchWriteItem with retries of unprocessed items (idempotent per key)."""
        deadline = time.monotonic() + BATCH_RETRY_BUDGET_SECONDS
        for start in range(0, len(records), _BATCH_LIMIT):
            pending: list[Any] = [
                {"PutRequest": {"Item": _marshal(r)}} for r in records[start : start + _BATCH_LIMIT]
            ]
            for attempt in range(_BATCH_ATTEMPTS):
                try:
                    answer = self._client.batch_write_item(RequestItems={self.table_name: pending})
                except ClientError as exc:
                    if not is_retryable(exc) or attempt == _BATCH_ATTEMPTS - 1:
                        raise _storage_error(exc) from exc
                except BotoCoreError as exc:
                    raise _storage_error(exc) from exc
                else:
                    pending = list(answer.get("UnprocessedItems", {}).get(self.table_name, []))
                    if not pending:
                        break
                if time.monotonic() > deadline:
                    break
                if attempt < _BATCH_ATTEMPTS - 1:
                    time.sleep(min(1.0, 0.025 * 2**attempt) * random.uniform(0.5, 1.0))  # noqa: S311
            if pending:
                raise StorageUnavailable(f"{len(pending)} items left unprocessed after retries")

    def get(self, pk: str) -> Record | None:
        try:
            answer = self._client.get_item(
                TableName=self.table_name, Key={"pk": {"S": pk}}, ConsistentRead=True
            )
        except (ClientError, BotoCoreError) as exc:
            raise _storage_error(exc) from exc
        item = answer.get("Item")
        return _unmarshal(item) if item else None

    def query_source(
        self,
        source: str,
        *,
        page_size: int = 500,
        after: str | None = None,
        lower: str | None = None,
        upper: str | None = None,
    ) -> Iterator[Record]:
        """One source's events in time order, from ``lower`` (inclusive) to ``upper`` (exclusive).

        ``after`` resumes strictly after that event id (resumable exports).
        """
        names = {"#s": "source", "#e": "event_id"}
        values: dict[str, Any] = {":s": {"S": source}}
        start = after or lower
        if start and upper:
            cond = "#s = :s AND #e BETWEEN :lo AND :hi"
            values[":lo"] = {"S": start}
            values[":hi"] = {"S": upper}
        elif start:
            cond = "#s = :s AND #e >= :lo"
            values[":lo"] = {"S": start}
        elif upper:
            cond = "#s = :s AND #e <= :hi"
            values[":hi"] = {"S": upper}
        else:
            cond, names = "#s = :s", {"#s": "source"}
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": BY_SOURCE_INDEX,
            "KeyConditionExpression": cond,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "Limit": page_size,
        }
        while True:
            answer = self._client.query(**kwargs)
            for item in answer.get("Items", []):
                record = _unmarshal(item)
                event_id = str(record.get("event_id", ""))
                if (after and event_id <= after) or (upper and event_id >= upper):
                    continue
                yield record
            last = answer.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last

    def sources(self) -> list[str]:
        """Distinct sources (a keys-only scan of the index; for the CLI, not the hot path)."""
        seen: set[str] = set()
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": BY_SOURCE_INDEX,
            "ProjectionExpression": "#s",
            "ExpressionAttributeNames": {"#s": "source"},
        }
        while True:
            answer = self._client.scan(**kwargs)
            seen.update(item["source"]["S"] for item in answer.get("Items", []))
            last = answer.get("LastEvaluatedKey")
            if not last:
                return sorted(seen)
            kwargs["ExclusiveStartKey"] = last

    def ensure_table(self) -> None:
        """Create the table (same keys as modules/event-store) if it does not exist."""
        try:
            self._client.describe_table(TableName=self.table_name)
            return
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
        self._client.create_table(
            TableName=self.table_name,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "source", "AttributeType": "S"},
                {"AttributeName": "event_id", "AttributeType": "S"},
            ],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": BY_SOURCE_INDEX,
                    "KeySchema": [
                        {"AttributeName": "source", "KeyType": "HASH"},
                        {"AttributeName": "event_id", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )
        self._client.get_waiter("table_exists").wait(
            TableName=self.table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
        )
        self._client.update_time_to_live(
            TableName=self.table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
        )
