"""Webhook signature schemes: one module per provider, registered here once.

Each provider module verifies a delivery the way its provider documents it and signs one the way
the provider would (see docs/decisions/0003-webhook-verification.md). :data:`REGISTRY` is the only
list of scheme names: the sources document's ``scheme`` values, the classifications below, the
OpenAPI document, the CLI and the docs all derive from it.

Everything here is pure: no I/O, no clock (callers pass ``now``), no AWS. ``verify`` works on the
exact bytes received, compares signatures in constant time, accepts any one of several active
secrets (rotation) and rejects timestamps outside the source's tolerance in either direction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Final

from ingest.domain.webhooks.schemes import (
    basic,
    bitbucket,
    discord,
    github,
    gitlab,
    hmac_sha256,
    hubspot,
    intercom,
    linear,
    mailgun,
    none,
    paddle,
    pagerduty,
    sendgrid,
    shopify,
    slack,
    square,
    standard_webhooks,
    stripe,
    svix,
    token,
    twilio,
    twitch,
    typeform,
    zoom,
)
from ingest.domain.webhooks.schemes.common import (
    DEFAULT_EVENT_TYPE,
    Delivery,
    Scheme,
    Signing,
    VerifiedDelivery,
    WebhookRejected,
)

if TYPE_CHECKING:
    from ingest.domain.webhooks.config import SourceConfig

#: Every scheme by name, in the order the docs list them.
REGISTRY: Final[Mapping[str, Scheme]] = {
    scheme.name: scheme
    for scheme in (
        github.SCHEME,
        stripe.SCHEME,
        slack.SCHEME,
        shopify.SCHEME,
        standard_webhooks.SCHEME,
        svix.SCHEME,
        gitlab.SCHEME,
        bitbucket.SCHEME,
        twilio.SCHEME,
        zoom.SCHEME,
        twitch.SCHEME,
        discord.SCHEME,
        sendgrid.SCHEME,
        paddle.SCHEME,
        square.SCHEME,
        linear.SCHEME,
        intercom.SCHEME,
        hubspot.SCHEME,
        mailgun.SCHEME,
        typeform.SCHEME,
        pagerduty.SCHEME,
        hmac_sha256.SCHEME,
        basic.SCHEME,
        token.SCHEME,
        none.SCHEME,
    )
}
#: Every scheme that checks a signature, i.e. every scheme but ``none``.
SIGNED_SCHEMES: Final = frozenset(name for name, s in REGISTRY.items() if s.signed)
#: Schemes whose signed content includes a timestamp checked against ``tolerance_seconds``.
TIMESTAMPED_SCHEMES: Final = frozenset(name for name, s in REGISTRY.items() if s.timestamped)
#: Schemes that read the event type and delivery id from configurable headers.
HEADER_MAPPED_SCHEMES: Final = frozenset(name for name, s in REGISTRY.items() if s.header_mapped)


def verify(
    config: SourceConfig,
    headers: Mapping[str, str],
    body: bytes,
    secrets: Sequence[str],
    now: float,
    *,
    method: str = "POST",
    query: str = "",
) -> VerifiedDelivery:
    """Check one delivery against its source's scheme; raise :class:`WebhookRejected` if invalid.

    ``headers`` must have lowercased names (API Gateway HTTP API payload 2.0 already does this).
    ``body`` is the exact bytes received (base64-decoded when API Gateway encoded it).
    ``secrets`` are the source's active secrets (or public keys); any one of them may match.
    ``now`` is the current Unix time, used by the timestamped schemes. ``method`` and ``query``
    (the raw query string) are the request's, for the schemes that sign the request's URL.
    """
    delivery = Delivery(config, headers, body, secrets, now, method, query)
    return REGISTRY[config.scheme].verify(delivery)


def signed_body(config: SourceConfig, body: bytes, secret: str, now: float) -> bytes:
    """The body as the provider would send it at ``now``: ``body`` itself, except for providers
    that sign inside the body (Mailgun's ``signature``) or stamp it (Linear's
    ``webhookTimestamp``). Sign and send this body."""
    scheme = REGISTRY[config.scheme]
    if scheme.signed_body is None:
        return body
    return scheme.signed_body(Signing(config, body, secret, now))


def request_query(config: SourceConfig, body: bytes) -> str:
    """The query string the provider adds to the source's URL for ``body`` (Twilio's
    ``bodySHA256`` for a JSON body); ``""`` for most schemes."""
    scheme = REGISTRY[config.scheme]
    if scheme.signed_query is None:
        return ""
    return scheme.signed_query(Signing(config, body, "", 0.0))


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
    signing = Signing(config, body, secret, now, delivery_id, event_type)
    return REGISTRY[config.scheme].sign(signing)


__all__ = [
    "DEFAULT_EVENT_TYPE",
    "HEADER_MAPPED_SCHEMES",
    "REGISTRY",
    "SIGNED_SCHEMES",
    "TIMESTAMPED_SCHEMES",
    "Scheme",
    "VerifiedDelivery",
    "WebhookRejected",
    "request_query",
    "sign",
    "signed_body",
    "verify",
]
