"""Large deliveries through `ingest serve` with S3 in its emulator (docs/decisions/0034): a 4 MiB
GitHub-style delivery is accepted, stored by reference, exported and replayed byte-exact; a body
over the platform's limit is 413 JSON and stores nothing, neither an item nor an object."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ingest import ids
from ingest.domain.webhooks.config import SourceConfig
from ingest.domain.webhooks.schemes import sign
from ingest.limits import MAX_WEBHOOK_BYTES
from ingest_tools.cli.main import main

from tests.support import Reply, Server, replay, serving, write_sources

pytestmark = pytest.mark.slow

SOURCES: dict[str, dict[str, Any]] = {"github": {"scheme": "github", "secrets": ["gh-large"]}}
BUCKET = "ingest-payloads"  # ingest serve's default payload bucket


def github_delivery(size: int) -> bytes:
    """A GitHub-style push of exactly ``size`` bytes: JSON whose commits carry a large blob."""
    head = b'{"ref":"refs/heads/main","repository":{"full_name":"o/r"},"commits":[{"diff":"'
    tail = b'"}]}'
    blob = base64.b64encode(os.urandom(size)).decode("ascii")
    return head + blob[: size - len(head) - len(tail)].encode("ascii") + tail


def deliver(server: Server, body: bytes, delivery_id: str) -> Reply:
    config = SourceConfig.model_validate(SOURCES["github"])
    headers = sign(
        config, body, "gh-large", time.time(), delivery_id=delivery_id, event_type="push"
    )
    return server.request("POST", "/webhooks/github", body, headers)


def objects(server: Server) -> dict[str, int]:
    listed = server.store().payload_objects.client.list_objects_v2(Bucket=BUCKET)
    return {entry["Key"]: entry["Size"] for entry in listed.get("Contents", [])}


@pytest.fixture
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    """The server the deliveries go to, and its sources file (replays go to servers of their own):
    one for each test, whose export and replay count what that test stored, in any order."""
    sources = write_sources(tmp_path_factory.mktemp("large"), SOURCES)
    with serving("--sources", str(sources), table="large-source") as running:
        yield running, sources


def test_a_4_mib_delivery_is_stored_by_reference_exported_and_replayed_exactly(
    deployment: tuple[Server, Path], tmp_path: Path
) -> None:
    server, sources = deployment
    body = github_delivery(4 * 1024 * 1024)
    reply = deliver(server, body, "large-1")
    assert reply.status == 202, reply.body
    event_id = json.loads(reply.body)["event_id"]

    item = server.store().client.get_item(
        TableName=server.table, Key={"pk": {"S": ids.key_of(event_id)}}
    )["Item"]
    digest = hashlib.sha256(body).hexdigest()
    assert item["codec"] == {"S": "s3"}
    assert item["body"] == {"S": f"s3://{BUCKET}/payloads/{digest}"}
    assert item["sha256"] == {"S": digest}
    assert item["payload_size"] == item["size"] == {"N": str(len(body))}
    assert objects(server)[f"payloads/{digest}"] == len(body)

    export = tmp_path / "export.jsonl"
    table = ["--endpoint-url", server.endpoint, "--table", server.table]
    assert main(["events", "export", "--source", "github", "--out", str(export), *table]) == 0
    (line,) = [json.loads(text) for text in export.read_text("utf-8").splitlines()]
    assert line["event_id"] == event_id
    assert line["body"].encode("utf-8") == body
    assert not {"codec", "sha256", "payload_size"} & set(line)  # the payload, not the reference

    with serving("--sources", str(sources), table="large-target") as target:
        env = {"SOURCES": json.dumps({"sources": SOURCES})}
        ran, summary = replay("--to", target.url, *table, env=env)
        assert ran.code == 0, ran.err
        assert (summary["sent"], summary["accepted"], summary["failed"]) == (1, 1, 0)
        (replayed,) = target.items()
        assert replayed["id"] == "large-1"
        stored = target.store().get(str(replayed["pk"]))
        assert stored is not None
        assert str(stored["body"]).encode("utf-8") == body  # byte for byte, fetched from S3
        again, summary = replay("--to", target.url, "--from", str(export), env=env)
        assert again.code == 0, again.err
        assert summary["duplicates"] == 1  # the same delivery id: stored once


def test_a_body_over_the_platform_limit_is_413_and_stores_nothing(
    deployment: tuple[Server, Path],
) -> None:
    server = deployment[0]
    items, stored_objects = len(server.items()), objects(server)
    reply = deliver(server, github_delivery(MAX_WEBHOOK_BYTES + 1), "too-large-1")
    assert reply.status == 413
    error = json.loads(reply.body)["error"]
    assert error["code"] == "payload_too_large"
    assert str(MAX_WEBHOOK_BYTES) in error["message"]
    assert len(server.items()) == items
    assert objects(server) == stored_objects
    at_the_limit = deliver(server, github_delivery(MAX_WEBHOOK_BYTES), "at-the-limit-1")
    assert at_the_limit.status == 202, at_the_limit.body
