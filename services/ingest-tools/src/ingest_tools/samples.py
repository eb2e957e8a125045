"""Sample deliveries of the supported webhook providers, for ingest trigger (and for ingest send,
which takes a provider's first sample's event type when it is given none).

Each sample is a file under ``ingest_tools/fixtures/<provider>/``: ``<event>.json`` (sent as
``application/json``) or ``<event>.form`` (``application/x-www-form-urlencoded``), shaped as the
provider documents that event. The provider is the name of its signature scheme in the registry
(``ingest.domain.webhooks.schemes.REGISTRY``). A provider that carries the event type in a header
(GitHub's ``X-GitHub-Event``) is sent the sample's name, or the name :data:`HEADER_TYPES` maps it
to; the others read it from the body, as they do from the real delivery.

Placeholders make every trigger a new delivery: ``{{id}}`` (24 hex digits), ``{{uuid}}``,
``{{now}}`` (RFC 3339), ``{{unix}}`` (seconds) and ``{{serial}}`` (digits that grow with time)
are replaced inside strings, and the string ``"{{serial}}"`` by that number (where the provider's
id is a number), when the sample is sent. The files stay valid JSON.
"""

from __future__ import annotations

import re
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Final

#: The type header's value where the provider names an event otherwise than its sample's file.
HEADER_TYPES: Final = {
    ("github", "pull_request.opened"): "pull_request",
    ("github", "issues.opened"): "issues",
    ("gitlab", "push"): "Push Hook",
    ("gitlab", "merge_request"): "Merge Request Hook",
    ("shopify", "orders.create"): "orders/create",
    ("shopify", "products.update"): "products/update",
}
_CONTENT_TYPES: Final = {
    ".json": "application/json",
    ".form": "application/x-www-form-urlencoded",
}
_PLACEHOLDER = re.compile(r'"\{\{(serial)\}\}"|\{\{(id|uuid|now|unix|serial)\}\}')


@dataclass(frozen=True)
class Sample:
    provider: str
    event: str
    file_name: str

    @property
    def name(self) -> str:
        return f"{self.provider}.{self.event}"

    @property
    def content_type(self) -> str:
        return _CONTENT_TYPES[self.file_name[self.file_name.rfind(".") :]]

    @property
    def header_type(self) -> str:
        """The event type to send where the provider carries it in a header."""
        return HEADER_TYPES.get((self.provider, self.event), self.event)

    def body(self, now: float | None = None) -> bytes:
        """The delivery's body, each placeholder replaced (fresh ids, the current time)."""
        at = time.time() if now is None else now
        values = {
            "id": secrets.token_hex(12),
            "uuid": str(uuid.uuid4()),
            "now": datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "unix": str(int(at)),
            "serial": str(int(at * 1000) * 1000 + secrets.randbelow(1000)),
        }
        text = _fixtures().joinpath(self.provider, self.file_name).read_text("utf-8")
        return _PLACEHOLDER.sub(lambda m: values[m.group(1) or m.group(2)], text).encode("utf-8")


def _fixtures() -> resources.abc.Traversable:
    return resources.files("ingest_tools").joinpath("fixtures")


def catalog() -> dict[str, Sample]:
    """Every sample by its name, ``provider.event``, providers in the registry's order."""
    from ingest.domain.webhooks.schemes import REGISTRY

    found: dict[str, Sample] = {}
    root = _fixtures()
    for provider in REGISTRY:
        folder = root.joinpath(provider)
        if not folder.is_dir():
            continue
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            stem, dot, suffix = entry.name.rpartition(".")
            if dot and f".{suffix}" in _CONTENT_TYPES:
                sample = Sample(provider, stem, entry.name)
                found[sample.name] = sample
    return found


#: The sample whose event type a delivery gets when none is given (the provider's usual first).
DEFAULT_EVENTS: Final = {"github": "push", "gitlab": "push", "bitbucket": "repo:push"}


def default_event(provider: str) -> str | None:
    """The event type a provider's delivery sent without one gets: its usual first sample's."""
    event = DEFAULT_EVENTS.get(provider)
    if event is not None:
        return HEADER_TYPES.get((provider, event), event)
    first = next((s for s in catalog().values() if s.provider == provider), None)
    return first.header_type if first is not None else None
