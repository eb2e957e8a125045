"""`ingest trigger`: a sample of every provider, signed as the provider signs, is accepted by a
local `ingest serve` configured with that provider's source, and stored as the event it names."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from ingest.domain.webhooks.schemes import REGISTRY
from ingest_tools.samples import Sample, catalog

from tests.support import Server, ingest, serving, write_sources
from tests.webhook_providers import provider_source

pytestmark = pytest.mark.slow

SAMPLES = catalog()
#: One sample of each provider (the unit tests verify every sample in process).
FIRST = {s.provider: s for s in reversed(list(SAMPLES.values()))}


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path, Path]]:
    folder = tmp_path_factory.mktemp("trigger")
    sources: dict[str, object] = {}
    keys = folder / "keys"
    keys.mkdir()
    for provider in FIRST:
        document, signer = provider_source(provider)
        sources[provider] = document
        if REGISTRY[provider].asymmetric:
            (keys / provider).write_text(signer, "utf-8")
    path = write_sources(folder, sources)
    with serving("--sources", str(path), table="trigger") as server:
        yield server, path, keys


def trigger(
    server: Server, sources: Path, keys: Path, name: str, *extra: str, status: int = 202
) -> dict[str, object]:
    sample = SAMPLES[name]
    key = keys / sample.provider
    private = ("--private-key", str(key)) if key.exists() else ()
    ran = ingest(
        "trigger",
        name,
        "--url",
        server.url,
        "--sources",
        str(sources),
        *private,
        *extra,
        unset=("SOURCES", "INGEST_URL"),
    )
    assert ran.code == 0, ran
    assert f"HTTP {status}" in ran.err, ran.err
    answer: dict[str, object] = json.loads(ran.out)
    return answer


@pytest.mark.parametrize("sample", FIRST.values(), ids=lambda s: s.name)
def test_a_sample_is_accepted_and_stored_as_its_event(
    deployment: tuple[Server, Path, Path], sample: Sample
) -> None:
    server, sources, keys = deployment
    first = trigger(server, sources, keys, sample.name)
    shown = ingest(
        "events",
        "get",
        str(first["event_id"]),
        "--endpoint-url",
        server.endpoint,
        "--table",
        server.table,
    )
    record = json.loads(shown.out)
    assert (record["source"], record["type"], record["kind"]) == (
        sample.provider,
        sample.header_type,
        "webhook",
    )


def test_list_names_every_sample() -> None:
    listed = ingest("trigger", "--list")
    assert listed.code == 0
    assert listed.out.split() == list(SAMPLES)
    assert {"github.push", "stripe.payment_intent.succeeded"} <= set(listed.out.split())


def test_a_delivery_id_given_is_the_one_stored(deployment: tuple[Server, Path, Path]) -> None:
    server, sources, keys = deployment
    delivery = f"delivery-{uuid.uuid4().hex}"
    answer = trigger(server, sources, keys, "github.push", "--id", delivery)
    again = trigger(server, sources, keys, "github.push", "--id", delivery, status=200)
    assert again["event_id"] == answer["event_id"]
    assert again.get("duplicate") is True


def test_no_flags_against_a_local_serve_with_dev_sources(tmp_path: Path) -> None:
    """`ingest serve --dev-sources` publishes its URL, table endpoint and generated sources (keys
    too) in its data directory: trigger, send and the table commands need no flag at all."""
    data = tmp_path / "data"
    local = {"INGEST_DATA_DIR": str(data)}
    bare = ("SOURCES", "INGEST_URL", "INGEST_TABLE", "EVENTS_TABLE")
    with serving("--dev-sources", "--data-dir", str(data), table="events"):
        for name in ("github.push", "discord.APPLICATION_COMMAND", "stripe.invoice.paid"):
            ran = ingest("trigger", name, env=local, unset=bare)
            assert ran.code == 0, ran
            assert "HTTP 202" in ran.err
        payload = tmp_path / "payload.json"
        payload.write_text('{"zen": "Keep it logically awesome."}', "utf-8")
        sent = ingest("send", "--webhook", "github", str(payload), env=local, unset=bare)
        assert sent.code == 0, sent
        assert "sent as a 'push' event" in sent.err  # GitHub's type, not a made-up one
        listed = ingest("events", "list", "--limit", "2", env=local, unset=bare)
        assert listed.code == 0, listed
        newest = [json.loads(line) for line in listed.out.splitlines()]
        assert [(e["source"], e["type"]) for e in newest] == [
            ("github", "push"),
            ("stripe", "invoice.paid"),
        ]


def test_show_lays_a_delivery_out_with_its_headers(deployment: tuple[Server, Path, Path]) -> None:
    server, sources, keys = deployment
    answer = trigger(server, sources, keys, "github.push")
    shown = ingest(
        "events",
        "show",
        str(answer["event_id"]),
        "--endpoint-url",
        server.endpoint,
        "--table",
        server.table,
    )
    assert shown.code == 0, shown
    lines = shown.out.splitlines()
    headers = lines[lines.index("headers (as the provider sent them, credentials left out):") + 1 :]
    assert "  x-github-event: push" in headers
    assert any(line.startswith("  x-hub-signature-256: sha256=") for line in headers)
    body = lines[lines.index("body (application/json):") + 1 :]
    assert body[:2] == ["  {", '    "ref": "refs/heads/main",']
