"""`ingest events get|list|export` against a running `ingest serve` and its emulated table."""

from __future__ import annotations

import io
import json
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from ingest_tools.cli.common import Progress
from ingest_tools.cli.main import main

from tests.support import Server, ingest, start_server, stop_server

pytestmark = pytest.mark.slow

# Exact numbers, nesting, unicode: what `get` prints must be these bytes.
EXACT_DATA = (
    '{"price":12.50,"ratio":0.1,"big":12345678901234567890.000000001,'
    '"tiny":1E-7,"list":[1,2.0,-0.0,null,true],"text":"été ✓","nested":{"a":{"b":[{}]}}}'
)
EXTENSIONS = '"tenant":"t-1","weight":12.50'


@dataclass
class Stored:
    event_id: str
    received_at: str
    source: str
    type: str


@dataclass
class Seeded:
    server: Server
    first: list[Stored]  # stored before `boundary`
    second: list[Stored]  # stored at or after `boundary`
    boundary: str  # received_at of the first event of the second phase

    @property
    def all(self) -> list[Stored]:
        return self.first + self.second

    def cli(self, *args: str) -> list[str]:
        return [*args, "--endpoint-url", self.server.endpoint, "--table", self.server.table]


def _post(server: Server, text: str) -> list[Stored]:
    reply = server.request("POST", "/events", text)
    assert reply.status == 202, reply.body
    document = json.loads(text)
    events = document if isinstance(document, list) else [document]
    answers = reply.json()["events"] if isinstance(document, list) else [reply.json()]
    received = reply.json().get("received_at", "")
    return [
        Stored(a["event_id"], a.get("received_at", received), e.get("source", "default"), e["type"])
        for e, a in zip(events, answers, strict=True)
    ]


@pytest.fixture(scope="module")
def seeded() -> Iterator[Seeded]:
    server, process = start_server(table="cli-events")
    try:
        first: list[Stored] = []
        first += _post(
            server,
            f'{{"type":"order.created","source":"shop","id":"o-1",{EXTENSIONS},'
            f'"data":{EXACT_DATA}}}',
        )
        first += _post(server, '{"type":"order.paid","source":"shop","id":"o-2","data":{"n":2}}')
        first += _post(
            server,
            '[{"type":"user.signed_up","source":"accounts","data":{"n":3}},'
            '{"type":"order.created","source":"shop","data":{"n":4}}]',
        )
        time.sleep(0.05)  # the phases are at least a few milliseconds apart
        second: list[Stored] = []
        second += _post(server, '{"type":"order.created","source":"shop","data":{"n":5}}')
        second += _post(server, '{"type":"user.deleted","source":"accounts","data":{"n":6}}')
        second += _post(server, '{"type":"ping","data":7}')
        second += _post(
            server,
            "["
            + ",".join(
                f'{{"type":"order.paid","source":"shop","id":"b-{i}","data":{{"n":{i}}}}}'
                for i in range(8, 14)
            )
            + "]",
        )
        second += _post(server, '{"type":"marker","source":"marker"}')
        assert first[-1].event_id[:13] < second[0].event_id[:13]  # different milliseconds
        yield Seeded(server, first, second, second[0].received_at)
    finally:
        stop_server(process)


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str], str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, [line for line in out.splitlines() if line], err


def _ids(lines: list[str]) -> list[str]:
    return [json.loads(line)["event_id"] for line in lines]


# --- get --------------------------------------------------------------------------------------


def _first_event(seeded: Seeded, capsys: pytest.CaptureFixture[str], action: str) -> list[str]:
    """What ``ingest events ACTION`` prints for the first event seeded (it succeeds)."""
    code, lines, _ = _run(seeded.cli("events", action, seeded.first[0].event_id), capsys)
    assert code == 0
    return lines


def test_get_prints_the_stored_event_with_its_exact_data(
    seeded: Seeded, capsys: pytest.CaptureFixture[str]
) -> None:
    event = seeded.first[0]
    lines = _first_event(seeded, capsys, "get")
    assert len(lines) == 1
    line = lines[0]
    assert line.endswith(f',"data":{EXACT_DATA}}}')  # byte for byte as sent
    assert '"extensions":{"tenant":"t-1","weight":12.50}' in line  # exact, not 12.5
    record = json.loads(line)
    assert record["event_id"] == event.event_id
    assert (record["source"], record["type"], record["id"]) == ("shop", "order.created", "o-1")
    assert record["received_at"] == event.received_at
    assert "pk" not in record


def test_get_unknown_and_malformed_ids(seeded: Seeded, capsys: pytest.CaptureFixture[str]) -> None:
    known = seeded.first[0].event_id
    # Same key bits, another millisecond: the item exists under that key, but not this event.
    other_time = f"{int(known[:8], 16) ^ 1:08x}{known[8:]}"
    for unknown in (other_time, "01a00000-0000-7000-8000-000000000000"):
        code, lines, err = _run(seeded.cli("events", "get", unknown), capsys)
        assert (code, lines) == (1, [])
        assert "not found" in err
    for malformed in ("nope", known.upper(), known[:-1], known.replace("-", "_")):
        code, lines, err = _run(seeded.cli("events", "get", malformed), capsys)
        assert (code, lines) == (2, [])
        assert "not an event id" in err


def test_get_exit_codes_from_the_installed_command(seeded: Seeded) -> None:
    event_id = seeded.second[0].event_id
    found = ingest(*seeded.cli("events", "get", event_id))
    assert found.code == 0, found.err
    assert json.loads(found.out)["event_id"] == event_id
    missing = ingest(*seeded.cli("events", "get", "01a00000-0000-7000-8000-000000000000"))
    assert (missing.code, missing.out) == (1, "")
    malformed = ingest(*seeded.cli("events", "get", "x"))
    assert (malformed.code, malformed.out) == (2, "")


def test_show_lays_the_event_out_with_its_exact_data(
    seeded: Seeded, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = _first_event(seeded, capsys, "show")
    assert lines[0].split() == ["event_id", seeded.first[0].event_id]
    assert ["source", "shop"] in [line.split() for line in lines]
    data = lines[lines.index("data:") + 1 :]
    assert data[0] == "  {"
    assert '    "price": 12.50,' in data  # exact, one member per line
    assert '    "big": 12345678901234567890.000000001,' in data
    assert json.loads("\n".join(data)) == json.loads(EXACT_DATA)
    assert '    "weight": 12.50' in lines[lines.index("extensions:") + 1 :]


def test_tail_prints_the_latest_events_one_line_each_oldest_first(
    seeded: Seeded, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines, _ = _run(seeded.cli("events", "tail", "-n", "3"), capsys)
    assert code == 0
    latest = sorted(e.event_id for e in seeded.all)[-3:]
    assert [line.split()[3] for line in lines] == latest
    marker = lines[-1].split()
    assert marker[1:3] == ["marker", "marker"]  # source, type


# --- list -------------------------------------------------------------------------------------


def test_list_everything_newest_first(seeded: Seeded, capsys: pytest.CaptureFixture[str]) -> None:
    code, lines, err = _run(seeded.cli("events", "list"), capsys)
    assert code == 0
    assert _ids(lines) == sorted((e.event_id for e in seeded.all), reverse=True)
    assert "more events" not in err  # all of them fit in one page


def test_list_everything_in_time_order(seeded: Seeded, capsys: pytest.CaptureFixture[str]) -> None:
    code, lines, _ = _run(seeded.cli("events", "list", "--oldest-first"), capsys)
    assert code == 0
    assert _ids(lines) == sorted(e.event_id for e in seeded.all)


@pytest.mark.parametrize("order", [(), ("--oldest-first",)])
def test_list_pages_with_the_cursor_of_its_hint(
    seeded: Seeded, capsys: pytest.CaptureFixture[str], order: tuple[str, ...]
) -> None:
    expected = sorted((e.event_id for e in seeded.all), reverse=not order)
    pages: list[str] = []
    cursor: tuple[str, ...] = ()
    while True:
        code, lines, err = _run(
            seeded.cli("events", "list", "--limit", "4", *order, *cursor), capsys
        )
        assert code == 0
        pages += _ids(lines)
        hint = re.search(r"add --cursor (\S+) for the next 4", err)
        if hint is None:
            break
        assert hint.group(1) == pages[-1]
        cursor = ("--cursor", hint.group(1))
    assert pages == expected


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--source", "shop"),
        ("--source", "accounts"),
        ("--source", "default"),
        ("--type", "order.paid"),
    ],
)
def test_list_filters_by_source_and_type(
    seeded: Seeded, capsys: pytest.CaptureFixture[str], option: str, value: str
) -> None:
    code, lines, _ = _run(seeded.cli("events", "list", "--oldest-first", option, value), capsys)
    assert code == 0
    attribute = "source" if option == "--source" else "type"
    expected = [e.event_id for e in seeded.all if getattr(e, attribute) == value]
    assert expected
    assert _ids(lines) == sorted(expected)
    assert all(json.loads(line)[attribute] == value for line in lines)


def test_list_source_and_type_together_with_a_limit(
    seeded: Seeded, capsys: pytest.CaptureFixture[str]
) -> None:
    matching = sorted(
        e.event_id for e in seeded.all if (e.source, e.type) == ("shop", "order.paid")
    )
    assert len(matching) > 3
    code, lines, _ = _run(
        seeded.cli("events", "list", "--source", "shop", "--type", "order.paid", "--limit", "3"),
        capsys,
    )
    assert code == 0
    assert _ids(lines) == matching[::-1][:3]  # the latest three, the newest first


def test_list_limit(seeded: Seeded, capsys: pytest.CaptureFixture[str]) -> None:
    everything = sorted(e.event_id for e in seeded.all)
    for limit in (1, 4, len(everything) + 10):
        _, lines, _ = _run(seeded.cli("events", "list", "--limit", str(limit)), capsys)
        assert _ids(lines) == everything[::-1][:limit]
    for refused in ("0", "-1", "many"):
        with pytest.raises(SystemExit) as exc:
            main(seeded.cli("events", "list", "--limit", refused))
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert "--limit" in err


def test_list_since_and_until(seeded: Seeded, capsys: pytest.CaptureFixture[str]) -> None:
    boundary = seeded.boundary
    _, after, _ = _run(seeded.cli("events", "list", "--oldest-first", "--since", boundary), capsys)
    _, before, _ = _run(seeded.cli("events", "list", "--oldest-first", "--until", boundary), capsys)
    # --since is inclusive and --until exclusive, to the millisecond of the event id: the
    # first event of the second phase is in `after`, and only there.
    assert _ids(after) == sorted(e.event_id for e in seeded.second)
    assert _ids(before) == sorted(e.event_id for e in seeded.first)
    # RFC 3339 with an offset names the same instant.
    stamp = datetime.fromisoformat(boundary.replace("Z", "+00:00")).astimezone(
        timezone(timedelta(hours=2))
    )
    _, shifted, _ = _run(
        seeded.cli("events", "list", "--oldest-first", "--since", stamp.isoformat()), capsys
    )
    assert shifted == after

    _, window, _ = _run(
        seeded.cli("events", "list", "--oldest-first", "--since", "1h", "--until", "2999-01-01"),
        capsys,
    )
    assert _ids(window) == sorted(e.event_id for e in seeded.all)
    code, empty, _ = _run(
        seeded.cli("events", "list", "--since", boundary, "--until", "2000-01-01T00:00:00Z"),
        capsys,
    )
    assert (code, empty) == (0, [])
    _, none_yet, _ = _run(seeded.cli("events", "list", "--since", "2999-01-01"), capsys)
    assert none_yet == []


def test_list_rejects_a_bad_time(seeded: Seeded, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(seeded.cli("events", "list", "--since", "yesterday"))
    assert exc.value.code == 2
    assert "is not a time" in capsys.readouterr().err


def test_an_unreachable_table_is_one_line_and_exit_1(
    seeded: Seeded, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["events", "list", "--endpoint-url", "http://127.0.0.1:9", "--table", "x-y-z"])
    err = capsys.readouterr().err
    assert code == 1
    assert "cannot read table 'x-y-z'" in err
    assert "Traceback" not in err
    code = main(["events", "list", "--endpoint-url", seeded.server.endpoint, "--table", "absent"])
    assert code == 1
    assert "cannot read table 'absent'" in capsys.readouterr().err


# --- export -----------------------------------------------------------------------------------


def _export(
    seeded: Seeded, capsys: pytest.CaptureFixture[str], out: Path, *extra: str
) -> tuple[int, str]:
    code = main(seeded.cli("events", "export", "--out", str(out), *extra))
    return code, capsys.readouterr().err


def test_export_writes_json_lines_equal_to_list(
    seeded: Seeded, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _, listed, _ = _run(seeded.cli("events", "list", "--oldest-first", "--limit", "1000"), capsys)
    out = tmp_path / "all.jsonl"
    code, err = _export(seeded, capsys, out)
    assert code == 0
    assert out.read_text("utf-8").splitlines() == listed
    assert out.read_bytes().endswith(b"\n")
    assert f"exported {len(listed)} events to {out}" in err
    assert "\r" not in err  # no progress when stderr is not a terminal
    line = next(x for x in listed if '"id":"o-1"' in x)
    assert line.endswith(f',"data":{EXACT_DATA}}}')


def test_export_to_standard_output(seeded: Seeded, capsys: pytest.CaptureFixture[str]) -> None:
    _, listed, _ = _run(seeded.cli("events", "list", "--oldest-first", "--limit", "1000"), capsys)
    code, lines, err = _run(seeded.cli("events", "export", "--out", "-"), capsys)
    assert code == 0
    assert lines == listed
    assert f"exported {len(listed)} events to standard output" in err
    assert not Path("-").exists()


def test_export_with_filters(
    seeded: Seeded, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "shop-created.jsonl"
    code, _ = _export(
        seeded, capsys, out, "--source", "shop", "--type", "order.created", "--until", "2999-01-01"
    )
    assert code == 0
    expected = sorted(
        e.event_id for e in seeded.all if (e.source, e.type) == ("shop", "order.created")
    )
    assert _ids(out.read_text("utf-8").splitlines()) == expected
    since = tmp_path / "since.jsonl"
    assert _export(seeded, capsys, since, "--since", seeded.boundary)[0] == 0
    _, after, _ = _run(
        seeded.cli("events", "list", "--oldest-first", "--since", seeded.boundary), capsys
    )
    assert since.read_text("utf-8").splitlines() == after


def test_export_refuses_to_overwrite_without_resume(
    seeded: Seeded, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "keep.jsonl"
    out.write_text("precious\n", "utf-8")
    code, err = _export(seeded, capsys, out)
    assert code == 2
    assert "--resume" in err
    assert out.read_text("utf-8") == "precious\n"
    empty = tmp_path / "empty.jsonl"
    empty.touch()
    assert _export(seeded, capsys, empty)[0] == 0  # an empty file holds nothing to lose
    assert len(empty.read_text("utf-8").splitlines()) == len(seeded.all)


def test_export_resumes_after_a_torn_line_exactly_once(
    seeded: Seeded, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    full = tmp_path / "full.jsonl"
    assert _export(seeded, capsys, full)[0] == 0
    complete = full.read_bytes()
    lines = complete.splitlines(keepends=True)
    assert len(lines) == len(seeded.all)
    for kept in (0, 1, 5, len(lines) - 1):
        partial = tmp_path / f"partial-{kept}.jsonl"
        torn = lines[kept][: len(lines[kept]) // 2]  # a crash in the middle of a line
        partial.write_bytes(b"".join(lines[:kept]) + torn)
        code, err = _export(seeded, capsys, partial, "--resume")
        assert code == 0
        assert partial.read_bytes() == complete, kept  # every event exactly once, in order
        if kept:
            assert f"resumed after {json.loads(lines[kept - 1])['event_id']}" in err

    # Resuming a finished export adds nothing.
    code, err = _export(seeded, capsys, full, "--resume")
    assert code == 0
    assert "exported 0 events" in err
    assert full.read_bytes() == complete


def test_export_will_not_resume_a_file_that_is_not_an_export(
    seeded: Seeded, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "other.jsonl"
    for text in ("not json\n", '{"no_event_id":1}\n', "[1,2]\n"):
        out.write_text(text, "utf-8")
        code, err = _export(seeded, capsys, out, "--resume")
        assert code == 2
        assert "cannot resume" in err
        assert out.read_text("utf-8") == text


def test_export_in_steps_with_limit_and_resume(
    seeded: Seeded, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "steps.jsonl"
    assert _export(seeded, capsys, out, "--limit", "3")[0] == 0
    assert len(out.read_text("utf-8").splitlines()) == 3
    for _ in range(3):
        assert _export(seeded, capsys, out, "--resume", "--limit", "3")[0] == 0
    assert _export(seeded, capsys, out, "--resume")[0] == 0
    ids = _ids(out.read_text("utf-8").splitlines())
    assert ids == sorted(e.event_id for e in seeded.all)
    assert len(set(ids)) == len(ids)


def test_export_resume_of_a_missing_file_starts_it(
    seeded: Seeded, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "new.jsonl"
    assert _export(seeded, capsys, out, "--resume", "--source", "accounts")[0] == 0
    expected = sorted(e.event_id for e in seeded.all if e.source == "accounts")
    assert _ids(out.read_text("utf-8").splitlines()) == expected


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_export_shows_progress_on_a_terminal(
    seeded: Seeded,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    out = tmp_path / "tty.jsonl"
    assert main(seeded.cli("events", "export", "--out", str(out))) == 0
    shown = terminal.getvalue()
    assert shown.startswith("\rexported: 1 (")
    assert re.search(rf"\rexported: {len(seeded.all)} \([0-9.]+ s(, \d+/s)?\) done\n", shown)
    assert capsys.readouterr().out == ""  # progress never goes to stdout


# --- Progress ---------------------------------------------------------------------------------


def test_progress_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from ingest_tools.cli import common

    now = [10.0]
    monkeypatch.setattr(common, "time", SimpleNamespace(monotonic=lambda: now[0]))
    terminal = FakeTerminal()
    progress = Progress("exported", stream=terminal, total=40)
    assert progress.enabled
    for step, moment in ((1, 10.05), (4, 10.1), (5, 10.3), (1, 10.31), (9, 11.0)):
        now[0] = moment
        progress.advance(step)  # redrawn at most every 0.1 s
    progress.done()
    assert terminal.getvalue() == (
        "\rexported: 1/40 (0.1 s)\rexported: 10/40 (0.3 s)\rexported: 20/40 (1.0 s, 20/s)"
        "\rexported: 20/40 (1.0 s, 20/s) done\n"
    )
    assert progress.count == 20


def test_progress_without_a_total(monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from ingest_tools.cli import common

    monkeypatch.setattr(common, "time", SimpleNamespace(monotonic=lambda: 5.0))
    terminal = FakeTerminal()
    progress = Progress("replayed", stream=terminal)
    progress.advance(3)
    progress.done()
    assert terminal.getvalue() == "\rreplayed: 3 (0.0 s)\rreplayed: 3 (0.0 s) done\n"


def test_progress_is_silent_when_not_a_terminal() -> None:
    pipe = io.StringIO()
    progress = Progress("exported", stream=pipe, total=10)
    assert not progress.enabled
    for _ in range(10):
        progress.advance()
    progress.done()
    assert pipe.getvalue() == ""
    assert progress.count == 10
