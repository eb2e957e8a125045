"""What every signature scheme shares: what it verifies, what it learns, why it refuses, and the
HMAC, encoding and timestamp rules. Pure: no I/O, no clock (callers pass ``now``), no AWS.

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
from typing import TYPE_CHECKING, Final, TypeVar
from urllib.parse import parse_qsl

if TYPE_CHECKING:
    from ingest.domain.webhooks.config import SourceConfig
    from ingest.responses import Handshake

T = TypeVar("T")

DEFAULT_EVENT_TYPE: Final = "webhook"
#: Longest event type or delivery id accepted from a provider (the /events limit for ``type``).
MAX_FIELD_LENGTH: Final = 256
_SHA256_BYTES: Final = 32
_MAX_TIMESTAMP_DIGITS: Final = 12

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
    #: A provider handshake's answer: the delivery is answered with it instead of stored.
    reply: Handshake | None = None


@dataclass(frozen=True)
class Delivery:
    """One delivery as a scheme verifies it.

    ``headers`` have lowercased names (API Gateway HTTP API payload 2.0 already does this);
    ``body`` is the exact bytes received; ``secrets`` are the source's active secrets, any one of
    which may match (rotation); ``now`` is the current Unix time, for the timestamped schemes.
    """

    config: SourceConfig
    headers: Mapping[str, str]
    body: bytes
    secrets: Sequence[str]
    now: float

    def header(self, name: str) -> str | None:
        """A header's value without surrounding blanks; ``None`` when absent or blank."""
        value = self.headers.get(name)
        if value is None:
            return None
        value = value.strip()
        return value or None

    def signature(self, name: str) -> str:
        """The signature header ``name``: a ``missing_signature`` rejection without it."""
        return require(self.header(name), "missing_signature")

    def check_timestamp(self, timestamp: int) -> None:
        """Reject a signed timestamp outside the source's tolerance, in either direction."""
        tolerance = self.config.tolerance_seconds
        if timestamp < self.now - tolerance:
            raise WebhookRejected("stale_timestamp")
        if timestamp > self.now + tolerance:
            raise WebhookRejected("future_timestamp")


@dataclass(frozen=True)
class Signing:
    """A delivery to sign as its provider would: ``body`` with ``secret`` at time ``now``.

    ``delivery_id`` and ``event_type`` go where the provider carries them in headers; a scheme
    that always sends a delivery id makes one up when none is given.
    """

    config: SourceConfig
    body: bytes
    secret: str
    now: float
    delivery_id: str | None = None
    event_type: str | None = None

    @property
    def timestamp(self) -> str:
        return str(int(self.now))

    @property
    def required_secret(self) -> str:
        """The secret; ``ValueError`` when there is none to sign with."""
        if not self.secret:
            raise ValueError("signing needs a non-empty secret")
        return self.secret

    @property
    def key(self) -> bytes:
        """The secret as HMAC key bytes."""
        return self.required_secret.encode("utf-8", "surrogatepass")

    def hex_hmac(self, message: bytes) -> str:
        return hmac_sha256(self.key, message).hex()

    def base64_hmac(self, message: bytes) -> str:
        return base64.b64encode(hmac_sha256(self.key, message)).decode("ascii")


@dataclass(frozen=True)
class Scheme:
    """One signature scheme, as the registry (:mod:`ingest.domain.webhooks.schemes`) holds it."""

    name: str
    verify: Callable[[Delivery], VerifiedDelivery]
    sign: Callable[[Signing], dict[str, str]]
    #: Whether a signature is checked (every scheme but ``none``).
    signed: bool = True
    #: Whether the signed content includes a timestamp checked against ``tolerance_seconds``.
    timestamped: bool = False
    #: The source options the scheme takes beyond secrets and ``tolerance_seconds``.
    options: frozenset[str] = frozenset()
    #: Rules a source's configuration must also follow for this scheme (raise ``ValueError``).
    check: Callable[[SourceConfig], None] | None = None
    #: The header in which :attr:`sign` makes up a delivery id when it is given none.
    id_header: str | None = None
    #: Older signature headers of the provider that a fresh signature supersedes.
    superseded_headers: frozenset[str] = frozenset()

    @property
    def header_mapped(self) -> bool:
        """Whether the type and delivery id come from configured headers (``type_header``...)."""
        return "type_header" in self.options


# --------------------------------------------------------------------------------------------
# Helpers


def require(value: T | None, reason: str) -> T:
    """``value``, or a rejection for ``reason`` when it is ``None``."""
    if value is None:
        raise WebhookRejected(reason)
    return value


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def check_hmac(keys: Sequence[bytes], message: bytes, signatures: Sequence[bytes]) -> None:
    """Reject unless one key's HMAC-SHA256 of ``message`` is one of ``signatures``.

    Every expected digest is compared with every candidate in constant time, without a
    short-circuit: the work done does not depend on which pair matches.
    """
    matched = False
    for digest in [hmac_sha256(key, message) for key in keys]:
        for candidate in signatures:
            matched |= hmac.compare_digest(digest, candidate)
    if not matched:
        raise WebhookRejected("invalid_signature")


def decode_hex(value: str) -> bytes | None:
    if len(value) != 2 * _SHA256_BYTES:
        return None
    try:
        return bytes.fromhex(value)
    except ValueError:
        return None


def decode_base64(value: str) -> bytes | None:
    try:
        decoded = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return decoded if len(decoded) == _SHA256_BYTES else None


def usable(secrets: Sequence[str]) -> list[str]:
    """The non-empty secrets; a ``no_secret`` rejection when there are none."""
    found = [secret for secret in secrets if secret]
    if not found:
        raise WebhookRejected("no_secret")
    return found


def utf8_keys(secrets: Sequence[str]) -> list[bytes]:
    return [secret.encode("utf-8", "surrogatepass") for secret in usable(secrets)]


def parse_timestamp(value: str | None) -> int:
    value = require(value, "missing_timestamp")
    if not (value.isascii() and value.isdigit() and len(value) <= _MAX_TIMESTAMP_DIGITS):
        raise WebhookRejected("malformed_timestamp")
    return int(value)


def clean(value: object, reason: str) -> str | None:
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


def event_type(value: object) -> str:
    return clean(value, "malformed_event_type") or DEFAULT_EVENT_TYPE


def delivery_id(value: object) -> str | None:
    return clean(value, "malformed_delivery_id")


def json_object(body: bytes) -> dict[str, object] | None:
    """The body as a JSON object, or ``None`` when it is anything else. Never raises."""
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return None
    return parsed if isinstance(parsed, dict) else None


def form(body: bytes) -> dict[str, str]:
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


def required_type(payload: dict[str, object] | None) -> str:
    """The body's ``type`` member, which the scheme needs: a 400 rejection without it."""
    if payload is None:
        raise WebhookRejected("malformed_payload", status=400)
    found = clean(payload.get("type"), "malformed_event_type")
    if found is None:
        raise WebhookRejected("malformed_payload", status=400)
    return found


def new_delivery_id() -> str:
    return str(uuid.uuid4())


# --------------------------------------------------------------------------------------------
# Header-mapped sources (``type_header`` / ``id_header``)


def mapped(delivery: Delivery) -> VerifiedDelivery:
    """The type and delivery id from the headers the source's configuration names."""
    config = delivery.config
    found_type = delivery.headers.get(config.type_header) if config.type_header else None
    found_id = delivery.headers.get(config.id_header) if config.id_header else None
    return VerifiedDelivery(event_type=event_type(found_type), delivery_id=delivery_id(found_id))


def mapped_headers(signing: Signing) -> dict[str, str]:
    """The configured type and delivery id headers, for the values given."""
    config = signing.config
    headers: dict[str, str] = {}
    if config.type_header and signing.event_type:
        headers[config.type_header] = signing.event_type
    if config.id_header and signing.delivery_id:
        headers[config.id_header] = signing.delivery_id
    return headers
