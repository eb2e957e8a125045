"""POST /events, GET /health and routing, through the local HTTP server (contract section 3)."""

from __future__ import annotations

import http.client
import json
import re
import uuid
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.support import Reply, Server

RFC3339_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def uid() -> str:
    return uuid.uuid4().hex


def by_event_id(server: Server, event_id: str) -> dict[str, Any]:
    from ingest import ids

    item = server.store().get(ids.key_of(event_id))
    assert item is not None
    assert item["event_id"] == event_id
    return dict(item)


def assert_error(reply: Reply, status: int, code: str | None = None) -> dict[str, Any]:
    assert reply.status == status, reply.body
    assert reply.headers["content-type"] == "application/json"
    error = reply.json()["error"]
    assert set(error) == {"code", "message", "details"}
    assert isinstance(error["message"], str)
    assert error["message"]
    assert isinstance(error["details"], list)
    if code is not None:
        assert error["code"] == code
    return dict(error)


class TestSingle:
    def test_accepts_and_stores_an_enriched_record(self, server: Server) -> None:
        source = f"shop-{uid()}"
        reply = server.post_json(
            "/events",
            {"type": "order.created", "id": "o-1", "source": source, "data": {"total": 12.50}},
            headers={"User-Agent": "producer/1.0"},
        )
        assert reply.status == 202
        assert reply.headers["content-type"] == "application/json"
        body = reply.json()
        assert set(body) == {"event_id", "received_at"}
        assert UUID7.match(body["event_id"])
        assert RFC3339_MS.match(body["received_at"])
        item = by_event_id(server, body["event_id"])
        assert item["source"] == source
        assert item["type"] == "order.created"
        assert item["id"] == "o-1"
        assert item["received_at"] == body["received_at"]
        assert item["request_id"].startswith("local-")
        assert item["user_agent"] == "producer/1.0"
        assert item["source_ip"] == "127.0.0.1"
        assert item["data"] == '{"total":12.5}'
        assert isinstance(item["expires_at"], int)
        assert item["expires_at"] > 0
        assert isinstance(item["size"], int)
        assert item["size"] > 0

    def test_source_defaults(self, server: Server) -> None:
        reply = server.post_json("/events", {"type": "ping"})
        assert reply.status == 202
        assert by_event_id(server, reply.json()["event_id"])["source"] == "default"

    def test_repeat_with_same_id_answers_the_original(self, server: Server) -> None:
        event = {"type": "t", "id": uid(), "source": "repeat"}
        first = server.post_json("/events", event)
        second = server.post_json("/events", {**event, "data": "different payload"})
        assert first.status == 202
        assert second.status == 200
        assert second.json() == {**first.json(), "duplicate": True}
        stored = server.store().query_source("repeat")
        assert sum(1 for i in stored if i.get("id") == event["id"]) == 1

    def test_same_id_in_another_source_is_another_event(self, server: Server) -> None:
        event_id = uid()
        a = server.post_json("/events", {"type": "t", "id": event_id, "source": "a"})
        b = server.post_json("/events", {"type": "t", "id": event_id, "source": "b"})
        assert (a.status, b.status) == (202, 202)
        assert a.json()["event_id"] != b.json()["event_id"]

    def test_idempotency_key_header(self, server: Server) -> None:
        key = uid()
        first = server.post_json("/events", {"type": "t"}, headers={"Idempotency-Key": key})
        again = server.post_json("/events", {"type": "t"}, headers={"Idempotency-Key": key})
        assert first.status == 202
        assert again.status == 200
        assert again.json()["duplicate"] is True
        assert again.json()["event_id"] == first.json()["event_id"]

    def test_id_wins_over_idempotency_key(self, server: Server) -> None:
        event_id = uid()
        first = server.post_json(
            "/events", {"type": "t", "id": event_id}, {"Idempotency-Key": uid()}
        )
        second = server.post_json(
            "/events", {"type": "t", "id": event_id}, {"Idempotency-Key": uid()}
        )
        assert second.status == 200
        assert second.json()["event_id"] == first.json()["event_id"]

    def test_numbers_are_stored_exactly(self, server: Server) -> None:
        raw = '{"type":"n","data":{"a":0.1,"b":12.50,"c":123456789012345678901234567890.123456789,"d":1E+400,"e":-0.0,"f":[1,2.0]}}'
        reply = server.request("POST", "/events", raw)
        assert reply.status == 202
        item = by_event_id(server, reply.json()["event_id"])
        assert item["data"] == (
            '{"a":0.1,"b":12.50,"c":123456789012345678901234567890.123456789,"d":1E+400,"e":-0.0,"f":[1,2.0]}'
        )

    def test_other_members_and_cloudevent_attributes_are_kept(self, server: Server) -> None:
        reply = server.post_json(
            "/events",
            {
                "type": "t",
                "specversion": "1.0",
                "time": "2026-01-31T12:00:00.5+01:00",
                "subject": "order/1",
                "dataschema": "https://example.com/schema",
                "datacontenttype": "application/json",
                "traceparent": "00-abc",
                "tenant": {"id": 7},
            },
        )
        assert reply.status == 202
        item = by_event_id(server, reply.json()["event_id"])
        assert item["time"] == "2026-01-31T12:00:00.5+01:00"
        assert item["subject"] == "order/1"
        assert item["specversion"] == "1.0"
        assert json.loads(str(item["extensions"])) == {"traceparent": "00-abc", "tenant": {"id": 7}}

    def test_request_without_content_type_is_json(self, server: Server) -> None:
        parts = urlsplit(server.url)
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
        conn.putrequest("POST", "/events")
        body = b'{"type":"no.content.type"}'
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        assert resp.status == 202, resp.read()
        conn.close()

    def test_charset_utf8_is_fine(self, server: Server) -> None:
        reply = server.request(
            "POST", "/events", '{"type":"é"}', content_type="application/json; charset=UTF-8"
        )
        assert reply.status == 202


class TestBatch:
    def test_batch_answer_in_request_order(self, server: Server) -> None:
        dup = uid()
        events = [
            {"type": "a"},
            {"type": "b", "id": dup},
            {"type": "c", "id": uid()},
            {"type": "b", "id": dup},
        ]
        reply = server.post_json("/events", events)
        assert reply.status == 202
        body = reply.json()
        assert body["accepted"] == 3
        assert body["duplicates"] == 1
        assert body["accepted"] + body["duplicates"] == len(events)
        flags = [e["duplicate"] for e in body["events"]]
        assert flags == [False, False, False, True]
        assert body["events"][3]["event_id"] == body["events"][1]["event_id"]
        types = {by_event_id(server, e["event_id"])["type"] for e in body["events"][:3]}
        assert types == {"a", "b", "c"}

    def test_batch_repeat_counts_duplicates(self, server: Server) -> None:
        events = [{"type": "x", "id": uid()} for _ in range(30)]
        first = server.post_json("/events", events)
        again = server.post_json("/events", [*events, {"type": "new"}])
        assert first.json()["accepted"] == 30
        assert again.json()["accepted"] == 1
        assert again.json()["duplicates"] == 30
        assert [e["event_id"] for e in again.json()["events"][:30]] == [
            e["event_id"] for e in first.json()["events"]
        ]

    def test_large_batch_without_ids(self, server: Server) -> None:
        before = server.count()
        reply = server.post_json("/events", [{"type": "bulk", "data": i} for i in range(500)])
        assert reply.status == 202
        assert reply.json()["accepted"] == 500
        assert server.count() == before + 500

    def test_cloudevents_structured_and_batch(self, server: Server) -> None:
        single = server.request(
            "POST",
            "/events",
            json.dumps({"specversion": "1.0", "type": "ce", "source": "/s", "id": uid()}),
            content_type="application/cloudevents+json",
        )
        batch = server.request(
            "POST",
            "/events",
            json.dumps([{"specversion": "1.0", "type": "ce", "source": "/s", "id": uid()}]),
            content_type="application/cloudevents-batch+json",
        )
        assert single.status == 202
        assert "event_id" in single.json()
        assert batch.status == 202
        assert batch.json()["accepted"] == 1

    def test_cloudevents_binary_mode(self, server: Server) -> None:
        ce_id = uid()
        reply = server.request(
            "POST",
            "/events",
            '{"amount": 10.10}',
            headers={"ce-specversion": "1.0", "ce-type": "bin", "ce-source": "dev", "ce-id": ce_id},
        )
        assert reply.status == 202
        item = by_event_id(server, reply.json()["event_id"])
        assert (item["type"], item["source"], item["id"]) == ("bin", "dev", ce_id)
        assert item["data"] == '{"amount":10.10}'
        assert item["datacontenttype"] == "application/json"
        text = server.request(
            "POST",
            "/events",
            "hello",
            headers={"ce-specversion": "1.0", "ce-type": "txt", "ce-source": "dev"},
            content_type="text/plain",
        )
        assert text.status == 202
        assert by_event_id(server, text.json()["event_id"])["data"] == '"hello"'


def _bad_inputs() -> list[tuple[str, bytes, str | None, dict[str, str], int, str]]:
    deep = "[" * 5000 + "]" * 5000
    return [
        ("malformed", b'{"type": ', "application/json", {}, 400, "invalid_json"),
        ("trailing garbage", b'{"type":"t"} x', "application/json", {}, 400, "invalid_json"),
        ("string body", b'"just a string"', "application/json", {}, 400, "invalid_body"),
        ("number body", b"42", "application/json", {}, 400, "invalid_body"),
        ("null body", b"null", "application/json", {}, 400, "invalid_body"),
        ("empty body", b"", "application/json", {}, 400, "empty_body"),
        ("whitespace body", b"  \n", "application/json", {}, 400, "empty_body"),
        ("empty batch", b"[]", "application/json", {}, 400, "empty_batch"),
        ("invalid utf-8", b'{"type":"\xff\xfe"}', "application/json", {}, 400, "invalid_encoding"),
        (
            "lone surrogate",
            b'{"type":"t","data":"\\ud800"}',
            "application/json",
            {},
            400,
            "invalid_encoding",
        ),
        ("NaN", b'{"type":"t","data":NaN}', "application/json", {}, 400, "invalid_json"),
        (
            "Infinity",
            b'{"type":"t","data":[Infinity]}',
            "application/json",
            {},
            400,
            "invalid_json",
        ),
        (
            "-Infinity",
            b'{"type":"t","data":-Infinity}',
            "application/json",
            {},
            400,
            "invalid_json",
        ),
        ("deep nesting", deep.encode(), "application/json", {}, 400, "invalid_json"),
        (
            "deep data",
            b'{"type":"t","data":' + b'{"a":' * 100 + b"1" + b"}" * 100 + b"}",
            "application/json",
            {},
            400,
            "invalid_json",
        ),
        (
            "huge integer",
            b'{"type":"t","data":' + b"9" * 5000 + b"}",
            "application/json",
            {},
            400,
            "invalid_json",
        ),
        ("ce single with array", b"[]", "application/cloudevents+json", {}, 400, "invalid_body"),
        (
            "ce batch with object",
            b'{"type":"t"}',
            "application/cloudevents-batch+json",
            {},
            400,
            "invalid_body",
        ),
        (
            "batch with idempotency key",
            b'[{"type":"t"}]',
            "application/json",
            {"Idempotency-Key": "k"},
            400,
            "invalid_idempotency_key",
        ),
        (
            "form encoded",
            b"type=t",
            "application/x-www-form-urlencoded",
            {},
            415,
            "unsupported_media_type",
        ),
        ("text", b'{"type":"t"}', "text/plain", {}, 415, "unsupported_media_type"),
        ("xml", b"<e/>", "application/xml", {}, 415, "unsupported_media_type"),
        (
            "latin-1",
            b'{"type":"t"}',
            "application/json; charset=latin-1",
            {},
            415,
            "unsupported_media_type",
        ),
        (
            "binary mode octets",
            b"\x00\x01",
            "application/octet-stream",
            {"ce-specversion": "1.0", "ce-type": "t"},
            415,
            "unsupported_media_type",
        ),
        ("missing type", b'{"data":1}', "application/json", {}, 422, "validation_failed"),
        ("type not a string", b'{"type":5}', "application/json", {}, 422, "validation_failed"),
        ("empty type", b'{"type":""}', "application/json", {}, 422, "validation_failed"),
        (
            "type too long",
            json.dumps({"type": "t" * 257}).encode(),
            "application/json",
            {},
            422,
            "validation_failed",
        ),
        (
            "id not a string",
            b'{"type":"t","id":5}',
            "application/json",
            {},
            422,
            "validation_failed",
        ),
        ("empty id", b'{"type":"t","id":""}', "application/json", {}, 422, "validation_failed"),
        (
            "empty source",
            b'{"type":"t","source":""}',
            "application/json",
            {},
            422,
            "validation_failed",
        ),
        (
            "source too long",
            json.dumps({"type": "t", "source": "s" * 257}).encode(),
            "application/json",
            {},
            422,
            "validation_failed",
        ),
        (
            "bad time",
            b'{"type":"t","time":"yesterday"}',
            "application/json",
            {},
            422,
            "validation_failed",
        ),
        (
            "impossible time",
            b'{"type":"t","time":"2026-02-30T10:00:00Z"}',
            "application/json",
            {},
            422,
            "validation_failed",
        ),
        (
            "old specversion",
            b'{"type":"t","specversion":"0.3"}',
            "application/json",
            {},
            422,
            "validation_failed",
        ),
        (
            "batch item not an object",
            b'[{"type":"t"}, 3]',
            "application/json",
            {},
            422,
            "validation_failed",
        ),
        (
            "binary mode without type",
            b"{}",
            "application/json",
            {"ce-specversion": "1.0"},
            422,
            "validation_failed",
        ),
        (
            "body over 1 MiB",
            json.dumps({"type": "t", "data": "x" * (1024 * 1024)}).encode(),
            "application/json",
            {},
            413,
            "payload_too_large",
        ),
        (
            "batch over 500",
            json.dumps([{"type": "t"}] * 501).encode(),
            "application/json",
            {},
            413,
            "batch_too_large",
        ),
        (
            "event over 256 KiB",
            json.dumps({"type": "t", "data": "x" * (256 * 1024)}).encode(),
            "application/json",
            {},
            413,
            "event_too_large",
        ),
        (
            "batch event over 256 KiB",
            json.dumps([{"type": "t"}, {"type": "t", "data": "x" * (256 * 1024)}]).encode(),
            "application/json",
            {},
            413,
            "event_too_large",
        ),
    ]


@pytest.mark.parametrize(
    ("body", "content_type", "headers", "status", "code"),
    [case[1:] for case in _bad_inputs()],
    ids=[case[0] for case in _bad_inputs()],
)
def test_bad_input_gets_its_4xx_and_stores_nothing(
    server: Server,
    body: bytes,
    content_type: str | None,
    headers: dict[str, str],
    status: int,
    code: str,
) -> None:
    before = server.count()
    reply = server.request("POST", "/events", body, headers, content_type=content_type)
    assert_error(reply, status, code)
    assert server.count() == before


def test_a_batch_is_validated_whole(server: Server) -> None:
    before = server.count()
    events = [{"type": "ok", "id": uid()}, {"type": 1}, {"type": "ok"}, {"id": "x"}]
    error = assert_error(server.post_json("/events", events), 422, "validation_failed")
    assert {(d["index"], d["field"]) for d in error["details"]} == {(1, "type"), (3, "type")}
    assert server.count() == before


def test_single_event_error_names_the_field(server: Server) -> None:
    error = assert_error(server.post_json("/events", {"type": "t", "time": "nope"}), 422)
    assert error["details"][0]["field"] == "time"
    assert error["details"][0]["index"] is None


def test_health(server: Server) -> None:
    reply = server.request("GET", "/health")
    assert reply.status == 200
    assert reply.json() == {"status": "ok"}
    assert reply.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", "/events", "POST"),
        ("PUT", "/events", "POST"),
        ("POST", "/health", "GET"),
        ("GET", "/webhooks/x", "POST"),
    ],
)
def test_known_path_other_method_is_405(server: Server, method: str, path: str, allow: str) -> None:
    reply = server.request(method, path, b"{}" if method in ("PUT", "POST") else None)
    assert_error(reply, 405, "method_not_allowed")
    assert reply.headers["allow"] == allow


@pytest.mark.parametrize("path", ["/", "/event", "/events/1", "/webhooks", "/health/x"])
def test_unknown_path_is_404(server: Server, path: str) -> None:
    assert_error(server.request("GET", path), 404, "not_found")
    assert_error(server.request("POST", path, b"{}"), 404)
