"""Slack: ``X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:<timestamp>:<body>">`` with
``X-Slack-Request-Timestamp``.

Events API deliveries give the inner ``event.type`` and the ``event_id``; the
``url_verification`` handshake and ``ssl_check`` are answered instead of stored; interactivity
payloads and slash commands (form-encoded) give their type and no delivery id.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from ingest.domain.webhooks.schemes import common
from ingest.domain.webhooks.schemes.common import Delivery, Scheme, Signing, VerifiedDelivery

if TYPE_CHECKING:
    from ingest.responses import Handshake

SIGNATURE: Final = "x-slack-signature"
TIMESTAMP: Final = "x-slack-request-timestamp"


def verify(delivery: Delivery) -> VerifiedDelivery:
    common.check_v0_hmac(delivery, SIGNATURE, TIMESTAMP)
    return _slack_delivery(delivery.body)


def _slack_delivery(body: bytes) -> VerifiedDelivery:
    payload = common.json_object(body)
    if payload is not None:  # Events API
        if payload.get("type") == "url_verification":
            challenge = payload.get("challenge")
            reply: Handshake | None = (
                {"challenge": challenge} if isinstance(challenge, str) else None
            )
            return VerifiedDelivery(event_type="url_verification", delivery_id=None, reply=reply)
        inner = payload.get("event")
        inner_type = inner.get("type") if isinstance(inner, dict) else None
        return VerifiedDelivery(
            event_type=common.event_type(
                inner_type if isinstance(inner_type, str) else payload.get("type")
            ),
            delivery_id=common.delivery_id(payload.get("event_id")),
        )
    fields = common.form(body)
    if fields.get("ssl_check") == "1":  # Slack checking the endpoint's certificate
        return VerifiedDelivery(event_type="ssl_check", delivery_id=None, reply={})
    if "payload" in fields:  # interactivity: a JSON document in the `payload` field
        interaction = common.json_object(fields["payload"].encode("utf-8"))
        interaction_type = interaction.get("type") if interaction is not None else None
        return VerifiedDelivery(event_type=common.event_type(interaction_type), delivery_id=None)
    # slash command: the command itself (e.g. "/deploy") is the type
    return VerifiedDelivery(event_type=common.event_type(fields.get("command")), delivery_id=None)


def sign(signing: Signing) -> dict[str, str]:
    return {
        "X-Slack-Request-Timestamp": signing.timestamp,
        "X-Slack-Signature": signing.v0_signature(),
    }


SCHEME: Final = Scheme("slack", verify, sign, timestamped=True)
