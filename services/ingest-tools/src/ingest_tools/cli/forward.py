"""ingest forward --to URL: follow newly stored events and POST each to an app as it arrives.

Like ``stripe listen --forward-to``, for this service's table:

- Where the table has a stream (DynamoDB Streams), its INSERT records are followed shard by
  shard; otherwise each source is listed in time order through the listing index, a few seconds
  behind the present (``--settle``), so that an event whose write was still under way when the
  listing ran is not passed over.
- Webhook deliveries are POSTed with their stored headers (the provider's, without credentials)
  and their exact body, so the app verifies the provider's signature with its own secret.
  ``/events`` events are POSTed as one CloudEvent in structured mode
  (``application/cloudevents+json``): the event's own attributes, ``data`` exactly as stored,
  ``id`` the producer's id (else the ``event_id``), and the service's ``event_id`` and
  ``received_at`` as the extensions ``eventid`` and ``receivedat`` (CloudEvents attribute names
  are lower-case letters and digits only). Every request also carries ``ingest-event-id``,
  ``ingest-source``, ``ingest-type`` and ``ingest-received-at`` headers.
- A checkpoint file is written after the app acknowledged an event (any 2xx): the stream's last
  sequence number per shard, or the last ``event_id`` per source. A restart resumes after it: no
  gap, and nothing the app acknowledged is sent again. (An event the app received but whose answer
  never reached the forwarder, because it was killed at that moment, is sent again: use
  ``event_id`` to drop such a repeat.)
- 5xx, 408, 429, timeouts and connection errors are retried with exponential backoff and full
  jitter, for as long as it takes: the line is held, nothing is skipped. Any other answer (a 4xx,
  a redirect) is reported and that event skipped.
- Ctrl-C or SIGTERM finishes the delivery under way, saves the checkpoint and exits 0.
"""

from __future__ import annotations

import argparse
import heapq
import http.client
import json
import os
import random
import signal
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO

from ingest import jsonexact
from ingest.domain.webhooks.delivery import CREDENTIAL_HEADERS, NOT_KEPT_HEADERS
from ingest.ids import time_bound
from ingest.models import CLOUDEVENT_ATTRIBUTES

from ingest_tools.cli.common import (
    CliError,
    add_command,
    add_table_options,
    http_url,
    is_json_text,
    open_store,
    parse_instant,
    reads_table,
)

if TYPE_CHECKING:
    from ingest.adapters.dynamodb import EventStore, Record

USER_AGENT = "ingest-forward"
#: Answers after which the same delivery is tried again (with the network's own failures).
RETRIED = frozenset({408, 429})
#: Stored headers never forwarded: framing, the original host, credentials (never stored anyway).
_NOT_FORWARDED = frozenset({"host"}) | CREDENTIAL_HEADERS | NOT_KEPT_HEADERS
CHECKPOINT_VERSION = 1


def register(commands: Any) -> None:
    parser = add_command(
        commands,
        "forward",
        "follow newly stored events and POST each to a URL (webhooks byte-exact)",
        __doc__,
    )
    parser.add_argument(
        "--to",
        required=True,
        type=http_url,
        metavar="URL",
        help="your app's URL: every event is POSTed to it",
    )
    add_forward_options(parser)
    add_table_options(parser)
    parser.set_defaults(func=run)


def add_forward_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", action="append", help="only this source (repeatable)")
    parser.add_argument(
        "--type",
        dest="event_type",
        action="append",
        help="only this type, or a prefix ending in * (repeatable)",
    )
    parser.add_argument(
        "--checkpoint",
        type=Path,
        default=None,
        help="checkpoint file (default: .ingest/forward-TABLE.json)",
    )
    parser.add_argument(
        "--since",
        type=parse_instant,
        default=None,
        help="on a first start (no checkpoint), begin at this time (RFC 3339 or an age: 2h) "
        "instead of now",
    )
    parser.add_argument(
        "--mode",
        choices=("auto", "stream", "listing"),
        default="auto",
        help="follow the table's stream or its listing index (auto: the stream when enabled)",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=3.0,
        help="listing mode: seconds behind the present (writes under way finish; default 3)",
    )
    parser.add_argument("--poll", type=float, default=0.5, help="seconds between idle polls")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per delivery")
    parser.add_argument(
        "--retry-base", type=float, default=0.5, help="first retry pause ceiling (seconds)"
    )
    parser.add_argument(
        "--retry-max", type=float, default=30.0, help="longest retry pause (seconds)"
    )
    parser.add_argument("--quiet", action="store_true", help="no line per event")


# --------------------------------------------------------------------------------------------
# The checkpoint


@dataclass
class Checkpoint:
    """What was handled, saved atomically (write, fsync, rename) after each acknowledgement."""

    path: Path
    mode: str
    start: str  # the smallest event id forwarded on a first start
    shards: dict[str, str] = field(default_factory=dict)  # stream: shard id -> sequence number
    sources: dict[str, str] = field(default_factory=dict)  # listing: source -> last event id
    finished: set[str] = field(default_factory=set)  # stream: closed shards read to their end

    @classmethod
    def load(cls, path: Path, mode: str, start: str) -> Checkpoint:
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            checkpoint = cls(path, mode, start)
            checkpoint.save()
            return checkpoint
        except (OSError, ValueError) as exc:
            raise CliError(f"cannot read the checkpoint {path}: {_reason(exc)}", 2) from None
        if not isinstance(state, dict) or not isinstance(state.get("start"), str):
            raise CliError(
                f"{path} is not a checkpoint of ingest forward: give another --checkpoint", 2
            )
        if state.get("mode") != mode:
            raise CliError(
                f"{path} was written in {state.get('mode')!r} mode, not {mode!r}: "
                f"pass --mode {state.get('mode')} or another --checkpoint",
                2,
            )
        return cls(
            path,
            mode,
            str(state["start"]),
            dict(state.get("shards", {})),
            dict(state.get("sources", {})),
            set(state.get("finished", [])),
        )

    def save(self) -> None:
        state = {
            "version": CHECKPOINT_VERSION,
            "mode": self.mode,
            "start": self.start,
            "shards": self.shards,
            "sources": self.sources,
            "finished": sorted(self.finished),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.tmp")
        with temporary.open("w", encoding="utf-8") as out:
            json.dump(state, out, sort_keys=True)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, self.path)


def _reason(exc: Exception) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return "not JSON"


# --------------------------------------------------------------------------------------------
# What is sent


@dataclass(frozen=True)
class Request:
    body: bytes
    headers: dict[str, str]


def _text(record: Record, name: str) -> str | None:
    value = record.get(name)
    return value if isinstance(value, str) else None


def build_request(record: Record) -> Request:
    """The POST for one stored record: a webhook as delivered, an event as a CloudEvent."""
    event_id = str(record.get("event_id", ""))
    meta = {
        "ingest-event-id": event_id,
        "ingest-source": str(record.get("source", "")),
        "ingest-type": str(record.get("type", "")),
        "ingest-received-at": str(record.get("received_at", "")),
        "user-agent": USER_AGENT,
    }
    if "body" in record or record.get("kind") == "webhook":
        body = record.get("body", b"")
        raw = body.encode("utf-8", "surrogateescape") if isinstance(body, str) else bytes(body)
        headers: dict[str, str] = {}
        stored = _text(record, "headers")
        if stored and is_json_text(stored):
            for name, value in json.loads(stored).items():
                if name.lower() not in _NOT_FORWARDED and isinstance(value, str):
                    headers[name.lower()] = value
        if "content-type" not in headers and _text(record, "content_type"):
            headers["content-type"] = str(record["content_type"])
        headers.update({k: v for k, v in meta.items() if k not in headers})
        return Request(raw, headers)
    return Request(
        cloudevent(record).encode("utf-8"),
        {**meta, "content-type": "application/cloudevents+json; charset=utf-8"},
    )


def cloudevent(record: Record) -> str:
    """An ``/events`` record as one structured-mode CloudEvent, ``data`` spliced in as stored."""
    fields: dict[str, Any] = {"specversion": "1.0"}
    fields["id"] = record.get("id") or record.get("event_id")
    fields["source"] = record.get("source")
    fields["type"] = record.get("type")
    for name in CLOUDEVENT_ATTRIBUTES:
        if name not in fields and isinstance(record.get(name), str):
            fields[name] = record[name]
    extensions = _text(record, "extensions")
    if extensions and is_json_text(extensions):
        members = jsonexact.loads(extensions)
        if isinstance(members, dict):
            for name, value in members.items():
                fields.setdefault(name, value)
    fields["eventid"] = record.get("event_id")
    fields["receivedat"] = record.get("received_at")
    fields = {name: value for name, value in fields.items() if value is not None}
    text = jsonexact.dumps(fields)
    data = record.get("data")
    if isinstance(data, str):
        spliced = data.strip() if is_json_text(data) else json.dumps(data, ensure_ascii=False)
        text = f'{text[:-1]},"data":{spliced}}}'
    return text


# --------------------------------------------------------------------------------------------
# Delivering, and holding the line


@dataclass(frozen=True)
class Outcome:
    delivered: bool  # acknowledged (2xx): commit
    skipped: bool = False  # refused for good (reported): commit
    status: int | None = None
    attempts: int = 1


class Target:
    def __init__(self, url: str, timeout: float, retry_base: float, retry_max: float) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SystemExit(f"--to {url!r}: an http:// or https:// URL")
        self.url = url
        self._parts = parts
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.timeout = timeout
        self.retry_base = retry_base
        self.retry_max = retry_max

    def _post_once(self, request: Request) -> tuple[int, dict[str, str]]:
        kind = (
            http.client.HTTPSConnection
            if self._parts.scheme == "https"
            else http.client.HTTPConnection
        )
        connection = kind(self._parts.hostname or "", self._parts.port, timeout=self.timeout)
        try:
            connection.putrequest("POST", self._path, skip_accept_encoding=True)
            for name, value in request.headers.items():
                connection.putheader(name, value)
            connection.putheader("content-length", str(len(request.body)))
            connection.endheaders(request.body)
            response = connection.getresponse()
            response.read()
            return response.status, {k.lower(): v for k, v in response.getheaders()}
        finally:
            connection.close()

    def deliver(
        self, request: Request, stop: threading.Event, report: Callable[[str], None]
    ) -> Outcome | None:
        """POST until the app acknowledges or refuses for good; None when stopped while waiting
        to retry (nothing is committed then)."""
        attempt = 0
        while True:
            attempt += 1
            try:
                status, headers = self._post_once(request)
            except (OSError, http.client.HTTPException) as exc:
                status, headers, reason = 0, {}, f"{type(exc).__name__}: {exc}"
            else:
                if 200 <= status < 300:
                    return Outcome(True, status=status, attempts=attempt)
                reason = f"HTTP {status}"
                if status < 500 and status not in RETRIED:
                    return Outcome(False, skipped=True, status=status, attempts=attempt)
            ceiling = min(self.retry_max, self.retry_base * 2 ** (attempt - 1))
            pause = random.uniform(0, ceiling)  # noqa: S311 - jitter, not a secret
            pause = max(pause, min(self.retry_max, _retry_after(headers)))
            report(f"{reason}; retry {attempt} in {pause:.2f}s")
            if stop.wait(pause):
                return None


def _retry_after(headers: dict[str, str]) -> float:
    try:
        return max(0.0, float(headers.get("retry-after", "")))
    except ValueError:
        return 0.0


# --------------------------------------------------------------------------------------------
# Following the table


@dataclass(frozen=True)
class Filters:
    sources: frozenset[str] = frozenset()
    types: tuple[str, ...] = ()

    def admits(self, record: Record) -> bool:
        if self.sources and record.get("source") not in self.sources:
            return False
        if not self.types:
            return True
        kind = str(record.get("type", ""))
        return any(kind.startswith(t[:-1]) if t.endswith("*") else kind == t for t in self.types)


#: One event to forward and how to commit it once handled.
Item = tuple["Record | None", Callable[[], None]]


def stream_arn_of(store: EventStore) -> str | None:
    table = store.client.describe_table(TableName=store.table_name)["Table"]
    enabled = table.get("StreamSpecification", {}).get("StreamEnabled", False)
    return table.get("LatestStreamArn") if enabled else None


@dataclass
class StreamFollower:
    """The stream's INSERTs, shard after shard (a parent shard before its children), read from
    the checkpoint's sequence numbers; a shard never read starts at its beginning, and events
    before the checkpoint's start are passed over."""

    store: EventStore
    streams: Any
    arn: str
    checkpoint: Checkpoint
    iterators: dict[str, str] = field(default_factory=dict)

    def shards(self) -> list[dict[str, Any]]:
        shards: list[dict[str, Any]] = []
        start: dict[str, str] = {}
        while True:
            page = self.streams.describe_stream(StreamArn=self.arn, **start)["StreamDescription"]
            shards.extend(page.get("Shards", []))
            if not page.get("LastEvaluatedShardId"):
                return shards
            start = {"ExclusiveStartShardId": page["LastEvaluatedShardId"]}

    def ready(self, shards: list[dict[str, Any]]) -> list[str]:
        known = {s["ShardId"] for s in shards}
        finished = self.checkpoint.finished
        return [
            s["ShardId"]
            for s in shards
            if s["ShardId"] not in finished
            and not (s.get("ParentShardId") in known and s.get("ParentShardId") not in finished)
        ]

    def read(self, shard_id: str) -> list[dict[str, Any]]:
        from botocore.exceptions import ClientError

        iterator = self.iterators.get(shard_id) or _shard_iterator(
            self.streams, self.arn, shard_id, self.checkpoint.shards.get(shard_id)
        )
        try:
            page = self.streams.get_records(ShardIterator=iterator, Limit=100)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ExpiredIteratorException":
                self.iterators.pop(shard_id, None)  # again from the checkpoint
                return []
            raise
        following = page.get("NextShardIterator")
        if following is None:  # a closed shard, read to its end
            self.iterators.pop(shard_id, None)
        else:
            self.iterators[shard_id] = following
        records: list[dict[str, Any]] = page.get("Records", [])
        if following is None:
            records.append({"finished": shard_id})
        return records

    def record_of(self, stream_record: dict[str, Any]) -> Record | None:
        if stream_record.get("eventName") != "INSERT":
            return None
        record = self.store.get(stream_record["dynamodb"]["Keys"]["pk"]["S"])
        if record is None or str(record.get("event_id", "")) < self.checkpoint.start:
            return None
        return record

    def follow(self, stop: threading.Event, poll: float) -> Iterator[Item]:
        while not stop.is_set():
            busy = False
            for shard_id in self.ready(self.shards()):
                for stream_record in self.read(shard_id):
                    if "finished" in stream_record:
                        self.checkpoint.finished.add(shard_id)
                        self.checkpoint.save()
                        continue
                    sequence = stream_record["dynamodb"]["SequenceNumber"]

                    def commit(shard_id: str = shard_id, sequence: str = sequence) -> None:
                        self.checkpoint.shards[shard_id] = sequence

                    busy = True
                    yield self.record_of(stream_record), commit
                    if stop.is_set():
                        return
            if not busy:
                stop.wait(poll)


def _shard_iterator(streams: Any, arn: str, shard_id: str, sequence: str | None) -> str:
    if sequence:
        answer = streams.get_shard_iterator(
            StreamArn=arn,
            ShardId=shard_id,
            ShardIteratorType="AFTER_SEQUENCE_NUMBER",
            SequenceNumber=sequence,
        )
    else:
        answer = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
        )
    return str(answer["ShardIterator"])


def follow_listing(
    store: EventStore,
    *,
    checkpoint: Checkpoint,
    filters: Filters,
    stop: threading.Event,
    poll: float,
    settle: float,
) -> Iterator[Item]:
    """Every source's events in time order (merged by ``event_id``), after the checkpoint's last
    event of each source, up to ``settle`` seconds ago."""
    while not stop.is_set():
        upper = time_bound(int((time.time() - settle) * 1000))
        sources = sorted(filters.sources) if filters.sources else store.sources()
        lists = []
        for source in sources:
            after = checkpoint.sources.get(source)
            lower = None if after else checkpoint.start
            if not (after or lower or "") < upper:
                continue
            lists.append(store.query_source(source, after=after, lower=lower, upper=upper))
        busy = False
        for record in heapq.merge(*lists, key=lambda r: str(r["event_id"])):

            def commit(
                source: str = str(record["source"]), event: str = str(record["event_id"])
            ) -> None:
                checkpoint.sources[source] = event

            busy = True
            yield record, commit
            if stop.is_set():
                return
        if not busy:
            stop.wait(poll)


# --------------------------------------------------------------------------------------------
# The loop


@dataclass
class Forwarder:
    store: EventStore
    target: Target
    checkpoint_path: Path
    filters: Filters = field(default_factory=Filters)
    mode: str = "auto"
    since_ms: int | None = None
    poll: float = 0.5
    settle: float = 3.0
    out: TextIO | None = None
    err: TextIO | None = None
    endpoint_url: str | None = None
    region: str | None = None
    forwarded: int = 0
    skipped: int = 0

    def _line(self, text: str, stream: TextIO | None) -> None:
        if stream is not None:
            stream.write(text + "\n")
            stream.flush()

    def run(self, stop: threading.Event) -> int:
        arn = stream_arn_of(self.store) if self.mode in ("auto", "stream") else None
        if self.mode == "stream" and arn is None:
            self._line(f"table {self.store.table_name!r} has no stream enabled", self.err)
            return 2
        mode = "stream" if arn else "listing"
        start_ms = self.since_ms if self.since_ms is not None else int(time.time() * 1000)
        checkpoint = Checkpoint.load(self.checkpoint_path, mode, time_bound(start_ms))
        if arn:
            import botocore.session

            streams = botocore.session.get_session().create_client(
                "dynamodbstreams", endpoint_url=self.endpoint_url, region_name=self.region
            )
            follower = StreamFollower(self.store, streams, arn, checkpoint)
            items = follower.follow(stop, self.poll)
        else:
            items = follow_listing(
                self.store,
                checkpoint=checkpoint,
                filters=self.filters,
                stop=stop,
                poll=self.poll,
                settle=self.settle,
            )
        self._line(
            f"forwarding {self.store.table_name!r} ({mode}) to {self.target.url}; "
            f"checkpoint {self.checkpoint_path}",
            self.err,
        )
        try:
            for record, commit in items:
                if record is None or not self.filters.admits(record):
                    commit()
                    continue
                if not self._forward(record, stop):
                    break  # stopped while holding the line: this event is not committed
                commit()
                checkpoint.save()
        finally:
            checkpoint.save()
        self._line(f"forwarded {self.forwarded}, skipped {self.skipped}", self.err)
        return 0

    def _forward(self, record: Record, stop: threading.Event) -> bool:
        event_id = str(record.get("event_id", ""))
        label = f"{record.get('source', '')!s} {record.get('type', '')!s} {event_id}"
        began = time.monotonic()
        outcome = self.target.deliver(
            build_request(record), stop, lambda why: self._line(f"  {label}: {why}", self.err)
        )
        if outcome is None:
            return False
        took = (time.monotonic() - began) * 1000
        if outcome.delivered:
            self.forwarded += 1
            self._line(
                f"{time.strftime('%H:%M:%S')}  --> {outcome.status}  {label}  ({took:.0f} ms)",
                self.out,
            )
        else:
            self.skipped += 1
            self._line(f"skipped {label}: refused with HTTP {outcome.status}", self.err)
        return True


def forwarder_from_args(args: argparse.Namespace, url: str) -> Forwarder:
    store = open_store(args)
    checkpoint = args.checkpoint or Path(".ingest") / f"forward-{args.table}.json"
    return Forwarder(
        store=store,
        target=Target(url, args.timeout, args.retry_base, args.retry_max),
        checkpoint_path=checkpoint,
        filters=Filters(frozenset(args.source or ()), tuple(args.event_type or ())),
        mode=args.mode,
        since_ms=args.since,
        poll=args.poll,
        settle=args.settle,
        out=None if args.quiet else sys.stdout,
        err=sys.stderr,
        endpoint_url=args.endpoint_url,
        region=args.region,
    )


@reads_table
def run(args: argparse.Namespace) -> int:
    forwarder = forwarder_from_args(args, args.to)
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        if not stop.is_set():
            print(f"\nstopping ({signal.Signals(signum).name})", file=sys.stderr, flush=True)
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    return forwarder.run(stop)
