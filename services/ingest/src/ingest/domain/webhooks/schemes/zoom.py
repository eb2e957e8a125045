"""Zoom: ``x-zm-signature: v0=<hex HMAC-SHA256 of "v0:<x-zm-request-timestamp>:<body>">``, keyed
with the app's secret token; the timestamp is checked against ``tolerance_seconds``.

The ``endpoint.url_validation`` challenge is answered, once its signature verifies, with
``{"plainToken", "encryptedToken"}`` (the hex HMAC-SHA256 of the plain token under the secret
token) and not stored. The type is the body's ``event`` (e.g. ``meeting.started``). Zoom sends no
delivery id; a retry repeats the body byte for byte (its ``event_ts`` included), so the delivery
id is a digest of the body.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Final

from ingest.domain.webhooks.schemes import common
from ingest.domain.webhooks.schemes.common import Delivery, Scheme, Signing, VerifiedDelivery

SIGNATURE: Final = "x-zm-signature"
TIMESTAMP: Final = "x-zm-request-timestamp"
URL_VALIDATION: Final = "endpoint.url_validation"


def verify(delivery: Delivery) -> VerifiedDelivery:
    matched = common.check_v0_hmac(delivery, SIGNATURE, TIMESTAMP)
    key = common.utf8_keys(delivery.secrets)[matched]
    payload = common.json_object(delivery.body)
    event = common.body_field(payload, "event")
    if event == URL_VALIDATION:
        plain = common.body_field(payload, "payload", "plainToken")
        if not isinstance(plain, str):
            raise common.WebhookRejected("malformed_payload", status=400)
        encrypted = hmac.new(key, plain.encode("utf-8"), hashlib.sha256).hexdigest()
        return VerifiedDelivery(
            event_type=URL_VALIDATION,
            delivery_id=None,
            reply={"plainToken": plain, "encryptedToken": encrypted},
        )
    return VerifiedDelivery(
        event_type=common.event_type(event),
        delivery_id="sha256:" + hashlib.sha256(delivery.body).hexdigest(),
    )


def sign(signing: Signing) -> dict[str, str]:
    return {
        "x-zm-request-timestamp": signing.timestamp,
        "x-zm-signature": signing.v0_signature(),
        "x-zm-trackingid": "v=2.0&s=" + common.new_delivery_id(),
    }


SCHEME: Final = Scheme("zoom", verify, sign, timestamped=True)
