"""Mailgun: the signature is in the body. A webhook's JSON body carries ``signature``:
``{"timestamp", "token", "signature"}``, the last the hex HMAC-SHA256 of ``<timestamp><token>``
under the account's HTTP webhook signing key; form-encoded posts (routes, legacy webhooks) carry
the same three fields. The timestamp is checked against ``tolerance_seconds``.

Mailgun's signature covers the timestamp and the token, not the rest of the body. The type and
delivery id are ``event-data.event`` (e.g. ``delivered``) and ``event-data.id``; a form post gives
its ``event`` field and no delivery id.
"""

from __future__ import annotations

import json
import secrets
from typing import Final

from ingest.domain.webhooks.schemes import common
from ingest.domain.webhooks.schemes.common import Delivery, Scheme, Signing, VerifiedDelivery


def _signature_fields(body: bytes) -> tuple[object, object, object, VerifiedDelivery]:
    """(timestamp, token, signature) and what the body says of itself."""
    payload = common.json_object(body)
    if payload is not None:
        fields = common.body_field(payload, "signature")
        fields = fields if isinstance(fields, dict) else {}
        found = common.body_delivery(payload, ["event-data", "event"], ["event-data", "id"])
        return fields.get("timestamp"), fields.get("token"), fields.get("signature"), found
    form = common.form(body)
    found = VerifiedDelivery(event_type=common.event_type(form.get("event")), delivery_id=None)
    return form.get("timestamp"), form.get("token"), form.get("signature"), found


def verify(delivery: Delivery) -> VerifiedDelivery:
    keys = common.utf8_keys(delivery.secrets)
    raw_timestamp, token, value, found = _signature_fields(delivery.body)
    if not isinstance(value, str) or not value:
        raise common.WebhookRejected("missing_signature")
    if isinstance(raw_timestamp, int) and not isinstance(raw_timestamp, bool):
        raw_timestamp = str(raw_timestamp)
    timestamp = common.parse_timestamp(raw_timestamp if isinstance(raw_timestamp, str) else None)
    assert isinstance(raw_timestamp, str)  # parse_timestamp rejected it otherwise
    if not isinstance(token, str) or not token:
        raise common.WebhookRejected("malformed_signature")
    signature = common.require(common.decode_hex(value.lower()), "malformed_signature")
    signed = (raw_timestamp + token).encode("utf-8", "surrogatepass")
    common.check_hmac(keys, signed, [signature])
    delivery.check_timestamp(timestamp)
    return found


def signed_body(signing: Signing) -> bytes:
    """``body`` with a fresh ``signature`` object (a JSON body) or fields (a form body)."""
    timestamp, token = signing.timestamp, secrets.token_hex(25)
    signature = signing.hex_hmac((timestamp + token).encode("ascii"))
    payload = common.json_object(signing.body)
    if payload is not None:
        payload["signature"] = {"timestamp": timestamp, "token": token, "signature": signature}
        return json.dumps(payload, separators=(",", ":")).encode()
    from urllib.parse import parse_qsl, urlencode

    fields = [
        (key, value)
        for key, value in parse_qsl(signing.body.decode("utf-8", "replace"), keep_blank_values=True)
        if key not in ("timestamp", "token", "signature")
    ]
    fields += [("timestamp", timestamp), ("token", token), ("signature", signature)]
    return urlencode(fields).encode("ascii")


def sign(signing: Signing) -> dict[str, str]:
    _ = signing.required_secret  # the signature itself is in the body: signed_body
    return {}


SCHEME: Final = Scheme("mailgun", verify, sign, timestamped=True, signed_body=signed_body)
