"""Every provider scheme through the real Lambda handler against moto's DynamoDB: a delivery is
stored (202) with the provider's type and id, its redelivery answers 200 ``duplicate``, a forged one
401 and nothing is stored; handshakes are answered and not stored; credentials never reach the
stored headers; and the CloudEvents webhook validation handshake on ``OPTIONS``."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from ingest.adapters.dynamodb import EventStore
from ingest.handler import lambda_handler
from ingest.routes import route_key_for

from tests.support import mocked_table
from tests.webhook_providers import PROVIDERS, Provider, Request, deliver

TABLE = "provider-events"


def source_document() -> dict[str, Any]:
    sources: dict[str, Any] = {
        name: {"scheme": name, "secrets": list(p.keys), **p.options}
        for name, p in PROVIDERS.items()
    }
    sources["ce"] = {
        "scheme": "token",
        "secrets": ["t0ken-value"],
        "header": "Authorization",
        "prefix": "Bearer ",
        "allowed_origins": ["eventemitter.example.com"],
        "allowed_rate": 120,
    }
    sources["ce-any"] = {**sources["ce"], "allowed_origins": ["*"]}
    del sources["ce-any"]["allowed_rate"]
    return {"sources": sources}


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Iterator[EventStore]:
    monkeypatch.setenv("EVENTS_TABLE", TABLE)
    monkeypatch.setenv("SOURCES", json.dumps(source_document()))
    with mocked_table(TABLE) as events:
        yield events


def invoke(
    source: str, request: Request, *, method: str = "POST", headers: dict[str, str] | None = None
) -> dict[str, Any]:
    path = f"/webhooks/{source}"
    event = {
        "version": "2.0",
        "routeKey": route_key_for(path),
        "rawPath": path,
        "rawQueryString": request.query,
        "headers": {"content-type": "application/json", **request.headers, **(headers or {})},
        "requestContext": {
            "http": {"method": method, "path": path, "sourceIp": "198.51.100.7", "userAgent": "t"},
            "requestId": f"req-{time.monotonic_ns()}",
            "stage": "$default",
        },
        "body": base64.b64encode(request.body).decode(),
        "isBase64Encoded": True,
    }
    answer: dict[str, Any] = lambda_handler(event, None)
    return answer


def records(store: EventStore) -> list[dict[str, Any]]:
    items = store.client.scan(TableName=store.table_name)["Items"]
    return [{name: next(iter(value.values())) for name, value in item.items()} for item in items]


def now_request(provider: Provider, **kwargs: Any) -> Request:
    return deliver(provider, at=time.time(), **kwargs)


@pytest.mark.parametrize("scheme", sorted(PROVIDERS))
def test_a_delivery_is_stored_once_and_its_redelivery_is_a_duplicate(
    store: EventStore, scheme: str
) -> None:
    provider = PROVIDERS[scheme]
    request = now_request(provider)
    first = invoke(scheme, request)
    assert first["statusCode"] == 202, first["body"]
    again = invoke(scheme, now_request(provider))
    assert again["statusCode"] == 200, again["body"]
    assert json.loads(again["body"]) == {**json.loads(first["body"]), "duplicate": True}
    [record] = records(store)
    assert (record["source"], record["type"], record["id"]) == (
        scheme,
        provider.expected.event_type,
        provider.expected.delivery_id,
    )
    kept = json.loads(record["headers"])
    credentials = {"authorization", "x-gitlab-token", "x-webhook-token"}
    assert not credentials & set(kept)
    assert provider.signer not in record["headers"]


@pytest.mark.parametrize("scheme", sorted(PROVIDERS))
def test_a_forged_delivery_is_401_and_stores_nothing(store: EventStore, scheme: str) -> None:
    provider = PROVIDERS[scheme]
    answer = invoke(scheme, now_request(provider, signer=provider.other_signer))
    assert answer["statusCode"] == 401
    assert json.loads(answer["body"])["error"]["code"] == "webhook_rejected"
    assert records(store) == []


def test_basic_rejections_carry_a_challenge(store: EventStore) -> None:
    provider = PROVIDERS["basic"]
    request = now_request(provider)
    bare = Request({k: v for k, v in request.headers.items() if k != "authorization"}, request.body)
    answer = invoke("basic", bare)
    assert answer["statusCode"] == 401
    assert answer["headers"]["WWW-Authenticate"].startswith("Basic realm=")


def test_zoom_url_validation_is_answered_and_not_stored(store: EventStore) -> None:
    provider = PROVIDERS["zoom"]
    body = b'{"payload":{"plainToken":"abc"},"event_ts":1,"event":"endpoint.url_validation"}'
    answer = invoke("zoom", now_request(provider, body=body))
    assert answer["statusCode"] == 200
    assert set(json.loads(answer["body"])) == {"plainToken", "encryptedToken"}
    assert records(store) == []


def test_twitch_challenge_is_answered_as_plain_text(store: EventStore) -> None:
    provider = PROVIDERS["twitch"]
    body = b'{"challenge":"c-123","subscription":{"type":"channel.follow"}}'
    answer = invoke("twitch", now_request(provider, body=body))
    assert answer["statusCode"] == 200
    assert answer["headers"]["Content-Type"].startswith("text/plain")
    assert answer["body"] == "c-123"
    assert records(store) == []


def test_discord_ping_is_answered_with_a_pong(store: EventStore) -> None:
    provider = PROVIDERS["discord"]
    answer = invoke("discord", now_request(provider, body=b'{"id":"1","type":1}'))
    assert (answer["statusCode"], json.loads(answer["body"])) == (200, {"type": 1})
    assert records(store) == []


def options(source: str, headers: dict[str, str]) -> dict[str, Any]:
    return invoke(source, Request({}, b""), method="OPTIONS", headers=headers)


def test_cloudevents_validation_is_granted_to_an_allowed_origin(store: EventStore) -> None:
    answer = options("ce", {"webhook-request-origin": "eventemitter.example.com"})
    assert answer["statusCode"] == 200
    assert answer["headers"]["WebHook-Allowed-Origin"] == "eventemitter.example.com"
    assert answer["headers"]["WebHook-Allowed-Rate"] == "120"
    anyone = options("ce-any", {"webhook-request-origin": "other.example.org"})
    assert anyone["statusCode"] == 200
    assert anyone["headers"]["WebHook-Allowed-Rate"] == "*"
    assert records(store) == []


def test_cloudevents_validation_is_refused_elsewhere(store: EventStore) -> None:
    other = options("ce", {"webhook-request-origin": "attacker.example.net"})
    assert (other["statusCode"], json.loads(other["body"])["error"]["code"]) == (
        403,
        "origin_not_allowed",
    )
    not_configured = options("github-less", {"webhook-request-origin": "eventemitter.example.com"})
    assert not_configured["statusCode"] == 404
    unset = options("gitlab", {"webhook-request-origin": "eventemitter.example.com"})
    assert unset["statusCode"] == 403


def test_options_without_the_origin_header_stays_405(store: EventStore) -> None:
    answer = options("ce", {})
    assert answer["statusCode"] == 405
    assert answer["headers"]["Allow"] == "POST"
    put = invoke("ce", Request({}, b"{}"), method="PUT")
    assert (put["statusCode"], put["headers"]["Allow"]) == (405, "POST")


def test_a_cloudevents_sender_then_delivers_with_its_token(store: EventStore) -> None:
    headers = {"authorization": "Bearer t0ken-value", "webhook-request-origin": "x"}
    answer = invoke("ce", Request(headers, b'{"specversion":"1.0"}'))
    assert answer["statusCode"] == 202
    [record] = records(store)
    assert "authorization" not in json.loads(record["headers"])
