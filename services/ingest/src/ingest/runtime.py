"""Process-wide state built on first use: settings, the event store and the sources document.

The route modules take what they need from here, so the domain and the adapters never read the
environment. Built lazily so importing the handler stays cheap and tests can point a fresh runtime
elsewhere.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ingest.adapters.dynamodb import EventStore
from ingest.config import Settings

if TYPE_CHECKING:
    from ingest.domain.webhooks.config import SourcesDocument


@dataclass
class Runtime:
    settings: Settings
    store: EventStore
    _sources: SourcesDocument | None = None
    _source_names: frozenset[str] | None = None

    def sources(self) -> SourcesDocument:
        from ingest.domain.webhooks.sources import load_sources

        spec = self.settings.sources
        if spec and spec.startswith("ssm:"):
            return load_sources(spec)  # Powertools caches it with a bounded max age
        if self._sources is None:
            self._sources = load_sources(spec)
        return self._sources

    def webhook_source_names(self) -> frozenset[str]:
        """The names configured for ``/webhooks/{source}`` (reserved on ``/events``).

        An inline document is read for its names alone, so ``/events`` does not import the webhook
        configuration models; a document in SSM is fetched (and cached) as for webhooks.
        """
        spec = self.settings.sources
        if self._sources is not None or (spec and spec.startswith("ssm:")):
            return frozenset(self.sources().sources)
        if not spec:
            return frozenset()
        if self._source_names is None:
            self._source_names = _names_of(spec)
        return self._source_names


def _names_of(document: str) -> frozenset[str]:
    import json

    try:
        sources = json.loads(document).get("sources")
    except (ValueError, AttributeError):
        sources = None
    if not isinstance(sources, dict):
        raise ValueError("SOURCES is not a sources document")  # a broken deployment: a 500
    return frozenset(sources)


_lock = threading.Lock()
_runtime: Runtime | None = None


def current() -> Runtime:
    global _runtime  # noqa: PLW0603
    if _runtime is None:
        with _lock:
            if _runtime is None:
                settings = Settings.from_env()
                store = EventStore(
                    settings.events_table,
                    shards=settings.listing_shards,
                    payload_bucket=settings.payload_bucket,
                )
                _runtime = Runtime(settings, store)
    return _runtime


def reset(runtime: Runtime | None = None) -> None:
    """Forget (or replace) the runtime: tests and the local server use it after changing env."""
    global _runtime  # noqa: PLW0603
    with _lock:
        _runtime = runtime
