"""``ingest events get|list|export``: read stored events (locally or in AWS).

Each record is one JSON line: ``data``, ``extensions`` and a webhook's ``headers`` as JSON, exactly
as stored; bytes (a binary webhook body) as ``NAME_base64``. A record written to the table by
someone else never stops a listing or an export (see ``ingest_tools.cli.common.render``).
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingest.limits import DEFAULT_LISTING_SHARDS, MAX_LISTING_SHARDS

from ingest_tools.cli.common import (
    Progress,
    add_filter_options,
    add_table_options,
    open_store,
    reads_table,
    render,
)

if TYPE_CHECKING:
    from ingest.adapters.dynamodb import EventStore, Record


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "events", help="read stored events", description=__doc__
    )
    sub = parser.add_subparsers(dest="events_command", required=True, metavar="ACTION")

    get = sub.add_parser("get", help="one event by event_id")
    get.add_argument("event_id")
    add_table_options(get)
    get.set_defaults(func=run_get)

    listing = sub.add_parser("list", help="events in time order, as JSON lines")
    add_filter_options(listing)
    listing.add_argument(
        "--limit", type=int, default=100, help="at most this many (default %(default)s)"
    )
    listing.set_defaults(func=run_list)

    export = sub.add_parser("export", help="write events to a JSON Lines file (resumable)")
    add_filter_options(export)
    export.add_argument("--out", type=Path, required=True, help="the .jsonl file to write")
    export.add_argument("--limit", type=int, help="stop after this many")
    export.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted export: append after the last event already in --out",
    )
    export.set_defaults(func=run_export)

    backfill = sub.add_parser(
        "backfill-shards",
        help="give items written before the listing index their shard key (a one-off migration)",
        description="Tables created before the by_source_shard index hold items without a "
        "listing shard key (lsk): the index cannot list them. This gives each such item its key "
        "with a conditional UpdateItem; it is safe to interrupt and to run again. See "
        "docs/storage-format.md.",
    )
    backfill.add_argument(
        "--shards",
        type=int,
        default=int(os.environ.get("LISTING_SHARDS", DEFAULT_LISTING_SHARDS)),
        help="the deployment's LISTING_SHARDS (default: $LISTING_SHARDS or %(default)s)",
    )
    add_table_options(backfill)
    backfill.set_defaults(func=run_backfill)


def iterate(
    store: EventStore,
    *,
    source: str | None = None,
    event_type: str | None = None,
    since_ms: int | None = None,
    until_ms: int | None = None,
    after: str | None = None,
) -> Iterator[Record]:
    """Events in event_id (= time) order; across sources the per-source streams are merged."""
    from ingest import ids

    lower = ids.time_bound(since_ms) if since_ms is not None else None
    upper = ids.time_bound(until_ms) if until_ms is not None else None
    if after is not None and lower is not None and after < lower:
        after = None  # resuming from before --since: --since is the later bound
    start = after or lower
    if start is not None and upper is not None and start >= upper:
        return  # an empty range (a DynamoDB BETWEEN would reject it)
    sources = [source] if source else store.sources()
    streams = [
        store.query_source(s, after=after, lower=lower, upper=upper, event_type=event_type)
        for s in sources
    ]
    merged = (
        streams[0] if len(streams) == 1 else heapq.merge(*streams, key=lambda r: str(r["event_id"]))
    )
    for record in merged:
        if event_type is None or record.get("type") == event_type:
            yield record


@reads_table
def run_get(args: argparse.Namespace) -> int:
    from ingest import ids

    if not ids.is_event_id(args.event_id):
        print(f"{args.event_id!r} is not an event id", file=sys.stderr)
        return 2
    record = open_store(args).get(ids.key_of(args.event_id))
    if record is None or record.get("event_id") != args.event_id:
        print(f"event {args.event_id} not found", file=sys.stderr)
        return 1
    try:
        line = render(record)
    except ValueError as exc:
        print(f"event {args.event_id} cannot be shown: {exc}", file=sys.stderr)
        return 1
    print(line)
    return 0


@reads_table
def run_list(args: argparse.Namespace) -> int:
    from itertools import islice

    records = iterate(
        open_store(args),
        source=args.source,
        event_type=args.event_type,
        since_ms=args.since,
        until_ms=args.until,
    )
    failed = 0
    for record in islice(records, max(args.limit, 0)):
        try:
            print(render(record))
        except ValueError as exc:  # one odd record never stops a listing: report it, go on
            failed += 1
            print(f"skipped {record.get('event_id', '?')!s}: {exc}", file=sys.stderr)
    return 1 if failed else 0


def _last_event_id(path: Path) -> str | None:
    """The event_id on the last complete line (a torn final line from a crash is dropped)."""
    if not path.exists():
        return None
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        data = data[: data.rfind(b"\n") + 1]
        path.write_bytes(data)
    for line in reversed(data.splitlines()):
        if line.strip():
            try:
                return str(json.loads(line)["event_id"])
            except (ValueError, KeyError, TypeError):
                raise ResumeError(
                    f"cannot resume {path}: its last line is not an exported event"
                ) from None
    return None


class ResumeError(Exception):
    """The file to resume does not end with an exported event."""


@reads_table
def run_export(args: argparse.Namespace) -> int:
    store = open_store(args)
    try:
        after = _last_event_id(args.out) if args.resume else None
    except ResumeError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.out.exists() and not args.resume and args.out.stat().st_size:
        print(
            f"{args.out} exists: use --resume to continue it, or choose another --out",
            file=sys.stderr,
        )
        return 2
    progress = Progress("exported")
    skipped = 0
    with args.out.open("a" if args.resume else "w", encoding="utf-8") as out:
        for record in iterate(
            store,
            source=args.source,
            event_type=args.event_type,
            since_ms=args.since,
            until_ms=args.until,
            after=after,
        ):
            try:
                line = render(record) + "\n"
            except Exception as exc:  # one odd record never aborts an export: report it, go on
                skipped += 1
                print(
                    f"skipped {record.get('event_id', '?')!s}: {type(exc).__name__}: {exc}",
                    file=sys.stderr,
                )
                continue
            out.write(line)
            out.flush()
            progress.advance()
            if args.limit is not None and progress.count >= args.limit:
                break
    progress.done()
    resumed = f" (resumed after {after})" if after else ""
    failed = f"; {skipped} could not be exported (listed above)" if skipped else ""
    print(f"exported {progress.count} events to {args.out}{resumed}{failed}", file=sys.stderr)
    return 1 if skipped else 0


@reads_table
def run_backfill(args: argparse.Namespace) -> int:
    from ingest.adapters.dynamodb import EventStore

    if not 1 <= args.shards <= MAX_LISTING_SHARDS:
        print(f"--shards must be 1..{MAX_LISTING_SHARDS}", file=sys.stderr)
        return 2
    reader = open_store(args)
    store = EventStore(args.table, client=reader.client, shards=args.shards)
    progress = Progress("updated")
    updated = store.backfill_shards(progress=lambda _: progress.advance())
    progress.done()
    print(f"gave {updated} items their listing shard key", file=sys.stderr)
    return 0
