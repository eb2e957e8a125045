"""HubSpot (signature v3): ``X-HubSpot-Signature-v3: <base64 HMAC-SHA256 of
"<method><URI><body><timestamp>">``, keyed with the app's client secret, with
``X-HubSpot-Request-Timestamp`` in Unix milliseconds, checked against ``tolerance_seconds``
(HubSpot's five minutes).

The URI is the source's ``url`` (the target URL registered with HubSpot) and the request's query
string, with the characters HubSpot decodes before signing decoded. A delivery is a batch of
events: the type is their ``subscriptionType`` (e.g. ``contact.creation``) when they share one,
else ``batch``; the delivery id is the one event's ``eventId``, or a digest of all of them.
"""

from __future__ import annotations

from typing import Final

from ingest.domain.webhooks.schemes import common
from ingest.domain.webhooks.schemes.common import Delivery, Scheme, Signing, VerifiedDelivery

SIGNATURE: Final = "x-hubspot-signature-v3"
TIMESTAMP: Final = "x-hubspot-request-timestamp"
#: Percent-encoded characters HubSpot decodes in the URI before it signs it.
_DECODED: Final = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}


def signed_uri(url: str) -> str:
    for encoded, char in _DECODED.items():
        url = url.replace(encoded, char).replace(encoded.lower(), char)
    return url


def _signed(method: str, url: str, body: bytes, timestamp: str) -> bytes:
    return (method + signed_uri(url)).encode("utf-8") + body + timestamp.encode("ascii")


def verify(delivery: Delivery) -> VerifiedDelivery:
    keys = common.utf8_keys(delivery.secrets)
    signature = common.decode_base64(delivery.signature(SIGNATURE).strip())
    raw_timestamp, timestamp = delivery.signed_timestamp(TIMESTAMP, common.parse_millis)
    signed = _signed(delivery.method, delivery.public_url(), delivery.body, raw_timestamp)
    common.check_hmac(keys, signed, [common.require(signature, "malformed_signature")])
    delivery.check_timestamp(timestamp)
    parsed = common.json_list(delivery.body)
    events = [event for event in parsed if isinstance(event, dict)] if parsed is not None else []
    if parsed is None:  # a single event object (as some HubSpot features send)
        single = common.json_object(delivery.body)
        events = [single] if single is not None else []
    ids = [str(event.get("eventId", "")) for event in events]
    return VerifiedDelivery(
        event_type=common.batch_type([event.get("subscriptionType") for event in events])
        if events
        else common.DEFAULT_EVENT_TYPE,
        delivery_id=common.delivery_id(common.batch_id(ids)),
    )


def sign(signing: Signing) -> dict[str, str]:
    timestamp = str(int(signing.now * 1000))
    signed = _signed("POST", signing.public_url(), signing.body, timestamp)
    return {
        "X-HubSpot-Signature-v3": signing.base64_hmac(signed),
        "X-HubSpot-Request-Timestamp": timestamp,
    }


SCHEME: Final = Scheme(
    "hubspot",
    verify,
    sign,
    timestamped=True,
    required={"url": "the target URL registered with HubSpot"},
    superseded_headers=frozenset({"x-hubspot-signature", "x-hubspot-signature-version"}),
)
