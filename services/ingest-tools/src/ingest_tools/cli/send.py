"""``ingest send``: send an event, a batch, or a signed webhook the way a producer would."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingest.domain.webhooks.schemes import REGISTRY

from ingest_tools.cli.http import post

if TYPE_CHECKING:
    from ingest.domain.webhooks.config import SourceConfig, SourcesDocument

DEFAULT_URL = "http://127.0.0.1:3000"


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "send",
        help="send an event, a batch, or a signed webhook",
        description=__doc__
        + "\n\nWith FILE (or - for stdin) its bytes are sent as they are: one event or a JSON array"
        " to /events, or any payload to /webhooks/NAME with --source. Without FILE an event is"
        " built from --type/--id/--data.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", nargs="?", help="payload file, or - for stdin")
    parser.add_argument(
        "--url", default=os.environ.get("INGEST_URL", DEFAULT_URL), help="API base URL"
    )
    parser.add_argument("--type", dest="event_type", help="event type (or webhook event type)")
    parser.add_argument("--id", dest="event_id", help="producer id (or webhook delivery id)")
    parser.add_argument("--event-source", help="the event's source field (for /events)")
    parser.add_argument("--data", help="the event's data, as JSON")
    parser.add_argument("--idempotency-key", help="Idempotency-Key header (single events)")
    parser.add_argument("--content-type", default=None, help="Content-Type to send")
    parser.add_argument(
        "-H", "--header", action="append", default=[], help="extra header NAME:VALUE"
    )
    parser.add_argument(
        "--retries", type=int, default=0, help="retry 429/5xx/timeouts this many times"
    )
    parser.add_argument(
        "--source",
        help="webhook source: sign the payload with its scheme and secret, POST to /webhooks/NAME",
    )
    parser.add_argument(
        "--private-key",
        type=Path,
        default=None,
        metavar="FILE",
        help="for a source whose keys are public keys (discord, sendgrid, standard-webhooks or "
        "svix with whpk_ keys): sign with the private key in FILE (PEM, or the provider's "
        "format: a hex seed, whsk_...)",
    )
    parser.add_argument(
        "--sources",
        type=Path,
        default=None,
        help=f"sources document (JSON or YAML; schemes: {', '.join(REGISTRY)}); "
        "default: the SOURCES environment variable",
    )
    parser.set_defaults(func=run)


def _payload(args: argparse.Namespace) -> bytes:
    if args.file == "-":
        return sys.stdin.buffer.read()
    if args.file:
        return Path(args.file).read_bytes()
    if args.source:
        raise SystemExit("ingest send --source needs a payload FILE (or - for stdin)")
    if not args.event_type:
        raise SystemExit("ingest send needs --type, or a FILE with the event(s)")
    event: dict[str, Any] = {"type": args.event_type}
    if args.event_id:
        event["id"] = args.event_id
    if args.event_source:
        event["source"] = args.event_source
    text = json.dumps(event)
    if args.data is not None:
        try:
            json.loads(args.data)
        except ValueError as exc:
            raise SystemExit(f"--data is not JSON: {exc}") from None
        # Spliced in as given, not re-serialised: 12.50 stays 12.50, as the service keeps it.
        text = f'{text[:-1]}, "data": {args.data.strip()}}}'
    return text.encode()


class SigningError(Exception):
    """A webhook cannot be signed. The message names the file, source or secret id, never a
    secret's value."""


def read_sources(path: Path | None) -> SourcesDocument:
    """The sources document from ``path`` (JSON or YAML), else from ``$SOURCES`` (JSON text or
    ``ssm:NAME``, read with the standard AWS credential chain)."""
    from ingest.adapters.secrets import SecretsUnavailable
    from ingest.domain.webhooks.sources import load_sources

    from ingest_tools.sources import read_sources_file

    try:
        if path is not None:
            return read_sources_file(path)
        return load_sources(os.environ.get("SOURCES"))
    except (OSError, ValueError, SecretsUnavailable) as exc:
        raise SigningError(f"cannot read the sources document: {exc}") from None


def signing_secret(config: SourceConfig, name: str) -> str:
    """The secret to sign with for source ``name``: its first (newest) active secret, inline or
    from Secrets Manager (``secret_id``); ``""`` for scheme ``none``."""
    from ingest.adapters.secrets import SecretsUnavailable
    from ingest.domain.webhooks.sources import resolve_secrets

    if config.scheme == "none":
        return ""
    try:
        secrets = resolve_secrets(config)
    except (ValueError, SecretsUnavailable) as exc:
        raise SigningError(f"cannot read the secret of source {name!r}: {exc}") from None
    if not secrets:
        raise SigningError(f"source {name!r} has no secret to sign with")
    return secrets[0]


def _private_key(path: Path) -> str:
    try:
        text = path.read_text("utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise SigningError(f"cannot read the private key {path}: {exc}") from None
    if not text:
        raise SigningError(f"the private key file {path} is empty")
    return text


def _webhook_request(args: argparse.Namespace, body: bytes) -> tuple[bytes, str, dict[str, str]]:
    """(body, query string, headers) of the delivery as the source's provider would send it."""
    from ingest.domain.webhooks.schemes import REGISTRY, request_query, sign, signed_body

    try:
        document = read_sources(args.sources)
        config = document.sources.get(args.source)
        if config is None:
            raise SigningError(f"source {args.source!r} is not in the sources document")
        if args.private_key is not None:
            if not REGISTRY[config.scheme].asymmetric:
                raise SigningError(
                    f"source {args.source!r} ({config.scheme}) signs with a shared secret: "
                    "--private-key does not apply"
                )
            secret = _private_key(args.private_key)
        else:
            secret = signing_secret(config, args.source)
            public_key = REGISTRY[config.scheme].public_key
            if public_key is not None and public_key(secret):
                raise SigningError(
                    f"source {args.source!r} verifies with public keys: sign with its provider's "
                    "private key, --private-key FILE"
                )
    except SigningError as exc:
        raise SystemExit(str(exc)) from None
    now = time.time()
    try:
        sent = signed_body(config, body, secret, now)
        headers = sign(
            config,
            sent,
            secret,
            now,
            delivery_id=args.event_id,
            event_type=args.event_type,
        )
    except ValueError as exc:
        hint = (
            ": its keys are public keys, give --private-key FILE"
            if REGISTRY[config.scheme].asymmetric and args.private_key is None
            else ""
        )
        del exc  # never echoed: it may describe the key
        raise SystemExit(f"the secret of source {args.source!r} cannot sign{hint}") from None
    return sent, request_query(config, sent), headers


def run(args: argparse.Namespace) -> int:
    body = _payload(args)
    base = args.url.rstrip("/")
    headers: dict[str, str] = {"User-Agent": "ingest-cli"}
    if args.source:
        body, query, signed = _webhook_request(args, body)
        url = f"{base}/webhooks/{args.source}" + (f"?{query}" if query else "")
        headers.update(signed)
        headers.setdefault("Content-Type", args.content_type or "application/json")
    else:
        url = f"{base}/events"
        headers["Content-Type"] = args.content_type or "application/json"
        if args.idempotency_key:
            headers["Idempotency-Key"] = args.idempotency_key
    for item in args.header:
        name, sep, value = item.partition(":")
        if not sep:
            raise SystemExit(f"--header needs NAME:VALUE, got {item!r}")
        headers[name.strip()] = value.strip()
    try:
        answer = post(url, body, headers, retries=args.retries)
    except OSError as exc:  # URLError, refused connections and timeouts, after any retries
        reason = getattr(exc, "reason", exc)
        raise SystemExit(f"cannot reach {url}: {reason}") from None
    document = answer.json()
    print(f"HTTP {answer.status}", file=sys.stderr)
    print(
        json.dumps(document, indent=2)
        if document is not None
        else answer.body.decode(errors="replace")
    )
    return 0 if answer.ok else 1
