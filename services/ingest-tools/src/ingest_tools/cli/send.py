"""ingest send: send an event, a batch, or a signed webhook the way a producer would.

With FILE (or - for stdin) its bytes are sent as they are: one event or a JSON array to /events,
or any payload to /webhooks/NAME with --webhook NAME, signed with that source's scheme and first
secret from the sources document (--sources FILE, else $SOURCES). Without FILE an event is built
from --type, --id, --event-source and --data.

An option that cannot apply is refused, never ignored: --type and --id with FILE for /events (the
file's bytes are sent as they are), or with a webhook whose provider carries them in the body
(Stripe's type and id, for example: edit the payload, or use ingest trigger).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingest.domain.webhooks.schemes import REGISTRY

from ingest_tools.cli.common import (
    CliError,
    add_command,
    add_retries_option,
    add_url_option,
    default_url,
)
from ingest_tools.cli.http import Answer, post

if TYPE_CHECKING:
    from ingest.domain.webhooks.config import SourceConfig, SourcesDocument

SOURCES_VARIABLE = "SOURCES"
#: Probe values: a scheme that carries the type or the delivery id in a header shows them there.
_PROBE_TYPE = "ingest-probe-type"
_PROBE_ID = "ingest-probe-id"


def register(commands: Any) -> None:
    parser = add_command(commands, "send", "send an event, a batch, or a signed webhook", __doc__)
    parser.add_argument("file", nargs="?", help="payload file, or - for stdin")
    add_url_option(parser, what="API base URL")
    parser.add_argument("--type", dest="event_type", help="event type (or webhook event type)")
    parser.add_argument("--id", dest="event_id", help="producer id (or webhook delivery id)")
    parser.add_argument(
        "--event-source", metavar="SOURCE", help="the event's source member (for /events)"
    )
    parser.add_argument("--data", help="the event's data, as JSON")
    parser.add_argument("--idempotency-key", help="Idempotency-Key header")
    parser.add_argument("--content-type", default=None, help="Content-Type to send")
    parser.add_argument(
        "-H", "--header", action="append", default=[], help="extra header NAME:VALUE"
    )
    add_retries_option(parser, 0)
    add_webhook_options(parser, legacy=True)
    parser.set_defaults(func=run)


def add_webhook_options(parser: argparse.ArgumentParser, *, legacy: bool = False) -> None:
    """--webhook NAME, --sources FILE and --private-key FILE, as send and trigger take them
    (with ``legacy``, send's old spelling of --webhook, --source NAME, too)."""
    parser.add_argument(
        "--webhook",
        metavar="NAME",
        help="webhook source NAME: sign the payload with its scheme and secret, POST to "
        "/webhooks/NAME",
    )
    if legacy:
        parser.add_argument(
            "--source",
            dest="legacy_webhook",
            metavar="NAME",
            help="deprecated spelling of --webhook (elsewhere --source filters by event source)",
        )
    else:
        parser.set_defaults(legacy_webhook=None)
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
        metavar="FILE",
        help=f"sources document (JSON or YAML; schemes: {', '.join(REGISTRY)}); "
        f"default: ${SOURCES_VARIABLE} (JSON text, a file name, or ssm:NAME), else the "
        "generated sources of the local ingest serve --dev-sources",
    )


def webhook_name(args: argparse.Namespace) -> str | None:
    """--webhook, or its deprecated spelling --source (with a note saying so)."""
    if args.legacy_webhook:
        if args.webhook and args.webhook != args.legacy_webhook:
            raise CliError("--source is the old spelling of --webhook: give one of them", 2)
        print("ingest: note: --source NAME is now --webhook NAME", file=sys.stderr)
        return str(args.legacy_webhook)
    return str(args.webhook) if args.webhook else None


def read_payload(file: str) -> bytes:
    """FILE's bytes, or stdin's for ``-``; a file that cannot be read is a one-line error."""
    if file == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(file).read_bytes()
    except FileNotFoundError:
        raise CliError(f"{file}: no such file", 2) from None
    except OSError as exc:
        raise CliError(f"cannot read {file}: {exc.strerror or exc}", 2) from None


def _event_body(args: argparse.Namespace) -> bytes:
    """The /events body: FILE as it is, else one event from the options."""
    if args.file:
        given = [
            flag
            for flag, value in (
                ("--type", args.event_type),
                ("--id", args.event_id),
                ("--event-source", args.event_source),
                ("--data", args.data),
            )
            if value is not None
        ]
        if given:
            raise CliError(
                f"{', '.join(given)} build an event from options: with FILE its bytes are sent "
                "as they are (edit the file, or leave FILE out)",
                2,
            )
        return read_payload(args.file)
    if not args.event_type:
        raise CliError("ingest send needs --type, or a FILE with the event(s)", 2)
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
            raise CliError(f"--data is not JSON: {exc}", 2) from None
        # Spliced in as given, not re-serialised: 12.50 stays 12.50, as the service keeps it.
        text = f'{text[:-1]}, "data": {args.data.strip()}}}'
    return text.encode()


class SigningError(Exception):
    """A webhook cannot be signed. The message names the file, source or secret id, never a
    secret's value."""


def read_sources(path: Path | None) -> SourcesDocument:
    """The sources document from ``path`` (JSON or YAML), else from ``$SOURCES`` (JSON text, the
    name of a JSON or YAML file, or ``ssm:NAME`` read with the standard AWS credential chain)."""
    from ingest.adapters.secrets import SecretsUnavailable
    from ingest.domain.webhooks.sources import load_sources

    from ingest_tools.sources import read_sources_file

    spec = os.environ.get(SOURCES_VARIABLE)
    try:
        if path is not None:
            return read_sources_file(path)
        if spec and not spec.strip().startswith(("{", "ssm:")) and Path(spec.strip()).is_file():
            return read_sources_file(Path(spec.strip()))
        return load_sources(spec)
    except FileNotFoundError:
        raise SigningError(f"cannot read the sources document {path}: no such file") from None
    except (OSError, ValueError, SecretsUnavailable) as exc:
        raise SigningError(f"cannot read the sources document: {exc}") from None


def local_defaults(webhook: Webhook) -> Webhook:
    """Without --sources and $SOURCES, the document (and private keys) of the local
    ``ingest serve --dev-sources``, when one runs: trigger and send need no flag then."""
    from dataclasses import replace

    from ingest_tools.cli.common import local_dev_sources

    if webhook.sources is not None or os.environ.get(SOURCES_VARIABLE):
        return webhook
    document = local_dev_sources()
    if document is None:
        return webhook
    key = document.parent / "keys" / f"{webhook.name}.pem"
    private_key = webhook.private_key or (key if key.is_file() else None)
    return replace(webhook, sources=document, private_key=private_key)


def source_config(document: SourcesDocument, name: str, path: Path | None) -> SourceConfig:
    """Source ``name`` of the document, or an error that says which document was read."""
    config = document.sources.get(name)
    if config is not None:
        return config
    if path is not None:
        where = f"in {path}"
    elif os.environ.get(SOURCES_VARIABLE):
        where = f"in ${SOURCES_VARIABLE}"
    else:
        raise SigningError(
            f"no sources document to sign for {name!r} with: give --sources FILE "
            f"(JSON or YAML) or set {SOURCES_VARIABLE}"
        )
    known = ", ".join(sorted(document.sources)) or "none"
    raise SigningError(f"source {name!r} is not {where} (its sources: {known})")


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


@dataclass(frozen=True)
class Webhook:
    """A delivery to sign and send as the source's provider would."""

    name: str
    body: bytes
    event_type: str | None = None
    delivery_id: str | None = None
    sources: Path | None = None
    private_key: Path | None = None
    #: Refuse an event type the provider cannot carry (send's --type); else leave it out (a
    #: sample's type, which its body carries too).
    strict: bool = True


def _key_for(webhook: Webhook, config: SourceConfig) -> str:
    if webhook.private_key is not None:
        if not REGISTRY[config.scheme].asymmetric:
            raise SigningError(
                f"source {webhook.name!r} ({config.scheme}) signs with a shared secret: "
                "--private-key does not apply"
            )
        return _private_key(webhook.private_key)
    secret = signing_secret(config, webhook.name)
    public_key = REGISTRY[config.scheme].public_key
    if public_key is not None and public_key(secret):
        raise SigningError(
            f"source {webhook.name!r} verifies with public keys: sign with its provider's "
            "private key, --private-key FILE"
        )
    return secret


def carried_in_headers(config: SourceConfig, secret: str, body: bytes) -> tuple[bool, bool]:
    """Whether the scheme sends (the event type, the delivery id) of this body in headers; a
    provider that reads them from the body (Stripe) has no place for --type and --id."""
    from ingest.domain.webhooks.schemes import sign

    try:
        probe = sign(
            config, body, secret, time.time(), delivery_id=_PROBE_ID, event_type=_PROBE_TYPE
        )
    except ValueError:
        return True, True  # cannot tell: the signing itself says what is wrong
    values = " ".join(probe.values())
    return _PROBE_TYPE in values, _PROBE_ID in values


def webhook_request(webhook: Webhook) -> tuple[bytes, str, dict[str, str]]:
    """(body, query string, headers) of the delivery as the source's provider would send it."""
    from ingest.domain.webhooks.schemes import request_query, sign, signed_body

    webhook = local_defaults(webhook)
    try:
        config = source_config(read_sources(webhook.sources), webhook.name, webhook.sources)
        secret = _key_for(webhook, config)
    except SigningError as exc:
        raise CliError(str(exc), 2) from None
    has_type, has_id = carried_in_headers(config, secret, webhook.body)
    event_type = webhook.event_type if has_type or webhook.strict else None
    delivery_id = webhook.delivery_id
    for flag, value, carried in (
        ("--type", event_type, has_type),
        ("--id", delivery_id, has_id),
    ):
        if value is not None and not carried:
            raise CliError(
                f"source {webhook.name!r} ({config.scheme}) takes the event's "
                f"{flag.removeprefix('--')} from the body: {flag} does not apply (edit the "
                "payload, or send a sample with ingest trigger)",
                2,
            )
    if event_type is None and has_type and webhook.strict:
        # What the provider would send (GitHub's push), not a made-up "webhook".
        from ingest_tools.samples import default_event

        event_type = default_event(config.scheme)
        shown = event_type or "webhook"
        print(
            f"ingest: note: no --type: sent as a {shown!r} event (give --type to choose)",
            file=sys.stderr,
        )
    now = time.time()
    try:
        sent = signed_body(config, webhook.body, secret, now)
        headers = sign(config, sent, secret, now, delivery_id=delivery_id, event_type=event_type)
    except ValueError:
        hint = (
            ": its keys are public keys, give --private-key FILE"
            if REGISTRY[config.scheme].asymmetric and webhook.private_key is None
            else ""
        )
        # The error itself is never echoed: it may describe the key.
        raise CliError(f"the secret of source {webhook.name!r} cannot sign{hint}") from None
    return sent, request_query(config, sent), headers


def deliver(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    retries: int = 0,
) -> Answer:
    """POST and report each retry on stderr; a server that cannot be reached is one line."""

    def retrying(attempt: int, delay: float, why: str) -> None:
        print(
            f"ingest: {why}: retry {attempt} of {retries} in {delay:.1f} s",
            file=sys.stderr,
            flush=True,
        )

    try:
        return post(url, body, headers, retries=retries, on_retry=retrying)
    except OSError as exc:  # URLError, refused connections and timeouts, after any retries
        reason = getattr(exc, "reason", exc)
        said = getattr(reason, "strerror", None) or reason
        raise CliError(f"cannot reach {url}: {said}") from None


def print_answer(answer: Answer) -> int:
    document = answer.json()
    print(f"HTTP {answer.status}", file=sys.stderr)
    print(
        json.dumps(document, indent=2)
        if document is not None
        else answer.body.decode(errors="replace")
    )
    return 0 if answer.ok else 1


def extra_headers(items: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise CliError(f"--header needs NAME:VALUE, got {item!r}", 2)
        headers[name.strip()] = value.strip()
    return headers


def run(args: argparse.Namespace) -> int:
    base = (args.url or default_url()).rstrip("/")
    headers: dict[str, str] = {"User-Agent": "ingest-cli"}
    name = webhook_name(args)
    if name:
        if not args.file:
            raise CliError("ingest send --webhook needs a payload FILE (or - for stdin)", 2)
        for flag, value in (("--data", args.data), ("--event-source", args.event_source)):
            if value is not None:
                raise CliError(f"{flag} builds an /events event: it does not apply to --webhook", 2)
        webhook = Webhook(
            name,
            read_payload(args.file),
            args.event_type,
            args.event_id,
            args.sources,
            args.private_key,
        )
        body, query, signed = webhook_request(webhook)
        url = f"{base}/webhooks/{name}" + (f"?{query}" if query else "")
        headers.update(signed)
        headers.setdefault("Content-Type", args.content_type or "application/json")
    else:
        body = _event_body(args)
        url = f"{base}/events"
        headers["Content-Type"] = args.content_type or "application/json"
    if args.idempotency_key:
        headers["Idempotency-Key"] = args.idempotency_key
    headers.update(extra_headers(args.header))
    return print_answer(deliver(url, body, headers, retries=args.retries))
