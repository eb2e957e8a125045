"""Writes persist through passing faults on their own: the SDK makes one attempt, the adapter
retries only the writes that failed, with jittered backoff, inside the request's deadline, and
never retries a failure that says the deployment is broken (docs/decisions/0026)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError
from ingest.adapters import dynamodb
from ingest.adapters.dynamodb import EventStore, StorageBroken, StorageUnavailable
from ingest.domain.store import Draft, RequestContext, enrich, store_one

NOW = 1_780_000_000_123


def client_error(code: str, status: int, operation: str = "PutItem") -> ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": code},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, operation)


THROTTLED = client_error("ProvisionedThroughputExceededException", 400)
FAILED = client_error("InternalServerError", 500)
DENIED = client_error("AccessDeniedException", 400)
LOST = ConnectionClosedError(endpoint_url="http://dynamodb")


class ScriptedClient:
    """put_item / batch_write_item answer from a script: an exception to raise, "lost" (the write
    lands and the answer is lost), or "ok"."""

    def __init__(self, script: list[Any]) -> None:
        self.script = list(script)
        self.stored: dict[str, dict[str, Any]] = {}
        self.calls: list[Any] = []

    def _next(self) -> Any:
        return self.script.pop(0) if self.script else "ok"

    def put_item(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        step = self._next()
        if isinstance(step, Exception):
            raise step
        pk = kwargs["Item"]["pk"]["S"]
        if pk in self.stored:
            conflict: Any = {
                "Error": {"Code": "ConditionalCheckFailedException", "Message": "exists"},
                "ResponseMetadata": {"HTTPStatusCode": 400},
                "Item": self.stored[pk],
            }
            raise ClientError(conflict, "PutItem")
        self.stored[pk] = kwargs["Item"]
        if step == "lost":
            raise LOST
        return {}

    def batch_write_item(self, RequestItems: dict[str, list[Any]]) -> dict[str, Any]:
        ((table, requests),) = RequestItems.items()
        self.calls.append([r["PutRequest"]["Item"]["pk"]["S"] for r in requests])
        step = self._next()
        if isinstance(step, Exception):
            raise step
        if isinstance(step, int):  # leave the last `step` items unprocessed
            done, left = requests[: len(requests) - step], requests[len(requests) - step :]
        else:
            done, left = requests, []
        for request in done:
            self.stored[request["PutRequest"]["Item"]["pk"]["S"]] = request["PutRequest"]["Item"]
        return {"UnprocessedItems": {table: left} if left else {}}


def draft(producer_id: str | None = "p-1") -> Draft:
    ctx = RequestContext(request_id="r-1", now_ms=NOW, retention_days=7)
    return Draft("s", producer_id, enrich(ctx, "s", "t", producer_id))


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dynamodb, "BACKOFF_BASE_SECONDS", 0.001)
    monkeypatch.setattr(dynamodb, "BACKOFF_CAP_SECONDS", 0.004)


def test_the_sdk_makes_one_attempt_and_the_adapter_retries() -> None:
    writer: Any = EventStore("t", region_name="us-east-1").client.meta.config
    assert writer.retries == {"mode": "standard", "total_max_attempts": 1}
    reader: Any = EventStore("t", region_name="us-east-1", read_timeout=30).client.meta.config
    assert reader.retries["total_max_attempts"] == 6


def test_passing_faults_are_retried_until_the_write_lands() -> None:
    client = ScriptedClient([THROTTLED, FAILED, THROTTLED, LOST])
    outcome = store_one(EventStore("t", client=client), draft(), NOW)  # type: ignore[arg-type]
    assert not outcome.duplicate
    assert len(client.calls) == 5  # four faults, then the retry meets our own item
    assert len(client.stored) == 1


def test_a_lost_answer_costs_no_read_and_is_ours() -> None:
    client = ScriptedClient(["lost"])
    outcome = store_one(EventStore("t", client=client), draft(), NOW)  # type: ignore[arg-type]
    assert not outcome.duplicate
    assert [call["ReturnValuesOnConditionCheckFailure"] for call in client.calls] == ["ALL_OLD"] * 2
    assert not hasattr(client, "get_item")


def test_a_broken_deployment_is_never_retried() -> None:
    client = ScriptedClient([DENIED])
    with pytest.raises(StorageBroken):
        EventStore("t", client=client).put_if_absent({"pk": "a"})  # type: ignore[arg-type]
    assert len(client.calls) == 1
    client = ScriptedClient([client_error("ValidationException", 400, "BatchWriteItem")])
    with pytest.raises(StorageBroken):
        EventStore("t", client=client).put_many([{"pk": "a"}])  # type: ignore[arg-type]
    assert len(client.calls) == 1


def test_retries_stop_at_the_deadline() -> None:
    client = ScriptedClient([THROTTLED] * 10_000)
    store = EventStore("t", client=client)  # type: ignore[arg-type]
    started = time.monotonic()
    with pytest.raises(StorageUnavailable, match="attempts"):
        store.put_if_absent({"pk": "a"}, deadline=started + 0.3)
    assert 0.25 < time.monotonic() - started < 0.5
    assert len(client.calls) > 10


def test_only_unprocessed_or_failed_batch_items_are_sent_again() -> None:
    client = ScriptedClient([2, LOST, 1])
    records: list[dynamodb.Record] = [{"pk": f"k{n}"} for n in range(5)]
    EventStore("t", client=client).put_many(records)  # type: ignore[arg-type]
    assert client.calls == [
        ["k0", "k1", "k2", "k3", "k4"],
        ["k3", "k4"],  # the two left unprocessed
        ["k3", "k4"],  # the call that failed, again
        ["k4"],
    ]
    assert sorted(client.stored) == [f"k{n}" for n in range(5)]


def test_the_request_deadline_follows_lambdas_remaining_time() -> None:
    token = dynamodb.set_request_deadline(remaining_seconds=4.0)
    try:
        left = dynamodb.write_deadline() - time.monotonic()
        assert 0.4 < left <= 4.0 - dynamodb.DEADLINE_MARGIN_SECONDS
    finally:
        dynamodb.clear_request_deadline(token)
    token = dynamodb.set_request_deadline(remaining_seconds=None)
    try:
        left = dynamodb.write_deadline() - time.monotonic()
        assert dynamodb.WRITE_BUDGET_SECONDS - 0.1 < left <= dynamodb.WRITE_BUDGET_SECONDS
    finally:
        dynamodb.clear_request_deadline(token)
    assert dynamodb.WRITE_BUDGET_SECONDS + 3 < 10  # inside the function's default timeout
