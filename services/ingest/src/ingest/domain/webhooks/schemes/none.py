"""``none``: an explicit opt-out for trusted networks; nothing is verified.

``type_header`` and ``id_header`` name the headers carrying the type and delivery id.
"""

from __future__ import annotations

from typing import Final

from ingest.domain.webhooks.schemes import common
from ingest.domain.webhooks.schemes.common import Scheme

SCHEME: Final = Scheme(
    "none",
    common.mapped,
    common.mapped_headers,
    signed=False,
    options=frozenset({"type_header", "id_header"}),
)
