"""Webhook signature schemes: verify a delivery the way its provider documents it, and sign one.

Everything here is pure: no I/O, no clock (callers pass ``now``), no AWS. ``verify`` works on the
exact bytes received, compares signatures in constant time, accepts any one of several active
secrets (rotation) and rejects timestamps outside the source's tolerance in either direction.

A :class:`WebhookRejected` carries a short ``reason`` code that is safe to log and to use as a
metric dimension: it never contains a secret, a signature or any part of the request.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final
from urllib.parse import parse_qsl

from ingest.webhooks.config import SourceConfig, decode_standard_webhooks_secret

DEFAULT_EVENT_TYPE: Final = "webhook"
#: Longest event type or delivery id accepted from a provider (the /events limit for ``type``).
MAX_FIELD_LENGTH: Final = 256
_SHA256_BYTES: Final = 32
_MAX_TIMESTAMP_DIGITS: Final = 12

# Header names as the route passes them: lowercased.
GITHUB_SIGNATURE: Final = "x-hub-signature-256"
GITHUB_EVENT: Final = "x-github-event"
GITHUB_DELIVERY: Final = "x-github-delivery"
STRIPE_SIGNATURE: Final = "stripe-signature"
SLACK_SIGNATURE: Final = "x-slack-signature"
SLACK_TIMESTAMP: Final = "x-slack-request-timestamp"
SHOPIFY_HMAC: Final = "x-shopify-hmac-sha256"
SHOPIFY_TOPIC: Final = "x-shopify-topic"
SHOPIFY_WEBHOOK_ID: Final = "x-shopify-webhook-id"
SHOPIFY_EVENT_ID: Final = "x-shopify-event-id"
SHOPIFY_TRIGGERED_AT: Final = "x-shopify-triggered-at"
STANDARD_ID: Final = "webhook-id"
STANDARD_TIMESTAMP: Final = "webhook-timestamp"
STANDARD_SIGNATURE: Final = "webhook-signature"

_MESSAGES: Final[Mapping[str, str]] = {
    "missing_signature": "The signature header is missing.",
    "malformed_signature": "The signature header is not in the scheme's format.",
    "invalid_signature": "The signature does not match the body.",
    "missing_timestamp": "The signed timestamp is missing.",
    "malformed_timestamp": "The signed timestamp is not an integer number of seconds.",
    "stale_timestamp": "The signed timestamp is older than the source's tolerance.",
    "future_timestamp": "The signed timestamp is further in the future than the tolerance.",
    "missing_delivery_id": "The delivery id header is missing.",
    "no_secret": "No secret is configured for this source.",
    "unusable_secret": "None of the source's secrets can be used with its scheme.",
    "malformed_payload": "The body lacks a field the scheme needs (such as the event type).",
    "malformed_event_type": "The event type is empty, too long or has control characters.",
    "malformed_delivery_id": "The delivery id is too long or has control characters.",
}


class WebhookRejected(Exception):
    """A delivery that must not be stored.

    ``reason`` is one of a fixed set of codes (see ``message``); ``status`` is the HTTP status to
    answer: 401 when authenticity could not be established, 400 when an authentic delivery lacks
    what the scheme needs. Neither ever contains request data or secrets.
    """

    reason: str
    status: int

    def __init__(self, reason: str, *, status: int = 401) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status

    @property
    def message(self) -> str:
        """A human-readable sentence for the error body; as safe as ``reason``."""
        return _MESSAGES.get(self.reason, "The webhook delivery was rejected.")

    def __str__(self) -> str:
        return self.reason

    def __repr__(self) -> str:
        return f"WebhookRejected({self.reason!r}, status={self.status})"


@dataclass(frozen=True)
class VerifiedDelivery:
    """What verification learned about an authentic delivery."""

    event_type: str
    delivery_id: str | None
    reply: dict[str, object] | None = None


# --------------------------------------------------------------------------------------------
# Helpers


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _hmac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def _any_match(expected: Sequence[bytes], candidates: Sequence[bytes]) -> bool:
    """Constant-time comparison of every expected digest with every candidate signature."""
    matched = False
    for digest in expected:
        for candidate in candidates:
            # No short-circuit: the work done does not depend on which pair matches.
            matched |= hmac.compare_digest(digest, candidate)
    return matched


def _decode_hex(value: str) -> bytes | None:
    if len(value) != 2 * _SHA256_BYTES:
        return None
    try:
        return bytes.fromhex(value)
    except ValueError:
        return None


def _decode_base64(value: str) -> bytes | None:
    try:
        decoded = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return decoded if len(decoded) == _SHA256_BYTES else None


def _utf8_keys(secrets: Sequence[str]) -> list[bytes]:
    keys = [secret.encode("utf-8", "surrogatepass") for secret in secrets if secret]
    if not keys:
        raise WebhookRejected("no_secret")
    return keys


def _standard_keys(secrets: Sequence[str]) -> list[bytes]:
    usable = [secret for secret in secrets if secret]
    if not usable:
        raise WebhookRejected("no_secret")
    keys = []
    for secret in usable:
        try:
            keys.append(decode_standard_webhooks_secret(secret))
        except ValueError:
            continue
    if not keys:
        raise WebhookRejected("unusable_secret")
    return keys


def _parse_timestamp(value: str | None) -> int:
    if value is None:
        raise WebhookRejected("missing_timestamp")
    if not (value.isascii() and value.isdigit() and len(value) <= _MAX_TIMESTAMP_DIGITS):
        raise WebhookRejected("malformed_timestamp")
    return int(value)


def _check_timestamp(timestamp: int, now: float, tolerance: int) -> None:
    if timestamp < now - tolerance:
        raise WebhookRejected("stale_timestamp")
    if timestamp > now + tolerance:
        raise WebhookRejected("future_timestamp")


def _clean(value: object, reason: str) -> str | None:
    """A provider-given type or id: ``None`` when absent, rejected when unreasonable."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value:
        return None
    if len(value) > MAX_FIELD_LENGTH or any(
        ord(char) < 0x20 or ord(char) == 0x7F for char in value
    ):
        raise WebhookRejected(reason, status=400)
    return value


def _event_type(value: object) -> str:
    return _clean(value, "malformed_event_type") or DEFAULT_EVENT_TYPE


def _delivery_id(value: object) -> str | None:
    return _clean(value, "malformed_delivery_id")


def _json_object(body: bytes) -> dict[str, object] | None:
    """The body as a JSON object, or ``None`` when it is anything else. Never raises."""
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return None
    return parsed if isinstance(parsed, dict) else None


def _form(body: bytes) -> dict[str, str]:
    """The body as ``application/x-www-form-urlencoded`` fields (first value wins)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return {}
    fields: dict[str, str] = {}
    try:
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=1000)
    except ValueError:
        return {}
    for key, value in pairs:
        fields.setdefault(key, value)
    return fields


def _required_type(payload: dict[str, object] | None) -> str:
    if payload is None:
        raise WebhookRejected("malformed_payload", status=400)
    event_type = _clean(payload.get("type"), "malformed_event_type")
    if event_type is None:
        raise WebhookRejected("malformed_payload", status=400)
    return event_type


def _new_delivery_id() -> str:
    return str(uuid.uuid4())


# --------------------------------------------------------------------------------------------
# Verification, one function per scheme


def _verify_github(
    config: SourceConfig,
    headers: Mapping[str, str],
    body: bytes,
    secrets: Sequence[str],
    now: float,
) -> VerifiedDelivery:
    keys = _utf8_keys(secrets)
    value = _header(headers, GITHUB_SIGNATURE)
    if value is None:
        raise WebhookRejected("missing_signature")
    algorithm, _, hex_digest = value.partition("=")
    signature = _decode_hex(hex_digest.lower()) if algorithm.lower() == "sha256" else None
    if signature is None:
        raise WebhookRejected("malformed_signature")
    if not _any_match([_hmac(key, body) for key in keys], [signature]):
        raise WebhookRejected("invalid_signature")
    return VerifiedDelivery(
        event_type=_event_type(headers.get(GITHUB_EVENT)),
        delivery_id=_delivery_id(headers.get(GITHUB_DELIVERY)),
    )


def _verify_stripe(
    config: SourceConfig,
    headers: Mapping[str, str],
    body: bytes,
    secrets: Sequence[str],
    now: float,
) -> VerifiedDelivery:
    keys = _utf8_keys(secrets)
    value = _header(headers, STRIPE_SIGNATURE)
    if value is None:
        raise WebhookRejected("missing_signature")
    timestamps: list[str] = []
    signatures: list[bytes] = []
    for item in value.split(","):
        key, separator, item_value = item.strip().partition("=")
        if not separator:
            continue
        if key == "t":
            timestamps.append(item_value.strip())
        elif key == "v1":  # v0 and other schemes are ignored, as Stripe documents
            decoded = _decode_hex(item_value.strip().lower())
            if decoded is not None:
                signatures.append(decoded)
    if not timestamps:
        raise WebhookRejected("missing_timestamp")
    if len(timestamps) > 1:
        raise WebhookRejected("malformed_signature")
    timestamp = _parse_timestamp(timestamps[0])
    if not signatures:
        raise WebhookRejected("malformed_signature")
    signed = timestamps[0].encode("ascii") + b"." + body
    if not _any_match([_hmac(key, signed) for key in keys], signatures):
        raise WebhookRejected("invalid_signature")
    _check_timestamp(timestamp, now, config.tolerance_seconds)
    payload = _json_object(body)
    event_type = _required_type(payload)
    assert payload is not None  # _required_type rejected it otherwise
    return VerifiedDelivery(event_type=event_type, delivery_id=_delivery_id(payload.get("id")))


def _verify_slack(
    config: SourceConfig,
    headers: Mapping[str, str],
    body: bytes,
    secrets: Sequence[str],
    now: float,
) -> VerifiedDelivery:
    keys = _utf8_keys(secrets)
    value = _header(headers, SLACK_SIGNATURE)
    if value is None:
        raise WebhookRejected("missing_signature")
    raw_timestamp = _header(headers, SLACK_TIMESTAMP)
    timestamp = _parse_timestamp(raw_timestamp)
    assert raw_timestamp is not None  # _parse_timestamp rejected it otherwise
    version, _, hex_digest = value.partition("=")
    signature = _decode_hex(hex_digest.lower()) if version == "v0" else None
    if signature is None:
        raise WebhookRejected("malformed_signature")
    signed = b"v0:" + raw_timestamp.encode("ascii") + b":" + body
    if not _any_match([_hmac(key, signed) for key in keys], [signature]):
        raise WebhookRejected("invalid_signature")
    _check_timestamp(timestamp, now, config.tolerance_seconds)
    return _slack_delivery(body)


def _slack_delivery(body: bytes) -> VerifiedDelivery:
    payload = _json_object(body)
    if payload is not None:  # Events API
        if payload.get("type") == "url_verification":
            challenge = payload.get("challenge")
            reply: dict[str, object] | None = (
                {"challenge": challenge} if isinstance(challenge, str) else None
            )
            return VerifiedDelivery(event_type="url_verification", delivery_id=None, reply=reply)
        inner = payload.get("event")
        inner_type = inner.get("type") if isinstance(inner, dict) else None
        return VerifiedDelivery(
            event_type=_event_type(
                inner_type if isinstance(inner_type, str) else payload.get("type")
            ),
            delivery_id=_delivery_id(payload.get("event_id")),
        )
    fields = _form(body)
    if fields.get("ssl_check") == "1":  # Slack checking the endpoint's certificate
        return VerifiedDelivery(event_type="ssl_check", delivery_id=None, reply={})
    if "payload" in fields:  # interactivity: a JSON document in the `payload` field
        interaction = _json_object(fields["payload"].encode("utf-8"))
        interaction_type = interaction.get("type") if interaction is not None else None
        return VerifiedDelivery(event_type=_event_type(interaction_type), delivery_id=None)
    # slash command: the command itself (e.g. "/deploy") is the type
    return VerifiedDelivery(event_type=_event_type(fields.get("command")), delivery_id=None)


def _verify_shopify(
    config: SourceConfig,
    headers: Mapping[str, str],
    body: bytes,
    secrets: Sequence[str],
    now: float,
) -> VerifiedDelivery:
    keys = _utf8_keys(secrets)
    value = _header(headers, SHOPIFY_HMAC)
    if value is None:
        raise WebhookRejected("missing_signature")
    signature = _decode_base64(value)
    if signature is None:
        raise WebhookRejected("malformed_signature")
    if not _any_match([_hmac(key, body) for key in keys], [signature]):
        raise WebhookRejected("invalid_signature")
    delivery_id = _delivery_id(headers.get(SHOPIFY_WEBHOOK_ID)) or _delivery_id(
        headers.get(SHOPIFY_EVENT_ID)
    )
    return VerifiedDelivery(
        event_type=_event_type(headers.get(SHOPIFY_TOPIC)), delivery_id=delivery_id
    )


def _verify_standard(
    config: SourceConfig,
    headers: Mapping[str, str],
    body: bytes,
    secrets: Sequence[str],
    now: float,
) -> VerifiedDelivery:
    keys = _standard_keys(secrets)
    value = _header(headers, STANDARD_SIGNATURE)
    if value is None:
        raise WebhookRejected("missing_signature")
    message_id = _header(headers, STANDARD_ID)
    if message_id is None:
        raise WebhookRejected("missing_delivery_id")
    raw_timestamp = _header(headers, STANDARD_TIMESTAMP)
    timestamp = _parse_timestamp(raw_timestamp)
    assert raw_timestamp is not None  # _parse_timestamp rejected it otherwise
    signatures = []
    for entry in value.split():
        version, separator, encoded = entry.partition(",")
        if separator and version == "v1":  # v1a (asymmetric) and future versions are skipped
            decoded = _decode_base64(encoded)
            if decoded is not None:
                signatures.append(decoded)
    if not signatures:
        raise WebhookRejected("malformed_signature")
    signed = f"{message_id}.{raw_timestamp}.".encode("utf-8", "surrogatepass") + body
    if not _any_match([_hmac(key, signed) for key in keys], signatures):
        raise WebhookRejected("invalid_signature")
    _check_timestamp(timestamp, now, config.tolerance_seconds)
    event_type = _required_type(_json_object(body))
    return VerifiedDelivery(event_type=event_type, delivery_id=_delivery_id(message_id))


def _verify_hmac_sha256(
    config: SourceConfig,
    headers: Mapping[str, str],
    body: bytes,
    secrets: Sequence[str],
    now: float,
) -> VerifiedDelivery:
    keys = _utf8_keys(secrets)
    assert config.header is not None  # SourceConfig requires it for this scheme
    value = _header(headers, config.header)
    if value is None:
        raise WebhookRejected("missing_signature")
    if not value.startswith(config.prefix):
        raise WebhookRejected("malformed_signature")
    encoded = value[len(config.prefix) :].strip()
    signature = (
        _decode_hex(encoded.lower()) if config.encoding == "hex" else _decode_base64(encoded)
    )
    if signature is None:
        raise WebhookRejected("malformed_signature")
    if not _any_match([_hmac(key, body) for key in keys], [signature]):
        raise WebhookRejected("invalid_signature")
    return _header_mapped(config, headers)


def _verify_none(
    config: SourceConfig,
    headers: Mapping[str, str],
    body: bytes,
    secrets: Sequence[str],
    now: float,
) -> VerifiedDelivery:
    return _header_mapped(config, headers)


def _header_mapped(config: SourceConfig, headers: Mapping[str, str]) -> VerifiedDelivery:
    event_type = headers.get(config.type_header) if config.type_header else None
    delivery_id = headers.get(config.id_header) if config.id_header else None
    return VerifiedDelivery(
        event_type=_event_type(event_type), delivery_id=_delivery_id(delivery_id)
    )


_Verifier = Callable[
    [SourceConfig, Mapping[str, str], bytes, Sequence[str], float], VerifiedDelivery
]

_VERIFIERS: Final[Mapping[str, _Verifier]] = {
    "github": _verify_github,
    "stripe": _verify_stripe,
    "slack": _verify_slack,
    "shopify": _verify_shopify,
    "standard-webhooks": _verify_standard,
    "hmac-sha256": _verify_hmac_sha256,
    "none": _verify_none,
}


def verify(
    config: SourceConfig,
    headers: Mapping[str, str],
    body: bytes,
    secrets: Sequence[str],
    now: float,
) -> VerifiedDelivery:
    """Check one delivery against its source's scheme; raise :class:`WebhookRejected` if invalid.

    ``headers`` must have lowercased names (API Gateway HTTP API payload 2.0 already does this).
    ``body`` is the exact bytes received (base64-decoded when API Gateway encoded it).
    ``secrets`` are the source's active secrets; any one of them may match (rotation).
    ``now`` is the current Unix time, used by the timestamped schemes.
    """
    return _VERIFIERS[config.scheme](config, headers, body, secrets, now)


# --------------------------------------------------------------------------------------------
# Signing: the headers the provider itself would send


def _hex_hmac(secret: str, message: bytes) -> str:
    return _hmac(secret.encode("utf-8", "surrogatepass"), message).hex()


def _require_secret(secret: str) -> str:
    if not secret:
        raise ValueError("signing needs a non-empty secret")
    return secret


def sign(
    config: SourceConfig,
    body: bytes,
    secret: str,
    now: float,
    *,
    delivery_id: str | None = None,
    event_type: str | None = None,
) -> dict[str, str]:
    """The headers the provider would send with ``body``, signed with ``secret`` at time ``now``.

    Where the provider carries the delivery id and event type in headers (GitHub, Shopify,
    Standard Webhooks' ``webhook-id``, and ``type_header``/``id_header`` sources), they are
    included: ``delivery_id`` defaults to a fresh random id for providers that always send one,
    ``event_type`` to ``"webhook"``. Stripe and Slack carry both in the body, so there they are
    ignored. Raises ``ValueError`` for an empty or unusable secret.
    """
    scheme = config.scheme
    timestamp = str(int(now))
    if scheme == "github":
        return {
            "X-GitHub-Event": event_type or DEFAULT_EVENT_TYPE,
            "X-GitHub-Delivery": delivery_id or _new_delivery_id(),
            "X-Hub-Signature-256": "sha256=" + _hex_hmac(_require_secret(secret), body),
        }
    if scheme == "stripe":
        digest = _hex_hmac(_require_secret(secret), timestamp.encode("ascii") + b"." + body)
        return {"Stripe-Signature": f"t={timestamp},v1={digest}"}
    if scheme == "slack":
        signed = b"v0:" + timestamp.encode("ascii") + b":" + body
        return {
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": "v0=" + _hex_hmac(_require_secret(secret), signed),
        }
    if scheme == "shopify":
        digest_bytes = _hmac(_require_secret(secret).encode("utf-8", "surrogatepass"), body)
        triggered_at = datetime.fromtimestamp(int(now), tz=UTC).isoformat().replace("+00:00", "Z")
        return {
            "X-Shopify-Topic": event_type or DEFAULT_EVENT_TYPE,
            "X-Shopify-Webhook-Id": delivery_id or _new_delivery_id(),
            "X-Shopify-Triggered-At": triggered_at,
            "X-Shopify-Hmac-Sha256": base64.b64encode(digest_bytes).decode("ascii"),
        }
    if scheme == "standard-webhooks":
        key = decode_standard_webhooks_secret(_require_secret(secret))
        message_id = delivery_id or f"msg_{uuid.uuid4().hex}"
        digest_bytes = _hmac(key, f"{message_id}.{timestamp}.".encode() + body)
        return {
            "webhook-id": message_id,
            "webhook-timestamp": timestamp,
            "webhook-signature": "v1," + base64.b64encode(digest_bytes).decode("ascii"),
        }
    headers: dict[str, str] = {}
    if config.type_header and event_type:
        headers[config.type_header] = event_type
    if config.id_header and delivery_id:
        headers[config.id_header] = delivery_id
    if scheme == "hmac-sha256":
        assert config.header is not None  # SourceConfig requires it for this scheme
        digest_bytes = _hmac(_require_secret(secret).encode("utf-8", "surrogatepass"), body)
        encoded = (
            digest_bytes.hex()
            if config.encoding == "hex"
            else base64.b64encode(digest_bytes).decode("ascii")
        )
        headers[config.header] = config.prefix + encoded
    return headers
