"""Large payloads by claim check, in process against moto (docs/decisions/0034): the object is put
before the item, under its content's digest, and read back exactly; nothing is stored beyond the
platform's limit; S3's failures answer 503 when they may pass and 500 when the deployment is
broken, and then no item is written."""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from ingest import ids, limits
from ingest.adapters import dynamodb
from ingest.adapters.codec import Claim
from ingest.adapters.dynamodb import EventStore, StorageBroken, StorageUnavailable
from ingest.adapters.payloads import PayloadObjects
from ingest.domain.webhooks.config import SourceConfig
from ingest.domain.webhooks.schemes import sign
from ingest.handler import lambda_handler
from ingest.routes import route_key_for

from scripts.harness import REGION
from tests.support import mocked_table

BUCKET = "payload-bucket"
TABLE = "claim-events"
SECRET = "github-secret"
GITHUB = {"scheme": "github", "secrets": [SECRET]}


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Iterator[EventStore]:
    """The handler's table and payload bucket in moto; the store the handler writes with."""
    monkeypatch.setenv("EVENTS_TABLE", TABLE)
    monkeypatch.setenv("PAYLOAD_BUCKET", BUCKET)
    monkeypatch.setenv("SOURCES", json.dumps({"sources": {"gh": GITHUB}}))
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    with mocked_table(TABLE):
        PayloadObjects(region_name=REGION).ensure_bucket(BUCKET)
        yield EventStore(TABLE, region_name=REGION, payload_bucket=BUCKET)


def objects(store: EventStore) -> list[str]:
    listed = store.payload_objects.client.list_objects_v2(Bucket=BUCKET)
    return [entry["Key"] for entry in listed.get("Contents", [])]


def items(store: EventStore) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = store.client.scan(TableName=TABLE)["Items"]
    return found


def record(body: bytes, delivery: str = "d-1") -> dynamodb.Record:
    key = ids.producer_key("gh", delivery, 0, space=ids.WEBHOOK_SPACE)
    event_id = ids.new_event_id(key, int(time.time() * 1000))
    return {
        "pk": ids.key_of(event_id),
        "event_id": event_id,
        "source": "gh",
        "type": "push",
        "id": delivery,
        "request_id": "r-1",
        "body": body,
        "size": len(body),
    }


def delivery_event(body: bytes, delivery: str = "d-1") -> dict[str, Any]:
    """API Gateway's event for a signed GitHub delivery (a text body travels as a string)."""
    config = SourceConfig.model_validate(GITHUB)
    headers = sign(config, body, SECRET, time.time(), delivery_id=delivery, event_type="push")
    path = "/webhooks/gh"
    return {
        "version": "2.0",
        "routeKey": route_key_for(path),
        "rawPath": path,
        "rawQueryString": "",
        "headers": {
            "content-type": "application/json",
            **{k.lower(): v for k, v in headers.items()},
        },
        "requestContext": {
            "http": {"method": "POST", "path": path, "sourceIp": "203.0.113.9", "userAgent": "t"},
            "requestId": f"req-{delivery}",
            "stage": "$default",
        },
        "body": body.decode(),
        "isBase64Encoded": False,
    }


def github_payload(size: int) -> bytes:
    """A GitHub-style push delivery of exactly ``size`` bytes (its commits pad it)."""
    head = b'{"ref":"refs/heads/main","commits":[{"message":"'
    tail = b'"}]}'
    filler = base64.b64encode(os.urandom(size)).decode()  # little that deflate can shrink
    return head + filler[: size - len(head) - len(tail)].encode() + tail


def failing(code: str, status: int, times: int | None = None) -> Any:
    """A PayloadObjects.put that fails with S3's ``code`` (``times`` times, else always)."""
    calls: list[Claim] = []
    real = PayloadObjects.put

    def put(self: PayloadObjects, claim: Claim) -> None:
        calls.append(claim)
        if times is None or len(calls) <= times:
            answer: Any = {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
            raise ClientError(answer, "PutObject")
        real(self, claim)

    put.calls = calls  # type: ignore[attr-defined]
    return put


def test_a_large_body_is_put_first_then_referenced_and_read_back_exactly(
    store: EventStore,
) -> None:
    body = os.urandom(4 * 1024 * 1024)
    assert store.put_if_absent(record(body)).stored
    (key,) = objects(store)
    (item,) = items(store)
    assert item["body"] == {"S": f"s3://{BUCKET}/{key}"}
    assert item["codec"] == {"S": "s3"}
    assert key == f"payloads/{item['sha256']['S']}"
    assert item["payload_size"] == {"N": str(len(body))}
    assert store.get(item["pk"]["S"])["body"] == body  # type: ignore[index]
    # The same write again (a retried request): the same object, and the item is found.
    again = store.put_if_absent(record(body))
    assert not again.stored
    assert again.existing is not None
    assert objects(store) == [key]


def test_s3_failures_that_pass_are_retried(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dynamodb, "BACKOFF_BASE_SECONDS", 0.001)
    put = failing("SlowDown", 503, times=2)
    monkeypatch.setattr(PayloadObjects, "put", put)
    assert store.put_if_absent(record(os.urandom(100 * 1024))).stored
    assert len(put.calls) == 3
    assert len(objects(store)) == len(items(store)) == 1


@pytest.mark.parametrize(
    ("code", "status", "raised"),
    [
        ("SlowDown", 503, StorageUnavailable),  # still throttled when the deadline comes
        ("InternalError", 500, StorageUnavailable),
        ("AccessDenied", 403, StorageBroken),  # the role may not put: never retried
        ("NoSuchBucket", 404, StorageBroken),
    ],
)
def test_when_s3_fails_no_item_is_written(
    store: EventStore,
    monkeypatch: pytest.MonkeyPatch,
    code: str,
    status: int,
    raised: type[Exception],
) -> None:
    monkeypatch.setattr(dynamodb, "BACKOFF_BASE_SECONDS", 0.001)
    put = failing(code, status)
    monkeypatch.setattr(PayloadObjects, "put", put)
    with pytest.raises(raised):
        store.put_if_absent(record(os.urandom(100 * 1024)), deadline=time.monotonic() + 0.2)
    assert items(store) == []
    assert (len(put.calls) == 1) is (raised is StorageBroken)  # only what may pass is retried


def test_a_4_mib_github_delivery_is_accepted_and_stored_by_reference(store: EventStore) -> None:
    body = github_payload(4 * 1024 * 1024)
    answer = lambda_handler(delivery_event(body), None)
    assert answer["statusCode"] == 202, answer["body"]
    event_id = json.loads(answer["body"])["event_id"]
    stored = store.get(ids.key_of(event_id))
    assert stored is not None
    assert stored["body"] == body.decode()  # UTF-8 bodies read back as text, byte for byte
    assert stored["size"] == len(body)
    assert len(objects(store)) == 1


def test_a_body_over_the_platform_limit_is_413_and_nothing_is_stored(store: EventStore) -> None:
    body = github_payload(limits.MAX_WEBHOOK_BYTES + 1)
    answer = lambda_handler(delivery_event(body), None)
    assert answer["statusCode"] == 413
    error = json.loads(answer["body"])["error"]
    assert error["code"] == "payload_too_large"
    assert str(limits.MAX_WEBHOOK_BYTES) in error["message"]
    assert items(store) == []
    assert objects(store) == []
    at_limit = github_payload(limits.MAX_WEBHOOK_BYTES)
    assert lambda_handler(delivery_event(at_limit, "d-2"), None)["statusCode"] == 202


@pytest.mark.parametrize(
    ("code", "status", "answer", "error"),
    [
        ("SlowDown", 503, 503, "storage_unavailable"),
        ("AccessDenied", 403, 500, "internal"),
    ],
)
def test_a_delivery_whose_object_cannot_be_put_is_not_acknowledged(
    store: EventStore,
    monkeypatch: pytest.MonkeyPatch,
    code: str,
    status: int,
    answer: int,
    error: str,
) -> None:
    monkeypatch.setattr(dynamodb, "WRITE_BUDGET_SECONDS", 0.2)
    monkeypatch.setattr(dynamodb, "BACKOFF_BASE_SECONDS", 0.001)
    monkeypatch.setattr(PayloadObjects, "put", failing(code, status))
    reply = lambda_handler(delivery_event(github_payload(200 * 1024)), None)
    assert reply["statusCode"] == answer
    assert json.loads(reply["body"])["error"]["code"] == error
    assert ("Retry-After" in reply["headers"]) is (answer == 503)
    assert items(store) == []


def test_events_data_over_the_budget_is_stored_by_reference_too(store: EventStore) -> None:
    data = base64.b64encode(os.urandom(150 * 1024)).decode()
    event = {"type": "file.uploaded", "id": "f-1", "data": {"blob": data, "n": 1.10}}
    reply = lambda_handler(
        {
            "version": "2.0",
            "routeKey": route_key_for("/events"),
            "rawPath": "/events",
            "headers": {"content-type": "application/json"},
            "requestContext": {
                "http": {"method": "POST", "path": "/events"},
                "requestId": "r",
                "stage": "$default",
            },
            "body": json.dumps(event),
            "isBase64Encoded": False,
        },
        None,
    )
    assert reply["statusCode"] == 202, reply["body"]
    (item,) = items(store)
    assert item["codec"] == {"S": "s3"}
    stored = store.get(item["pk"]["S"])
    assert stored is not None
    assert stored["data"] == json.dumps({"blob": data, "n": 1.10}, separators=(",", ":"))
