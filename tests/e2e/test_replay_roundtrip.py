"""Every record one `ingest serve` accepted replays into a second one with the same sources.

The source deployment stores /events singles and batches (with and without ids, an id-less event
of exactly MAX_EVENT_BYTES serialized under the default source, Idempotency-Key, CloudEvents
structured and binary) and webhooks of every scheme (an id-less `none` and `hmac-sha256`, a ~250
KiB binary body, JSON bodies holding a lone surrogate escape, a non-UTF-8 text body, an empty
body). Replayed from the table and from an export, in single requests and in batches, everything
arrives (webhook bodies byte for byte, to /webhooks/{source}), and a second replay adds nothing.
Odd records (written to the table by someone else) are reported, never the end of a replay or an
export.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ingest import ids
from ingest.adapters.dynamodb import EventStore, Record
from ingest.domain import intake
from ingest.domain.webhooks.config import SourceConfig
from ingest.domain.webhooks.delivery import MAX_HEADERS_BYTES
from ingest.domain.webhooks.schemes import sign
from ingest.limits import MAX_EVENT_BYTES
from ingest_tools.cli.main import main

from tests.support import (
    Process,
    Reply,
    Server,
    replay,
    serving,
    start_server,
    stop_server,
    write_sources,
)

pytestmark = pytest.mark.slow

SOURCES: dict[str, dict[str, Any]] = {
    "github": {"scheme": "github", "secrets": ["gh-replay-secret"]},
    "stripe": {"scheme": "stripe", "secrets": ["whsec_replayStripeSecret0123456789"]},
    "slack": {"scheme": "slack", "secrets": ["slack-replay-signing-secret"]},
    "shopify": {"scheme": "shopify", "secrets": ["shpss_replay_secret"]},
    "billing": {
        "scheme": "standard-webhooks",
        "secrets": ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    },
    "acme": {
        "scheme": "hmac-sha256",
        "secrets": ["acme-replay-secret"],
        "header": "X-Acme-Signature",
        "encoding": "base64",
        "prefix": "sha256=",
        "type_header": "X-Acme-Event",
        "id_header": "X-Acme-Delivery",
    },
    "raw": {"scheme": "hmac-sha256", "secrets": ["raw-replay-secret"], "header": "X-Signature"},
    "sandbox": {"scheme": "none", "type_header": "X-Event-Type", "id_header": "X-Delivery-Id"},
    "open": {"scheme": "none"},
}
SURROGATE_JSON = b'{"id":"evt_half","type":"customer.updated","data":{"name":"cut \\ud83d"}}'
OPEN_SURROGATE = b'{"msg":"an emoji cut in half: \\ud83d","n":1.10}'
BINARY = bytes(range(256)) * 980 + b"\x00\xff"  # ~245 KiB: base64 would make it ~327 KiB
EXACT = '{"amount":12.50,"ratio":0.1,"big":98765432109876543210.0000000001,"neg":-0.0,"e":1E-9}'


def _sized_event(size: int, **members: str) -> str:
    """An event of exactly ``size`` bytes as the service measures it (intake.py)."""
    head = json.dumps(members, separators=(",", ":"))[:-1]
    text = f'{head},"data":""}}'
    pad = size - intake.parse({}, text.encode()).events[0].size
    text = f'{head},"data":"{"x" * pad}"}}'
    assert intake.parse({}, text.encode()).events[0].size == size
    return text


@dataclass
class World:
    server: Server
    process: Process
    folder: Path
    sources: Path
    export: Path
    count: int
    hooks: dict[str, str]  # a name → event_id of the webhooks the tests look at


def _hook(
    server: Server,
    source: str,
    body: bytes,
    *,
    content_type: str = "application/json",
    delivery_id: str | None = None,
    event_type: str | None = None,
    headers: dict[str, str] | None = None,
    expect: int = 202,
) -> Reply:
    config = SourceConfig.model_validate(SOURCES[source])
    secret = config.inline_secrets()[0] if config.secrets else ""
    signed = sign(config, body, secret, time.time(), delivery_id=delivery_id, event_type=event_type)
    all_headers = {**signed, **(headers or {})}
    reply = server.request(
        "POST", f"/webhooks/{source}", body, all_headers, content_type=content_type
    )
    assert reply.status == expect, (source, reply.status, reply.body)
    return reply


def _post(server: Server, text: str, headers: dict[str, str] | None = None, **kw: Any) -> Reply:
    reply = server.request("POST", "/events", text, headers, **kw)
    assert reply.status == 202, reply.body
    return reply


def _seed(server: Server) -> dict[str, str]:
    # /events: singles with and without ids, a key, CloudEvents, batches.
    _post(server, f'{{"type":"order.created","source":"shop","id":"o-1","data":{EXACT}}}')
    _post(server, '{"type":"order.viewed","source":"shop","data":{"price":0.10}}')
    _post(server, _sized_event(MAX_EVENT_BYTES, type="big.anonymous"))  # default source, no id
    _post(server, '{"type":"keyed","data":[1,2.50]}', {"Idempotency-Key": "key-1"})
    _post(
        server,
        '{"specversion":"1.0","type":"user.signed_up","source":"accounts","id":"u-1",'
        '"time":"2026-01-31T12:00:00Z","subject":"user/1","datacontenttype":"application/json",'
        '"tenant":"t-9","weight":12.50,"data":{"email":"a@example.com"}}',
    )
    _post(
        server,
        "hello, binary mode \u2713",
        {"ce-specversion": "1.0", "ce-type": "greeting", "ce-source": "ce", "ce-id": "ce-1"},
        content_type="text/plain; charset=utf-8",
    )
    batch = [
        _sized_event(MAX_EVENT_BYTES, type="big.batched", source="mobile"),  # no id
        '{"type":"small","source":"mobile","id":"m-1","data":{"n":1}}',
        *(
            f'{{"type":"item","source":"bulk"{f",{chr(34)}id{chr(34)}:{chr(34)}b-{i}{chr(34)}" if i % 2 else ""},"data":{{"i":{i}}}}}'
            for i in range(10)
        ),
    ]
    _post(server, "[" + ",".join(batch) + "]")
    # As deep as one event may be: one level more (a batch's array) is refused, so a batch that
    # holds it is re-sent one event at a time.
    _post(server, '{"type":"deep","id":"deep-1","data":' + "[" * 63 + "]" * 63 + "}")
    for n in range(5):  # with ids, ~200 KiB each: a --batch of them must stay within 1 MiB
        _post(server, _sized_event(200 * 1024, type="large", source="large", id=f"l-{n}"))

    hooks: dict[str, str] = {}
    hooks["github"] = _hook(
        server,
        "github",
        b'{"ref":"refs/heads/main","after":"abc"}',
        delivery_id="gh-1",
        event_type="push",
        headers={
            "Authorization": "Bearer do-not-store-me",
            "Cookie": "session=do-not-store-me",
            "X-Custom-Trace": "trace-1",
            "User-Agent": "GitHub-Hookshot/044aadd",
        },
    ).json()["event_id"]
    hooks["stripe"] = _hook(server, "stripe", SURROGATE_JSON).json()["event_id"]
    _hook(
        server,
        "slack",
        b'{"type":"event_callback","event_id":"Ev1","event":{"type":"app_mention"}}',
    )
    slash = b"command=%2Fdeploy&text=prod&trigger_id=1"
    _hook(server, "slack", slash, content_type="application/x-www-form-urlencoded")
    _hook(server, "shopify", b'{"id":1,"total":"12.50"}', delivery_id="sh-1", event_type="o/c")
    _hook(server, "billing", b'{"type":"contact.created","data":{}}', delivery_id="msg_1")
    hooks["binary"] = _hook(
        server,
        "acme",
        BINARY,
        content_type="application/octet-stream",
        delivery_id="acme-1",
        event_type="blob",
    ).json()["event_id"]
    for _ in range(2):  # no id: two deliveries of the same body are two records
        _hook(server, "raw", b'{"same":"body"}')
    _hook(server, "sandbox", b"plain text", content_type="text/plain", delivery_id="sb-1")
    hooks["open"] = _hook(server, "open", OPEN_SURROGATE).json()["event_id"]
    _hook(
        server, "open", b"keyed body", content_type="text/plain", headers={"Idempotency-Key": "o-k"}
    )
    hooks["latin1"] = _hook(
        server, "open", "caf\u00e9".encode("latin-1"), content_type="text/plain; charset=latin-1"
    ).json()["event_id"]
    hooks["empty"] = _hook(server, "open", b"", content_type="text/plain").json()["event_id"]
    _post(server, '{"type":"after.all.webhooks"}')  # stored after them: must arrive too
    return hooks


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("roundtrip")
    sources = write_sources(folder, SOURCES)
    server, process = start_server("--sources", str(sources), table="roundtrip-source")
    try:
        hooks = _seed(server)
        export = folder / "export.jsonl"
        assert main(["events", "export", "--out", str(export), *_table(server)]) == 0
        count = len(export.read_bytes().splitlines())
        assert count == server.count() == 39
        yield World(server, process, folder, sources, export, count, hooks)
    finally:
        stop_server(process)


def _table(server: Server, table: str | None = None) -> list[str]:
    return ["--endpoint-url", server.endpoint, "--table", table or server.table]


@pytest.fixture
def target(world: World) -> Iterator[Server]:
    with serving("--sources", str(world.sources), table="roundtrip-target") as server:
        yield server


def _replay(*args: str) -> tuple[int, dict[str, Any], str]:
    """Run `ingest replay`; without --sources it reads the sources document from $SOURCES."""
    ran, summary = replay(*args, env={"SOURCES": json.dumps({"sources": SOURCES})})
    return ran.code, summary, ran.err


COMPARED = (
    "type",
    "data",
    "extensions",
    "body",
    "content_type",
    "size",
    "time",
    "subject",
    "specversion",
    "datacontenttype",
    "dataschema",
)


def _by_key(records: list[Record], *, replayed: bool) -> dict[tuple[Any, ...], dict[str, Any]]:
    """Records by (kind, source, id): a record stored without an id is replayed with its
    event_id as its Idempotency-Key, which is its id at the receiver."""
    keyed: dict[tuple[Any, ...], dict[str, Any]] = {}
    for record in records:
        producer_id = record["id"] if replayed else record.get("id") or record["event_id"]
        key = (record.get("kind"), record["source"], producer_id)
        assert key not in keyed, key
        keyed[key] = {name: record[name] for name in COMPARED if name in record}
    return keyed


def assert_replayed(source: Server, target: Server) -> None:
    expected = _by_key(source.items(), replayed=False)
    actual = _by_key(target.items(), replayed=True)
    assert actual.keys() == expected.keys()
    for key, want in expected.items():
        assert actual[key] == want, key  # bytes stay bytes, text stays text, byte for byte


def _stored_headers(server: Server, event_id: str) -> dict[str, str]:
    record = server.store().get(ids.key_of(event_id))
    assert record is not None
    headers: dict[str, str] = json.loads(str(record["headers"]))
    return headers


def test_the_seed_holds_what_replay_must_carry(world: World) -> None:
    # A webhook record keeps the provider's headers, lower-cased, without credentials.
    headers = _stored_headers(world.server, world.hooks["github"])
    assert headers["x-custom-trace"] == "trace-1"
    assert headers["user-agent"] == "GitHub-Hookshot/044aadd"
    assert headers["x-github-delivery"] == "gh-1"
    assert "authorization" not in headers
    assert "cookie" not in headers
    assert all(name == name.lower() for name in headers)
    # `events get` and the export show them as a JSON object; the bodies stay exact.
    lines = {json.loads(line)["event_id"]: json.loads(line) for line in world.export.open("rb")}
    assert lines[world.hooks["github"]]["headers"] == headers
    assert lines[world.hooks["stripe"]]["body"] == SURROGATE_JSON.decode()
    assert lines[world.hooks["binary"]]["body_base64"]
    assert b"do-not-store-me" not in world.export.read_bytes()


def test_replay_from_the_table_then_from_the_export_adds_nothing(
    world: World, target: Server
) -> None:
    to = ["--to", target.url, "--rate", "1000"]  # the sources document from $SOURCES
    code, summary, err = _replay(*to, *_table(world.server))
    assert code == 0, err
    assert summary == {
        "sent": world.count,
        "accepted": world.count,
        "duplicates": 0,
        "failed": 0,
        "errors": [],
    }
    assert_replayed(world.server, target)
    replayed = {r["id"]: r for r in target.items() if r.get("kind") == "webhook"}
    assert replayed["acme-1"]["body"] == BINARY
    assert replayed["evt_half"]["body"] == SURROGATE_JSON.decode()
    assert replayed[world.hooks["open"]]["body"] == OPEN_SURROGATE.decode()
    assert replayed[world.hooks["latin1"]]["body"] == "caf\u00e9".encode("latin-1")
    headers = json.loads(str(replayed["gh-1"]["headers"]))
    assert (headers["x-custom-trace"], headers["user-agent"]) == (
        "trace-1",
        "GitHub-Hookshot/044aadd",
    )

    before = target.count()
    code, again, err = _replay(*to, "--from", str(world.export), "--batch", "100")
    assert code == 0, err
    assert (again["sent"], again["accepted"], again["duplicates"]) == (world.count, 0, world.count)
    assert again["failed"] == 0
    assert target.count() == before == world.count


def test_replay_from_the_export_in_batches_then_from_the_table_adds_nothing(
    world: World, target: Server
) -> None:
    to = ["--to", target.url, "--sources", str(world.sources), "--rate", "1000"]
    code, summary, err = _replay(*to, "--from", str(world.export), "--batch", "500")
    assert code == 0, err
    assert (summary["sent"], summary["accepted"], summary["failed"]) == (
        world.count,
        world.count,
        0,
    )
    assert_replayed(world.server, target)
    code, again, err = _replay(*to, *_table(world.server), "--batch", "3")
    assert code == 0, err
    assert (again["accepted"], again["duplicates"], again["failed"]) == (0, world.count, 0)
    assert target.count() == world.count


def test_the_largest_id_less_event_and_binary_webhook_replay(world: World, target: Server) -> None:
    """An id-less event of exactly MAX_EVENT_BYTES (default source) and a ~245 KiB binary body:
    replay adds no `id` or `source` member, and sends the body as bytes, not base64."""
    for selected in (["--type", "big.anonymous"], ["--type", "big.batched"], ["--source", "acme"]):
        for _ in range(2):
            code, summary, err = _replay("--to", target.url, *_table(world.server), *selected)
            assert code == 0, err
            assert summary["failed"] == 0, summary
    assert target.count() == 3
    by_type = {r["type"]: r for r in target.items()}
    for event_type in ("big.anonymous", "big.batched"):
        assert by_type[event_type]["size"] == MAX_EVENT_BYTES
    assert by_type["blob"]["body"] == BINARY
    assert by_type["big.anonymous"]["source"] == "default"


def test_a_webhook_of_an_unconfigured_source_is_reported_and_the_rest_goes_on(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    fewer = world.folder / "fewer.json"
    kept = {name: config for name, config in SOURCES.items() if name not in {"acme", "open"}}
    fewer.write_text(json.dumps({"sources": kept}), "utf-8")
    args = ["replay", "--to", "http://127.0.0.1:9", "--dry-run", "--sources", str(fewer)]
    assert main([*args, "--from", str(world.export)]) == 1
    out, err = capsys.readouterr()
    summary = json.loads(err.strip().splitlines()[-1])
    skipped = [r for r in world.server.items() if r["source"] in {"acme", "open"}]
    assert summary["failed"] == len(skipped) == 5
    assert summary["would send"] == world.count
    assert len(out.splitlines()) == world.count - len(skipped)
    for record in skipped:
        assert any(
            error.startswith(f"{record['event_id']!s}: source ") and "not in the sources" in error
            for error in summary["errors"]
        )


def test_webhook_idempotency_key_without_a_delivery_id(world: World) -> None:
    server = world.server
    before = server.count()
    first = _hook(
        server, "open", b"once", content_type="text/plain", headers={"Idempotency-Key": "w-1"}
    )
    again = _hook(
        server,
        "open",
        b"once",
        content_type="text/plain",
        headers={"Idempotency-Key": "w-1"},
        expect=200,
    )
    assert again.json() == {**first.json(), "duplicate": True}
    reused = _hook(
        server,
        "open",
        b"other body",
        content_type="text/plain",
        headers={"Idempotency-Key": "w-1"},
        expect=422,
    )
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    # A provider's delivery id wins over the header, as `id` does on /events.
    provider = _hook(
        server,
        "acme",
        b"x",
        delivery_id="acme-key-test",
        headers={"Idempotency-Key": "ignored"},
    ).json()
    record = server.store().get(ids.key_of(provider["event_id"]))
    assert record is not None
    assert record["id"] == "acme-key-test"
    assert "idempotency_digest" not in record
    bad = _hook(server, "open", b"x", headers={"Idempotency-Key": "k" * 257}, expect=400)
    assert bad.json()["error"]["code"] == "invalid_idempotency_key"
    assert server.count() == before + 2
    _tidy(world, before)


def test_a_lone_surrogate_delivery_id_is_refused_not_a_5xx(world: World) -> None:
    before = world.server.count()
    reply = _hook(world.server, "stripe", b'{"id":"evt_\\ud83d","type":"x"}', expect=401)
    assert "malformed_delivery_id" in reply.json()["error"]["message"]
    reply = _hook(world.server, "stripe", b'{"id":"evt_ok2","type":"x.\\udc00"}', expect=401)
    assert "malformed_event_type" in reply.json()["error"]["message"]
    assert world.server.count() == before


def test_stored_headers_are_bounded(world: World) -> None:
    server = world.server
    before = server.count()
    big = {f"X-Big-{n}": chr(ord("a") + n) * 3000 for n in range(10)}
    event_id = _hook(server, "open", b"{}", headers={**big, "X-Small": "kept"}).json()["event_id"]
    record = server.store().get(ids.key_of(event_id))
    assert record is not None
    text = str(record["headers"])
    assert len(text.encode()) <= MAX_HEADERS_BYTES
    headers = json.loads(text)
    assert headers["x-small"] == "kept"
    assert headers["content-type"] == "application/json"
    assert 1 < sum(name.startswith("x-big-") for name in headers) < 10
    _tidy(world, before)


def _tidy(world: World, before: int) -> None:
    """Delete what a test added after the seed (the replay tests compare whole tables)."""
    seeded = {json.loads(line)["event_id"] for line in world.export.read_bytes().splitlines()}
    client = world.server.store().client
    for record in world.server.items():
        if record["event_id"] not in seeded:
            client.delete_item(TableName=world.server.table, Key={"pk": {"S": str(record["pk"])}})
    assert world.server.count() == before


# --------------------------------------------------------------------------------------------
# Odd records: written to a table by someone else


def _put(store: EventStore, item: dict[str, Any]) -> str:
    """An item with the table's keys (and its listing shard key, which a writer that is not this
    service gets from `ingest events backfill-shards`), and whatever else ``item`` holds."""
    from ingest.adapters import codec

    event_id = ids.new_event_id(ids.random_key())
    source = item["source"]["S"]
    shard = codec.shard_key(source, codec.shard_of(event_id, store.shards))
    store.client.put_item(
        TableName=store.table_name,
        Item={
            "pk": {"S": ids.key_of(event_id)},
            "event_id": {"S": event_id},
            "lsk": {"S": shard},
            **item,
        },
    )
    return event_id


def test_odd_records_never_stop_an_export_or_a_replay(
    world: World, target: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    store = EventStore("odd-records", endpoint_url=world.server.endpoint, region_name="us-east-1")
    store.ensure_table()
    first = _put(store, {"source": {"S": "odd"}, "type": {"S": "fine"}})
    float_number = _put(
        store,
        {
            "source": {"S": "odd"},
            "type": {"S": "with.odd.attributes"},
            "score": {"N": "1.5"},
            "tags": {"SS": ["a", "b"]},
            "nested": {"M": {"a": {"S": "b"}}},
            "flag": {"BOOL": True},
            "data": {"S": '{"a":1}'},
        },
    )
    corrupt = _put(store, {"source": {"S": "odd"}, "type": {"S": "x"}, "data": {"S": "{not json"}})
    untyped = _put(store, {"source": {"S": "odd"}, "data": {"S": "1"}})
    webhook = _put(
        store,
        {
            "source": {"S": "open"},
            "type": {"S": "webhook"},
            "kind": {"S": "webhook"},
            "body": {"B": b"\x00odd"},
            "headers": {"S": "not json"},
        },
    )
    last = _put(store, {"source": {"S": "odd"}, "type": {"S": "last"}})
    table = _table(world.server, "odd-records")

    out = world.folder / "odd.jsonl"
    assert main(["events", "export", "--out", str(out), *table]) == 0
    lines = [json.loads(line) for line in out.read_bytes().splitlines()]
    assert [line["event_id"] for line in lines] == sorted(
        [first, float_number, corrupt, untyped, webhook, last]
    )
    by_id = {line["event_id"]: line for line in lines}
    assert by_id[float_number]["score"] == "1.5"
    assert by_id[corrupt]["data_text"] == "{not json"
    assert main(["events", "get", float_number, *table]) == 0
    assert json.loads(capsys.readouterr().out)["data"] == {"a": 1}

    for args in (table, ["--from", str(out)]):
        code, summary, err = _replay(
            "--to", target.url, "--sources", str(world.sources), "--batch", "10", *args
        )
        assert code == 1, err
        assert summary["failed"] == 2, summary
        assert summary["sent"] == 6
        assert summary["accepted"] + summary["duplicates"] == 4
        errors = "\n".join(summary["errors"])
        assert f"{corrupt}" in errors
        assert "data is not JSON" in errors
        assert f"{untyped}" in errors
        assert "no type" in errors
    replayed = {r["type"] for r in target.items()}
    assert {"fine", "with.odd.attributes", "webhook", "last"} <= replayed
