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
from dataclasses import dataclass, field
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
#: The tolerance of a timestamped scheme whose provider recommends none (Stripe's and Slack's).
DEFAULT_TOLERANCE_SECONDS: Final = 300

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
    "missing_credentials": "The credentials the source expects are missing.",
    "invalid_credentials": "The credentials do not match the source's.",
    "no_url": "The source has no public url to check the signature against.",
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
    #: A provider handshake's answer: the delivery is answered with it (200) instead of stored; a
    #: JSON document, or text answered as ``text/plain`` (Twitch's challenge).
    reply: Handshake | str | None = None


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
    #: The request's method and raw query string, for the schemes that sign the request URL.
    method: str = "POST"
    query: str = ""

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

    def signed_timestamp(
        self, name: str, parse: Callable[[str | None], float] | None = None
    ) -> tuple[str, float]:
        """The timestamp header ``name`` as received (it is part of the signed content) and as
        Unix seconds read by ``parse`` (whole seconds by default); rejected when missing or
        malformed."""
        raw = self.header(name)
        seconds = (parse or parse_timestamp)(raw)
        return require(raw, "missing_timestamp"), seconds

    def public_url(self) -> str:
        """The URL the provider signed: the source's ``url`` and the query string received."""
        url = require(self.config.url, "no_url")
        return f"{url}?{self.query}" if self.query else url

    def check_timestamp(self, timestamp: float) -> None:
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

    def v0_signature(self) -> str:
        """``v0=<hex HMAC-SHA256 of "v0:<timestamp>:<body>">`` (Slack, Zoom)."""
        return "v0=" + self.hex_hmac(v0_message(self.timestamp, self.body))

    def public_url(self, query: str = "") -> str:
        """The URL the provider signs (the source's ``url``), with ``query`` when given."""
        if self.config.url is None:
            raise ValueError(f"scheme {self.config.scheme!r} signs the source's url: set url")
        return f"{self.config.url}?{query}" if query else self.config.url


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
    #: The source options the scheme cannot work without, each with what it holds.
    required: Mapping[str, str] = field(default_factory=dict)
    #: The header in which :attr:`sign` makes up a delivery id when it is given none.
    id_header: str | None = None
    #: Older signature headers of the provider that a fresh signature supersedes.
    superseded_headers: frozenset[str] = frozenset()
    #: The tolerance the provider recommends for its signed timestamps (``tolerance_seconds``'s
    #: default for the scheme).
    default_tolerance: int = DEFAULT_TOLERANCE_SECONDS
    #: Headers that carry the shared secret itself: never stored (a ``token`` source's ``header``
    #: is added per source).
    credential_headers: frozenset[str] = frozenset()
    #: Whether the source's ``header`` option names a header carrying the secret (``token``).
    header_is_credential: bool = False
    #: The ``WWW-Authenticate`` challenge a rejection answers with (``basic``).
    challenge: str | None = None
    #: For schemes whose keys may be public keys: whether a key is one (``sign`` then needs the
    #: private key instead).
    public_key: Callable[[str], bool] | None = None
    #: For schemes whose keys are all public keys: the provider's key format, read from each
    #: inline key when the document is read (raises ``ValueError`` on a key in another format).
    key_format: Callable[[str], object] | None = None
    #: The query string the provider adds to the source's URL when it signs (Twilio's
    #: ``bodySHA256``), for ``sign``'s callers; ``None`` when it adds none.
    signed_query: Callable[[Signing], str] | None = None
    #: For providers that sign inside the body (Mailgun) or stamp it (Linear): the body as the
    #: provider would send it, signed at ``now``; ``sign``'s callers send that body.
    signed_body: Callable[[Signing], bytes] | None = None

    def __post_init__(self) -> None:
        # A required option is an option; a key format makes every key a public key.
        object.__setattr__(self, "options", self.options | frozenset(self.required))
        if self.key_format is not None and self.public_key is None:
            object.__setattr__(self, "public_key", _always)

    @property
    def asymmetric(self) -> bool:
        """Whether the source's keys may be public keys (verified, never signed with)."""
        return self.public_key is not None

    @property
    def header_mapped(self) -> bool:
        """Whether the type and delivery id come from configured headers (``type_header``...)."""
        return "type_header" in self.options


# --------------------------------------------------------------------------------------------
# Helpers


def _always(_key: str) -> bool:
    return True


def require(value: T | None, reason: str) -> T:
    """``value``, or a rejection for ``reason`` when it is ``None``."""
    if value is None:
        raise WebhookRejected(reason)
    return value


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def hmac_sha1(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha1).digest()


def matching(expected: Sequence[bytes], candidates: Sequence[bytes]) -> int | None:
    """The index of the first of ``expected`` that is one of ``candidates``, else ``None``.

    Every expected value is compared with every candidate in constant time, without a
    short-circuit: the work done does not depend on which pair matches.
    """
    found: int | None = None
    for index, value in enumerate(expected):
        matched = False
        for candidate in candidates:
            matched |= hmac.compare_digest(value, candidate)
        if matched and found is None:
            found = index
    return found


def check_hmac(keys: Sequence[bytes], message: bytes, signatures: Sequence[bytes]) -> int:
    """Reject unless one key's HMAC-SHA256 of ``message`` is one of ``signatures``; the index of
    the first key that matches (see :func:`matching`)."""
    return check_digests([hmac_sha256(key, message) for key in keys], signatures)


def check_token(secrets: Sequence[str], token: str | bytes) -> None:
    """Reject unless ``token`` is one of the secrets. Digests of equal length are compared in
    constant time, so the token's length stays private too."""
    keys = utf8_keys(secrets)
    raw = token.encode("utf-8", "surrogatepass") if isinstance(token, str) else token
    given = hashlib.sha256(raw).digest()
    if matching([hashlib.sha256(key).digest() for key in keys], [given]) is None:
        raise WebhookRejected("invalid_credentials")


def check_digests(expected: Sequence[bytes], signatures: Sequence[bytes]) -> int:
    """Reject unless one of ``expected`` is one of ``signatures``; the index of the first."""
    found = matching(expected, signatures)
    if found is None:
        raise WebhookRejected("invalid_signature")
    return found


def decode_hex(value: str, size: int = _SHA256_BYTES) -> bytes | None:
    if len(value) != 2 * size:
        return None
    try:
        return bytes.fromhex(value)
    except ValueError:
        return None


def decode_base64(value: str, size: int | None = _SHA256_BYTES) -> bytes | None:
    """``value`` decoded from base64 (``size`` bytes long, unless ``size`` is ``None``)."""
    try:
        decoded = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return decoded if size is None or len(decoded) == size else None


def usable(secrets: Sequence[str]) -> list[str]:
    """The non-empty secrets; a ``no_secret`` rejection when there are none."""
    found = [secret for secret in secrets if secret]
    if not found:
        raise WebhookRejected("no_secret")
    return found


def utf8_keys(secrets: Sequence[str]) -> list[bytes]:
    return [secret.encode("utf-8", "surrogatepass") for secret in usable(secrets)]


def parsed_keys(secrets: Sequence[str], parse: Callable[[str], T]) -> list[T]:
    """Each usable secret that ``parse`` reads as a key (a public key in the provider's format);
    an ``unusable_secret`` rejection when none does."""
    found: list[T] = []
    for secret in usable(secrets):
        try:
            found.append(parse(secret))
        except ValueError:
            continue
    if not found:
        raise WebhookRejected("unusable_secret")
    return found


@dataclass(frozen=True)
class StampedHeader:
    """A ``<stamp>=<ts><separator><signature>=<hex>...`` header (Stripe, Paddle) whose hex
    HMAC-SHA256 signs ``<ts><joiner><body>``."""

    separator: str
    stamp: str
    signature: str
    joiner: bytes


def check_timestamped_hmac(delivery: Delivery, header: str, layout: StampedHeader) -> None:
    """Header ``header`` in ``layout``: exactly one timestamp, at least one decodable signature
    that matches, and the timestamp within the source's tolerance. Other keys are ignored."""
    keys = utf8_keys(delivery.secrets)
    timestamps: list[str] = []
    signatures: list[bytes] = []
    for item in delivery.signature(header).split(layout.separator):
        key, equals, item_value = item.strip().partition("=")
        if not equals:
            continue
        if key == layout.stamp:
            timestamps.append(item_value.strip())
        elif key == layout.signature:
            decoded = decode_hex(item_value.strip().lower())
            if decoded is not None:
                signatures.append(decoded)
    if not timestamps:
        raise WebhookRejected("missing_timestamp")
    if len(timestamps) > 1:
        raise WebhookRejected("malformed_signature")
    timestamp = parse_timestamp(timestamps[0])
    if not signatures:
        raise WebhookRejected("malformed_signature")
    check_hmac(keys, timestamps[0].encode("ascii") + layout.joiner + delivery.body, signatures)
    delivery.check_timestamp(timestamp)


def v0_message(timestamp: str, body: bytes) -> bytes:
    return b"v0:" + timestamp.encode("ascii") + b":" + body


def check_v0_hmac(delivery: Delivery, signature: str, timestamp: str) -> int:
    """``SIGNATURE: v0=<hex HMAC-SHA256 of "v0:<ts>:<body>">`` with the timestamp in header
    ``timestamp`` (Slack, Zoom); the index of the secret that matched."""
    keys = utf8_keys(delivery.secrets)
    version, _, hex_digest = delivery.signature(signature).partition("=")
    raw_timestamp, seconds = delivery.signed_timestamp(timestamp)
    decoded = decode_hex(hex_digest.lower()) if version == "v0" else None
    signed = v0_message(raw_timestamp, delivery.body)
    matched = check_hmac(keys, signed, [require(decoded, "malformed_signature")])
    delivery.check_timestamp(seconds)
    return matched


@dataclass(frozen=True)
class HubSignature:
    """``<signature>: sha256=<hex HMAC-SHA256 of the body>``, with the type and the delivery id
    in the headers ``event`` and ``delivery`` (GitHub and Bitbucket Cloud)."""

    signature: str
    event: str
    delivery: str

    def verify(self, delivery: Delivery) -> VerifiedDelivery:
        keys = utf8_keys(delivery.secrets)
        algorithm, _, hex_digest = delivery.signature(self.signature).partition("=")
        signed = decode_hex(hex_digest.lower()) if algorithm.lower() == "sha256" else None
        check_hmac(keys, delivery.body, [require(signed, "malformed_signature")])
        return header_delivery(delivery.headers, self.event, self.delivery)

    @staticmethod
    def value(signing: Signing) -> str:
        return "sha256=" + signing.hex_hmac(signing.body)


def header_delivery(
    headers: Mapping[str, str], type_header: str | None, *id_headers: str | None
) -> VerifiedDelivery:
    """The type from header ``type_header`` and the delivery id from the first of ``id_headers``
    present (names may be ``None``: not configured)."""
    found_type = headers.get(type_header) if type_header else None
    found_id = None
    for name in id_headers:
        found_id = found_id or (delivery_id(headers.get(name)) if name else None)
    return VerifiedDelivery(event_type=event_type(found_type), delivery_id=found_id)


def body_delivery(
    payload: Mapping[str, object] | None, type_path: Sequence[str], id_path: Sequence[str]
) -> VerifiedDelivery:
    """The type and delivery id from the body's members at ``type_path`` and ``id_path``."""
    return VerifiedDelivery(
        event_type=event_type(body_field(payload, *type_path)),
        delivery_id=delivery_id(body_field(payload, *id_path)),
    )


def parse_timestamp(value: str | None, *, digits: int = _MAX_TIMESTAMP_DIGITS) -> int:
    """Whole Unix seconds (or, with more ``digits``, milliseconds) from a signed timestamp."""
    value = require(value, "missing_timestamp")
    if not (value.isascii() and value.isdigit() and len(value) <= digits):
        raise WebhookRejected("malformed_timestamp")
    return int(value)


def parse_millis(value: object) -> float:
    """Unix seconds from a timestamp in whole milliseconds (text or a JSON integer)."""
    if isinstance(value, bool) or value is None:
        raise WebhookRejected("missing_timestamp" if value is None else "malformed_timestamp")
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        raise WebhookRejected("malformed_timestamp")
    return parse_timestamp(value, digits=_MAX_TIMESTAMP_DIGITS + 3) / 1000


def body_field(payload: Mapping[str, object] | None, *path: str) -> object:
    """``payload[path[0]][path[1]]...``, or ``None`` where something is missing or no object."""
    value: object = payload
    for name in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(name)
    return value


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


def json_list(body: bytes) -> list[object] | None:
    """The body as a JSON array, or ``None`` when it is anything else. Never raises."""
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return parsed if isinstance(parsed, list) else None


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


def batch_id(ids: Sequence[str]) -> str | None:
    """The delivery id of a batch of events: the one event's id, or a digest of all of them, so a
    redelivered batch has the id it had; ``None`` when an event has no id."""
    if not ids or any(not item for item in ids):
        return None
    if len(ids) == 1:
        return ids[0]
    digest = hashlib.sha256("\n".join(ids).encode("utf-8", "surrogatepass")).hexdigest()
    return f"batch-{digest[:48]}"


def batch_type(types: Sequence[object]) -> str:
    """The type of a batch of events: their one type, else ``batch``."""
    distinct = {item for item in types if isinstance(item, str)}
    if len(distinct) == 1 and len(types) and all(isinstance(item, str) for item in types):
        return event_type(distinct.pop())
    return "batch"


# --------------------------------------------------------------------------------------------
# Header-mapped sources (``type_header`` / ``id_header``)


def mapped(delivery: Delivery) -> VerifiedDelivery:
    """The type and delivery id from the headers the source's configuration names."""
    config = delivery.config
    return header_delivery(delivery.headers, config.type_header, config.id_header)


def mapped_headers(signing: Signing) -> dict[str, str]:
    """The configured type and delivery id headers, for the values given."""
    config = signing.config
    headers: dict[str, str] = {}
    if config.type_header and signing.event_type:
        headers[config.type_header] = signing.event_type
    if config.id_header and signing.delivery_id:
        headers[config.id_header] = signing.delivery_id
    return headers
