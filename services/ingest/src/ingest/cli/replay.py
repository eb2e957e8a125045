"""``ingest replay``: re-send stored events, in time order, to any ``/events`` endpoint.

Each event keeps its producer id (events that had none use their original ``event_id`` as id), so
an idempotent receiver such as this service stores each at most once: replaying twice adds nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from http.client import HTTPException
from pathlib import Path
from typing import Any

from ingest import jsonexact
from ingest.cli.common import (
    Progress,
    add_filter_options,
    open_store,
    reads_table,
    render,
)
from ingest.cli.http import post
from ingest.models import CLOUDEVENT_ATTRIBUTES


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "replay", help="re-send stored events to an endpoint", description=__doc__
    )
    parser.add_argument(
        "--to", required=True, help="base URL of the receiving API (POSTs to /events)"
    )
    parser.add_argument(
        "--from", dest="from_file", type=Path, help="a .jsonl export (default: the table)"
    )
    parser.add_argument(
        "--rate", type=float, default=50.0, help="events per second (default %(default)s)"
    )
    parser.add_argument(
        "--batch", type=int, default=1, help="events per request, 1-500 (default 1)"
    )
    parser.add_argument("--retries", type=int, default=5, help="retries per request on 429/5xx")
    parser.add_argument(
        "--dry-run", action="store_true", help="show what would be sent; send nothing"
    )
    add_filter_options(parser)
    parser.set_defaults(func=run)


def to_event(stored: dict[str, Any]) -> dict[str, Any]:
    """The event to re-send for a stored record (as exported)."""
    event: dict[str, Any] = dict(stored.get("extensions") or {})
    event.update(
        {
            "type": stored["type"],
            "source": stored["source"],
            "id": stored.get("id") or stored["event_id"],
        }
    )
    for name in CLOUDEVENT_ATTRIBUTES:
        if name in stored:
            event[name] = stored[name]
    if "data" in stored:
        event["data"] = stored["data"]
    elif "body" in stored:  # a webhook: its payload becomes the data
        try:
            event["data"] = jsonexact.loads(stored["body"])
        except jsonexact.JsonError:
            event["data"] = stored["body"]
        event.setdefault("time", stored.get("received_at"))
    elif "body_base64" in stored:
        event["data"] = {"body_base64": stored["body_base64"]}
    return event


def _from_file(path: Path, args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    from ingest import ids

    lower = ids.time_bound(args.since) if args.since is not None else None
    upper = ids.time_bound(args.until) if args.until is not None else None
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if line.strip():
                try:
                    stored = jsonexact.loads(line)
                except jsonexact.JsonError as exc:
                    raise jsonexact.JsonError(f"{path}, line {number}: {exc}") from None
                if args.source and stored.get("source") != args.source:
                    continue
                if args.event_type and stored.get("type") != args.event_type:
                    continue
                event_id = str(stored.get("event_id", ""))
                if (lower and event_id < lower) or (upper and event_id >= upper):
                    continue
                yield stored


def _from_table(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    from ingest.cli.events import iterate

    for record in iterate(
        open_store(args),
        source=args.source,
        event_type=args.event_type,
        since_ms=args.since,
        until_ms=args.until,
    ):
        yield jsonexact.loads(render(record))


@dataclass
class Summary:
    sent: int = 0
    accepted: int = 0
    duplicates: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def _chunks(events: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for event in events:
        chunk.append(event)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _send(
    url: str, chunk: list[dict[str, Any]], batch: bool, retries: int, summary: Summary
) -> None:
    body = jsonexact.dumps(chunk if batch else chunk[0]).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "ingest-replay"}
    summary.sent += len(chunk)
    try:
        answer = post(url, body, headers, retries=retries)
    except (OSError, HTTPException) as exc:
        summary.failed += len(chunk)
        summary.errors.append(f"{chunk[0]['id']}: {exc}")
        return
    document = answer.json() or {}
    if not answer.ok:
        summary.failed += len(chunk)
        summary.errors.append(f"{chunk[0]['id']}: HTTP {answer.status} {document.get('error', {})}")
    elif batch:
        summary.accepted += int(document.get("accepted", 0))
        summary.duplicates += int(document.get("duplicates", 0))
    elif document.get("duplicate"):
        summary.duplicates += 1
    else:
        summary.accepted += 1


@reads_table
def run(args: argparse.Namespace) -> int:
    if not 1 <= args.batch <= 500 or args.rate <= 0:
        print("--batch must be 1-500 and --rate positive", file=sys.stderr)
        return 2
    if args.from_file is not None and not args.from_file.is_file():
        print(f"{args.from_file}: no such file", file=sys.stderr)
        return 2
    try:
        return _replay(args)
    except jsonexact.JsonError as exc:
        print(f"not a JSON Lines export: {exc}", file=sys.stderr)
        return 2


def _replay(args: argparse.Namespace) -> int:
    stored = _from_file(args.from_file, args) if args.from_file else _from_table(args)
    events = (to_event(record) for record in stored)
    url = args.to.rstrip("/") + "/events"
    summary = Summary()
    progress = Progress("replayed" if not args.dry_run else "would replay")
    started = time.monotonic()
    for chunk in _chunks(events, args.batch):
        if args.dry_run:
            for event in chunk:
                print(jsonexact.dumps(event))
            summary.sent += len(chunk)
        else:
            _send(url, chunk, args.batch > 1, args.retries, summary)
            ahead = summary.sent / args.rate - (time.monotonic() - started)
            if ahead > 0:
                time.sleep(ahead)
        progress.advance(len(chunk))
    progress.done()
    verb = "would send" if args.dry_run else "sent"
    report = {
        verb: summary.sent,
        "accepted": summary.accepted,
        "duplicates": summary.duplicates,
        "failed": summary.failed,
        "errors": summary.errors[:20],
    }
    print(json.dumps(report), file=sys.stderr)
    return 1 if summary.failed else 0
