"""What `ingest replay` sends for a stored record, and how records are rendered for export.

No server: records are built as the routes store them, and what replay would send is checked
against the service's own parsing and verification.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from typing import Any

import pytest
from ingest import jsonexact
from ingest.adapters.dynamodb import Record, _unmarshal
from ingest.domain import intake
from ingest.domain.webhooks.config import SourceConfig, SourcesDocument
from ingest.domain.webhooks.delivery import MAX_HEADERS_BYTES, kept_headers
from ingest.domain.webhooks.schemes import verify
from ingest.limits import MAX_BODY_BYTES, MAX_EVENT_BYTES
from ingest.models import CLOUDEVENT_ATTRIBUTES
from ingest_tools.cli.common import render
from ingest_tools.cli.replay import (
    MAX_REPORTED_ERRORS,
    BadRecord,
    Request,
    Signer,
    Stored,
    Summary,
    Unreadable,
    _batches,
    event_request,
    from_export,
    from_record,
    webhook_request,
)

EVENT_ID = "019ab8a4-0000-7000-8000-000000000001"


def stored_event(text: str, *, key: str | None = None) -> Record:
    """The record POST /events stores for ``text`` (as app.py builds it)."""
    parsed = intake.parse({}, text.encode()).events[0]
    event = parsed.event
    record: Record = {"event_id": EVENT_ID, "source": event.source, "type": event.type}
    if event.id is not None or key is not None:
        record["id"] = event.id or str(key)
    if event.id is None and key is not None:
        record["idempotency_digest"] = "digest"
    record["size"] = parsed.size
    for name in CLOUDEVENT_ATTRIBUTES:
        if getattr(event, name) is not None:
            record[name] = getattr(event, name)
    if parsed.data_json is not None:
        record["data"] = parsed.data_json
    if parsed.extensions_json is not None:
        record["extensions"] = parsed.extensions_json
    return record


def sized(size: int, **members: str) -> str:
    head = json.dumps(members, separators=(",", ":"))[:-1]
    pad = size - intake.parse({}, f'{head},"data":""}}'.encode()).events[0].size
    return f'{head},"data":"{"x" * pad}"}}'


EVENTS = [
    sized(MAX_EVENT_BYTES, type="big"),  # no id, no source: the default
    sized(MAX_EVENT_BYTES, type="big", source="default"),  # the default, given
    sized(MAX_EVENT_BYTES, type="big", source="s", id="i-1"),
    '{"type":"t","data":{"n":12.50,"e":1E-9,"z":-0.0}}',
    '{"specversion":"1.0","type":"t","source":"s","id":"c","time":"2026-01-31T12:00:00Z",'
    '"subject":"x","datacontenttype":"application/json","dataschema":"https://s","ext":1.0,'
    '"data":null}',
    '{"type":"t","source":"s","id":null,"time":null,"tenant":{"a":[1,2.5]}}',
]


@pytest.mark.parametrize("text", EVENTS)
@pytest.mark.parametrize("via", ["table", "export"])
@pytest.mark.parametrize("key", [None, "key-1"])
def test_an_event_is_replayed_as_sent_and_never_grows(text: str, via: str, key: str | None) -> None:
    record = stored_event(text, key=key)
    stored = from_record(record) if via == "table" else from_export(jsonexact.loads(render(record)))
    request = event_request(stored)
    replayed = intake.parse({}, request.body)
    assert not replayed.batch
    again = replayed.events[0]
    assert again.size <= int(record["size"])  # so an event the service took always fits again
    assert again.data_json == record.get("data")
    assert again.extensions_json == record.get("extensions")
    assert (again.event.type, again.event.source) == (record["type"], record["source"])
    for name in CLOUDEVENT_ATTRIBUTES:
        assert getattr(again.event, name) == record.get(name)
    producer_id = json.loads(text).get("id")
    if producer_id:
        assert again.event.id == producer_id
        assert "Idempotency-Key" not in request.headers
        assert request.batchable
    else:  # its original key, or its event_id: a header, not a member
        assert again.event.id is None
        assert request.headers["Idempotency-Key"] == (key or EVENT_ID)
        assert not request.batchable


def test_a_key_stored_without_its_digest_is_still_sent_as_a_key() -> None:
    """Records stored before keys were marked with a digest: the id would not fit as a member."""
    record = stored_event(sized(MAX_EVENT_BYTES, type="big"))
    record["id"] = "an-old-key"
    request = event_request(from_record(record))
    assert request.headers["Idempotency-Key"] == "an-old-key"
    assert intake.parse({}, request.body).events[0].size == MAX_EVENT_BYTES


def test_an_event_without_a_type_is_a_bad_record() -> None:
    with pytest.raises(BadRecord, match="no type"):
        event_request(from_record({"event_id": EVENT_ID, "source": "s"}))
    with pytest.raises(BadRecord, match="data is not JSON"):
        from_record({"event_id": EVENT_ID, "source": "s", "type": "t", "data": "{nope"})


# --------------------------------------------------------------------------------------------
# Webhooks


SOURCES = SourcesDocument.model_validate(
    {
        "sources": {
            "github": {"scheme": "github", "secrets": ["new-secret", "old-secret"]},
            "billing": {"scheme": "standard-webhooks", "secrets": ["whsec_MfKQ9r8GKYqrTwjU"]},
            "acme": {
                "scheme": "hmac-sha256",
                "secrets": ["acme"],
                "header": "X-Sig",
                "id_header": "X-Id",
            },
            "open": {"scheme": "none"},
        }
    }
)


def webhook(source: str, body: bytes | str, headers: dict[str, str], **fields: Any) -> Stored:
    record: Record = {"event_id": EVENT_ID, "source": source, "kind": "webhook", "body": body}
    record["headers"] = json.dumps(headers)
    record.update(fields)
    return from_record(record)


def verified(source: str, request: Request) -> tuple[str, str | None]:
    """What the receiver's verification makes of the request: (type, delivery id)."""
    config = SOURCES.sources[source]
    headers = {k.lower(): v for k, v in request.headers.items()}
    delivery = verify(config, headers, request.body, config.inline_secrets(), time.time())
    return delivery.event_type, delivery.delivery_id


def test_a_github_delivery_is_resigned_with_its_headers_and_delivery_id() -> None:
    original = {
        "host": "old.example.com",
        "content-type": "application/json",
        "content-length": "2",
        "user-agent": "GitHub-Hookshot/1",
        "x-github-event": "push",
        "x-github-delivery": "d-1",
        "x-hub-signature": "sha1=stale",
        "x-hub-signature-256": "sha256=stale",
        "x-custom": "kept",
        "authorization": "Bearer never",
    }
    stored = webhook("github", "{}", original, id="d-1", type="push")
    request = webhook_request(stored, Signer(SOURCES), time.time())
    assert request.path == "/webhooks/github"
    assert request.body == b"{}"
    assert verified("github", request) == ("push", "d-1")
    lowered = {k.lower(): v for k, v in request.headers.items()}
    assert lowered["x-custom"] == "kept"
    assert lowered["user-agent"] == "GitHub-Hookshot/1"
    assert lowered["idempotency-key"] == "d-1"
    assert not {"host", "content-length", "x-hub-signature", "authorization"} & set(lowered)
    assert "stale" not in json.dumps(request.headers)


def test_a_delivery_without_an_id_gets_none_made_up_and_carries_its_event_id_as_key() -> None:
    stored = webhook("github", b"\x00\x01", {"content-type": "application/octet-stream"})
    request = webhook_request(stored, Signer(SOURCES), time.time())
    assert verified("github", request) == ("webhook", None)
    assert request.headers["Idempotency-Key"] == EVENT_ID
    assert request.body == b"\x00\x01"
    # One stored under an Idempotency-Key keeps that key.
    keyed = webhook("open", "x", {}, id="k-1", idempotency_digest="d")
    assert webhook_request(keyed, Signer(SOURCES), time.time()).headers["Idempotency-Key"] == "k-1"
    # Standard Webhooks cannot verify without a webhook-id: the event_id is used, every time.
    billing = webhook("billing", '{"type":"a"}', {})
    assert verified("billing", webhook_request(billing, Signer(SOURCES), time.time())) == (
        "a",
        EVENT_ID,
    )


def test_a_delivery_id_goes_in_the_configured_id_header() -> None:
    stored = webhook("acme", "body", {"x-sig": "stale", "x-id": "a-1"}, id="a-1")
    request = webhook_request(stored, Signer(SOURCES), time.time())
    assert verified("acme", request) == ("webhook", "a-1")
    assert "x-type" not in {k.lower() for k in request.headers}  # no default type made explicit


def test_records_stored_before_headers_were_kept_use_their_content_type() -> None:
    record: Record = {"event_id": EVENT_ID, "source": "open", "kind": "webhook", "body": "a=1"}
    record["content_type"] = "application/x-www-form-urlencoded"
    request = webhook_request(from_record(record), Signer(SOURCES), time.time())
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"


def test_unusable_sources_are_bad_records_not_crashes() -> None:
    stored = webhook("elsewhere", "x", {})
    with pytest.raises(BadRecord, match="not in the sources document"):
        webhook_request(stored, Signer(SOURCES), time.time())
    with pytest.raises(BadRecord, match="no sources"):
        webhook_request(stored, Signer(None, "no sources document"), time.time())
    broken = SourcesDocument.model_validate(
        {"sources": {"vault": {"scheme": "github", "secret_id": "missing/secret"}}}
    )
    signer = Signer(broken)
    signer._secrets["vault"] = BadRecord("cannot read the secret of source 'vault'")
    with pytest.raises(BadRecord, match="cannot read the secret"):
        webhook_request(webhook("vault", "x", {}), signer, time.time())


def test_a_body_with_a_lone_surrogate_escape_is_sent_byte_for_byte() -> None:
    body = '{"msg":"cut \\ud83d"}'  # the escape is six ASCII characters: valid UTF-8 text
    for stored in (
        webhook("open", body, {"content-type": "application/json"}),
        from_export(
            jsonexact.loads(render({"event_id": EVENT_ID, "source": "open", "body": body}))
        ),
    ):
        assert webhook_request(stored, Signer(SOURCES), time.time()).body == body.encode()


# --------------------------------------------------------------------------------------------
# Batches and the report


def _args(batch: int) -> argparse.Namespace:
    return argparse.Namespace(batch=batch)


def test_batches_hold_only_events_with_ids_within_the_batch_size_and_1_mib() -> None:
    items: list[Stored | Unreadable] = [
        from_record(stored_event(sized(250 * 1024, type="t", id=f"big-{n}"))) for n in range(5)
    ]
    items.append(from_record(stored_event('{"type":"t"}')))  # no id: alone
    items.append(Unreadable("somewhere", "broken"))
    items += [from_record(stored_event(f'{{"type":"t","id":"s-{n}"}}')) for n in range(7)]
    chunks = list(_batches(items, Signer(SOURCES), _args(6)))
    shapes = [c.where if isinstance(c, Unreadable) else len(c) for c in chunks]
    assert shapes == [4, 1, 1, "somewhere", 6, 1]  # four of 250 KiB fit in 1 MiB, five do not
    for chunk in chunks:
        if isinstance(chunk, list):
            assert sum(len(r.body) + 1 for r in chunk) + 1 <= MAX_BODY_BYTES


def test_the_report_lists_the_first_errors_and_counts_the_rest(
    capsys: pytest.CaptureFixture[str],
) -> None:
    summary = Summary()
    for n in range(MAX_REPORTED_ERRORS + 5):
        summary.fail(f"id-{n}", "reason")
    report = summary.report("sent")
    assert report["failed"] == MAX_REPORTED_ERRORS + 5
    assert len(report["errors"]) == MAX_REPORTED_ERRORS
    assert report["errors_not_listed"] == 5
    assert capsys.readouterr().err.count("replay: id-") == MAX_REPORTED_ERRORS + 5  # as they come


# --------------------------------------------------------------------------------------------
# Rendering records (events get/list/export) and reading them back


def test_render_is_always_one_line_of_valid_utf8_json() -> None:
    record: Record = {
        "event_id": EVENT_ID,
        "source": "s\ud83d",  # a lone surrogate (written by someone else)
        "type": "line\u2028separator\u0085",
        "data": '{\n  "a": "x\u2029y",\r\n  "n": 12.50\n}',
        "extensions": "{not json",
        "headers": '{"x-a":"1"}',
        "body": b"\x00\xff",
        "pk": "hidden",
    }
    line = render(record)
    encoded = line.encode("utf-8")  # never a UnicodeEncodeError
    assert len(encoded.splitlines()) == 1
    assert len(line.splitlines()) == 1  # not even at U+2028, U+2029 or U+0085
    parsed = json.loads(line)
    assert parsed["source"] == "s\ud83d"
    assert parsed["type"] == "line\u2028separator\u0085"
    assert parsed["data"] == {"a": "x\u2029y", "n": 12.5}
    assert '"n": 12.50' in line  # spliced as stored: exact
    assert parsed["extensions_text"] == "{not json"
    assert "extensions" not in parsed
    assert parsed["headers"] == {"x-a": "1"}
    assert parsed["body_base64"] == "AP8="
    assert "pk" not in parsed


def test_numbers_written_by_someone_else_are_read_not_fatal() -> None:
    record = _unmarshal(
        {"a": {"N": "1.5"}, "b": {"N": "-12"}, "c": {"N": "1E+3"}, "d": {"BOOL": True}}
    )
    assert record == {"a": "1.5", "b": -12, "c": "1E+3", "d": "True"}


# --------------------------------------------------------------------------------------------
# The headers a webhook record keeps


def test_kept_headers_leave_out_credentials_and_framing_and_are_bounded() -> None:
    config = SourceConfig.model_validate({"scheme": "none"})
    headers = {
        "Content-Type": "application/json",
        "Authorization": "Bearer x",
        "Cookie": "a=b",
        "Proxy-Authorization": "Basic y",
        "Content-Length": "10",
        "X-Forwarded-For": "1.2.3.4",
        "X-Trace": "t",
    }
    kept = kept_headers(config, headers)
    assert kept is not None
    assert json.loads(kept) == {"content-type": "application/json", "x-trace": "t"}
    many = {f"x-h{n}": "v" * 1000 for n in range(40)}
    bounded = kept_headers(config, {"x-first": "1", **many, "x-last": "2"})
    assert bounded is not None
    assert len(bounded.encode()) <= MAX_HEADERS_BYTES
    assert {"x-first", "x-last"} <= set(json.loads(bounded))
    token = SourceConfig.model_construct(scheme="token", header="X-Token")  # a token scheme
    assert kept_headers(token, {"x-token": "secret", "x-other": "1"}) == '{"x-other":"1"}'
    assert kept_headers(config, {"authorization": "x"}) is None


SIGNED_IDS = SourcesDocument.model_validate(
    {
        "sources": {
            "svix": {"scheme": "svix", "secrets": ["whsec_MfKQ9r8GKYqrTwjU"]},
            "twitch": {"scheme": "twitch", "secrets": ["twitch-eventsub-secret"]},
            "twilio": {
                "scheme": "twilio",
                "secrets": ["twilio-auth-token"],
                "url": "https://hooks.example.com/webhooks/twilio",
            },
        }
    }
)


def resent(source: str, stored: Stored) -> tuple[Request, str | None]:
    """The replayed request and the delivery id the receiver verifies from it (its query too)."""
    request = webhook_request(stored, Signer(SIGNED_IDS), time.time())
    config = SIGNED_IDS.sources[source]
    headers = {k.lower(): v for k, v in request.headers.items()}
    query = request.path.partition("?")[2]
    delivery = verify(
        config, headers, request.body, config.inline_secrets(), time.time(), query=query
    )
    return request, delivery.delivery_id


@pytest.mark.parametrize(
    ("source", "headers"),
    [
        ("svix", {"svix-id": "msg_1", "svix-timestamp": "1", "svix-signature": "v1,stale"}),
        ("twitch", {"twitch-eventsub-message-id": "msg_1", "twitch-eventsub-message-type": "x"}),
    ],
)
def test_deliveries_whose_signature_covers_their_id_keep_it(
    source: str, headers: dict[str, str]
) -> None:
    body = '{"subscription":{"type":"channel.follow"},"event":{},"type":"a"}'
    request, delivery_id = resent(source, webhook(source, body, headers, id="msg_1"))
    assert delivery_id == "msg_1"
    assert "stale" not in json.dumps(request.headers)
    # One stored without an id (from a source that had none) gets its event_id, every time.
    assert resent(source, webhook(source, body, {}))[1] == EVENT_ID


def test_a_twilio_json_delivery_is_resent_with_its_body_digest_in_the_query() -> None:
    body = '{"AccountSid":"AC1","Body":"hi"}'
    headers = {"content-type": "application/json", "i-twilio-idempotency-token": "t-1"}
    request, delivery_id = resent("twilio", webhook("twilio", body, headers, id="t-1"))
    digest = hashlib.sha256(body.encode()).hexdigest()
    assert request.path == f"/webhooks/twilio?bodySHA256={digest}"
    assert delivery_id == "t-1"
    form = webhook("twilio", "Body=hi", {"content-type": "application/x-www-form-urlencoded"})
    assert resent("twilio", form)[0].path == "/webhooks/twilio"  # forms sign no query
