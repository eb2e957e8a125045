"""Svix: the Standard Webhooks scheme (:mod:`.standard_webhooks`) under the header names Svix's
senders use, ``svix-id``, ``svix-timestamp`` and ``svix-signature``, with the endpoint's
``whsec_`` signing secret (and ``v1a`` signatures with ``whpk_`` public keys alike).
"""

from __future__ import annotations

from typing import Final

from ingest.domain.webhooks.schemes import standard_webhooks

SCHEME: Final = standard_webhooks.make_scheme("svix", "svix-")
