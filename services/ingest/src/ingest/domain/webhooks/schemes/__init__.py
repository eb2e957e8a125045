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
    github,
    hmac_sha256,
    none,
    shopify,
    slack,
    standard_webhooks,
    stripe,
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
        hmac_sha256.SCHEME,
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
) -> VerifiedDelivery:
    """Check one delivery against its source's scheme; raise :class:`WebhookRejected` if invalid.

    ``headers`` must have lowercased names (API Gateway HTTP API payload 2.0 already does this).
    ``body`` is the exact bytes received (base64-decoded when API Gateway encoded it).
    ``secrets`` are the source's active secrets; any one of them may match (rotation).
    ``now`` is the current Unix time, used by the timestamped schemes.
    """
    return REGISTRY[config.scheme].verify(Delivery(config, headers, body, secrets, now))


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
    "sign",
    "verify",
]
