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
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from ingest.adapters.dynamodb import EventStore, Record

DEFAULT_TABLE = "events"
DEFAULT_URL = "http://127.0.0.1:3000"
READ_TIMEOUT = 30.0  # reading pages of a large table is not the request path: be patient
LOCAL_DYNAMODB = "http://127.0.0.1:8000"
#: The environment variables the CLI's defaults come from (each shown in the --help it serves).
URL_VARIABLE = "INGEST_URL"
TABLE_VARIABLES = ("INGEST_TABLE", "EVENTS_TABLE")
ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL_DYNAMODB"
_DURATION = re.compile(r"^(\d+)([smhdw])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
_LOOPBACK = ("127.", "localhost", "[::1]")
# Attributes holding JSON text that ``render`` splices in verbatim, in this order.
_SPLICED = ("extensions", "data", "headers")
# Escaped in every line: lone surrogates (not encodable as UTF-8) and the characters some readers
# take for line breaks. Raw, they can only be inside a JSON string, where the escape is equal.
_ESCAPED = re.compile("[\ud800-\udfff\u0085\u2028\u2029]")


class CliError(Exception):
    """A failure the user can act on: ``ingest`` prints its message as one line and exits with
    ``code`` (see ``ingest_tools.cli.main``)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def plain(text: str) -> str:
    """Help text from a docstring: without the reStructuredText double backticks."""
    return text.replace("``", "")


def add_command(commands: Any, name: str, summary: str, doc: str | None) -> argparse.ArgumentParser:
    """A subcommand whose description is its module's docstring, laid out as written."""
    parser: argparse.ArgumentParser = commands.add_parser(
        name,
        help=summary,
        description=plain(doc or summary),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


#: The largest count an option takes (a listing's --limit, tail's --lines): beyond any table.
MAX_COUNT = 10**12


#: The most retries a request may be given (with backoff up to 8 s each: about 13 minutes).
MAX_RETRIES = 100


def count(text: str, *, least: int = 0, most: int = MAX_COUNT) -> int:
    """An argparse type: a whole number from ``least`` to ``most``."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not least <= value <= most:
        raise argparse.ArgumentTypeError(
            f"{text} is not allowed: give {least} or more, at most {most}"
        )
    return value


def add_retries_option(parser: argparse.ArgumentParser, default: int) -> None:
    """``--retries N``, as every command that POSTs takes it."""
    parser.add_argument(
        "--retries",
        type=lambda text: count(text, most=MAX_RETRIES),
        default=default,
        metavar="N",
        help="retry 429/502/503/504 and connection errors up to N times, honouring Retry-After "
        "and saying so on stderr each time (default %(default)s)",
    )


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    return count(text, least=1)


def table_name(text: str) -> str:
    """An argparse type: a DynamoDB table name (3-255 of letters, digits, _ . -)."""
    if not _TABLE_NAME.match(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a table name: 3 to 255 letters, digits, '_', '.' or '-'"
        )
    return text


def http_url(text: str) -> str:
    """An argparse type: an http:// or https:// URL with a host."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(text.strip())
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"{text!r} is not an http:// or https:// URL")
    return text.strip()


def is_loopback(url: str) -> bool:
    host = url.split("://", 1)[-1]
    return host.startswith(_LOOPBACK)


def default_url() -> str:
    """The ingest API's base URL when no --url is given: $INGEST_URL, else the local ingest
    serve's when one runs, else the local default."""
    return os.environ.get(URL_VARIABLE) or local_serve_url() or DEFAULT_URL


def add_url_option(parser: argparse.ArgumentParser, *aliases: str, what: str) -> None:
    """``--url``: the ingest API's base URL, the same flag and default in every command."""
    parser.add_argument(
        "--url",
        *aliases,
        dest="url",
        type=http_url,
        default=None,
        metavar="URL",
        help=f"{what} (default: ${URL_VARIABLE}, else the local ingest serve's, else {DEFAULT_URL})",
    )


def add_table_option(parser: argparse.ArgumentParser) -> None:
    """``--table``, its default from the environment (``resolve_table_options`` fills it in)."""
    parser.add_argument(
        "--table",
        type=table_name,
        default=None,
        help=f"events table name (default: ${TABLE_VARIABLES[0]}, else ${TABLE_VARIABLES[1]}, "
        f"else {DEFAULT_TABLE})",
    )


def add_table_options(parser: argparse.ArgumentParser) -> None:
    add_table_option(parser)
    parser.add_argument(
        "--endpoint-url",
        type=http_url,
        default=None,
        metavar="URL",
        help=f"a DynamoDB-compatible endpoint, e.g. the one ingest serve prints (default: "
        f"${ENDPOINT_VARIABLE}, else the local ingest serve when one runs, else AWS with the "
        "standard credential chain)",
    )
    parser.add_argument(
        "--region",
        default=None,
        help="AWS region (default: $AWS_REGION, else $AWS_DEFAULT_REGION or the AWS profile's)",
    )


def add_filter_options(parser: argparse.ArgumentParser) -> None:
    """--source/--type/--since/--until and the table options, as `events` and `replay` take them."""
    parser.add_argument("--source", help="only events of this source")
    parser.add_argument("--type", dest="event_type", help="only this type")
    parser.add_argument(
        "--since", type=parse_instant, help="from this time (RFC 3339 or an age: 2h)"
    )
    parser.add_argument("--until", type=parse_instant, help="before this time")
    add_table_options(parser)


def resolve_table_options(args: argparse.Namespace) -> None:
    """Fill in the table, endpoint and region the options left to the environment: a table
    command then needs no flag locally, and a loopback endpoint gets the emulator's fake
    credentials and region (an explicit endpoint too, as always; never real ones by accident)."""
    from ingest_tools.local.emulator import use_local_credentials

    if getattr(args, "table", None) is None:
        args.table = next(
            (os.environ[v] for v in TABLE_VARIABLES if os.environ.get(v)), DEFAULT_TABLE
        )
        table_name_or_error(args.table)
    if getattr(args, "region", None) is None and os.environ.get("AWS_REGION"):
        args.region = os.environ["AWS_REGION"]  # as the AWS CLI reads it (botocore does not)
    explicit = bool(args.endpoint_url)
    if not explicit:
        args.endpoint_url = os.environ.get(ENDPOINT_VARIABLE) or local_dynamodb_endpoint()
    if args.endpoint_url and (explicit or is_loopback(args.endpoint_url)):
        use_local_credentials()


def table_name_or_error(name: str) -> None:
    try:
        table_name(name)
    except argparse.ArgumentTypeError as exc:
        raise CliError(f"{exc} (from the environment)", 2) from None


def local_dynamodb_endpoint() -> str | None:
    """The DynamoDB endpoint of the ingest serve running from the data directory
    ($INGEST_DATA_DIR, else .ingest/ here), which it publishes there; ``None`` when none runs."""
    from ingest_tools.local.datadir import running_serve

    state = running_serve()
    return state.endpoint if state else None


def local_serve_url() -> str | None:
    """The API URL of the ingest serve running from the data directory; ``None`` when none runs."""
    from ingest_tools.local.datadir import running_serve

    state = running_serve()
    return state.url if state else None


def local_dev_sources() -> Path | None:
    """The sources document ``ingest serve --dev-sources`` wrote in the data directory of the
    serve running from it (generated secrets, keys in ``keys/NAME.pem``); ``None`` otherwise."""
    from ingest_tools.local.datadir import default_data_dir, running_serve
    from ingest_tools.local.dev_sources import SOURCES_FILE

    document = default_data_dir() / SOURCES_FILE
    return document if running_serve() is not None and document.is_file() else None


def open_store(args: argparse.Namespace) -> EventStore:
    from ingest.adapters.dynamodb import EventStore

    resolve_table_options(args)
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
            raise CliError(table_failure(args, exc)) from exc

    return wrapper


def table_failure(args: argparse.Namespace, exc: BaseException) -> str:
    """One line for a table that cannot be read: what to do rather than the SDK's words."""
    from botocore.exceptions import (
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
    )

    endpoint = getattr(args, "endpoint_url", None)
    where = f" at {endpoint}" if endpoint else ""
    cause = exc.__cause__ or exc
    head = f"cannot read table {getattr(args, 'table', None)!r}{where}"
    if isinstance(cause, NoRegionError):
        return f"{head}: no AWS region: give --region or set AWS_REGION"
    if isinstance(cause, NoCredentialsError):
        return f"{head}: no AWS credentials (or give --endpoint-url for a local table)"
    if isinstance(cause, EndpointConnectionError):
        return f"{head}: nothing answers there (is ingest serve running?)"
    if isinstance(cause, ClientError):
        error = cause.response.get("Error", {})
        if error.get("Code") == "ResourceNotFoundException":
            return f"{head}: no such table (give --table, or set {TABLE_VARIABLES[0]})"
        return f"{head}: {error.get('Code')}: {error.get('Message')}"
    return f"{head}: {exc}"


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
    """Progress on a terminal (stderr, one line rewritten in place): the count, the total when
    known, the rate; the totals when done. Silent when the stream is not a terminal."""

    def __init__(self, label: str, stream: TextIO | None = None, total: int | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.label = label
        self.total = total
        self.count = 0
        self.started = time.monotonic()
        self._last = 0.0

    def line(self) -> str:
        elapsed = time.monotonic() - self.started
        of = f"/{self.total}" if self.total is not None else ""
        rate = f", {self.count / elapsed:.0f}/s" if elapsed >= 0.5 else ""
        return f"{self.label}: {self.count}{of} ({elapsed:.1f} s{rate})"

    def advance(self, n: int = 1) -> None:
        self.count += n
        now = time.monotonic()
        if self.enabled and now - self._last >= 0.1:
            self._last = now
            self.stream.write(f"\r{self.line()}")
            self.stream.flush()

    def done(self) -> None:
        if self.enabled:
            self.stream.write(f"\r{self.line()} done\n")
            self.stream.flush()
