"""Twitch EventSub (webhook transport): ``Twitch-Eventsub-Message-Signature: sha256=<hex
HMAC-SHA256 of "<message id><message timestamp><body>">``, keyed with the subscription's secret.

The message timestamp (RFC 3339, nanoseconds) is checked against ``tolerance_seconds``, by default
Twitch's ten minutes. The ``webhook_callback_verification`` message is answered, once verified,
with its ``challenge`` as ``text/plain`` and not stored. The delivery id is
``Twitch-Eventsub-Message-Id`` (the same on a retry); the type is
``Twitch-Eventsub-Subscription-Type`` (e.g. ``channel.follow``), with ``.revocation`` appended for
a revocation message.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Final

from ingest.domain.webhooks.schemes import common
from ingest.domain.webhooks.schemes.common import Delivery, Scheme, Signing, VerifiedDelivery

MESSAGE_ID: Final = "twitch-eventsub-message-id"
TIMESTAMP: Final = "twitch-eventsub-message-timestamp"
SIGNATURE: Final = "twitch-eventsub-message-signature"
MESSAGE_TYPE: Final = "twitch-eventsub-message-type"
SUBSCRIPTION_TYPE: Final = "twitch-eventsub-subscription-type"
VERIFICATION: Final = "webhook_callback_verification"
REVOCATION: Final = "revocation"
#: Twitch asks receivers to refuse messages more than ten minutes old.
TOLERANCE_SECONDS: Final = 600
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})"
)


def parse_rfc3339(value: str | None) -> float:
    """Unix seconds of an RFC 3339 timestamp (fractions up to nanoseconds)."""
    value = common.require(value, "missing_timestamp")
    found = _RFC3339.fullmatch(value)
    if found is None:
        raise common.WebhookRejected("malformed_timestamp")
    year, month, day, hour, minute, second = (int(part) for part in found.groups()[:6])
    fraction, zone = found.group(7) or "", found.group(8)
    try:
        moment = datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)
    except ValueError:
        raise common.WebhookRejected("malformed_timestamp") from None
    if zone not in ("Z", "z"):
        offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
        moment -= offset if zone[0] == "+" else -offset
    return moment.timestamp() + (int(fraction) / 10 ** len(fraction) if fraction else 0.0)


def _signed(message_id: str, timestamp: str, body: bytes) -> bytes:
    return (message_id + timestamp).encode("utf-8", "surrogatepass") + body


def verify(delivery: Delivery) -> VerifiedDelivery:
    keys = common.utf8_keys(delivery.secrets)
    value = delivery.signature(SIGNATURE)
    message_id = common.require(delivery.header(MESSAGE_ID), "missing_delivery_id")
    raw_timestamp, timestamp = delivery.signed_timestamp(TIMESTAMP, parse_rfc3339)
    algorithm, _, hex_digest = value.partition("=")
    signature = common.decode_hex(hex_digest.lower()) if algorithm == "sha256" else None
    signed = _signed(message_id, raw_timestamp, delivery.body)
    common.check_hmac(keys, signed, [common.require(signature, "malformed_signature")])
    delivery.check_timestamp(timestamp)
    message_type = delivery.header(MESSAGE_TYPE)
    subscription = delivery.header(SUBSCRIPTION_TYPE)
    if message_type == VERIFICATION:
        challenge = common.body_field(common.json_object(delivery.body), "challenge")
        if not isinstance(challenge, str):
            raise common.WebhookRejected("malformed_payload", status=400)
        return VerifiedDelivery(event_type=VERIFICATION, delivery_id=None, reply=challenge)
    if message_type == REVOCATION:
        subscription = f"{subscription}.{REVOCATION}" if subscription else REVOCATION
    return VerifiedDelivery(
        event_type=common.event_type(subscription), delivery_id=common.delivery_id(message_id)
    )


def sign(signing: Signing) -> dict[str, str]:
    message_id = signing.delivery_id or common.new_delivery_id()
    moment = datetime.fromtimestamp(signing.now, tz=UTC)
    timestamp = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}000Z"
    digest = signing.hex_hmac(_signed(message_id, timestamp, signing.body))
    payload = common.json_object(signing.body)
    subscription = common.body_field(payload, "subscription", "type")
    kind = VERIFICATION if common.body_field(payload, "challenge") is not None else "notification"
    return {
        "Twitch-Eventsub-Message-Id": message_id,
        "Twitch-Eventsub-Message-Retry": "0",
        "Twitch-Eventsub-Message-Type": kind,
        "Twitch-Eventsub-Message-Signature": "sha256=" + digest,
        "Twitch-Eventsub-Message-Timestamp": timestamp,
        "Twitch-Eventsub-Subscription-Type": (
            subscription if isinstance(subscription, str) else (signing.event_type or "webhook")
        ),
        "Twitch-Eventsub-Subscription-Version": "1",
    }


SCHEME: Final = Scheme(
    "twitch",
    verify,
    sign,
    timestamped=True,
    default_tolerance=TOLERANCE_SECONDS,
    id_header=MESSAGE_ID,
)
