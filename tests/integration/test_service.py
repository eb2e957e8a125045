"""Domain and adapter behaviour that is hard to provoke over HTTP: lost answers, key collisions,
unprocessed batch items, storage errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError
from ingest import ids
from ingest.adapters import dynamodb
from ingest.adapters.dynamodb import EventStore, PutOutcome, Record, StorageUnavailable
from ingest.domain.store import Draft, RequestContext, enrich, store_many, store_one
from ingest.errors import ServiceUnavailable
from moto import mock_aws

NOW = 1_780_000_000_123


@pytest.fixture
def store() -> Iterator[EventStore]:
    with mock_aws():
        table = EventStore("unit-events", region_name="us-east-1")
        table.ensure_table()
        yield table


def draft(source: str = "s", producer_id: str | None = None, event_type: str = "t") -> Draft:
    ctx = RequestContext(request_id="r-1", now_ms=NOW, retention_days=7)
    return Draft(source, producer_id, enrich(ctx, source, event_type, producer_id))


def test_received_at_and_expiry_come_from_the_same_instant() -> None:
    ctx = RequestContext(request_id="r", now_ms=NOW, retention_days=7)
    assert ctx.received_at == "2026-05-28T20:26:40.123Z"
    assert ctx.expires_at == NOW // 1000 + 7 * 86400
    assert RequestContext(request_id="r", now_ms=NOW, retention_days=0).expires_at is None


def test_store_one_then_repeat(store: EventStore) -> None:
    first = store_one(store, draft(producer_id="p1"), NOW)
    again = store_one(store, draft(producer_id="p1", event_type="other"), NOW + 5000)
    assert not first.duplicate
    assert again.duplicate
    assert (again.event_id, again.received_at) == (first.event_id, first.received_at)
    item = store.get(ids.key_of(first.event_id))
    assert item is not None
    assert item["type"] == "t"


class LostAnswerStore:
    """The write lands, the answer is lost, the SDK retries and meets our own item."""

    def __init__(self, inner: EventStore) -> None:
        self.inner = inner
        self.calls = 0

    def put_if_absent(
        self, record: Record, *, deadline: float | None = None, indexed: bool = True
    ) -> PutOutcome:
        self.calls += 1
        self.inner.put_if_absent(record, deadline=deadline, indexed=indexed)
        return self.inner.put_if_absent(record, deadline=deadline, indexed=indexed)


def test_lost_answer_is_reported_as_stored_not_duplicate(store: EventStore) -> None:
    wrapped: Any = LostAnswerStore(store)
    for producer_id in ("p2", None):
        outcome = store_one(wrapped, draft(producer_id=producer_id), NOW)
        assert not outcome.duplicate
        assert store.get(ids.key_of(outcome.event_id)) is not None


def test_hash_collision_moves_to_the_next_probe(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = ids.producer_key

    def colliding(
        source: str, producer_id: str, probe: int = 0, *, space: str | None = None
    ) -> int:
        if probe == 0:
            return real("same", "key", 0)
        return real(source, producer_id, probe, space=space)

    monkeypatch.setattr(ids, "producer_key", colliding)
    a = store_one(store, draft(producer_id="a"), NOW)
    b = store_one(store, draft(producer_id="b"), NOW)
    b_again = store_one(store, draft(producer_id="b"), NOW + 1)
    assert a.event_id != b.event_id
    assert ids.key_of(a.event_id) != ids.key_of(b.event_id)
    assert b_again.duplicate
    assert b_again.event_id == b.event_id


def test_store_many_mixes_batch_writes_and_conditional_puts(store: EventStore) -> None:
    drafts = [
        draft(),
        draft(producer_id="x"),
        draft(producer_id="y"),
        draft(producer_id="x"),
        draft(),
    ]
    outcomes = store_many(store, drafts, NOW)
    assert [o.duplicate for o in outcomes] == [False, False, False, True, False]
    assert outcomes[3].event_id == outcomes[1].event_id
    assert len({o.event_id for o in outcomes}) == 4
    again = store_many(store, drafts[1:3], NOW + 10)
    assert [o.duplicate for o in again] == [True, True]


class FakeClient:
    def __init__(self, unprocessed_rounds: int, error: Exception | None = None) -> None:
        self.unprocessed_rounds = unprocessed_rounds
        self.error = error
        self.calls = 0

    def batch_write_item(self, RequestItems: dict[str, list[Any]]) -> dict[str, Any]:
        self.calls += 1
        if self.error is not None:
            raise self.error
        ((table, requests),) = RequestItems.items()
        if self.calls <= self.unprocessed_rounds:
            return {"UnprocessedItems": {table: requests[:1]}}
        return {"UnprocessedItems": {}}

    def put_item(self, **_: Any) -> dict[str, Any]:
        self.calls += 1
        assert self.error is not None
        raise self.error


def test_unprocessed_batch_items_are_retried() -> None:
    client = FakeClient(unprocessed_rounds=2)
    EventStore("t", client=client).put_many([{"pk": "a"}, {"pk": "b"}])  # type: ignore[arg-type]
    assert client.calls == 3


def test_unprocessed_items_that_never_clear_become_unavailable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(dynamodb, "WRITE_BUDGET_SECONDS", 0.2)
    client = FakeClient(unprocessed_rounds=10_000)
    with pytest.raises(StorageUnavailable):
        EventStore("t", client=client).put_many([{"pk": "a"}])  # type: ignore[arg-type]


_THROTTLE_RESPONSE: Any = {
    "Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"},
    "ResponseMetadata": {"HTTPStatusCode": 400},
}
THROTTLED = ClientError(_THROTTLE_RESPONSE, "PutItem")
TIMEOUT = ReadTimeoutError(endpoint_url="http://dynamodb")


@pytest.mark.parametrize("error", [THROTTLED, TIMEOUT], ids=["throttled", "timeout"])
def test_storage_errors_become_503(error: Exception, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dynamodb, "WRITE_BUDGET_SECONDS", 0.1)  # retried until then, not longer
    store: Any = EventStore("t", client=FakeClient(0, error))  # type: ignore[arg-type]
    with pytest.raises(ServiceUnavailable) as single:
        store_one(store, draft(producer_id="p"), NOW)
    with pytest.raises(ServiceUnavailable) as batch:
        store_many(store, [draft(), draft()], NOW)
    for raised in (single.value, batch.value):
        assert raised.status == 503
        assert raised.headers["Retry-After"] == "1"


def test_the_adapter_session_knows_dynamodb_without_scanning_every_service() -> None:
    from ingest.adapters.dynamodb import dynamodb_session

    session = dynamodb_session()
    assert session.get_component("data_loader").list_available_services("service-2") == ["dynamodb"]
    client = session.create_client("dynamodb", region_name="us-east-1")
    assert client.meta.service_model.service_name == "dynamodb"
