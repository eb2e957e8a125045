"""Where the webhook sources and their secrets come from, in Lambda.

The sources document is ``SOURCES``: JSON text, or ``ssm:NAME`` to read it from SSM Parameter
Store; a source's secrets are inline (``secrets``) or in Secrets Manager (``secret_id``). Values
read from AWS are cached by the secrets adapter (:mod:`ingest.adapters.secrets`) for a bounded
time, so a rotated secret or an edited document takes effect within minutes.
"""

from __future__ import annotations

import functools
from typing import Final

from ingest.adapters import secrets as store
from ingest.domain.webhooks.config import (
    SourceConfig,
    SourcesDocument,
    SourcesDocumentError,
    parse_sources_document,
)

SSM_PREFIX: Final = "ssm:"


def resolve_secrets(config: SourceConfig, *, max_age: int | None = None) -> list[str]:
    """The active secrets of a source: inline ``secrets``, or the value of ``secret_id``.

    Raises :class:`~ingest.adapters.secrets.SecretsUnavailable` when Secrets Manager cannot be
    read, and :class:`~ingest.adapters.secrets.SecretValueError` when the value has the wrong
    shape.
    """
    if config.secrets:
        return config.inline_secrets()
    if config.secret_id is None:
        return []
    return store.read_secret(config.secret_id, max_age=max_age)


@functools.lru_cache(maxsize=8)
def _parse_json_document(text: str) -> SourcesDocument:
    # The same text is parsed once per container, however many requests read it.
    return parse_sources_document(text)


def load_sources(spec: str | None, *, max_age: int | None = None) -> SourcesDocument:
    """The sources document named by the ``SOURCES`` environment value.

    ``None`` or blank: no sources. ``ssm:NAME``: the JSON text of SSM parameter ``NAME`` (a name or
    ARN; SecureString parameters are decrypted), cached for ``max_age``. Anything else: JSON text.
    Raises :class:`SourcesDocumentError` for an invalid document and
    :class:`~ingest.adapters.secrets.SecretsUnavailable` when the parameter cannot be read.
    """
    if spec is None or not spec.strip():
        return SourcesDocument()
    spec = spec.strip()
    if not spec.startswith(SSM_PREFIX):
        return _parse_json_document(spec)
    name = spec.removeprefix(SSM_PREFIX).strip()
    if not name:
        raise SourcesDocumentError("SOURCES=ssm: needs a parameter name, e.g. ssm:/ingest/sources")
    text = store.read_parameter(name, max_age=max_age)
    if not isinstance(text, str):
        raise SourcesDocumentError("the sources parameter is not text")
    return _parse_json_document(text)
