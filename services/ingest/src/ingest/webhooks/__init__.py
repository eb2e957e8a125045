"""Third-party webhooks: source configuration and signature schemes (pure, no AWS calls)."""

from ingest.webhooks.config import (
    Scheme,
    SourceConfig,
    SourcesDocument,
    SourcesDocumentError,
    parse_sources_document,
)
from ingest.webhooks.schemes import VerifiedDelivery, WebhookRejected, sign, verify

__all__ = [
    "Scheme",
    "SourceConfig",
    "SourcesDocument",
    "SourcesDocumentError",
    "VerifiedDelivery",
    "WebhookRejected",
    "parse_sources_document",
    "sign",
    "verify",
]
