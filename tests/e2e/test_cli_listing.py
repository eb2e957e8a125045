"""`ingest events list` on a table of thousands: the event just sent is the first listed (with
`--since 1m` too), and the hint's cursor leads through the rest, page after page."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from tests.support import Server, ingest, serving

pytestmark = pytest.mark.slow

BULK = 2000


@pytest.fixture(scope="module")
def crowded() -> Iterator[Server]:
    with serving(table="crowded") as server:
        for start in range(0, BULK, 100):
            batch = [{"type": "bulk.item", "source": "bulk", "data": {"n": n}} for n in range(100)]
            reply = server.post_json("/events", batch)
            assert reply.status == 202, (start, reply.body)
        yield server


def _list(server: Server, *args: str) -> tuple[list[str], str]:
    ran = ingest(
        "events", "list", *args, "--endpoint-url", server.endpoint, "--table", server.table
    )
    assert ran.code == 0, ran
    return [json.loads(line)["event_id"] for line in ran.out.splitlines()], ran.err


def test_the_event_just_sent_comes_first(crowded: Server) -> None:
    reply = crowded.post_json("/events", {"type": "just.sent", "source": "bulk", "data": {}})
    assert reply.status == 202
    sent = reply.json()["event_id"]
    for args in ((), ("--since", "1m"), ("--source", "bulk"), ("--since", "1m", "--limit", "1")):
        listed, err = _list(crowded, *args)
        assert listed[0] == sent, args
        assert "more events: add --cursor" in err  # thousands more than one page
    oldest, _ = _list(crowded, "--oldest-first", "--limit", "5")
    assert sent not in oldest


def test_the_cursor_pages_through_everything_once(crowded: Server) -> None:
    seen: list[str] = []
    cursor: tuple[str, ...] = ()
    while True:
        page, err = _list(crowded, "--source", "bulk", "--limit", "500", *cursor)
        seen += page
        hint = re.search(r"--cursor (\S+)", err)
        if hint is None:
            break
        cursor = ("--cursor", hint.group(1))
    assert len(seen) >= BULK
    assert len(set(seen)) == len(seen)
    assert seen == sorted(seen, reverse=True)
