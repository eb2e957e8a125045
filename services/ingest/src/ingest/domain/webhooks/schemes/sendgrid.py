"""SendGrid (Signed Event Webhook): ``X-Twilio-Email-Event-Webhook-Signature: <base64 DER ECDSA
P-256/SHA-256 signature of "<timestamp><body>">`` with ``X-Twilio-Email-Event-Webhook-Timestamp``;
the source's keys are the verification keys SendGrid shows (base64 DER public keys). The timestamp
is checked against ``tolerance_seconds``.

A delivery is a batch of events: the type is their ``event`` (e.g. ``delivered``) when they share
one, else ``batch``; the delivery id is the one event's ``sg_event_id``, or a digest of all of them.
"""

from __future__ import annotations

import base64
from typing import Final

from ingest.domain.webhooks import keys as asymmetric
from ingest.domain.webhooks.schemes import common
from ingest.domain.webhooks.schemes.common import Delivery, Scheme, Signing, VerifiedDelivery

SIGNATURE: Final = "x-twilio-email-event-webhook-signature"
TIMESTAMP: Final = "x-twilio-email-event-webhook-timestamp"
_MAX_SIGNATURE_BYTES: Final = 80


def verify(delivery: Delivery) -> VerifiedDelivery:
    keys = common.parsed_keys(delivery.secrets, asymmetric.p256_public_der)
    value = delivery.signature(SIGNATURE)
    raw_timestamp, timestamp = delivery.signed_timestamp(TIMESTAMP)
    signature = common.decode_base64(value.strip(), None)
    if not signature or len(signature) > _MAX_SIGNATURE_BYTES:
        raise common.WebhookRejected("malformed_signature")
    if not asymmetric.p256_verifies(keys, raw_timestamp.encode("ascii") + delivery.body, signature):
        raise common.WebhookRejected("invalid_signature")
    delivery.check_timestamp(timestamp)
    parsed = common.json_list(delivery.body)
    events = [event for event in parsed or [] if isinstance(event, dict)]
    ids = [event.get("sg_event_id") for event in events]
    return VerifiedDelivery(
        event_type=common.batch_type([event.get("event") for event in events])
        if events
        else common.DEFAULT_EVENT_TYPE,
        delivery_id=common.delivery_id(
            common.batch_id([item if isinstance(item, str) else "" for item in ids])
        ),
    )


def sign(signing: Signing) -> dict[str, str]:
    timestamp = signing.timestamp
    signature = asymmetric.p256_sign(signing.required_secret, timestamp.encode() + signing.body)
    return {
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode("ascii"),
        "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
    }


SCHEME: Final = Scheme(
    "sendgrid",
    verify,
    sign,
    timestamped=True,
    key_format=asymmetric.p256_public_der,
)
