"""Enrich events into records and store each at most once: the domain behind both routes.

``POST /events`` hands :func:`store_events` what :mod:`ingest.domain.intake` validated; a webhook
delivery is drafted by :mod:`ingest.domain.webhooks.delivery` and stored with :func:`store_one`.
Storage goes through :class:`ingest.adapters.dynamodb.EventStore`; this module never sees the SDK.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from ingest import ids
from ingest.adapters import codec
from ingest.adapters.dynamodb import (
    EventStore,
    Record,
    StorageBroken,
    StorageUnavailable,
    write_deadline,
)
from ingest.domain.intake import Intake, ParsedEvent
from ingest.errors import InternalError, ServiceUnavailable, ValidationFailed
from ingest.models import CLOUDEVENT_ATTRIBUTES
from ingest.telemetry import logger

_MAX_PROBES = 4
_BATCH_WORKERS = 16


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    source_ip: str | None = None
    user_agent: str | None = None
    now_ms: int = 0
    retention_days: int = 30

    @property
    def received_at(self) -> str:
        stamp = datetime.fromtimestamp(self.now_ms / 1000, tz=UTC)
        return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{self.now_ms % 1000:03d}Z"

    @property
    def expires_at(self) -> int | None:
        if self.retention_days <= 0:
            return None
        return self.now_ms // 1000 + self.retention_days * 86400


@dataclass(frozen=True)
class Outcome:
    event_id: str
    received_at: str
    duplicate: bool


@dataclass(frozen=True)
class Draft:
    """A record waiting for its key: everything but ``pk`` and ``event_id``.

    ``space`` separates key spaces (``ids.WEBHOOK_SPACE`` for webhook deliveries) so that records
    from different routes never collide. ``digest`` binds an ``Idempotency-Key`` to the content it
    was first sent with (see :func:`content_digest`).
    """

    source: str
    producer_id: str | None
    attributes: Record
    space: str | None = None
    digest: str | None = None


#: The stored attribute that holds an ``Idempotency-Key``'s content digest.
DIGEST_ATTRIBUTE = "idempotency_digest"


def content_digest(parts: Sequence[str | bytes]) -> str:
    """A short, unambiguous digest of request content (length-framed parts, SHA-256, base64url)."""
    import base64
    import hashlib

    digest = hashlib.sha256()
    for part in parts:
        raw = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
        digest.update(len(raw).to_bytes(8, "big"))
        digest.update(raw)
    return base64.urlsafe_b64encode(digest.digest()[:18]).decode("ascii")


class IdempotencyKeyReused(ValidationFailed):
    """The same ``Idempotency-Key`` came back with other content (IETF Idempotency-Key draft)."""

    code = "idempotency_key_reused"

    def __init__(self) -> None:
        super().__init__(
            "this Idempotency-Key was first used with other request content; nothing was stored. "
            "Use a new key for a new event"
        )


def backend_failure(exc: Exception, what: str) -> ServiceUnavailable | InternalError:
    """The client's answer when a backend (the table, the secret store, SSM) fails ``what``.

    A failure that may pass (``exc.retryable``) is a 503 with ``Retry-After``; anything else means
    the deployment is broken: a 500 that tells nobody to retry. Either way the client gets a fixed
    message and the backend's own words go to the log, with the request id.
    """
    if getattr(exc, "retryable", False):
        logger.warning("backend unavailable", extra={"what": what, "detail": str(exc)})
        return ServiceUnavailable(f"{what} is unavailable right now; retry")
    logger.error("backend failed", extra={"what": what, "detail": str(exc)})
    return InternalError()


def storage_error(exc: StorageUnavailable | StorageBroken) -> ServiceUnavailable | InternalError:
    return backend_failure(exc, "storage")


def enrich(ctx: RequestContext, source: str, event_type: str, producer_id: str | None) -> Record:
    record: Record = {
        "source": source,
        "type": event_type,
        "received_at": ctx.received_at,
        "request_id": ctx.request_id,
    }
    if producer_id is not None:
        record["id"] = producer_id
    if ctx.source_ip:
        record["source_ip"] = ctx.source_ip
    if ctx.user_agent:
        record["user_agent"] = ctx.user_agent[:512]
    expires_at = ctx.expires_at
    if expires_at is not None:
        record["expires_at"] = expires_at
    return record


def _keyed(draft: Draft, key: int, now_ms: int) -> Record:
    event_id = ids.new_event_id(key, now_ms)
    return {"pk": ids.key_of(event_id), "event_id": event_id, **draft.attributes}


def store_one(
    store: EventStore,
    draft: Draft,
    now_ms: int,
    *,
    deadline: float | None = None,
    listed: bool = False,
) -> Outcome:
    """One conditional write; a conflict is either our own earlier attempt, a repeat, or a
    (vanishingly rare) key collision, which moves on to the next probe.

    A write that fails for a reason that passes is retried by the store until ``deadline``
    (monotonic seconds; default: the request's write deadline). ``listed``: a batch's head
    already names the first probe's event id, so that write carries no shard key of its own
    (a later probe's id is listed nowhere else: it does)."""
    if deadline is None:
        deadline = write_deadline()
    for probe in range(_MAX_PROBES):
        key = (
            ids.producer_key(draft.source, draft.producer_id, probe, space=draft.space)
            if draft.producer_id is not None
            else ids.random_key()
        )
        record = _keyed(draft, key, now_ms)
        if draft.digest is not None:
            record[DIGEST_ATTRIBUTE] = draft.digest
        try:
            result = store.put_if_absent(
                record, deadline=deadline, indexed=not (listed and probe == 0)
            )
        except (StorageUnavailable, StorageBroken) as exc:
            raise storage_error(exc) from exc
        if result.stored:
            return Outcome(str(record["event_id"]), str(record["received_at"]), duplicate=False)
        old = result.existing or {}
        same_producer_event = (
            old.get("source") == draft.source
            and old.get("id") == draft.producer_id
            and old.get("kind") == draft.attributes.get("kind")
        )
        if (
            same_producer_event
            and old.get("event_id") == record["event_id"]
            and old.get("request_id") == record.get("request_id")
        ):
            # The write landed but its answer was lost and the SDK retried: it is ours.
            return Outcome(str(record["event_id"]), str(record["received_at"]), duplicate=False)
        if same_producer_event and draft.producer_id is not None:
            first_digest = old.get(DIGEST_ATTRIBUTE)
            if draft.digest is not None and first_digest not in (None, draft.digest):
                raise IdempotencyKeyReused
            return Outcome(str(old["event_id"]), str(old.get("received_at", "")), duplicate=True)
    raise ServiceUnavailable("could not allocate a unique key; retry")


def store_many(store: EventStore, drafts: Sequence[Draft], now_ms: int) -> list[Outcome]:
    """Store a batch: the cheapest correct mix of writes.

    Events without a producer id go through BatchWriteItem (random keys, so a retry of the same
    request item overwrites itself, never another event). Events with an id need a condition,
    which BatchWriteItem cannot carry, so they are conditional PutItems run in parallel.
    Transactions would cost twice the write units for the same guarantee. A source with at least
    ``LISTED_TOGETHER_AT_LEAST`` events in the batch has one of them written first, listing the
    others, whose index entry it is (:func:`_write_heads`).
    """
    deadline = write_deadline()  # one deadline for every write of the request, in any thread
    outcomes: list[Outcome | None] = [None] * len(drafts)
    first_of: dict[tuple[str, str], int] = {}
    conditional: list[int] = []
    repeats: list[tuple[int, int]] = []
    plain: dict[int, Record] = {}
    for index, draft in enumerate(drafts):
        if draft.producer_id is None:
            plain[index] = _keyed(draft, ids.random_key(), now_ms)
            continue
        scope = (draft.source, draft.producer_id)
        if scope in first_of:
            repeats.append((index, first_of[scope]))
        else:
            first_of[scope] = index
            conditional.append(index)

    planned = {index: str(record["event_id"]) for index, record in plain.items()}
    planned |= {index: _first_probe_id(drafts[index], now_ms) for index in conditional}
    listed = _write_heads(store, drafts, planned, outcomes, now_ms=now_ms, deadline=deadline)
    rest = {index: record for index, record in plain.items() if outcomes[index] is None}
    if rest:
        try:
            store.put_many(list(rest.values()), deadline=deadline, unindexed=listed)
        except (StorageUnavailable, StorageBroken) as exc:
            raise storage_error(exc) from exc
        for index, record in rest.items():
            outcomes[index] = Outcome(
                str(record["event_id"]), str(record["received_at"]), duplicate=False
            )

    def conditional_write(index: int) -> Outcome:
        listed_first = planned[index] in listed
        return store_one(store, drafts[index], now_ms, deadline=deadline, listed=listed_first)

    pending = [index for index in conditional if outcomes[index] is None]
    if len(pending) == 1:
        outcomes[pending[0]] = conditional_write(pending[0])
    elif pending:
        from concurrent.futures import ThreadPoolExecutor  # only batches pay for the import

        with ThreadPoolExecutor(max_workers=min(_BATCH_WORKERS, len(pending))) as pool:
            for index, outcome in zip(pending, pool.map(conditional_write, pending), strict=True):
                outcomes[index] = outcome

    for index, original in repeats:
        first = outcomes[original]
        assert first is not None
        outcomes[index] = Outcome(first.event_id, first.received_at, duplicate=True)
    return [o for o in outcomes if o is not None]


def _first_probe_id(draft: Draft, now_ms: int) -> str:
    """The event id a draft with a producer id gets at its first probe."""
    assert draft.producer_id is not None
    key = ids.producer_key(draft.source, draft.producer_id, 0, space=draft.space)
    return ids.new_event_id(key, now_ms)


def _write_heads(
    store: EventStore,
    drafts: Sequence[Draft],
    planned: dict[int, str],
    outcomes: list[Outcome | None],
    *,
    now_ms: int,
    deadline: float,
) -> frozenset[str]:
    """For each source with enough events in the batch, write one of them first (its *head*: an
    event without a producer id if there is one), listing the ids the others are about to get;
    return the ids listed. ``planned``: the ids the batch's events get (first probe), by index.

    The head is an event like the others, with its own index entry, which stands for the events
    it lists: they are written without one. A listed id counts only while the item under its key
    has exactly that ``event_id`` (docs/storage-format.md): an event whose write fails is simply
    not found, and a repeat of a producer id stored earlier keeps the listing it had. A head that
    is itself a repeat lists nothing (its first write is kept as it was): the others then get an
    index entry each, as single events do.
    """
    by_source: dict[str, list[int]] = {}
    for index in sorted(planned):
        by_source.setdefault(drafts[index].source, []).append(index)
    listed: set[str] = set()
    for indexes in by_source.values():
        if len(indexes) < codec.LISTED_TOGETHER_AT_LEAST:
            continue
        head = min(indexes, key=lambda index: drafts[index].producer_id is not None)
        others = [planned[index] for index in indexes if index != head]
        draft = drafts[head]
        listing = codec.pack_listing(others)
        with_listing = replace(
            draft, attributes={**draft.attributes, codec.LISTING_ATTRIBUTE: listing}
        )
        outcome = store_one(store, with_listing, now_ms, deadline=deadline)
        outcomes[head] = outcome
        if not outcome.duplicate:
            listed.update(others)
    return frozenset(listed)


# --------------------------------------------------------------------------------------------
# POST /events


def _event_draft(
    ctx: RequestContext, parsed: ParsedEvent, producer_id: str | None, digest: str | None
) -> Draft:
    event = parsed.event
    record = enrich(ctx, event.source, event.type, producer_id)
    record["size"] = parsed.size
    for name in CLOUDEVENT_ATTRIBUTES:
        value = getattr(event, name)
        if value is not None:
            record[name] = value
    if parsed.data_json is not None:
        record["data"] = parsed.data_json
    if parsed.extensions_json is not None:
        record["extensions"] = parsed.extensions_json
    return Draft(event.source, producer_id, record, digest=digest)


def _event_digest(parsed: ParsedEvent) -> str:
    """What an ``Idempotency-Key`` is bound to: the event's content, whatever its framing."""
    event = parsed.event
    parts: list[str] = [event.type, event.source]
    for name in CLOUDEVENT_ATTRIBUTES:
        parts += [name, getattr(event, name) or ""]
    return content_digest([*parts, parsed.data_json or "", parsed.extensions_json or ""])


def store_events(
    store: EventStore, ctx: RequestContext, request: Intake, key: str | None
) -> list[Outcome]:
    """Store the events of one ``POST /events`` request, each at most once, in request order.

    A single event is scoped by its ``id``, else by the request's ``Idempotency-Key`` (``key``),
    which is then bound to the event's content; batch events only by their ``id``.
    """
    if not request.batch:
        item = request.events[0]
        keyed = item.event.id is None and key is not None
        digest = _event_digest(item) if keyed else None
        return [store_one(store, _event_draft(ctx, item, item.event.id or key, digest), ctx.now_ms)]
    drafts = [_event_draft(ctx, item, item.event.id, None) for item in request.events]
    return store_many(store, drafts, ctx.now_ms)
