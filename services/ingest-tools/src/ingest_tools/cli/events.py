"""ingest events: read stored events (locally or in AWS).

show prints one event for reading; tail prints one line per event and, with --follow, the new
ones as they arrive; list prints the newest first (--oldest-first for time order), with a hint
and a --cursor for the next page. get, list and export print each record as one JSON line: ``data``, ``extensions`` and a webhook's ``headers`` as JSON, exactly
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
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ingest.limits import DEFAULT_LISTING_SHARDS, MAX_LISTING_SHARDS

from ingest_tools.cli.common import (
    CliError,
    Progress,
    add_command,
    add_filter_options,
    add_table_options,
    count,
    open_store,
    positive_int,
    reads_table,
    render,
)

if TYPE_CHECKING:
    from ingest.adapters.dynamodb import EventStore, Record


def register(commands: Any) -> None:
    from ingest_tools.cli.main import help_printer

    parser = add_command(commands, "events", "read stored events", __doc__)
    help_printer(parser)
    sub = parser.add_subparsers(dest="events_command", metavar="ACTION")

    get = sub.add_parser("get", help="one event by event_id, as one JSON line")
    get.add_argument("event_id")
    add_table_options(get)
    get.set_defaults(func=run_get)

    show = sub.add_parser(
        "show", help="one event for reading: attributes, headers, data or body laid out"
    )
    show.add_argument("event_id")
    add_table_options(show)
    show.set_defaults(func=run_show)

    listing = sub.add_parser("list", help="events as JSON lines, the newest first")
    add_filter_options(listing)
    listing.add_argument(
        "--limit", type=positive_int, default=100, help="at most this many (default %(default)s)"
    )
    listing.add_argument(
        "--cursor",
        metavar="EVENT_ID",
        help="the next page: continue after this event, as the hint of the previous page says",
    )
    listing.add_argument(
        "--oldest-first", action="store_true", help="in time order (default: the newest first)"
    )
    listing.set_defaults(func=run_list)

    tail = sub.add_parser("tail", help="the latest events, one line each; --follow for new ones")
    add_filter_options(tail)
    tail.add_argument(
        "-n",
        "--lines",
        type=count,
        default=10,
        metavar="N",
        help="how many of the latest events to show first (default %(default)s; 0 for none)",
    )
    tail.add_argument(
        "-f", "--follow", action="store_true", help="keep printing events as they arrive"
    )
    tail.add_argument(
        "--interval",
        type=float,
        default=1.0,
        help="with --follow: seconds between looks at the table (default %(default)s)",
    )
    tail.set_defaults(func=run_tail)

    export = sub.add_parser("export", help="write events to a JSON Lines file (resumable)")
    add_filter_options(export)
    export.add_argument(
        "--out", required=True, help="the .jsonl file to write, or - for standard output"
    )
    export.add_argument("--limit", type=positive_int, help="stop after this many")
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
    before: str | None = None,
    newest_first: bool = False,
    known_sources: list[str] | None = None,
) -> Iterator[Record]:
    """Events in event_id (= time) order, or the newest first; across sources the per-source
    streams are merged. ``after`` and ``before`` are exclusive bounds (a cursor);
    ``known_sources`` spares a scan for the sources when the caller has them."""
    from ingest import ids

    lower = ids.time_bound(since_ms) if since_ms is not None else None
    upper = ids.time_bound(until_ms) if until_ms is not None else None
    if before is not None and (upper is None or before < upper):
        upper = before
    if after is not None and lower is not None and after < lower:
        after = None  # resuming from before --since: --since is the later bound
    start = after or lower
    if start is not None and upper is not None and start >= upper:
        return  # an empty range (a DynamoDB BETWEEN would reject it)
    sources = [source] if source else (known_sources or store.sources())
    streams = [
        store.query_source(
            s,
            after=after,
            lower=lower,
            upper=upper,
            event_type=event_type,
            newest_first=newest_first,
        )
        for s in sources
    ]
    merged = (
        streams[0]
        if len(streams) == 1
        else heapq.merge(*streams, key=lambda r: str(r["event_id"]), reverse=newest_first)
    )
    for record in merged:
        if event_type is None or record.get("type") == event_type:
            yield record


def selected(store: EventStore, args: argparse.Namespace, **more: Any) -> Iterator[Record]:
    """:func:`iterate` with the filter options (--source, --type, --since, --until) of ``args``;
    ``more`` adds or overrides arguments."""
    given: dict[str, Any] = {
        "source": args.source,
        "event_type": args.event_type,
        "since_ms": args.since,
        "until_ms": args.until,
    }
    return iterate(store, **{**given, **more})


def _event_id(text: str) -> str:
    from ingest import ids

    if not ids.is_event_id(text):
        raise CliError(f"{text!r} is not an event id", 2)
    return text


def _stored(args: argparse.Namespace) -> Record:
    """The record ``args.event_id`` names, or a one-line error."""
    from ingest import ids

    event_id = _event_id(args.event_id)
    record = open_store(args).get(ids.key_of(event_id))
    if record is None or record.get("event_id") != event_id:
        raise CliError(f"event {event_id} not found in table {args.table!r}")
    return record


@reads_table
def run_get(args: argparse.Namespace) -> int:
    record = _stored(args)
    try:
        line = render(record)
    except ValueError as exc:
        raise CliError(f"event {args.event_id} cannot be shown: {exc}") from None
    print(line)
    return 0


@reads_table
def run_show(args: argparse.Namespace) -> int:
    from ingest.adapters.codec import CODEC_ATTRIBUTE

    from ingest_tools.cli import pretty

    record = _stored(args)
    if CODEC_ATTRIBUTE in record:
        raise CliError(
            f"event {args.event_id} cannot be shown: its payload could not be decoded "
            f"(codec {record[CODEC_ATTRIBUTE]!r})"
        )
    print(pretty.show(record))
    return 0


@reads_table
def run_list(args: argparse.Namespace) -> int:
    from itertools import islice

    cursor = _event_id(args.cursor) if args.cursor else None
    records = selected(
        open_store(args),
        args,
        after=cursor if args.oldest_first else None,
        before=None if args.oldest_first else cursor,
        newest_first=not args.oldest_first,
    )
    failed = 0
    last: str | None = None
    page = list(islice(records, args.limit + 1))  # one more: is there a next page?
    for record in page[: args.limit]:
        last = str(record.get("event_id", ""))
        try:
            print(render(record))
        except ValueError as exc:  # one odd record never stops a listing: report it, go on
            failed += 1
            print(f"skipped {record.get('event_id', '?')!s}: {exc}", file=sys.stderr)
    if len(page) > args.limit and last:
        print(
            f"more events: add --cursor {last} for the next {args.limit} "
            f"({'older' if not args.oldest_first else 'newer'} ones)",
            file=sys.stderr,
        )
    return 1 if failed else 0


@reads_table
def run_tail(args: argparse.Namespace) -> int:
    """The last ``--lines`` events in time order, then (``--follow``) each new one as it arrives.

    A write that was under way when the table was looked at can land with a slightly earlier
    event id: each look reaches back a few seconds and skips what it printed already."""
    import time
    from itertools import islice

    from ingest import ids

    from ingest_tools.cli import pretty

    if args.interval <= 0:
        raise CliError("--interval must be positive", 2)
    store = open_store(args)
    latest = list(islice(selected(store, args, newest_first=True), args.lines))
    printed: dict[str, float] = {}
    for record in reversed(latest):
        print(pretty.line(record), flush=True)
        printed[str(record["event_id"])] = time.monotonic()
    if not args.follow:
        return 0
    since = ids.millis_of(str(latest[0]["event_id"])) if latest else None
    follow(store, args, printed, since=since)
    return 0


#: How far each look of ``tail --follow`` reaches back (a write under way lands a little late).
REACH_BACK_MS = 5000
#: How often ``tail --follow`` lists the table's sources again (a scan of the listing index).
SOURCES_EVERY = 30.0


def follow(
    store: EventStore, args: argparse.Namespace, printed: dict[str, float], since: int | None
) -> None:
    """Print each new event, one line each, until interrupted."""
    import time

    from ingest_tools.cli import pretty

    lower = int(time.time() * 1000) - REACH_BACK_MS
    lower = min(lower, since) if since is not None else lower
    sources: list[str] = []
    listed_at = 0.0
    while True:
        if not args.source and time.monotonic() - listed_at >= SOURCES_EVERY:
            sources, listed_at = store.sources(), time.monotonic()
        look = int(time.time() * 1000)
        for record in selected(store, args, since_ms=lower, known_sources=sources):
            event_id = str(record["event_id"])
            if event_id not in printed:
                print(pretty.line(record), flush=True)
                printed[event_id] = time.monotonic()
        lower = max(lower, look - REACH_BACK_MS)
        horizon = time.monotonic() - 2 * REACH_BACK_MS / 1000
        printed = {k: v for k, v in printed.items() if v >= horizon}
        time.sleep(args.interval)


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
    to_stdout = args.out == "-"
    out_path = Path(args.out)
    if to_stdout and args.resume:
        raise CliError("--resume needs a file to continue, not --out -", 2)
    if not to_stdout and out_path.is_dir():
        raise CliError(f"{out_path} is a folder: give --out a file name", 2)
    store = open_store(args)
    try:
        after = _last_event_id(out_path) if args.resume else None
    except ResumeError as exc:
        raise CliError(str(exc), 2) from None
    if not to_stdout and out_path.exists() and not args.resume and out_path.stat().st_size:
        raise CliError(
            f"{out_path} exists: use --resume to continue it, or choose another --out", 2
        )
    progress = Progress("exported")
    skipped = 0
    with _opened(out_path if not to_stdout else None, append=args.resume) as out:
        for record in selected(store, args, after=after):
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
    where = "standard output" if to_stdout else str(out_path)
    print(f"exported {progress.count} events to {where}{resumed}{failed}", file=sys.stderr)
    return 1 if skipped else 0


@contextmanager
def _opened(path: Path | None, *, append: bool) -> Iterator[TextIO]:
    """The export's output: the file (appended to when resuming), or standard output."""
    if path is None:
        yield sys.stdout
        return
    with path.open("a" if append else "w", encoding="utf-8") as out:
        yield out


@reads_table
def run_backfill(args: argparse.Namespace) -> int:
    from ingest.adapters.dynamodb import EventStore

    if not 1 <= args.shards <= MAX_LISTING_SHARDS:
        raise CliError(f"--shards must be 1..{MAX_LISTING_SHARDS}", 2)
    reader = open_store(args)
    store = EventStore(args.table, client=reader.client, shards=args.shards)
    progress = Progress("updated")
    updated = store.backfill_shards(progress=lambda _: progress.advance())
    progress.done()
    print(f"gave {updated} items their listing shard key", file=sys.stderr)
    return 0
