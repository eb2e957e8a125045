"""DynamoDB storage adapter: the only code that touches the DynamoDB client.

Records are plain dicts of ``str | int | bytes``; marshalling is done here by hand because the
generic TypeSerializer costs more than the whole rest of the request on the hot path. How a record
becomes an item (its payload codec, its listing shard key, its size) is :mod:`ingest.adapters.codec`;
a payload held by reference is put in S3 (:mod:`ingest.adapters.payloads`, built on first need)
before its item is written, and read back by every reader (docs/decisions/0034).

Writes persist through passing faults on their own (docs/decisions/0026): the SDK does not retry
(its standard mode draws retries from a quota that a sustained fault drains, after which every
fault is final); each write that failed for a reason that passes is retried here, alone, with
jittered exponential backoff, until the request's write deadline. A write that says the
deployment is broken is never retried.
"""

from __future__ import annotations

import contextvars
import logging
import random
import re
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ingest.adapters import codec
from ingest.adapters.failures import describe as _describe
from ingest.adapters.failures import is_retryable
from ingest.adapters.sessions import service_session

if TYPE_CHECKING:
    import botocore.session
    from mypy_boto3_dynamodb import DynamoDBClient

    from ingest.adapters.payloads import PayloadObjects

Scalar = str | int | bytes
Record = dict[str, Scalar]

#: The listing index: one source's events over ``shards`` partitions (hash ``lsk``), projecting
#: the keys and LISTING_PROJECTION (see ingest.adapters.codec).
LISTING_INDEX = codec.LISTING_INDEX
LISTING_PROJECTION = codec.LISTING_PROJECTION
#: The index of tables created before the listing index (hash ``source``, projection ALL); read
#: while it exists (docs/storage-format.md, "Tables written before this format").
LEGACY_INDEX = "by_source"
BY_SOURCE_INDEX = LEGACY_INDEX  # the name older code and scripts know

#: The table as the service needs it; modules/event-store declares the same (a test compares).
TABLE_ATTRIBUTES = {codec.TABLE_KEY: "S", codec.SHARD_ATTRIBUTE: "S", "event_id": "S"}
TABLE_HASH_KEY = codec.TABLE_KEY
TTL_ATTRIBUTE = "expires_at"
LISTING_INDEX_DEFINITION: dict[str, Any] = {
    "IndexName": LISTING_INDEX,
    "KeySchema": [
        {"AttributeName": codec.SHARD_ATTRIBUTE, "KeyType": "HASH"},
        {"AttributeName": "event_id", "KeyType": "RANGE"},
    ],
    "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(LISTING_PROJECTION)},
}
LEGACY_INDEX_DEFINITION: dict[str, Any] = {
    "IndexName": LEGACY_INDEX,
    "KeySchema": [
        {"AttributeName": "source", "KeyType": "HASH"},
        {"AttributeName": "event_id", "KeyType": "RANGE"},
    ],
    "Projection": {"ProjectionType": "ALL"},
}

_INTEGER = re.compile(r"-?[0-9]{1,4000}")
_BATCH_LIMIT = 25
_BATCH_GET_LIMIT = 100
#: How long one request may keep retrying its failed writes before it answers 503. Well inside
#: the function timeout (10 s by default) and API Gateway's 30 s, so the producer hears back.
WRITE_BUDGET_SECONDS = 5.0
#: Time kept back from the Lambda deadline: the last attempt (1 s connect + 2 s read at worst)
#: and the answer.
DEADLINE_MARGIN_SECONDS = 3.5
#: Jittered exponential backoff between attempts of one write: up to BASE * 2**n, at most CAP.
BACKOFF_BASE_SECONDS = 0.02
BACKOFF_CAP_SECONDS = 0.5
BATCH_RETRY_BUDGET_SECONDS = WRITE_BUDGET_SECONDS  # the name older tests know

# The SDK makes one attempt per call: retries are this adapter's (see the module docstring).
# Short timeouts: a hung attempt is abandoned and retried rather than waited out.
_CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 1},
    connect_timeout=1,
    read_timeout=2,
    tcp_keepalive=True,
    max_pool_connections=32,  # batches write conditional events in parallel
    parameter_validation=False,  # requests are built here, not by callers: skip re-checking them
)

#: Debug lines (sampled in Lambda: docs/decisions/0026) go through the service's logger.
_log = logging.getLogger(__name__)

#: The monotonic time by which the current request must stop retrying (set by the entry point).
_write_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "ingest_write_deadline", default=None
)


def set_request_deadline(remaining_seconds: float | None) -> contextvars.Token[float | None]:
    """Bound the current request's write retries by the time it has left (Lambda's remaining
    time, when known): at most :data:`WRITE_BUDGET_SECONDS`, and never so late that the last
    attempt and the answer would overrun the function's timeout."""
    budget = WRITE_BUDGET_SECONDS
    if remaining_seconds is not None:
        budget = max(0.0, min(budget, remaining_seconds - DEADLINE_MARGIN_SECONDS))
    return _write_deadline.set(time.monotonic() + budget)


def clear_request_deadline(token: contextvars.Token[float | None]) -> None:
    _write_deadline.reset(token)


def write_deadline() -> float:
    """The current request's write deadline, or :data:`WRITE_BUDGET_SECONDS` from now."""
    deadline = _write_deadline.get()
    return deadline if deadline is not None else time.monotonic() + WRITE_BUDGET_SECONDS


def _backoff(attempt: int) -> float:
    """The pause before retry ``attempt`` (1, 2, ...): full jitter over an exponential cap."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)
    return random.uniform(ceiling / 4, ceiling)  # noqa: S311 - jitter, not a secret


def dynamodb_session() -> botocore.session.Session:
    """A botocore session that makes DynamoDB clients only (no scan of every service model)."""
    return service_session("dynamodb")


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


def _unmarshal(
    item: Mapping[str, Any], *, decode: bool = True, fetch: codec.Fetch | None = None
) -> Record:
    """The record an item holds; with ``decode``, its payload as written (see
    :func:`ingest.adapters.codec.decode`; ``fetch`` reads a payload held by reference). A payload
    that cannot be decoded is left as stored, ``codec`` attribute and all, so that a reader
    reports that record instead of stopping."""
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
    if decode and codec.CODEC_ATTRIBUTE in record:
        try:
            return codec.decode(record, fetch)
        except codec.CodecError:
            return record
    return record


def _no_such_index(exc: ClientError) -> bool:
    """Whether a query or scan failed because the table has no such index (DynamoDB says
    ValidationException, some emulators ResourceNotFoundException)."""
    error = exc.response.get("Error", {})
    code, message = error.get("Code"), str(error.get("Message", "")).lower()
    return code in ("ValidationException", "ResourceNotFoundException") and "index" in message


@dataclass(frozen=True)
class _Bounds:
    """A listing's range of event ids: from ``lower`` (inclusive) or strictly ``after`` an id, to
    ``upper`` (exclusive)."""

    lower: str | None
    after: str | None
    upper: str | None

    def holds(self, event_id: str) -> bool:
        if self.after is not None and event_id <= self.after:
            return False
        if self.after is None and self.lower is not None and event_id < self.lower:
            return False
        return self.upper is None or event_id < self.upper


@dataclass(frozen=True)
class _Entry:
    """One event of a listing, in ``event_id`` order, as an index gave it: the whole item (the
    legacy index projects everything) or its keys and ``type`` (read in full from the table)."""

    event_id: str
    pk: str
    attributes: Record
    complete: bool


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
        shards: int = codec.DEFAULT_SHARDS,
        fetch_reference: codec.Fetch | None = None,
        payload_bucket: str | None = None,
        payload_objects: PayloadObjects | None = None,
    ) -> None:
        """``read_timeout`` makes a reader's client (the CLI): patient, with the SDK's own retries
        for the pages it reads. ``shards`` is how many listing shards new items spread over.
        ``payload_bucket`` (``PAYLOAD_BUCKET``) takes the payloads of items that would exceed
        :data:`ingest.adapters.codec.CLAIM_CHECK_ABOVE_BYTES`; without it every payload stays in
        its item. A payload stored by reference (``s3://BUCKET/KEY``) is read with
        ``fetch_reference``, by default through ``payload_objects`` (S3 at ``endpoint_url``, the
        emulator's too, else AWS's; built on first use)."""
        if not 1 <= shards <= codec.MAX_SHARDS:
            raise ValueError(f"shards must be 1..{codec.MAX_SHARDS}, not {shards}")
        self.table_name = table_name
        self.shards = shards
        self.payload_bucket = payload_bucket or None
        self._objects = payload_objects
        self._objects_options: dict[str, Any] = {
            "endpoint_url": endpoint_url,
            "region_name": region_name,
            "read_timeout": read_timeout,
        }
        self._fetch = fetch_reference or self._fetch_object
        config = _CLIENT_CONFIG
        if read_timeout is not None:
            # A reader (the CLI) pages through large results: the SDK's own retries serve it.
            retries: Any = {"mode": "standard", "max_attempts": 5}
            config = config.merge(Config(read_timeout=read_timeout, retries=retries))
        # botocore directly: boto3 would add its resource layer and s3transfer to the cold start.
        self._client: DynamoDBClient = client or dynamodb_session().create_client(  # type: ignore[assignment]
            "dynamodb", endpoint_url=endpoint_url, region_name=region_name, config=config
        )
        self._legacy_index: bool | None = None  # unknown until a listing asks

    @property
    def client(self) -> DynamoDBClient:
        return self._client

    @property
    def payload_objects(self) -> PayloadObjects:
        """S3 for payloads held by reference, built on first use (never on the /events path)."""
        if self._objects is None:
            from ingest.adapters.payloads import PayloadObjects

            self._objects = PayloadObjects(**self._objects_options)
        return self._objects

    def _fetch_object(self, reference: str) -> bytes:
        return self.payload_objects.fetch(reference)

    # ----------------------------------------------------------------------------------------
    # Writes

    def item(
        self, record: Mapping[str, Scalar], *, deadline: float | None = None, indexed: bool = True
    ) -> dict[str, Any]:
        """The marshalled item written for ``record``: its listing shard key added (unless a
        batch's head lists it: ``indexed`` False), its payload encoded
        (:func:`ingest.adapters.codec.encode_for`). A payload that goes to S3 is put there first,
        retried like a write until ``deadline``: the item never names a missing object."""
        attributes = dict(record)
        event_id, source = record.get("event_id"), record.get("source")
        if indexed and isinstance(event_id, str) and isinstance(source, str):
            shard = codec.shard_of(event_id, self.shards)
            attributes[codec.SHARD_ATTRIBUTE] = codec.shard_key(source, shard)
        encoded, claim = codec.encode_for(attributes, self.payload_bucket)
        if claim is not None:
            self._put_object(claim, write_deadline() if deadline is None else deadline)
        return _marshal(encoded)

    def _put_object(self, claim: codec.Claim, deadline: float) -> None:
        """Put a payload in S3 (content-addressed: a repeat puts the same bytes under the same
        key), retrying what passes until ``deadline``; what will not pass raises at once."""
        attempt = 0
        while True:
            try:
                self.payload_objects.put(claim)
            except (ClientError, BotoCoreError) as exc:
                attempt += 1
                self._pause_or_raise(exc, attempt, deadline)
            else:
                return

    def put_if_absent(
        self, record: Record, *, deadline: float | None = None, indexed: bool = True
    ) -> PutOutcome:
        """Store ``record`` unless its ``pk`` exists; on conflict return the stored item.

        A failure that may pass is retried (jittered backoff) until ``deadline`` (monotonic
        seconds; default :func:`write_deadline`). An attempt whose answer was lost and that did
        store the item meets it on the retry: the conflict hands back our own item, which the
        caller recognises by its ``event_id`` and ``request_id``. ``indexed`` False: a batch's
        head lists it (no shard key of its own).
        """
        stop = write_deadline() if deadline is None else deadline
        item = self.item(record, deadline=stop, indexed=indexed)
        attempt = 0
        while True:
            try:
                self._client.put_item(
                    TableName=self.table_name,
                    Item=item,
                    ConditionExpression="attribute_not_exists(pk)",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                    old: Any = exc.response.get("Item")
                    existing = _unmarshal(old, decode=False) if old else None
                    return PutOutcome(stored=False, existing=existing)
                failure: Exception = exc
            except BotoCoreError as exc:
                failure = exc
            else:
                return PutOutcome(stored=True)
            attempt += 1
            self._pause_or_raise(failure, attempt, stop)

    @staticmethod
    def _pause_or_raise(failure: Exception | str, attempt: int, deadline: float) -> None:
        """Sleep before retry ``attempt``, or raise when ``failure`` will not pass (an SDK error
        that says the deployment is broken) or the deadline leaves no room for another attempt.
        A ``str`` failure (items left unprocessed) is DynamoDB shedding load: it passes."""
        what = failure if isinstance(failure, str) else _describe(failure)
        cause = None if isinstance(failure, str) else failure
        if cause is not None and not is_retryable(cause):
            raise StorageBroken(what) from cause
        pause = _backoff(attempt)
        if time.monotonic() + pause >= deadline:
            raise StorageUnavailable(f"{what} (after {attempt} attempts)") from cause
        _log.debug("storage write retried", extra={"attempt": attempt, "error": what})
        time.sleep(pause)

    def put_many(
        self,
        records: Sequence[Record],
        *,
        deadline: float | None = None,
        unindexed: Collection[str] = (),
    ) -> None:
        """Unconditional BatchWriteItem, retrying only the items left unprocessed, or a call that
        failed for a reason that passes, until ``deadline`` (a retried put overwrites only itself:
        every record has its own random key). Records whose ``event_id`` is in ``unindexed`` are
        listed by a batch's head and get no shard key."""
        stop = write_deadline() if deadline is None else deadline
        for start in range(0, len(records), _BATCH_LIMIT):
            chunk = records[start : start + _BATCH_LIMIT]
            pending: list[Any] = [
                {
                    "PutRequest": {
                        "Item": self.item(
                            r, deadline=stop, indexed=r.get("event_id") not in unindexed
                        )
                    }
                }
                for r in chunk
            ]
            attempt = 0
            while pending:
                failure: Exception | str
                try:
                    answer = self._client.batch_write_item(RequestItems={self.table_name: pending})
                except (ClientError, BotoCoreError) as exc:
                    failure = exc
                else:
                    pending = list(answer.get("UnprocessedItems", {}).get(self.table_name, []))
                    if not pending:
                        break
                    failure = f"{len(pending)} items left unprocessed"
                attempt += 1
                self._pause_or_raise(failure, attempt, stop)

    # ----------------------------------------------------------------------------------------
    # Reads (the CLI's, with a person's credentials: the function's role cannot read)

    def get(self, pk: str) -> Record | None:
        try:
            answer = self._client.get_item(
                TableName=self.table_name, Key={"pk": {"S": pk}}, ConsistentRead=True
            )
        except (ClientError, BotoCoreError) as exc:
            raise _storage_error(exc) from exc
        item = answer.get("Item")
        if not item:
            return None
        record = _unmarshal(item, fetch=self._fetch)
        codec.take_listing(record)  # a batch head's listing: a listing's business, never shown
        return record

    def query_source(
        self,
        source: str,
        *,
        page_size: int = 500,
        after: str | None = None,
        lower: str | None = None,
        upper: str | None = None,
        event_type: str | None = None,
        newest_first: bool = False,
    ) -> Iterator[Record]:
        """One source's events in time order (the newest first with ``newest_first``), from
        ``lower`` (inclusive) to ``upper`` (exclusive).

        ``after`` resumes strictly after that event id (resumable exports); ``event_type`` keeps
        only that type. The shards of
        the listing index, and the legacy index while it exists, are merged by ``event_id``; the
        full items are read from the table in batches, the events a batch's head lists with it
        (:func:`ingest.adapters.codec.pack_listing`). A head shares its events' millisecond, so
        the indexes are read by whole milliseconds and each is put in order once its heads are
        expanded; ``event_type`` applies to the events read (a head's entry shows its own type
        only).
        """
        import heapq  # readers only: the function never lists

        from ingest.ids import millis_of, time_bound

        bounds = _Bounds(lower=lower, after=after, upper=upper)
        first = after or lower
        start = time_bound(millis_of(first)) if first else None
        end = time_bound(millis_of(upper) + 1) if upper else None
        streams: list[Iterator[_Entry]] = [
            self._index_entries(
                LISTING_INDEX,
                codec.SHARD_ATTRIBUTE,
                codec.shard_key(source, shard),
                start=start,
                upper=end,
                page_size=page_size,
                forward=not newest_first,
            )
            for shard in range(codec.MAX_SHARDS)
        ]
        if self._has_legacy_index(source):
            streams.append(
                self._index_entries(
                    LEGACY_INDEX,
                    "source",
                    source,
                    start=start,
                    upper=end,
                    page_size=page_size,
                    forward=not newest_first,
                )
            )
        merged = heapq.merge(*streams, key=lambda entry: entry.event_id, reverse=newest_first)
        previous = None
        selected: list[_Entry] = []
        for entry in merged:
            if entry.event_id == previous:  # moved between indexes by a backfill while listing
                continue
            previous = entry.event_id
            if (
                len(selected) >= _BATCH_GET_LIMIT
                and entry.event_id[:13] != selected[-1].event_id[:13]
            ):
                yield from self._complete(selected, bounds, event_type, newest_first)
                selected = []
            selected.append(entry)
        yield from self._complete(selected, bounds, event_type, newest_first)

    def _index_entries(
        self,
        index: str,
        hash_name: str,
        hash_value: str,
        *,
        start: str | None,
        upper: str | None,
        page_size: int,
        forward: bool = True,
    ) -> Iterator[_Entry]:
        """One index partition's entries in ``event_id`` order (descending unless ``forward``) (legacy entries carry their item;
        items of the legacy index that also have a shard key are left to the listing index)."""
        names = {"#h": hash_name, "#e": "event_id"}
        values: dict[str, Any] = {":h": {"S": hash_value}}
        if start and upper:
            cond = "#h = :h AND #e BETWEEN :lo AND :hi"
            values[":lo"] = {"S": start}
            values[":hi"] = {"S": upper}
        elif start:
            cond = "#h = :h AND #e >= :lo"
            values[":lo"] = {"S": start}
        elif upper:
            cond = "#h = :h AND #e <= :hi"
            values[":hi"] = {"S": upper}
        else:
            cond = "#h = :h"
            del names["#e"]
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": index,
            "KeyConditionExpression": cond,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "Limit": page_size,
            "ScanIndexForward": forward,
        }
        legacy = index == LEGACY_INDEX
        if legacy:
            kwargs["FilterExpression"] = "attribute_not_exists(#k)"
            names["#k"] = codec.SHARD_ATTRIBUTE
        while True:
            answer = self._client.query(**kwargs)
            for found in answer.get("Items", []):
                record = _unmarshal(found, fetch=self._fetch)
                event_id, pk = str(record.get("event_id", "")), str(record.get("pk", ""))
                yield _Entry(event_id, pk, record, complete=legacy)
            last = answer.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last

    def _has_legacy_index(self, source: str) -> bool:
        """Whether the table still has the index of the old format (asked once, by querying it:
        a reader needs no DescribeTable permission)."""
        if self._legacy_index is None:
            try:
                self._client.query(
                    TableName=self.table_name,
                    IndexName=LEGACY_INDEX,
                    KeyConditionExpression="#s = :s",
                    ExpressionAttributeNames={"#s": "source"},
                    ExpressionAttributeValues={":s": {"S": source}},
                    Limit=1,
                )
            except ClientError as exc:
                if not _no_such_index(exc):
                    raise
                self._legacy_index = False
            else:
                self._legacy_index = True
        return self._legacy_index

    def _complete(
        self,
        entries: Sequence[_Entry],
        bounds: _Bounds,
        event_type: str | None,
        newest_first: bool,
    ) -> Iterator[Record]:
        """The records of ``entries`` (whole milliseconds), in ``event_id`` order: index entries
        read from the table with BatchGetItem (consistent reads), legacy entries as they came, and
        with a batch's head the events it lists that are stored under exactly that id."""
        found = self._batch_get([entry.pk for entry in entries if not entry.complete])
        records: dict[str, Record] = {}
        listed: list[str] = []
        for entry in entries:
            record = entry.attributes if entry.complete else found.get(entry.pk)
            if record is None or record.get("event_id") != entry.event_id:
                continue  # expired or deleted since the index listed it
            listed += codec.take_listing(record)
            records[entry.event_id] = record
        if listed:
            from ingest.ids import key_of

            members = self._batch_get([key_of(event_id) for event_id in listed])
            for event_id in listed:
                record = members.get(key_of(event_id))
                if record is not None and record.get("event_id") == event_id:
                    records[event_id] = record
        for event_id in sorted(records, reverse=newest_first):
            record = records[event_id]
            if bounds.holds(event_id) and event_type in (None, record.get("type")):
                yield record

    def _batch_get(self, keys: Sequence[str]) -> dict[str, Record]:
        """The items under ``keys`` by key (consistent reads, 100 keys a call)."""
        found: dict[str, Record] = {}
        for start in range(0, len(keys), _BATCH_GET_LIMIT):
            found.update(self._batch_get_once(keys[start : start + _BATCH_GET_LIMIT]))
        return found

    def _batch_get_once(self, keys: Sequence[str]) -> dict[str, Record]:
        found: dict[str, Record] = {}
        pending: dict[str, Any] = {
            self.table_name: {
                "Keys": [{"pk": {"S": pk}} for pk in dict.fromkeys(keys)],
                "ConsistentRead": True,
            }
        }
        for attempt in range(1, 11):
            answer = self._client.batch_get_item(RequestItems=pending)
            for item in answer.get("Responses", {}).get(self.table_name, []):
                record = _unmarshal(item, fetch=self._fetch)
                found[str(record["pk"])] = record
            pending = answer.get("UnprocessedKeys") or {}
            if not pending:
                return found
            time.sleep(_backoff(attempt))
        raise StorageUnavailable("BatchGetItem left keys unprocessed after 10 attempts")

    def sources(self) -> list[str]:
        """Distinct sources (a scan of the listing index's keys; for the CLI, not the hot path)."""
        seen: set[str] = set()
        for key in self._scan_index(LISTING_INDEX, codec.SHARD_ATTRIBUTE):
            seen.add(codec.source_of_shard_key(key))
        if self._legacy_index is not False:
            try:
                seen.update(self._scan_index(LEGACY_INDEX, "source"))
            except ClientError as exc:
                if not _no_such_index(exc):
                    raise
                self._legacy_index = False
        return sorted(seen)

    def _scan_index(self, index: str, attribute: str) -> Iterator[str]:
        for item in self._scanned(
            IndexName=index,
            ProjectionExpression="#a",
            ExpressionAttributeNames={"#a": attribute},
        ):
            if attribute in item and "S" in item[attribute]:
                yield item[attribute]["S"]

    def _scanned(self, **scan: Any) -> Iterator[dict[str, Any]]:
        """Every item a Scan of the table with ``scan``'s parameters returns, page after page."""
        kwargs: dict[str, Any] = {"TableName": self.table_name, **scan}
        while True:
            answer = self._client.scan(**kwargs)
            yield from answer.get("Items", [])
            last = answer.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last

    # ----------------------------------------------------------------------------------------
    # The table

    def backfill_shards(self, *, progress: Any = None) -> int:
        """Give every item without a listing shard key its key (``lsk``), so that the listing
        index finds it: tables written before the index existed. Events a batch's head lists
        are left as they are (its entry is theirs). Safe to interrupt and re-run; returns how many
        items it updated."""
        listed = self._listed_ids()
        updated = 0
        for item in self._scanned(
            ProjectionExpression="pk, event_id, #s",
            FilterExpression="attribute_not_exists(#k)",
            ExpressionAttributeNames={"#s": "source", "#k": codec.SHARD_ATTRIBUTE},
        ):
            record = _unmarshal(item, decode=False)
            event_id, source = record.get("event_id"), record.get("source")
            if not isinstance(event_id, str) or not isinstance(source, str):
                continue  # not an event this service wrote
            if event_id in listed:
                continue
            key = codec.shard_key(source, codec.shard_of(event_id, self.shards))
            try:
                self._client.update_item(
                    TableName=self.table_name,
                    Key={"pk": {"S": str(record["pk"])}},
                    UpdateExpression="SET #k = :k",
                    ConditionExpression="attribute_exists(pk) AND attribute_not_exists(#k)",
                    ExpressionAttributeNames={"#k": codec.SHARD_ATTRIBUTE},
                    ExpressionAttributeValues={":k": {"S": key}},
                )
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                    raise
                continue
            updated += 1
            if progress is not None:
                progress(updated)
        return updated

    def _listed_ids(self) -> set[str]:
        """Every event id a batch's head lists (a scan for heads)."""
        heads = self._scanned(
            ProjectionExpression="#l",
            FilterExpression="attribute_exists(#l)",
            ExpressionAttributeNames={"#l": codec.LISTING_ATTRIBUTE},
        )
        return {event_id for head in heads for event_id in codec.take_listing(_unmarshal(head))}

    def ensure_table(self, *, legacy_index: bool = False) -> None:
        """Create the table (the same definition as modules/event-store) if it does not exist.

        ``legacy_index`` also creates the index of the old format, as a table created before the
        listing index has it (for tests of the migration)."""
        try:
            self._client.describe_table(TableName=self.table_name)
            return
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
        attributes = dict(TABLE_ATTRIBUTES)
        indexes = [LISTING_INDEX_DEFINITION]
        if legacy_index:
            attributes["source"] = "S"
            indexes = [LISTING_INDEX_DEFINITION, LEGACY_INDEX_DEFINITION]
        self._client.create_table(
            TableName=self.table_name,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": name, "AttributeType": kind}  # type: ignore[typeddict-item]
                for name, kind in attributes.items()
            ],
            KeySchema=[{"AttributeName": TABLE_HASH_KEY, "KeyType": "HASH"}],
            GlobalSecondaryIndexes=indexes,  # type: ignore[arg-type]
        )
        self._client.get_waiter("table_exists").wait(
            TableName=self.table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
        )
        self._client.update_time_to_live(
            TableName=self.table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
        )
