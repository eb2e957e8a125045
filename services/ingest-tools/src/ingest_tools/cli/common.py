"""Options and helpers shared by the commands that read the events table."""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from ingest.adapters.dynamodb import EventStore, Record

DEFAULT_TABLE = "events"
READ_TIMEOUT = 30.0  # reading pages of a large table is not the request path: be patient
LOCAL_DYNAMODB = "http://127.0.0.1:8000"
_DURATION = re.compile(r"^(\d+)([smhdw])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
# Attributes holding JSON text that ``render`` splices in verbatim, in this order.
_SPLICED = ("extensions", "data", "headers")
# Escaped in every line: lone surrogates (not encodable as UTF-8) and the characters some readers
# take for line breaks. Raw, they can only be inside a JSON string, where the escape is equal.
_ESCAPED = re.compile("[\ud800-\udfff\u0085\u2028\u2029]")


def add_table_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--table",
        default=os.environ.get("EVENTS_TABLE", DEFAULT_TABLE),
        help="events table name (default: $EVENTS_TABLE or %(default)s)",
    )
    parser.add_argument(
        "--endpoint-url",
        default=None,
        help="a DynamoDB-compatible endpoint, e.g. the one `ingest serve` prints; "
        "without it the standard AWS credential chain and endpoint variables apply",
    )
    parser.add_argument("--region", default=None, help="AWS region (default: from the environment)")


def add_filter_options(parser: argparse.ArgumentParser) -> None:
    """--source/--type/--since/--until and the table options, as `events` and `replay` take them."""
    parser.add_argument("--source", help="only this source")
    parser.add_argument("--type", dest="event_type", help="only this type")
    parser.add_argument(
        "--since", type=parse_instant, help="from this time (RFC 3339 or an age: 2h)"
    )
    parser.add_argument("--until", type=parse_instant, help="before this time")
    add_table_options(parser)


def open_store(args: argparse.Namespace) -> EventStore:
    from ingest.adapters.dynamodb import EventStore

    from ingest_tools.local.emulator import use_local_credentials

    if args.endpoint_url:
        use_local_credentials()
    return EventStore(
        args.table,
        endpoint_url=args.endpoint_url,
        region_name=args.region,
        read_timeout=READ_TIMEOUT,
    )


def reads_table(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """A command that reads the table: a failure to read it is one line and exit 1, not a
    traceback (no credentials, an endpoint that is down, a missing table)."""

    @functools.wraps(run)
    def wrapper(args: argparse.Namespace) -> int:
        from botocore.exceptions import BotoCoreError, ClientError
        from ingest.adapters.dynamodb import StorageBroken, StorageUnavailable

        try:
            return run(args)
        except (StorageUnavailable, StorageBroken, BotoCoreError, ClientError) as exc:
            where = f" at {args.endpoint_url}" if args.endpoint_url else ""
            print(f"cannot read table {args.table!r}{where}: {exc}", file=sys.stderr)
            return 1

    return wrapper


def parse_instant(text: str, *, now: float | None = None) -> int:
    """Milliseconds since the epoch from RFC 3339 (``2026-01-31T12:00:00Z``), a date, or an age
    such as ``15m``, ``2h``, ``7d`` (meaning that long ago)."""
    now = time.time() if now is None else now
    match = _DURATION.match(text.strip())
    if match:
        return int((now - int(match.group(1)) * _UNIT_SECONDS[match.group(2)]) * 1000)
    try:
        stamp = datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time: use RFC 3339 (2026-01-31T12:00:00Z), a date, or an age like 2h"
        ) from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return int(stamp.timestamp() * 1000)


def is_json_text(text: str) -> bool:
    """Whether stored text is one JSON value (numbers are not evaluated: any size is fine)."""

    def refuse(name: str) -> None:
        raise ValueError(name)

    try:
        json.loads(text, parse_int=len, parse_float=len, parse_constant=refuse)
    except (ValueError, RecursionError):
        return False
    return True


def _escape(line: str) -> str:
    """JSON text with lone surrogates and line-break look-alikes written as ``\\uXXXX`` escapes:
    the line is valid UTF-8, one line for every reader, and reads back as the same strings."""
    return _ESCAPED.sub(lambda m: f"\\u{ord(m.group()):04x}", line)


def render(record: Record) -> str:
    """A stored record as one JSON line, always valid UTF-8 JSON whatever the record holds.

    ``data``, ``extensions`` and ``headers`` are JSON text spliced in as stored, so numbers stay
    exact (stored text that is not JSON is written as the string ``NAME_text``); bytes become
    ``NAME_base64``.
    """
    import base64

    from ingest.adapters.codec import CODEC_ATTRIBUTE, SHARD_ATTRIBUTE

    if CODEC_ATTRIBUTE in record:  # the reader could not decode it: never show the raw value
        raise ValueError(f"its payload could not be decoded (codec {record[CODEC_ATTRIBUTE]!r})")
    fields: dict[str, Any] = {}
    spliced: dict[str, str] = {}  # stored JSON text, written as it is (never through floats)
    for name, value in record.items():
        if name in ("pk", SHARD_ATTRIBUTE):  # the table's layout, not the event's
            continue
        if name in _SPLICED and isinstance(value, str):
            if is_json_text(value):
                spliced[name] = value.strip()
            else:  # not JSON (written by someone else): shown as it is, never as the value
                fields[f"{name}_text"] = value
        elif isinstance(value, bytes):
            fields[f"{name}_base64"] = base64.b64encode(value).decode("ascii")
        else:
            fields[name] = value
    line = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    if spliced:
        members = ",".join(f'"{name}":{spliced[name]}' for name in _SPLICED if name in spliced)
        line = f"{line[:-1]}{',' if fields else ''}{members}}}"
    if "\n" in line or "\r" in line:  # whitespace in spliced JSON text: one record, one line
        line = line.replace("\r", " ").replace("\n", " ")
    return _escape(line)


class Progress:
    """A one-line progress indicator on a terminal; silent when output is not a terminal."""

    def __init__(self, label: str, stream: TextIO | None = None, total: int | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.label = label
        self.total = total
        self.count = 0
        self._last = 0.0

    def advance(self, n: int = 1) -> None:
        self.count += n
        now = time.monotonic()
        if self.enabled and now - self._last >= 0.1:
            self._last = now
            of = f"/{self.total}" if self.total else ""
            self.stream.write(f"\r{self.label}: {self.count}{of}")
            self.stream.flush()

    def done(self) -> None:
        if self.enabled:
            of = f"/{self.total}" if self.total else ""
            self.stream.write(f"\r{self.label}: {self.count}{of} done\n")
            self.stream.flush()
