"""Webhook secrets and the sources document from Secrets Manager and SSM Parameter Store.

This is the only module that reads them. Values are fetched through Powertools' parameters
utility, which caches them for ``max_age`` seconds: long enough that a warm function does not call
AWS on every request, short enough that a rotated secret or an edited sources document takes
effect within minutes. The default (300 s) can be changed with Powertools' standard
``POWERTOOLS_PARAMETERS_MAX_AGE`` variable; it is bounded to at most an hour.

Powertools is imported inside the functions: a cold start that never needs AWS-held secrets (inline
secrets, local runs) does not pay for importing it and the AWS SDK.
"""

from __future__ import annotations

import functools
import json
import os
from typing import Final

from ingest.adapters.failures import is_retryable
from ingest.webhooks.config import (
    SourceConfig,
    SourcesDocument,
    SourcesDocumentError,
    parse_sources_document,
)

DEFAULT_MAX_AGE_SECONDS: Final = 300
MAX_MAX_AGE_SECONDS: Final = 3600
MAX_AGE_ENV: Final = "POWERTOOLS_PARAMETERS_MAX_AGE"
SSM_PREFIX: Final = "ssm:"


class SecretsUnavailable(RuntimeError):
    """A secret or the sources document could not be fetched from AWS (a server-side fault).

    The message names the secret or parameter, never its value. ``retryable`` tells a passing
    fault (throttling, the network) from a broken deployment (access denied, no such secret).
    """

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class SecretValueError(ValueError):
    """A fetched secret is neither one secret nor a JSON list of secrets. Never holds the value."""


def cache_max_age(override: int | None = None) -> int:
    """Seconds a fetched value is reused: ``override``, else the environment, else 300; at most 1 h."""
    if override is None:
        raw = os.environ.get(MAX_AGE_ENV, "").strip()
        try:
            override = int(raw) if raw else DEFAULT_MAX_AGE_SECONDS
        except ValueError:
            override = DEFAULT_MAX_AGE_SECONDS
    return max(0, min(override, MAX_MAX_AGE_SECONDS))


def parse_secret_value(value: str | bytes) -> list[str]:
    """A secret's value as a list of active secrets.

    A value whose first non-blank character is ``[`` is a JSON list of non-empty strings (several
    active secrets, for rotation); anything else is one secret, taken exactly as stored.
    """
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            raise SecretValueError("the secret is binary and not UTF-8 text") from None
    if value.lstrip().startswith("["):
        try:
            parsed = json.loads(value)
        except ValueError:
            raise SecretValueError("the secret starts with '[' but is not a JSON list") from None
        if (
            not isinstance(parsed, list)
            or not parsed
            or not all(isinstance(item, str) and item for item in parsed)
        ):
            raise SecretValueError("a JSON secret must be a non-empty list of non-empty strings")
        return list(parsed)
    if not value:
        raise SecretValueError("the secret is empty")
    return [value]


def resolve_secrets(config: SourceConfig, *, max_age: int | None = None) -> list[str]:
    """The active secrets of a source: inline ``secrets``, or the value of ``secret_id``.

    Raises :class:`SecretsUnavailable` when Secrets Manager cannot be read, and
    :class:`SecretValueError` when the value has the wrong shape.
    """
    if config.secrets:
        return config.inline_secrets()
    if config.secret_id is None:
        return []
    # Imported here, not at module level: cold-start cost.
    from aws_lambda_powertools.utilities.parameters import (
        GetParameterError,
        get_secret,
    )

    try:
        value: object = get_secret(config.secret_id, max_age=cache_max_age(max_age))
    except GetParameterError as exc:
        raise SecretsUnavailable(
            f"cannot read secret {config.secret_id!r}: {exc}", retryable=is_retryable(exc)
        ) from exc
    if not isinstance(value, str | bytes):
        raise SecretValueError("the secret is neither text nor binary")
    return parse_secret_value(value)


@functools.lru_cache(maxsize=8)
def _parse_json_document(text: str) -> SourcesDocument:
    # The same text is parsed once per container, however many requests read it.
    return parse_sources_document(text, allow_yaml=False)


def load_sources(spec: str | None, *, max_age: int | None = None) -> SourcesDocument:
    """The sources document named by the ``SOURCES`` environment value.

    ``None`` or blank: no sources. ``ssm:NAME``: the JSON text of SSM parameter ``NAME`` (a name or
    ARN; SecureString parameters are decrypted), cached for ``max_age``. Anything else: JSON text.
    Raises :class:`SourcesDocumentError` for an invalid document and :class:`SecretsUnavailable`
    when the parameter cannot be read.
    """
    if spec is None or not spec.strip():
        return SourcesDocument()
    spec = spec.strip()
    if not spec.startswith(SSM_PREFIX):
        return _parse_json_document(spec)
    name = spec.removeprefix(SSM_PREFIX).strip()
    if not name:
        raise SourcesDocumentError("SOURCES=ssm: needs a parameter name, e.g. ssm:/ingest/sources")
    # Imported here, not at module level: cold-start cost.
    from aws_lambda_powertools.utilities.parameters import (
        GetParameterError,
        get_parameter,
    )

    try:
        text: object = get_parameter(name, decrypt=True, max_age=cache_max_age(max_age))
    except GetParameterError as exc:
        raise SecretsUnavailable(
            f"cannot read SSM parameter {name!r}: {exc}", retryable=is_retryable(exc)
        ) from exc
    if not isinstance(text, str):
        raise SourcesDocumentError("the sources parameter is not text")
    return _parse_json_document(text)
