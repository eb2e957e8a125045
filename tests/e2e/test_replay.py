"""`ingest replay`: export then replay into a second local deployment (same sources) reproduces
the same records (same ids, types, exact data, webhook bodies byte for byte), and a second replay
adds nothing."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest
from ingest import jsonexact
from ingest.adapters.dynamodb import Record
from ingest_tools.cli.main import main

from scripts.harness import LocalHTTP, QuietHandler
from tests import support
from tests.support import Server, replay, serving, start_server, stop_server, write_sources

pytestmark = pytest.mark.slow

EXACT = '{"amount":12.50,"ratio":0.1,"big":98765432109876543210.0000000001,"neg":-0.0,"e":1E-9}'
NESTED = (
    '{"order":{"lines":[{"sku":"A-1","qty":2,"price":0.1},{"sku":"B","price":12.50}],"note":"ü ✓"}}'
)
WEBHOOK_BODY = '{"hook": {"total": 12.50, "items": [1, 2.0]}, "ok": true}'


@dataclass
class Source:
    server: Server
    export: Path  # `ingest events export` of the whole table
    count: int
    sources: Path  # the sources document, shared with the targets

    def table_args(self) -> list[str]:
        return ["--endpoint-url", self.server.endpoint, "--table", self.server.table]


def _post(server: Server, text: str, headers: dict[str, str] | None = None) -> None:
    reply = server.request("POST", "/events", text, headers)
    assert reply.status == 202, reply.body


def _seed(server: Server) -> None:
    _post(server, f'{{"type":"order.created","source":"shop","id":"o-1","data":{EXACT}}}')
    _post(server, f'{{"type":"order.created","source":"shop","data":{NESTED}}}')  # no id
    _post(
        server, '{"type":"order.paid","source":"shop","data":{"n":1}}', {"Idempotency-Key": "k-1"}
    )
    _post(  # a CloudEvent with envelope attributes and extensions
        server,
        '{"specversion":"1.0","type":"user.signed_up","source":"accounts","id":"u-1",'
        '"time":"2026-01-31T12:00:00Z","subject":"user/1","datacontenttype":"application/json",'
        '"tenant":"t-9","weight":12.50,"labels":{"a":[1,0.5]},"data":{"email":"a@example.com"}}',
    )
    _post(server, '{"type":"ping"}')  # no source, no id, no data
    _post(server, '{"type":"text","source":"misc","id":"s-1","data":"just a string"}')
    batch = [
        f'{{"type":"batch.item","source":"bulk"{f",{chr(34)}id{chr(34)}:{chr(34)}b-{i}{chr(34)}" if i % 2 else ""},"data":{{"i":{i},"price":{i}.10}}}}'
        for i in range(60)
    ]
    _post(server, "[" + ",".join(batch) + "]")
    for delivery, extra in (("d-1", {"X-Event-Type": "thing.happened", "X-Delivery": "d-1"}),):
        reply = server.request(
            "POST", "/webhooks/plain", WEBHOOK_BODY, {"Content-Type": "application/json", **extra}
        )
        assert reply.status == 202, (delivery, reply.body)
    reply = server.request("POST", "/webhooks/plain", "a=1&b=2", content_type="text/plain")
    assert reply.status == 202, reply.body


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Source]:
    folder = tmp_path_factory.mktemp("replay")
    plain = {"scheme": "none", "type_header": "X-Event-Type", "id_header": "X-Delivery"}
    sources = write_sources(folder, {"plain": plain})
    server, process = start_server("--sources", str(sources), table="replay-source")
    try:
        _seed(server)
        export = folder / "export.jsonl"
        assert main(["events", "export", "--out", str(export), *_table(server)]) == 0
        count = len(export.read_text("utf-8").splitlines())
        assert count == server.count() == 68
        yield Source(server, export, count, sources)
    finally:
        stop_server(process)


def _table(server: Server) -> list[str]:
    return ["--endpoint-url", server.endpoint, "--table", server.table]


@pytest.fixture
def target(source: Source) -> Iterator[Server]:
    with serving("--sources", str(source.sources), table="replay-target") as server:
        yield server


def _replay(*args: str) -> tuple[int, str, dict[str, Any]]:
    """Run `ingest replay` as a command; its exit code, stdout, and the summary from stderr."""
    ran, summary = replay(*args)
    return ran.code, ran.out, summary


def _canonical(text: str) -> str:
    return jsonexact.dumps(jsonexact.loads(text))


def _expected(record: Record) -> tuple[tuple[str, str], dict[str, Any]]:
    """What a replayed copy of a source record must hold, keyed by (source, id): a record stored
    without an id is replayed with its event_id as Idempotency-Key, which becomes its id."""
    key = (str(record["source"]), str(record.get("id") or record["event_id"]))
    want: dict[str, Any] = {"type": record["type"]}
    for name in ("data", "body", "content_type", "extensions", "time", "subject", "specversion"):
        if name in record:
            want[name] = record[name]  # the exact stored text (or bytes)
    if "datacontenttype" in record:
        want["datacontenttype"] = record["datacontenttype"]
    return key, want


def _actual(record: Record) -> tuple[tuple[str, str], dict[str, Any]]:
    key = (str(record["source"]), str(record["id"]))
    got: dict[str, Any] = {"type": record["type"]}
    for name in (
        "data",
        "body",
        "content_type",
        "extensions",
        "time",
        "subject",
        "specversion",
        "datacontenttype",
    ):
        if name in record:
            got[name] = record[name]
    return key, got


def assert_same_events(source: Server, target: Server) -> None:
    expected = dict(_expected(r) for r in source.items())
    actual = [_actual(r) for r in target.items()]
    assert len(actual) == len(expected) == len({key for key, _ in actual})
    got = dict(actual)
    assert got.keys() == expected.keys()
    for key, want in expected.items():
        assert got[key] == want, key


def _sources(source: Source) -> list[str]:
    return ["--sources", str(source.sources)]


def test_replay_from_an_export_reproduces_the_events_and_a_second_replay_adds_nothing(
    source: Source, target: Server
) -> None:
    code, _, summary = _replay(
        "--from", str(source.export), "--to", target.url, "--rate", "200", *_sources(source)
    )
    assert code == 0, summary
    assert summary == {
        "sent": source.count,
        "accepted": source.count,
        "duplicates": 0,
        "failed": 0,
        "errors": [],
    }
    assert_same_events(source.server, target)
    by_key = {(r["source"], r["id"]): r for r in target.items()}
    assert by_key["shop", "o-1"]["data"] == EXACT  # byte for byte
    assert json.loads(str(by_key["accounts", "u-1"]["extensions"])) == {
        "tenant": "t-9",
        "weight": 12.5,
        "labels": {"a": [1, 0.5]},
    }
    assert '"weight":12.50' in str(by_key["accounts", "u-1"]["extensions"])
    assert by_key["shop", "k-1"]["type"] == "order.paid"  # the same Idempotency-Key
    assert by_key["plain", "d-1"]["type"] == "thing.happened"
    assert by_key["plain", "d-1"]["body"] == WEBHOOK_BODY  # to /webhooks/plain, byte for byte

    before = target.count()
    code, _, again = _replay(
        "--from", str(source.export), "--to", target.url, "--rate", "200", *_sources(source)
    )
    assert code == 0, again
    assert again == {
        "sent": source.count,
        "accepted": 0,
        "duplicates": source.count,
        "failed": 0,
        "errors": [],
    }
    assert target.count() == before == source.count


def test_replay_in_batches(source: Source, target: Server) -> None:
    args = ["--from", str(source.export), "--to", target.url, "--rate", "500", "--batch", "50"]
    args += _sources(source)
    code, _, summary = _replay(*args)
    assert code == 0, summary
    assert (summary["sent"], summary["accepted"], summary["failed"]) == (
        source.count,
        source.count,
        0,
    )
    assert_same_events(source.server, target)
    code, _, again = _replay(*args)
    assert code == 0, again
    assert (again["accepted"], again["duplicates"]) == (0, source.count)
    assert target.count() == source.count


def test_replay_straight_from_the_table(source: Source, target: Server) -> None:
    code, _, summary = _replay(
        "--to",
        target.url,
        "--rate",
        "500",
        "--batch",
        "25",
        *source.table_args(),
        *_sources(source),
    )
    assert code == 0, summary
    assert (summary["sent"], summary["accepted"], summary["failed"]) == (
        source.count,
        source.count,
        0,
    )
    assert_same_events(source.server, target)
    # The table and its export are the same events: replaying the export adds nothing.
    code, _, again = _replay(
        "--from", str(source.export), "--to", target.url, "--rate", "500", *_sources(source)
    )
    assert (code, again["accepted"], again["duplicates"]) == (0, 0, source.count)


def test_dry_run_sends_nothing(source: Source, capsys: pytest.CaptureFixture[str]) -> None:
    # Nothing listens on port 9: any attempt to send would fail and count as failed.
    code = main(
        [
            "replay",
            "--from",
            str(source.export),
            "--to",
            "http://127.0.0.1:9",
            "--dry-run",
            *_sources(source),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0
    lines = [jsonexact.loads(line) for line in out.splitlines()]
    assert len(lines) == source.count
    assert json.loads(err.strip().splitlines()[-1]) == {
        "would send": source.count,
        "accepted": 0,
        "duplicates": 0,
        "failed": 0,
        "errors": [],
    }
    events = [line for line in lines if "post" not in line]
    first = next(e for e in events if e.get("id") == "o-1")
    assert jsonexact.dumps(first["data"]) == EXACT
    anonymous = [e for e in events if e.get("source") == "bulk" and e["data"]["i"] % 2 == 0]
    assert len(anonymous) == 30
    assert all("id" not in e for e in anonymous)  # nothing added: their key goes in a header
    hooks = [line for line in lines if "post" in line]
    assert {h["post"] for h in hooks} == {"/webhooks/plain"}
    delivery = next(h for h in hooks if h.get("id") == "d-1")
    assert delivery["body"] == WEBHOOK_BODY
    assert delivery["headers"]["x-delivery"] == "d-1"


def test_filters_select_what_is_replayed(
    source: Source, capsys: pytest.CaptureFixture[str]
) -> None:
    def selected(*args: str) -> list[dict[str, Any]]:
        to = ["--to", "http://127.0.0.1:9", "--dry-run", *_sources(source)]
        assert main(["replay", *to, *args]) == 0
        return [jsonexact.loads(line) for line in capsys.readouterr().out.splitlines()]

    from_file = ["--from", str(source.export)]
    shop = selected(*from_file, "--source", "shop")
    assert [e.get("id") for e in shop].count("o-1") == 1
    assert len(shop) == 3
    assert {e["source"] for e in shop} == {"shop"}
    assert [e["type"] for e in selected(*from_file, "--type", "order.paid")] == ["order.paid"]
    assert selected(*from_file, "--since", "2999-01-01") == []
    assert len(selected(*from_file, "--until", "2999-01-01")) == source.count
    assert len(selected(*from_file, "--since", "1h")) == source.count
    from_table = selected(*source.table_args(), "--source", "bulk")
    assert len(from_table) == 60
    # One batch, one millisecond: all of it, in event_id order (within a millisecond the order
    # of event ids is not the order of the batch).
    assert sorted(e["data"]["i"] for e in from_table) == list(range(60))
    assert [e["id"] for e in from_table if e["data"]["i"] % 2] == [
        e["id"] for e in selected(*from_file, "--source", "bulk") if e["data"]["i"] % 2
    ]


def test_rate_limit_is_respected(source: Source) -> None:
    # 20 events at 10 per second take about two seconds, however fast the receiver is. They go
    # back into their own table: as they carry producer ids, every one is a duplicate there.
    subset = [line for line in source.export.read_text("utf-8").splitlines() if '"id":"b-' in line][
        :20
    ]
    limited = source.export.parent / "twenty.jsonl"
    limited.write_text("\n".join(subset) + "\n", "utf-8")
    started = time.monotonic()
    code, _, summary = _replay("--from", str(limited), "--to", source.server.url, "--rate", "10")
    elapsed = time.monotonic() - started
    assert code == 0, summary
    assert (summary["sent"], summary["duplicates"]) == (20, 20)
    assert elapsed >= 20 / 10 * 0.9, elapsed
    assert elapsed < 30, elapsed
    fast = time.monotonic()
    code, _, summary = _replay("--from", str(limited), "--to", source.server.url, "--rate", "1000")
    assert code == 0, summary
    assert time.monotonic() - fast < elapsed  # the limit, not the receiver, set the pace
    assert source.server.count() == source.count


@pytest.mark.parametrize("where", ["table", "file"])
def test_replay_by_id_sends_only_those_events(source: Source, where: str) -> None:
    lines = [json.loads(line) for line in source.export.read_text("utf-8").splitlines()]
    webhook = next(line for line in lines if line["source"] == "plain")
    event = next(line for line in lines if line["source"] == "bulk")
    chosen = [webhook["event_id"], event["event_id"]]
    origin = _table(source.server) if where == "table" else ["--from", str(source.export)]
    code, out, summary = _replay(
        *origin,
        *(arg for event_id in chosen for arg in ("--id", event_id)),
        "--url",
        "http://127.0.0.1:9",
        "--dry-run",
        *_sources(source),
    )
    assert code == 0
    assert (summary["would send"], summary["failed"]) == (2, 0)
    shown = [json.loads(line) for line in out.splitlines()]
    hooks = [line for line in shown if "post" in line]
    events = [line for line in shown if "post" not in line]
    # The webhook goes back to its source's URL, the event to /events as its producer sent it.
    assert [(h["post"], h["event_id"]) for h in hooks] == [("/webhooks/plain", chosen[0])]
    assert [e["data"] for e in events] == [event["data"]]


class GoneAfterTwo(QuietHandler):
    """A receiver that answers two requests, then goes away (closes without answering)."""

    answered: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if len(self.answered) >= 2:
            self.close_connection = True
            return
        self.answered.append(self.path)
        self.send_json(202, {"duplicate": False})


def test_a_receiver_that_goes_away_stops_the_replay_at_once(source: Source) -> None:
    with LocalHTTP(GoneAfterTwo) as stub:
        code, _, summary = _replay(
            "--from", str(source.export), "--url", stub.url, "--retries", "0", *_sources(source)
        )
    assert code == 1
    assert len(GoneAfterTwo.answered) == 2
    assert (summary["sent"], summary["accepted"], summary["failed"]) == (2, 2, 0)
    assert summary["stopped"].startswith(f"cannot reach {stub.url}")
    assert summary["errors"] == []  # not one error per record or batch


def test_a_dead_receiver_is_one_line_before_anything_is_read(source: Source) -> None:
    ran = support.ingest("replay", "--from", str(source.export), "--to", "http://127.0.0.1:9")
    assert ran.code == 1
    assert ran.err.strip().splitlines() == [
        "ingest: cannot reach http://127.0.0.1:9: Connection refused; nothing was sent"
    ]


def test_bad_arguments(source: Source, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    to = ["--to", "http://127.0.0.1:9"]
    assert main(["replay", "--from", str(source.export), *to, "--batch", "0"]) == 2
    assert main(["replay", "--from", str(source.export), *to, "--batch", "501"]) == 2
    assert main(["replay", "--from", str(source.export), *to, "--rate", "0"]) == 2
    assert main(["replay", "--from", str(tmp_path / "missing.jsonl"), *to]) == 2
    missing = ["--sources", str(tmp_path / "missing.yaml")]
    assert main(["replay", "--from", str(source.export), *to, *missing]) == 2
    assert "cannot read the sources document" in capsys.readouterr().err


def test_a_broken_line_is_reported_and_the_rest_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.jsonl"
    broken.write_text(
        '{"type":"a","source":"s","event_id":"x"}\n{not json\n{"type":"b","event_id":"y"}\n',
        "utf-8",
    )
    assert main(["replay", "--from", str(broken), "--to", "http://127.0.0.1:9", "--dry-run"]) == 1
    out, err = capsys.readouterr()
    assert [json.loads(line)["type"] for line in out.splitlines()] == ["a", "b"]
    summary = json.loads(err.strip().splitlines()[-1])
    assert (summary["would send"], summary["failed"]) == (3, 1)
    assert summary["errors"][0].startswith("broken.jsonl, line 2: ")
