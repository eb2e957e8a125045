"""ingest replay: re-send stored records, in time order, to another deployment of the service.

- ``/events`` records go to ``POST /events`` as their producer sent them: the same members, the
  exact ``data``, never a member more (``source`` is left out when it is the default), so an event
  the service accepted is never too large to replay. An event with an ``id`` keeps it (such events
  may share a ``--batch``); an event stored without one is sent alone with its original
  ``event_id`` as its ``Idempotency-Key`` (one stored under an ``Idempotency-Key`` keeps that key).
- Webhook records go to ``POST /webhooks/{source}`` with the exact stored body and the provider's
  original headers, re-signed for the receiver with the source's scheme and secret from the
  sources document (``--sources FILE``, else ``$SOURCES``; in AWS a ``secret_id`` is read from
  Secrets Manager). The delivery id goes in the scheme's id header; a delivery without one carries
  its original ``event_id`` as ``Idempotency-Key``.

A receiver that is this service therefore stores each record at most once: replaying twice adds
nothing. A record that cannot be replayed (not readable, unknown source, refused by the receiver)
is reported with its id and the reason, and the others go on; the exit code is then 1. The final
report (stderr, one JSON line) counts what was sent, accepted, duplicate and failed; on a
terminal, progress with the totals is shown as it goes. A receiver that cannot be reached stops
the replay at once (checked before the first record, and after the retries of any request).

--id EVENT_ID replays that one event (repeatable), from the table or from --from FILE.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from http.client import HTTPException
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingest import jsonexact
from ingest.domain.webhooks.delivery import CREDENTIAL_HEADERS, NOT_KEPT_HEADERS
from ingest.limits import MAX_BODY_BYTES
from ingest.models import CLOUDEVENT_ATTRIBUTES, DEFAULT_SOURCE

from ingest_tools.cli.common import (
    CliError,
    Progress,
    add_command,
    add_filter_options,
    add_retries_option,
    add_url_option,
    default_url,
    is_json_text,
    open_store,
    reads_table,
)
from ingest_tools.cli.http import Answer, post

if TYPE_CHECKING:
    from ingest.adapters.dynamodb import Record
    from ingest.domain.webhooks.config import SourceConfig, SourcesDocument

USER_AGENT = "ingest-replay"
#: How many failures the final report lists (each one is also printed as it happens).
MAX_REPORTED_ERRORS = 100
_EVENT_MEMBERS = frozenset({"type", "id", "source", "data", *CLOUDEVENT_ATTRIBUTES})
#: Headers of the original request that are never re-sent: the old host and key, and whatever
#: the service never keeps of a delivery (credentials, framing, API Gateway's own).
_NOT_RESENT = frozenset({"host", "idempotency-key"}) | CREDENTIAL_HEADERS | NOT_KEPT_HEADERS


def register(commands: Any) -> None:
    parser = add_command(
        commands,
        "replay",
        "re-send stored events and webhook deliveries to a deployment",
        __doc__,
    )
    add_url_option(
        parser,
        "--to",
        what="base URL of the receiving API; it gets POST /events and /webhooks/{source} "
        "(--to is the same option)",
    )
    parser.add_argument(
        "--id",
        dest="event_ids",
        action="append",
        metavar="EVENT_ID",
        help="replay only this event (repeatable); from the table, or from --from FILE",
    )
    parser.add_argument(
        "--from", dest="from_file", type=Path, help="a .jsonl export (default: the table)"
    )
    parser.add_argument(
        "--sources",
        type=Path,
        default=None,
        help="sources document (JSON or YAML) to re-sign webhook deliveries with; "
        "default: the SOURCES environment variable",
    )
    parser.add_argument(
        "--rate", type=float, default=50.0, help="records per second (default %(default)s)"
    )
    parser.add_argument(
        "--batch",
        type=int,
        default=1,
        help="/events events with an id per request, 1-500 (default 1); requests stay within "
        "1 MiB, and a refused batch is re-sent one event at a time",
    )
    add_retries_option(parser, 5)
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print each request instead of sending it (an /events body as it would be sent; "
        "a webhook as a JSON line with its path, headers and body); send nothing",
    )
    add_filter_options(parser)
    parser.set_defaults(func=run)


# --------------------------------------------------------------------------------------------
# Stored records, from the table or from an export


class BadRecord(Exception):
    """A record that cannot be replayed; the message says why (never a secret)."""


@dataclass
class Stored:
    """One record to replay: its attributes, with ``data`` as exact JSON text and a webhook's
    ``body`` as its exact bytes."""

    event_id: str
    fields: dict[str, Any]
    data: str | None = None
    extensions: dict[str, Any] | None = None
    body: bytes | None = None
    headers: dict[str, str] | None = None

    @property
    def source(self) -> str:
        return str(self.fields.get("source") or DEFAULT_SOURCE)

    @property
    def is_webhook(self) -> bool:
        return self.body is not None or self.fields.get("kind") == "webhook"

    @property
    def key(self) -> str | None:
        """The ``Idempotency-Key`` it was stored under: its id when that came from the header."""
        producer_id = self.fields.get("id")
        if isinstance(producer_id, str) and self.fields.get("idempotency_digest") is not None:
            return producer_id
        return None

    @property
    def producer_id(self) -> str | None:
        """The producer's ``id`` (or a webhook's delivery id), when it was given as such."""
        producer_id = self.fields.get("id")
        if isinstance(producer_id, str) and producer_id and self.key is None:
            return producer_id
        return None


def _extensions(value: Any) -> dict[str, Any]:
    """Stored extensions: JSON object text (the table) or the object (an export)."""
    try:
        parsed = jsonexact.loads(value) if isinstance(value, str) else value
    except jsonexact.JsonError as exc:
        raise BadRecord(f"its stored extensions are not JSON: {exc}") from None
    if not isinstance(parsed, dict):
        raise BadRecord("its stored extensions are not a JSON object")
    return parsed


def _text_headers(value: Any) -> dict[str, str] | None:
    """Stored headers (JSON object text, or the object itself from an export); ``None`` when
    absent or unusable: they help a replay, they never stop it."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if not isinstance(value, dict):
        return None
    return {str(k): v for k, v in value.items() if isinstance(v, str)}


def _utf8(text: str, what: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRecord(f"its {what} is not valid Unicode (a lone surrogate)") from None


def from_record(record: Record) -> Stored:
    """A record as the table's reader gives it (its payload decoded: docs/storage-format.md)."""
    from ingest.adapters.codec import CODEC_ATTRIBUTE, SHARD_ATTRIBUTE

    if CODEC_ATTRIBUTE in record:  # the reader could not decode the payload
        raise BadRecord(f"its payload could not be decoded (codec {record[CODEC_ATTRIBUTE]!r})")
    stored = Stored(str(record.get("event_id", "")), {})
    for name, value in record.items():
        if name == "data":
            if not isinstance(value, str) or not is_json_text(value):
                raise BadRecord("its stored data is not JSON")
            stored.data = value
        elif name == "extensions":
            stored.extensions = _extensions(value)
        elif name == "body":
            stored.body = value if isinstance(value, bytes) else _utf8(str(value), "body")
        elif name == "headers":
            stored.headers = _text_headers(value)
        elif name not in ("pk", SHARD_ATTRIBUTE):
            stored.fields[name] = value
    return stored


def from_export(line: dict[str, Any]) -> Stored:
    """A record as ``ingest events export`` wrote it (``data`` spliced in, bytes as base64)."""
    stored = Stored(str(line.get("event_id", "")), {})
    for name, value in line.items():
        if name == "data":
            stored.data = jsonexact.dumps(value)
        elif name == "extensions":
            stored.extensions = _extensions(value)
        elif name == "body":
            if not isinstance(value, str):
                raise BadRecord("its body is not text")
            stored.body = _utf8(value, "body")
        elif name == "body_base64":
            try:
                stored.body = base64.b64decode(str(value), validate=True)
            except (binascii.Error, ValueError):
                raise BadRecord("its body_base64 is not base64") from None
        elif name == "headers":
            stored.headers = _text_headers(value)
        elif name in ("data_text", "extensions_text"):
            raise BadRecord(f"its stored {name.removesuffix('_text')} is not JSON")
        else:
            stored.fields[name] = value
    return stored


@dataclass(frozen=True)
class Unreadable:
    """A line or record that could not even be read: reported, never replayed."""

    where: str
    reason: str


def _selected(stored: dict[str, Any], args: argparse.Namespace, bounds: tuple[str, str]) -> bool:
    if args.event_ids and stored.get("event_id") not in args.event_ids:
        return False
    if args.source and stored.get("source") != args.source:
        return False
    if args.event_type and stored.get("type") != args.event_type:
        return False
    event_id = str(stored.get("event_id", ""))
    lower, upper = bounds
    return not ((lower and event_id < lower) or (upper and event_id >= upper))


def _from_file(path: Path, args: argparse.Namespace) -> Iterator[Stored | Unreadable]:
    from ingest import ids

    bounds = (
        ids.time_bound(args.since) if args.since is not None else "",
        ids.time_bound(args.until) if args.until is not None else "",
    )
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, start=1):
            where = f"{path.name}, line {number}"
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield Unreadable(where, f"not UTF-8 (byte {exc.start})")
                continue
            if number == 1:
                text = text.removeprefix("\ufeff")
            if not text.strip():
                continue
            try:
                line = jsonexact.loads(text)
            except jsonexact.JsonError as exc:
                yield Unreadable(where, f"not an exported record: {exc}")
                continue
            if not isinstance(line, dict) or not isinstance(line.get("event_id"), str):
                yield Unreadable(where, "not an exported record (no event_id)")
                continue
            if not _selected(line, args, bounds):
                continue
            try:
                yield from_export(line)
            except BadRecord as exc:
                yield Unreadable(f"{line['event_id']} ({where})", str(exc))


def _by_id(args: argparse.Namespace) -> list[Record]:
    """The records ``--id`` names, in the order given, all read before anything is sent; one
    that is not stored is a one-line error."""
    from ingest import ids

    store = open_store(args)
    records = []
    for event_id in args.event_ids:
        record = store.get(ids.key_of(event_id))
        if record is None or record.get("event_id") != event_id:
            raise CliError(f"event {event_id} not found in table {args.table!r}: nothing sent")
        records.append(record)
    return records


def _from_table(args: argparse.Namespace) -> Iterator[Stored | Unreadable]:
    from ingest_tools.cli.events import selected

    records = args.by_id if args.by_id is not None else selected(open_store(args), args)
    for record in records:
        try:
            yield from_record(record)
        except BadRecord as exc:
            yield Unreadable(str(record.get("event_id", "?")), str(exc))


# --------------------------------------------------------------------------------------------
# What to send for a record


@dataclass
class Request:
    stored: Stored
    path: str
    body: bytes
    headers: dict[str, str]
    batchable: bool = False  # an /events event with an id: it may share a batch

    def preview(self) -> str:
        """The request as one line of --dry-run output."""
        if self.path == "/events":
            return self.body.decode("utf-8")
        shown: dict[str, Any] = {
            "event_id": self.stored.event_id,
            "source": self.stored.source,
            "type": self.stored.fields.get("type"),
        }
        if isinstance(self.stored.fields.get("id"), str):
            shown["id"] = self.stored.fields["id"]
        shown["post"] = self.path
        shown["headers"] = self.headers
        try:
            shown["body"] = self.body.decode("utf-8")
        except UnicodeDecodeError:
            shown["body_base64"] = base64.b64encode(self.body).decode("ascii")
        return json.dumps(shown, separators=(",", ":"))


def _header_value(value: str) -> str:
    """A header value ``http.client`` can send: it writes text as Latin-1, so text beyond it is
    passed as its UTF-8 bytes (as the provider sent them)."""
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8", "replace").decode("latin-1")
    return value


def _event_text(stored: Stored, event_type: str, producer_id: str | None) -> str:
    event: dict[str, Any] = {"type": event_type}
    if producer_id is not None:
        event["id"] = producer_id
    if stored.source != DEFAULT_SOURCE:
        event["source"] = stored.source
    for name in CLOUDEVENT_ATTRIBUTES:
        if name in stored.fields:
            event[name] = stored.fields[name]
    for name, value in (stored.extensions or {}).items():
        if name not in _EVENT_MEMBERS:
            event[name] = value
    text = jsonexact.dumps(event)
    if stored.data is not None:
        text = f'{text[:-1]},"data":{stored.data.strip()}}}'
    return text


def event_request(stored: Stored) -> Request:
    """``POST /events`` with the event as its producer sent it, never larger."""
    event_type = stored.fields.get("type")
    if not isinstance(event_type, str) or not event_type:
        raise BadRecord("it has no type")
    producer_id = stored.producer_id
    key = stored.key or (None if producer_id is not None else stored.event_id)
    body = _utf8(_event_text(stored, event_type, producer_id), "event")
    size = stored.fields.get("size")
    if producer_id is not None and isinstance(size, int) and len(body) > size:
        # Larger than the event the service measured: this id came from an Idempotency-Key
        # (stored before keys were marked with their digest), not from an `id` member.
        key, producer_id = producer_id, None
        body = _utf8(_event_text(stored, event_type, None), "event")
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    if key is not None:
        headers["Idempotency-Key"] = _header_value(key)
    return Request(stored, "/events", body, headers, batchable=key is None)


class Signer:
    """Signs webhook deliveries for the receiver: the sources document, each source's secret
    read once (inline, or from Secrets Manager by the standard credential chain)."""

    def __init__(self, sources: SourcesDocument | None, problem: str | None = None) -> None:
        self.sources = sources
        self.problem = problem
        self._secrets: dict[str, str | BadRecord] = {}

    def config(self, name: str) -> SourceConfig:
        if self.sources is None:
            raise BadRecord(self.problem or "no sources document to sign webhooks with")
        config = self.sources.sources.get(name)
        if config is None:
            raise BadRecord(
                f"source {name!r} is not in the sources document: give it with --sources"
            )
        return config

    def secret(self, name: str, config: SourceConfig) -> str:
        from ingest_tools.cli.send import SigningError, signing_secret

        if name not in self._secrets:
            try:
                self._secrets[name] = signing_secret(config, name)
            except SigningError as exc:
                self._secrets[name] = BadRecord(str(exc))
            except Exception as exc:  # the secret store failing in any other way
                self._secrets[name] = BadRecord(
                    f"cannot read the secret of source {name!r}: {type(exc).__name__}"
                )
        secret = self._secrets[name]
        if isinstance(secret, BadRecord):
            raise secret
        return secret


#: Schemes whose signature covers the delivery id (``webhook-id``, ``svix-id``, Twitch's message id).
_SIGNS_ITS_ID = frozenset({"standard-webhooks", "svix", "twitch"})


def webhook_request(stored: Stored, signer: Signer, now: float) -> Request:
    """``POST /webhooks/{source}``: the exact body, the original headers, signed afresh."""
    from ingest.domain.webhooks.schemes import DEFAULT_EVENT_TYPE, REGISTRY, request_query, sign

    name = stored.source
    config = signer.config(name)
    secret = signer.secret(name, config)
    body = stored.body if stored.body is not None else b""
    original = stored.headers
    if original is None:  # stored before records kept their headers
        content_type = stored.fields.get("content_type")
        original = {"content-type": content_type} if isinstance(content_type, str) else {}
    provider_id = stored.producer_id
    delivery_id = provider_id
    if delivery_id is None and config.scheme in _SIGNS_ITS_ID:
        delivery_id = stored.event_id  # the scheme cannot verify without one
    event_type = stored.fields.get("type")
    if event_type == DEFAULT_EVENT_TYPE:  # the receiver's default too: no type header to add
        event_type = None
    try:
        signed = sign(
            config,
            body,
            secret,
            now,
            delivery_id=delivery_id,
            event_type=event_type if isinstance(event_type, str) else None,
        )
    except ValueError:
        raise BadRecord(f"the secret of source {name!r} cannot sign") from None
    scheme = REGISTRY[config.scheme]
    if delivery_id is None:
        # A delivery stored without an id must not get a new one on every replay (it carries
        # its event_id as Idempotency-Key instead): drop the one ``sign`` made up.
        signed = {k: v for k, v in signed.items() if k.lower() != scheme.id_header}
    # Old signatures the fresh one does not itself replace (GitHub's legacy SHA-1) go too.
    replaced = {k.lower() for k in signed} | _NOT_RESENT | scheme.superseded_headers
    headers = {k: _header_value(v) for k, v in original.items() if k.lower() not in replaced}
    headers.update(signed)
    # The receiver deduplicates by the delivery id where its scheme has one; the key covers the
    # rest (and a receiver configured without the id header).
    headers["Idempotency-Key"] = _header_value(stored.key or provider_id or stored.event_id)
    lowered = {k.lower() for k in headers}
    if "content-type" not in lowered:
        headers["Content-Type"] = "application/octet-stream"
    if "user-agent" not in lowered:
        headers["User-Agent"] = USER_AGENT
    # Some providers sign a query string they add to the URL (Twilio's bodySHA256 for JSON).
    query = request_query(config, body)
    return Request(stored, f"/webhooks/{name}{'?' if query else ''}{query}", body, headers)


# --------------------------------------------------------------------------------------------
# Sending and the report


@dataclass
class Summary:
    """What a replay did, counted as it goes; the final report (stderr, one JSON line)."""

    #: The failures, listed in the report up to MAX_REPORTED_ERRORS.
    errors: list[str] = field(default_factory=list)
    sent: int = 0
    accepted: int = 0
    duplicates: int = 0
    failed: int = 0

    def fail(self, what: str, reason: str, count: int = 1) -> None:
        self.failed += count
        message = f"{what}: {reason}"
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(message)
        print(f"replay: {message}", file=sys.stderr)

    def report(self, verb: str) -> dict[str, Any]:
        report: dict[str, Any] = {
            verb: self.sent,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "failed": self.failed,
            "errors": self.errors,
        }
        listed = len(self.errors)
        if self.failed > listed >= MAX_REPORTED_ERRORS:
            report["errors_not_listed"] = self.failed - listed
        return report


def _document(answer: Answer) -> dict[str, Any]:
    document = answer.json()
    return document if isinstance(document, dict) else {}


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _refusal(answer: Answer) -> str:
    error = _document(answer).get("error")
    if isinstance(error, dict):
        return f"HTTP {answer.status} {error.get('code')}: {error.get('message')}"
    return f"HTTP {answer.status}"


class Unreachable(Exception):
    """The receiver cannot be reached (after the retries): nothing more is sent."""


class Sender:
    def __init__(self, base: str, retries: int, summary: Summary) -> None:
        self.base = base
        self.retries = retries
        self.summary = summary

    def _post(self, path: str, body: bytes, headers: dict[str, str]) -> Answer | str:
        def retrying(attempt: int, delay: float, why: str) -> None:
            print(
                f"replay: {path}: {why}: retry {attempt} of {self.retries} in {delay:.1f} s",
                file=sys.stderr,
            )

        try:
            return post(self.base + path, body, headers, retries=self.retries, on_retry=retrying)
        except (OSError, HTTPException) as exc:
            raise Unreachable(f"cannot reach {self.base}: {getattr(exc, 'reason', exc)}") from exc
        except ValueError as exc:
            return f"{type(exc).__name__}: {exc}"

    def single(self, request: Request) -> None:
        answer = self._post(request.path, request.body, request.headers)
        if isinstance(answer, str):
            self.summary.fail(request.stored.event_id, answer)
        elif not answer.ok:
            self.summary.fail(request.stored.event_id, _refusal(answer))
        elif _document(answer).get("duplicate") is True:
            self.summary.duplicates += 1
        else:
            self.summary.accepted += 1

    def batch(self, requests: list[Request]) -> None:
        if len(requests) == 1:
            self.single(requests[0])
            return
        body = b"[" + b",".join(r.body for r in requests) + b"]"
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
        answer = self._post("/events", body, headers)
        first = requests[0].stored.event_id
        if isinstance(answer, str):  # pragma: no cover - a URL the receiver's base makes invalid
            self.summary.fail(f"{first} and {len(requests) - 1} more", answer, len(requests))
        elif answer.ok:
            document = _document(answer)
            self.summary.accepted += _count(document.get("accepted"))
            self.summary.duplicates += _count(document.get("duplicates"))
        elif 400 <= answer.status < 500 and answer.status != 429:
            # A batch is validated whole: one event the receiver refuses (or a batch it finds
            # too deep or too large) would fail them all. One at a time, only that one fails.
            for request in requests:
                self.single(request)
        else:
            self.summary.fail(
                f"{first} and {len(requests) - 1} more", _refusal(answer), len(requests)
            )


def _batches(
    items: Iterable[Stored | Unreadable], signer: Signer, args: argparse.Namespace
) -> Iterator[list[Request] | Unreadable]:
    """Requests in record order: /events events with an id grouped up to ``--batch`` and 1 MiB;
    everything else alone. A record that cannot be turned into a request is an Unreadable."""
    pending: list[Request] = []
    size = 2  # the brackets
    for item in items:
        if isinstance(item, Unreadable):
            yield item
            continue
        try:
            request = (
                webhook_request(item, signer, time.time())
                if item.is_webhook
                else event_request(item)
            )
        except BadRecord as exc:
            yield Unreadable(item.event_id, str(exc))
            continue
        if args.batch > 1 and request.batchable:
            grown = size + len(request.body) + (1 if pending else 0)
            if pending and (len(pending) >= args.batch or grown > MAX_BODY_BYTES):
                yield pending
                pending, size = [], 2
                grown = size + len(request.body)
            pending.append(request)
            size = grown
            continue
        if pending:
            yield pending
            pending, size = [], 2
        yield [request]
    if pending:
        yield pending


def _signer(args: argparse.Namespace) -> Signer:
    from ingest_tools.cli.send import SigningError, read_sources

    try:
        return Signer(read_sources(args.sources))
    except SigningError as exc:
        if args.sources is not None:
            raise
        return Signer(None, str(exc))  # $SOURCES unreadable: only webhook records need it


def reachable(base: str, timeout: float = 5.0) -> None:
    """Fail fast, before anything is read or sent, when nothing answers at ``base``."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(base)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname or "", port), timeout=timeout).close()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise CliError(f"cannot reach {base}: {reason}; nothing was sent") from None


@reads_table
def run(args: argparse.Namespace) -> int:
    from ingest import ids

    from ingest_tools.cli.send import SigningError

    if not 1 <= args.batch <= 500 or args.rate <= 0:
        raise CliError("--batch must be 1-500 and --rate positive", 2)
    for event_id in args.event_ids or ():
        if not ids.is_event_id(event_id):
            raise CliError(f"--id {event_id!r} is not an event id", 2)
    if args.from_file is not None and not args.from_file.is_file():
        raise CliError(f"{args.from_file}: no such file", 2)
    args.url = (args.url or default_url()).rstrip("/")
    try:
        signer = _signer(args)
    except SigningError as exc:
        raise CliError(str(exc), 2) from None
    args.by_id = _by_id(args) if args.event_ids and args.from_file is None else None
    if not args.dry_run:
        reachable(args.url)
    return _replay(args, signer)


def _lines_in(path: Path) -> int:
    with path.open("rb") as lines:
        return sum(1 for line in lines if line.strip())


def _total(args: argparse.Namespace) -> int | None:
    """How many records the replay goes through, when that is cheap to know (shown with the
    progress on a terminal)."""
    if args.event_ids:
        return len(args.event_ids)
    if args.from_file is not None and sys.stderr.isatty():
        return _lines_in(args.from_file)
    return None


def _replay(args: argparse.Namespace, signer: Signer) -> int:
    items = _from_file(args.from_file, args) if args.from_file else _from_table(args)
    sender = Sender(args.url, args.retries, Summary())
    summary = sender.summary
    progress = Progress("replayed" if not args.dry_run else "would replay", total=_total(args))
    started = time.monotonic()
    stopped: str | None = None
    try:
        for chunk in _batches(items, signer, args):
            if isinstance(chunk, Unreadable):
                summary.sent += 1
                summary.fail(chunk.where, chunk.reason)
                progress.advance()
                continue
            summary.sent += len(chunk)
            if args.dry_run:
                for request in chunk:
                    print(request.preview())
            else:
                try:
                    sender.batch(chunk)
                except Unreachable as exc:
                    summary.sent -= len(chunk)
                    stopped = str(exc)
                    break
                ahead = summary.sent / args.rate - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)
            progress.advance(len(chunk))
    finally:
        progress.done()
        report = summary.report("would send" if args.dry_run else "sent")
        if stopped:
            report["stopped"] = stopped
        print(json.dumps(report, ensure_ascii=False), file=sys.stderr)
    if stopped:
        raise CliError(f"{stopped}; stopped after {summary.sent} records (report above)")
    return 1 if summary.failed else 0
