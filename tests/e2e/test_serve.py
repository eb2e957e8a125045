"""`ingest serve` end to end: every way it can be started wrong ends in one line and a non-zero
exit; what it stored survives a restart (and a kill); a changed sources file takes effect while it
runs; `--dev-sources` keeps its secrets; the emulator's port answers only DynamoDB's API."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from ingest.domain.webhooks.config import SourceConfig
from ingest.domain.webhooks.schemes import sign
from ingest_tools.local.datadir import (
    DataDir,
    DataDirError,
    ServeState,
    TableSnapshot,
    running_serve,
    scanned,
    wire_form,
)
from ingest_tools.local.dev_sources import providers
from ingest_tools.local.emulator import DEFAULT_PORT, EmbeddedDynamoDB

from scripts.harness import INGEST, LOOPBACK, REGION, aws_env, http, start
from tests.support import (
    Ran,
    Server,
    free_port,
    ingest,
    mocked_table,
    serving,
    start_server,
    write_sources,
)

pytestmark = pytest.mark.slow

BODY = b'{"ref": "refs/heads/main", "after": "59b20b8d"}'


def failed_in_one_line(ran: Ran, code: int, words: str) -> None:
    lines = ran.err.strip().splitlines()
    assert (ran.code, len(lines), "Traceback" in ran.err) == (code, 1, False), ran
    assert words in lines[0], ran.err


def serve(*args: str, env: dict[str, str] | None = None) -> Ran:
    """``ingest serve`` on a free port, expected to stop by itself."""
    return ingest(
        "serve", "--port", str(free_port()), *args, env=env, unset=("SOURCES",), timeout=90
    )


def deliver(server: Server, name: str, secret: str, delivery: str = "d-1") -> int:
    """A GitHub push to ``/webhooks/NAME``, signed with ``secret``; the answer's status."""
    config = SourceConfig.model_validate({"scheme": "github", "secrets": [secret]})
    headers = sign(config, BODY, secret, time.time(), delivery_id=delivery, event_type="push")
    return server.request("POST", f"/webhooks/{name}", BODY, headers).status


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("serve-errors")
    (folder / "bad.yaml").write_text("sources:\n  github: [unclosed\n", "utf-8")
    (folder / "typo.json").write_text(
        json.dumps({"sources": {"x": {"scheme": "github", "secrets": ["s"], "typo": 1}}})
    )
    (folder / "scheme.json").write_text(json.dumps({"sources": {"x": {"scheme": "nope"}}}))
    (folder / "broken" / "tables").mkdir(parents=True)
    (folder / "broken" / "tables" / "events.jsonl").write_text("not a snapshot\n", "utf-8")
    return folder


@pytest.mark.parametrize(
    ("args", "env", "code", "words"),
    [
        (("--sources", "{d}/missing.yaml"), {}, 1, "missing.yaml: no such file"),
        (("--sources", "{d}/bad.yaml"), {}, 1, "is not valid YAML at line 3"),
        (("--sources", "{d}/typo.json"), {}, 1, "sources.x.typo"),
        (("--sources", "{d}/scheme.json"), {}, 1, "sources.x.scheme"),
        ((), {"SOURCES": "{d}/missing.yaml"}, 1, "no such file"),
        ((), {"SOURCES": '{"sources": {'}, 1, "$SOURCES: the sources document is not valid JSON"),
        (
            ("--data-dir", "{d}/broken"),
            {},
            1,
            "events.jsonl: line 1 is not what ingest serve writes",
        ),
        (("--host", "host.invalid"), {}, 1, "cannot listen on host.invalid:"),
        (("--table", "ab"), {}, 2, "is not a table name"),
        ((), {"INGEST_TABLE": "ab"}, 1, "$INGEST_TABLE: 'ab' is not a table name"),
        (("--port", "70000"), {}, 2, "--port: 70000 is not a port number"),
        (("--retention-days", "0"), {}, 2, "--retention-days"),
        (("--endpoint-url", "ftp://example.com"), {}, 2, "is not an http:// or https:// URL"),
        (("--endpoint-url", f"http://{LOOPBACK}:{free_port()}"), {}, 1, "cannot use table"),
    ],
)
def test_a_wrong_start_is_one_line_and_a_non_zero_exit(
    documents: Path, args: tuple[str, ...], env: dict[str, str], code: int, words: str
) -> None:
    filled = [arg.format(d=documents) for arg in args]
    variables = {name: value.replace("{d}", str(documents)) for name, value in env.items()}
    if "--data-dir" not in filled:
        filled.append("--ephemeral")
    failed_in_one_line(serve(*filled, env=variables), code, words)


@pytest.mark.parametrize("which", ["--port", "--emulator-port"])
def test_a_port_in_use_is_one_line_and_a_non_zero_exit(which: str) -> None:
    with socket.create_server((LOOPBACK, 0)) as taken:
        port = str(taken.getsockname()[1])
        ran = ingest("serve", "--ephemeral", "--port", str(free_port()), which, port, timeout=90)
    expected = "cannot listen on" if which == "--port" else "cannot start the DynamoDB emulator"
    failed_in_one_line(ran, 1, f"{expected}")
    assert f"{port}: Address already in use" in ran.err


def test_the_emulator_moves_to_a_free_port_when_its_own_is_taken() -> None:
    with contextlib.ExitStack() as stack:
        with contextlib.suppress(OSError):  # else someone else holds it: as good for this test
            stack.enter_context(socket.create_server((LOOPBACK, DEFAULT_PORT)))
        port = free_port()
        url = f"http://{LOOPBACK}:{port}"
        command = [*INGEST, "serve", "--ephemeral", "--quiet", "--port", str(port)]
        with start(command, health=f"{url}/health", env=aws_env()) as process:
            process.wait_for("ingest serve: the API on")
            assert f"port {DEFAULT_PORT} was taken" in process.log()


def test_restarting_keeps_the_events_and_the_generated_secrets(tmp_path: Path) -> None:
    data = tmp_path / "data"
    options = ("--data-dir", str(data), "--dev-sources")
    first, process = start_server(*options, table="kept")
    try:
        event = first.post_json("/events", {"type": "order.created", "id": "o-1"}).json()
        secret = json.loads((data / "dev-secrets.json").read_text())["github"]["secret"]
        assert deliver(first, "github", secret) == 202
        elsewhere = http("POST", f"{first.endpoint}/events", b"{}")  # the emulator, not the API
        assert elsewhere.status == 404, elsewhere
        assert first.url in elsewhere.json()["error"]["message"]
        failed_in_one_line(
            serve("--data-dir", str(data)), 1, "another ingest serve uses the data directory"
        )
        listed = ingest("events", "list", "--table", "kept", env={"INGEST_DATA_DIR": str(data)})
        assert event["event_id"] in listed.out, listed  # found without --endpoint-url
    finally:
        log = process.stop()
    assert re.search(rf"/webhooks/github +secret {secret}\n", log), log
    assert "kept 2 items" in log

    second, process = start_server(*options, table="kept")
    try:
        assert {item["event_id"] for item in second.items()} >= {event["event_id"]}
        assert len(second.items()) == 2
        assert deliver(second, "github", secret, "d-2") == 202  # the same secret
        snapshot = data / "tables" / "kept.jsonl"
        deadline = time.monotonic() + 60
        while snapshot.read_text().count("\n") < 4 and time.monotonic() < deadline:
            time.sleep(0.2)  # saved within seconds of a write, without waiting for the exit
    finally:
        process.popen.kill()  # no chance to save on the way out
        process.stop()
    third, process = start_server(*options, table="kept")
    with process:
        assert len(third.items()) == 3


def test_a_changed_sources_file_takes_effect_without_a_restart(tmp_path: Path) -> None:
    first = {"first": {"scheme": "github", "secrets": ["first-secret"]}}
    path = write_sources(tmp_path, first)
    with serving("--sources", str(path)) as server:
        assert deliver(server, "second", "second-secret") == 404
        write_sources(
            tmp_path, {**first, "second": {"scheme": "github", "secrets": ["second-secret"]}}
        )
        server.process.wait_for("sources reloaded")
        assert deliver(server, "second", "second-secret") == 202
        path.write_text("sources: [unclosed\n", "utf-8")
        server.process.wait_for("still serving the previous sources")
        assert deliver(server, "second", "second-secret", "d-2") == 202
        assert deliver(server, "first", "first-secret") == 202


@pytest.mark.parametrize("read", ["through the API", "from the emulator's memory"])
def test_a_snapshot_keeps_every_attribute_type_exactly(tmp_path: Path, read: str) -> None:
    item: dict[str, Any] = {
        "pk": {"S": "k"},
        "body": {"B": bytes(range(256))},
        "digests": {"BS": [b"\x00", b"\xff"]},
        "size": {"N": "12345678901234567890.5"},
        "tags": {"SS": ["a", "b"]},
        "nested": {"M": {"l": {"L": [{"B": b"\x01"}, {"NULL": True}, {"BOOL": False}]}}},
        "sizes": {"NS": ["1", "2"]},
    }
    snapshot = TableSnapshot(tmp_path / "t.jsonl")
    with mocked_table("snap") as store:
        store.client.put_item(TableName="snap", Item=item)
        held = EmbeddedDynamoDB().items("snap", REGION)
        assert held is not None
        items = scanned(store.client, "snap") if read == "through the API" else map(wire_form, held)
        assert snapshot.save("snap", items) == 1
    with mocked_table("snap") as store:
        assert snapshot.restore(store.client, "snap") == 1
        [restored] = store.client.scan(TableName="snap")["Items"]
    assert {name: restored[name] for name in item} == item


def test_the_table_commands_find_only_a_serve_that_runs(tmp_path: Path) -> None:
    state = ServeState("http://127.0.0.1:3000", "http://127.0.0.1:8000", "events", 1)
    claimed = DataDir(tmp_path).claim()
    claimed.publish(state)
    assert running_serve(tmp_path) == state
    with pytest.raises(DataDirError, match="another ingest serve uses the data directory"):
        DataDir(tmp_path).claim()
    left = (tmp_path / "serve.json").read_text()
    claimed.release()
    (tmp_path / "serve.json").write_text(left)  # as a killed serve leaves it, its lock gone
    assert running_serve(tmp_path) is None


def test_dev_sources_verify_a_sample_of_every_provider(tmp_path: Path) -> None:
    data = tmp_path / "data"
    samples = ingest("trigger", "--list").out.split()
    with serving("--data-dir", str(data), "--dev-sources"):
        for provider in providers():
            sample = next(name for name in samples if name.startswith(f"{provider}."))
            key = data / "keys" / f"{provider}.pem"
            signing = ["--private-key", str(key)] if key.exists() else []
            sources = str(data / "dev-sources.json")
            env = {"INGEST_DATA_DIR": str(data)}  # the URL: the running serve's
            sent = ingest("trigger", sample, "--sources", sources, *signing, env=env)
            assert sent.code == 0, (sample, sent)
