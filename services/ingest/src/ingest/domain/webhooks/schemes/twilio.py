"""Twilio: ``X-Twilio-Signature: <base64 HMAC-SHA1>``, keyed with the account's auth token, of the
request's public URL followed by its form parameters sorted by name (each name followed by its
value). A request with a JSON (or other non-form) body instead carries ``bodySHA256=<hex SHA-256
of the body>`` in its query string, and the URL alone is signed.

The public URL is the source's ``url`` (as configured in Twilio) with the request's query string;
as Twilio's own validator does, the URL is also tried with and without the scheme's default port.
The delivery id is ``I-Twilio-Idempotency-Token`` (the same on Twilio's retries); the type is the
first of the form fields ``EventType``, ``CallStatus``, ``MessageStatus`` and ``SmsStatus``, or a
JSON body's ``type`` (Event Streams), else ``webhook``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Final
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from ingest.domain.webhooks.schemes import common
from ingest.domain.webhooks.schemes.common import Delivery, Scheme, Signing, VerifiedDelivery

SIGNATURE: Final = "x-twilio-signature"
IDEMPOTENCY_TOKEN: Final = "i-twilio-idempotency-token"  # noqa: S105 - a header name
BODY_HASH: Final = "bodySHA256"
_SHA1_BYTES: Final = 20
_TYPE_FIELDS: Final = ("EventType", "CallStatus", "MessageStatus", "SmsStatus")
_DEFAULT_PORTS: Final = {"https": 443, "http": 80}


def _query(query: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(query, keep_blank_values=True, max_num_fields=1000)
    except ValueError:
        return []


def _parameters(body: bytes) -> str:
    """Form parameters as Twilio signs them: names sorted, each distinct value sorted."""
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=1000)
    except (UnicodeDecodeError, ValueError):
        return ""
    values: dict[str, set[str]] = {}
    for name, value in pairs:
        values.setdefault(name, set()).add(value)
    return "".join(name + value for name in sorted(values) for value in sorted(values[name]))


def url_variants(url: str) -> list[str]:
    """``url`` as given, without its default port and with it (Twilio signs either)."""
    parts = urlsplit(url)
    default = _DEFAULT_PORTS.get(parts.scheme)
    host = parts.hostname or ""
    if parts.port is not None and parts.port != default:
        return [url]
    bare = urlunsplit(parts._replace(netloc=_netloc(parts.username, parts.password, host)))
    ported = urlunsplit(
        parts._replace(netloc=_netloc(parts.username, parts.password, f"{host}:{default}"))
    )
    return [url, *(variant for variant in (bare, ported) if variant != url)]


def _netloc(user: str | None, password: str | None, host: str) -> str:
    if user is None:
        return host
    return f"{user}:{password}@{host}" if password is not None else f"{user}@{host}"


def digest(key: bytes, url: str, body: bytes, *, json_mode: bool) -> bytes:
    message = url if json_mode else url + _parameters(body)
    return hmac.new(key, message.encode("utf-8"), hashlib.sha1).digest()


def verify(delivery: Delivery) -> VerifiedDelivery:
    keys = common.utf8_keys(delivery.secrets)
    signature = common.decode_base64(delivery.signature(SIGNATURE).strip(), _SHA1_BYTES)
    signature = common.require(signature, "malformed_signature")
    url = delivery.public_url()
    hashes = [value for name, value in _query(delivery.query) if name == BODY_HASH]
    json_mode = bool(hashes)
    expected = [
        digest(key, variant, delivery.body, json_mode=json_mode)
        for key in keys
        for variant in url_variants(url)
    ]
    common.check_digests(expected, [signature])
    if json_mode:
        body_hash = hashlib.sha256(delivery.body).hexdigest().encode("ascii")
        if not hmac.compare_digest(hashes[0].lower().encode("ascii", "replace"), body_hash):
            raise common.WebhookRejected("invalid_signature")
    return VerifiedDelivery(
        event_type=_event_type(delivery.body, json_mode=json_mode),
        delivery_id=common.delivery_id(delivery.headers.get(IDEMPOTENCY_TOKEN)),
    )


def _event_type(body: bytes, *, json_mode: bool) -> str:
    if json_mode:
        events = common.json_list(body)
        if events is not None:
            return common.batch_type(
                [event.get("type") if isinstance(event, dict) else None for event in events]
            )
        return common.event_type(common.body_field(common.json_object(body), "type"))
    fields = common.form(body)
    return common.event_type(next((fields[f] for f in _TYPE_FIELDS if fields.get(f)), None))


def _is_json(body: bytes) -> bool:
    return common.json_object(body) is not None or common.json_list(body) is not None


def signed_query(signing: Signing) -> str:
    """``bodySHA256=<hex>`` for a JSON body, which Twilio adds to the URL it signs."""
    if not _is_json(signing.body):
        return ""
    return f"{BODY_HASH}={hashlib.sha256(signing.body).hexdigest()}"


def sign(signing: Signing) -> dict[str, str]:
    query = signed_query(signing)
    url = signing.public_url(query)
    value = digest(signing.key, url, signing.body, json_mode=bool(query))
    return {
        "X-Twilio-Signature": base64.b64encode(value).decode("ascii"),
        "I-Twilio-Idempotency-Token": signing.delivery_id or common.new_delivery_id(),
    }


SCHEME: Final = Scheme(
    "twilio",
    verify,
    sign,
    required={"url": "the webhook URL configured in Twilio"},
    id_header=IDEMPOTENCY_TOKEN,
    signed_query=signed_query,
)
