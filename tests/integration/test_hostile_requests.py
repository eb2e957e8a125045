"""Requests an attacker or a careless producer sends, through the real Lambda handler.

Each class of defect found in review has its cases here: numbers no decimal can hold, repeated
member names, forged webhook sources, reused idempotency keys, CloudEvents mode confusion, storage
errors leaking backend text, and requests that reach the function by another route.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from ingest import ids, runtime
from ingest.adapters.dynamodb import EventStore
from ingest.domain.webhooks.config import SourceConfig
from ingest.domain.webhooks.schemes import sign
from ingest.handler import lambda_handler
from ingest.routes import ROUTES, route_key_for

from tests.support import mocked_table

SECRET = "hostile-secret"
SOURCES = {
    "sources": {
        "github": {"scheme": "github", "secrets": [SECRET]},
        "plain": {
            "scheme": "hmac-sha256",
            "secrets": [SECRET],
            "header": "X-Signature",
            "id_header": "X-Delivery",
            "type_header": "X-Event",
        },
    }
}
HUGE_NUMBERS = [
    "1e999999999999999999999",
    "-1e999999999999999999999",
    "1e-999999999999999999999",
    "-2.5E+1000001",
    "1e1000000",
]


def api_event(
    body: str | bytes,
    *,
    path: str = "/events",
    method: str = "POST",
    headers: dict[str, str] | None = None,
    route_key: str | None = None,
) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": route_key if route_key is not None else route_key_for(path),
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json", **(headers or {})},
        "requestContext": {
            "http": {"method": method, "path": path, "sourceIp": "198.51.100.7", "userAgent": "t"},
            "requestId": f"req-{time.monotonic_ns()}",
            "stage": "$default",
        },
        "body": base64.b64encode(body).decode() if isinstance(body, bytes) else body,
        "isBase64Encoded": isinstance(body, bytes),
    }


def call(body: str | bytes, **kwargs: Any) -> tuple[int, dict[str, Any], dict[str, str]]:
    answer = lambda_handler(api_event(body, **kwargs), None)
    headers = {k.lower(): v for k, v in (answer.get("headers") or {}).items()}
    assert headers["content-type"] == "application/json"
    return answer["statusCode"], json.loads(answer["body"]), headers


def error_code(body: dict[str, Any]) -> str:
    assert set(body["error"]) == {"code", "message", "details"}
    return str(body["error"]["code"])


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Iterator[EventStore]:
    monkeypatch.setenv("EVENTS_TABLE", "hostile-events")
    monkeypatch.setenv("SOURCES", json.dumps(SOURCES))
    with mocked_table("hostile-events") as events:
        yield events


def count(store: EventStore) -> int:
    return int(store.client.scan(TableName=store.table_name, Select="COUNT")["Count"])


def github_delivery(body: bytes, delivery: str) -> dict[str, str]:
    config = SourceConfig.model_validate({"scheme": "github", "secrets": [SECRET]})
    return sign(config, body, SECRET, time.time(), delivery_id=delivery, event_type="push")


class TestNumbersNoDecimalHolds:
    @pytest.mark.parametrize("number", HUGE_NUMBERS)
    @pytest.mark.parametrize(
        "template",
        [
            '{"type":"t","data":NUM}',
            '{"type":"t","data":{"deep":[1,{"x":NUM}]}}',
            '[{"type":"ok"},{"type":"t","data":NUM}]',
            '{"type":"t","extension":NUM}',
        ],
        ids=["data", "nested", "batch-member", "extension"],
    )
    def test_events_answer_400_and_store_nothing(
        self, store: EventStore, template: str, number: str
    ) -> None:
        status, body, _ = call(template.replace("NUM", number))
        assert status == 400
        assert error_code(body) == "invalid_number"
        assert count(store) == 0

    @pytest.mark.parametrize("number", HUGE_NUMBERS)
    def test_cloudevents_binary_data_answers_400(self, store: EventStore, number: str) -> None:
        headers = {"ce-specversion": "1.0", "ce-type": "t", "ce-source": "s", "ce-id": "1"}
        status, body, _ = call(number, headers=headers)
        assert status == 400
        assert error_code(body) == "invalid_number"

    def test_large_but_representable_exponents_are_kept_exactly(self, store: EventStore) -> None:
        status, body, _ = call('{"type":"t","data":[1e999999,-1e-999999,0.1]}')
        assert status == 202
        item = store.get(ids.key_of(body["event_id"]))
        assert item is not None
        assert item["data"] == "[1E+999999,-1E-999999,0.1]"

    @pytest.mark.parametrize("number", HUGE_NUMBERS)
    def test_signed_webhooks_with_such_numbers_are_stored_exactly(
        self, store: EventStore, number: str
    ) -> None:
        raw = f'{{"n":{number}}}'.encode()
        status, body, _ = call(raw, path="/webhooks/github", headers=github_delivery(raw, number))
        assert status == 202
        item = store.get(ids.key_of(body["event_id"]))
        assert item is not None
        assert item["body"] == raw.decode()


class TestRepeatedMemberNames:
    @pytest.mark.parametrize(
        "text",
        [
            '{"type":"a","type":"b"}',
            '{"type":"a","data":{"x":1,"x":2}}',
            '{"type":"a","data":[{"k":{"y":1,"y":1}}]}',
            '[{"type":"a"},{"type":"b","id":"1","id":"2"}]',
            '{"type":"a","\\u0074ype":"b"}',  # the same name, escaped
            '{"type":"a","ext":{"":1,"":2}}',
        ],
    )
    def test_answer_400_duplicate_member(self, store: EventStore, text: str) -> None:
        status, body, _ = call(text)
        assert status == 400
        assert error_code(body) == "duplicate_member"
        assert count(store) == 0

    def test_in_cloudevents_binary_data(self, store: EventStore) -> None:
        headers = {"ce-specversion": "1.0", "ce-type": "t", "ce-source": "s", "ce-id": "1"}
        status, body, _ = call('{"a":1,"a":1}', headers=headers)
        assert status == 400
        assert error_code(body) == "duplicate_member"

    def test_structured_cloudevents(self, store: EventStore) -> None:
        headers = {"content-type": "application/cloudevents+json"}
        text = '{"specversion":"1.0","type":"t","source":"s","id":"1","id":"2"}'
        status, body, _ = call(text, headers=headers)
        assert (status, error_code(body)) == (400, "duplicate_member")


class TestWebhookSourcesCannotBeForged:
    @pytest.mark.parametrize("source", ["github", "plain"])
    def test_a_configured_webhook_source_is_reserved_on_events(
        self, store: EventStore, source: str
    ) -> None:
        status, body, _ = call(json.dumps({"type": "push", "source": source, "id": "d-1"}))
        assert status == 422
        assert error_code(body) == "reserved_source"
        assert body["error"]["details"][0]["field"] == "source"
        assert count(store) == 0

    def test_a_batch_names_the_forged_member(self, store: EventStore) -> None:
        batch = [{"type": "ok", "source": "shop"}, {"type": "push", "source": "github"}]
        status, body, _ = call(json.dumps(batch))
        assert (status, error_code(body)) == (422, "reserved_source")
        assert [d["index"] for d in body["error"]["details"]] == [1]
        assert count(store) == 0

    @pytest.mark.parametrize(
        "headers",
        [
            {"content-type": "application/cloudevents+json"},
            {"ce-specversion": "1.0", "ce-type": "t", "ce-source": "github", "ce-id": "d"},
        ],
    )
    def test_in_cloudevents_modes(self, store: EventStore, headers: dict[str, str]) -> None:
        text = '{"specversion":"1.0","type":"t","source":"github","id":"d"}'
        status, body, _ = call(text, headers=headers)
        assert (status, error_code(body)) == (422, "reserved_source")

    def test_unconfigured_names_are_free(self, store: EventStore) -> None:
        status, _, _ = call(json.dumps({"type": "t", "source": "GitHub", "id": "x"}))
        assert status == 202

    def test_an_events_record_never_pre_empts_a_signed_delivery(
        self, store: EventStore, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Stored while "later" was not a webhook source; then the name is configured for webhooks.
        status, first, _ = call(json.dumps({"type": "push", "source": "later", "id": "d-7"}))
        assert status == 202
        sources = {"sources": {**SOURCES["sources"], "later": SOURCES["sources"]["github"]}}
        monkeypatch.setenv("SOURCES", json.dumps(sources))
        runtime.reset()
        raw = b'{"action":"opened"}'
        status, second, _ = call(raw, path="/webhooks/later", headers=github_delivery(raw, "d-7"))
        assert status == 202
        assert second["event_id"] != first["event_id"]
        status, again, _ = call(raw, path="/webhooks/later", headers=github_delivery(raw, "d-7"))
        assert (status, again["duplicate"], again["event_id"]) == (200, True, second["event_id"])
        assert count(store) == 2

    def test_the_default_source_cannot_be_configured_for_webhooks(self) -> None:
        from ingest.domain.webhooks.config import SourcesDocumentError, parse_sources_document

        with pytest.raises(SourcesDocumentError, match="default"):
            parse_sources_document(json.dumps({"sources": {"default": {"scheme": "none"}}}))


class TestIdempotencyKey:
    def test_reuse_with_other_content_is_422_and_stores_nothing(self, store: EventStore) -> None:
        key = {"idempotency-key": "order-1001"}
        status, first, _ = call('{"type":"t","data":{"total":10}}', headers=key)
        assert status == 202
        status, body, headers = call('{"type":"t","data":{"total":99}}', headers=key)
        assert (status, error_code(body)) == (422, "idempotency_key_reused")
        assert "retry-after" not in headers
        assert count(store) == 1
        item = store.get(ids.key_of(first["event_id"]))
        assert item is not None
        assert item["data"] == '{"total":10}'

    @pytest.mark.parametrize(
        "other",
        [
            '{"type":"u","data":{"total":10}}',
            '{"type":"t","data":{"total":10},"subject":"x"}',
            '{"type":"t","data":{"total":10},"ext":1}',
            '{"type":"t","data":{"total":10.0}}',
            '{"type":"t"}',
        ],
    )
    def test_any_change_of_content_counts(self, store: EventStore, other: str) -> None:
        key = {"idempotency-key": "k-any"}
        assert call('{"type":"t","data":{"total":10}}', headers=key)[0] == 202
        status, body, _ = call(other, headers=key)
        assert (status, error_code(body)) == (422, "idempotency_key_reused")

    def test_the_same_content_stays_a_duplicate_whatever_its_framing(
        self, store: EventStore
    ) -> None:
        key = {"idempotency-key": "k-same"}
        status, first, _ = call('{"type":"t","data":{"a":1}}', headers=key)
        assert status == 202
        status, again, _ = call('{ "data" : {"a":1} ,\n "type":"t"}', headers=key)
        assert status == 200
        assert again == {**first, "duplicate": True}

    @pytest.mark.parametrize("key", ["a\x00b", "line\nbreak", "tab\tkey", "del\x7f", "c1\x85"])
    def test_control_characters_are_a_400(self, store: EventStore, key: str) -> None:
        status, body, _ = call('{"type":"t"}', headers={"idempotency-key": key})
        assert (status, error_code(body)) == (400, "invalid_idempotency_key")
        assert count(store) == 0

    def test_an_id_in_the_body_still_wins(self, store: EventStore) -> None:
        status, first, _ = call(
            '{"type":"t","id":"own","data":1}', headers={"idempotency-key": "k"}
        )
        assert status == 202
        status, again, _ = call(
            '{"type":"t","id":"own","data":2}', headers={"idempotency-key": "k"}
        )
        assert (status, again["event_id"]) == (200, first["event_id"])


class TestCloudEventsMode:
    def test_structured_content_type_wins_over_ce_headers(self, store: EventStore) -> None:
        headers = {
            "content-type": "application/cloudevents+json; charset=utf-8",
            "ce-specversion": "1.0",
            "ce-type": "from.header",
            "ce-source": "header-source",
            "ce-id": "h-1",
        }
        text = '{"specversion":"1.0","type":"from.body","source":"body-source","id":"b-1","data":{"n":1}}'
        status, body, _ = call(text, headers=headers)
        assert status == 202
        item = store.get(ids.key_of(body["event_id"]))
        assert item is not None
        assert (item["type"], item["source"], item["id"]) == ("from.body", "body-source", "b-1")
        assert item["data"] == '{"n":1}'

    def test_batch_content_type_wins_over_ce_headers(self, store: EventStore) -> None:
        headers = {"content-type": "application/cloudevents-batch+json", "ce-specversion": "1.0"}
        status, body, _ = call('[{"specversion":"1.0","type":"a","source":"s"}]', headers=headers)
        assert status == 202
        assert body["accepted"] == 1

    def test_other_cloudevents_formats_are_415(self, store: EventStore) -> None:
        headers = {"content-type": "application/cloudevents+xml", "ce-specversion": "1.0"}
        status, body, _ = call("<event/>", headers=headers)
        assert (status, error_code(body)) == (415, "unsupported_media_type")


def _client_error(code: str, message: str, status: int) -> ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, "PutItem")


LEAKY = "User: arn:aws:sts::123456789012:assumed-role/ingest-prod/fn is not authorized"


class TestStorageErrorsStayInside:
    @pytest.mark.parametrize(
        "failure",
        [
            _client_error("AccessDeniedException", LEAKY, 400),
            _client_error(
                "ResourceNotFoundException",
                "Requested resource not found: arn:aws:dynamodb:us-east-1:123456789012:table/x",
                400,
            ),
            _client_error("ValidationException", "One or more parameter values were invalid", 400),
            _client_error("UnrecognizedClientException", "The security token is invalid", 400),
        ],
        ids=["access-denied", "table-missing", "validation", "bad-token"],
    )
    @pytest.mark.parametrize("body", ['{"type":"t","id":"1"}', '[{"type":"t"},{"type":"u"}]'])
    def test_a_broken_deployment_is_500_internal_without_retry_after(
        self,
        store: EventStore,
        monkeypatch: pytest.MonkeyPatch,
        failure: ClientError,
        body: str,
    ) -> None:
        def broken(*_: Any, **__: Any) -> Any:
            raise failure

        monkeypatch.setattr(store.client, "put_item", broken)
        monkeypatch.setattr(store.client, "batch_write_item", broken)
        runtime.reset(runtime.Runtime(runtime.current().settings, store))
        status, answer, headers = call(body)
        assert status == 500
        assert answer["error"]["code"] == "internal"
        assert "retry-after" not in headers
        text = json.dumps(answer)
        for leak in ("arn:", "123456789012", failure.response["Error"]["Message"], "Exception"):
            assert leak not in text

    @pytest.mark.parametrize(
        "failure",
        [
            _client_error("ProvisionedThroughputExceededException", LEAKY, 400),
            _client_error("ThrottlingException", LEAKY, 400),
            _client_error("InternalServerError", LEAKY, 500),
            EndpointConnectionError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com/"),
        ],
        ids=["throughput", "throttling", "server", "unreachable"],
    )
    def test_a_busy_backend_is_503_with_a_fixed_message(
        self, store: EventStore, monkeypatch: pytest.MonkeyPatch, failure: Exception
    ) -> None:
        def busy(*_: Any, **__: Any) -> Any:
            raise failure

        monkeypatch.setattr(store.client, "put_item", busy)
        runtime.reset(runtime.Runtime(runtime.current().settings, store))
        status, answer, headers = call('{"type":"t"}')
        assert status == 503
        assert headers["retry-after"] == "1"
        text = json.dumps(answer)
        assert "arn:" not in text
        assert "123456789012" not in text
        assert "amazonaws.com" not in text
        assert "Exception" not in text

    def test_an_unexpected_defect_is_a_json_500(
        self, store: EventStore, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def defect(*_: Any, **__: Any) -> Any:
            raise KeyError("secret internal detail")

        monkeypatch.setattr(store.client, "put_item", defect)
        runtime.reset(runtime.Runtime(runtime.current().settings, store))
        status, answer, _ = call('{"type":"t"}')
        assert (status, answer["error"]["code"]) == (500, "internal")
        assert "secret internal detail" not in json.dumps(answer)


class TestRouteKeys:
    @pytest.mark.parametrize(
        "route_key", ["$default", "ANY /health", "GET /events", "ANY /{proxy+}"]
    )
    def test_events_are_served_only_by_their_own_route(
        self, store: EventStore, route_key: str
    ) -> None:
        status, body, _ = call('{"type":"t"}', route_key=route_key)
        assert (status, error_code(body)) == (404, "not_found")
        assert count(store) == 0

    @pytest.mark.parametrize("method", ["post", "Post", "PUT", "GET", "DELETE", "PATCH"])
    def test_methods_are_case_sensitive(self, store: EventStore, method: str) -> None:
        status, body, headers = call('{"type":"t"}', method=method)
        assert (status, error_code(body)) == (405, "method_not_allowed")
        assert headers["allow"] == "POST"
        assert count(store) == 0

    def test_webhooks_need_their_route_too(self, store: EventStore) -> None:
        raw = b"{}"
        status, _, _ = call(
            raw, path="/webhooks/github", headers=github_delivery(raw, "r"), route_key="$default"
        )
        assert status == 404
        assert count(store) == 0

    def test_every_route_is_served_by_its_own_key(self, store: EventStore) -> None:
        served = {
            route.template: call(
                b"{}" if route.method == "POST" else "",
                path=route.template.replace("{source}", "github"),
                method=route.method,
            )[0]
            for route in ROUTES
            if route.requires is None  # a handshake route: tested with the webhooks
        }
        # /webhooks/github without a signature is a 401: served, and rejected by its verifier.
        assert served == {"/events": 422, "/webhooks/{source}": 401, "/health": 200}

    def test_unknown_paths_are_404(self, store: EventStore) -> None:
        for path in ("/", "/event", "/events/", "/webhooks", "/webhooks/a/b", "/health/x"):
            assert route_key_for(path) == "$default"
            status, body, _ = call('{"type":"t"}', path=path)
            assert (status, error_code(body)) == (404, "not_found")


def _deliver_with_secret(
    monkeypatch: pytest.MonkeyPatch, secret_id: str, delivery_id: str
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """A GitHub delivery to a source whose secret is read from ``secret_id``."""
    sources = {"sources": {"vault": {"scheme": "github", "secret_id": secret_id}}}
    monkeypatch.setenv("SOURCES", json.dumps(sources))
    runtime.reset()
    return call(b"{}", path="/webhooks/vault", headers=github_delivery(b"{}", delivery_id))


class TestConfigurationFailures:
    """The sources document and webhook secrets: a passing fault is a 503, a broken one a 500."""

    def test_a_missing_sources_parameter_is_500_on_both_routes(
        self, store: EventStore, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("SOURCES", "ssm:/ingest/no-such-parameter")
        runtime.reset()
        status, body, headers = call('{"type":"t","source":"shop"}')
        assert (status, body["error"]["code"]) == (500, "internal")
        assert "retry-after" not in headers
        assert "no-such-parameter" not in json.dumps(body)
        status, body, _ = call(b"{}", path="/webhooks/github", headers=github_delivery(b"{}", "1"))
        assert (status, body["error"]["code"]) == (500, "internal")
        # Events that name no source need no sources document.
        assert call('{"type":"t"}')[0] == 202

    def test_a_missing_secret_is_500(
        self, store: EventStore, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        status, body, headers = _deliver_with_secret(monkeypatch, "ingest/no-such", "2")
        assert (status, body["error"]["code"]) == (500, "internal")
        assert "retry-after" not in headers
        assert "no-such" not in json.dumps(body)

    def test_a_throttled_secret_store_is_503(
        self, store: EventStore, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from aws_lambda_powertools.utilities import parameters

        def throttled(*_: Any, **__: Any) -> Any:
            try:
                raise _client_error("ThrottlingException", "Rate exceeded for arn:aws:...", 400)
            except ClientError as exc:
                raise parameters.exceptions.GetParameterError(str(exc))  # noqa: B904 - as Powertools does

        monkeypatch.setattr(parameters, "get_secret", throttled)
        status, body, headers = _deliver_with_secret(monkeypatch, "ingest/busy", "3")
        assert (status, body["error"]["code"]) == (503, "storage_unavailable")
        assert headers["retry-after"] == "1"
        assert "arn:" not in json.dumps(body)
