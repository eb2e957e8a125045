"""``ingest send --webhook`` signs as each provider would, end to end against ``ingest serve``:
the delivery is stored with the provider's type and id, and sending it again is a duplicate. The
asymmetric schemes sign with ``--private-key``; their sources hold only public keys."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ingest import ids
from ingest_tools.cli.send import carried_in_headers

from tests.support import Server, ingest, serving, write_sources
from tests.webhook_providers import PROVIDERS

pytestmark = pytest.mark.slow

ASYMMETRIC = {"discord", "svix", "sendgrid"}


@pytest.fixture(scope="module")
def sources_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sources = {
        name: {"scheme": name, "secrets": list(p.keys), **p.options}
        for name, p in PROVIDERS.items()
    }
    return write_sources(tmp_path_factory.mktemp("providers"), sources)


@pytest.fixture(scope="module")
def api(sources_file: Path) -> Iterator[Server]:
    with serving("--sources", str(sources_file), table="send-providers") as server:
        yield server


def send(api: Server, sources_file: Path, folder: Path, scheme: str) -> tuple[int, Any]:
    provider = PROVIDERS[scheme]
    payload = folder / "payload"
    payload.write_bytes(provider.body)
    args = ["--webhook", scheme, "--sources", str(sources_file), "--url", api.url]
    # --type and --id where the provider carries them in headers; send refuses them otherwise.
    has_type, has_id = carried_in_headers(provider.config(), provider.signer, provider.body)
    if provider.event_type and has_type:
        args += ["--type", provider.event_type]
    if provider.delivery_id and has_id:
        args += ["--id", provider.delivery_id]
    if scheme in ASYMMETRIC:
        key = folder / "private.key"
        key.write_text(provider.signer, "utf-8")
        args += ["--private-key", str(key)]
    done = ingest("send", *args, str(payload), env={"INGEST_URL": api.url})
    assert provider.signer not in done.out + done.err
    status_lines = [line for line in done.err.splitlines() if line.startswith("HTTP ")]
    assert status_lines, done.err
    status = int(status_lines[0].split()[1])
    return status, json.loads(done.out)


@pytest.mark.parametrize("scheme", sorted(PROVIDERS))
def test_ingest_send_signs_as_the_provider(
    api: Server, sources_file: Path, tmp_path: Path, scheme: str
) -> None:
    provider = PROVIDERS[scheme]
    status, first = send(api, sources_file, tmp_path, scheme)
    assert status == 202, first
    item = api.store().get(ids.key_of(first["event_id"]))
    assert item is not None
    assert (item["type"], item.get("id")) == (
        provider.expected.event_type,
        provider.expected.delivery_id,
    )
    status, again = send(api, sources_file, tmp_path, scheme)
    assert (status, again) == (200, {**first, "duplicate": True})


def test_a_public_key_cannot_sign(api: Server, sources_file: Path, tmp_path: Path) -> None:
    payload = tmp_path / "payload"
    payload.write_bytes(PROVIDERS["discord"].body)
    done = ingest(
        "send", "--webhook", "discord", "--sources", str(sources_file), "--url", api.url,
        str(payload),
    )  # fmt: skip
    assert done.code == 2  # an input the command cannot use
    assert "--private-key" in done.err
