"""Process-wide state built on first use: settings and the event store.

Built lazily so importing the handler stays cheap and tests can point a fresh runtime elsewhere.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ingest.adapters.dynamodb import EventStore
from ingest.config import Settings

if TYPE_CHECKING:
    from ingest.webhooks.config import SourcesDocument


@dataclass
class Runtime:
    settings: Settings
    store: EventStore
    _sources: SourcesDocument | None = None

    def sources(self) -> SourcesDocument:
        from ingest.adapters.secrets import load_sources

        spec = self.settings.sources
        if spec and spec.startswith("ssm:"):
            return load_sources(spec)  # Powertools caches it with a bounded max age
        if self._sources is None:
            self._sources = load_sources(spec)
        return self._sources


_lock = threading.Lock()
_runtime: Runtime | None = None


def current() -> Runtime:
    global _runtime  # noqa: PLW0603
    if _runtime is None:
        with _lock:
            if _runtime is None:
                settings = Settings.from_env()
                _runtime = Runtime(settings, EventStore(settings.events_table))
    return _runtime


def reset(runtime: Runtime | None = None) -> None:
    """Forget (or replace) the runtime: tests and the local server use it after changing env."""
    global _runtime  # noqa: PLW0603
    with _lock:
        _runtime = runtime
