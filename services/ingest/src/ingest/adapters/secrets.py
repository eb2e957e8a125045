"""Secrets Manager and SSM Parameter Store: the only module that reads them.

It knows nothing of webhooks: it reads a secret's active values and a parameter's text; the
webhook domain (:mod:`ingest.domain.webhooks.sources`) decides what they mean. Values are fetched through Powertools' parameters
utility, which caches them for ``max_age`` seconds: long enough that a warm function does not call
AWS on every request, short enough that a rotated secret or an edited sources document takes
effect within minutes. The default (300 s) can be changed with Powertools' standard
``POWERTOOLS_PARAMETERS_MAX_AGE`` variable; it is bounded to at most an hour.

Powertools is imported inside the functions: a cold start that never needs AWS-held secrets (inline
secrets, local runs) does not pay for importing it and the AWS SDK.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Final

from ingest.adapters.failures import is_retryable

DEFAULT_MAX_AGE_SECONDS: Final = 300
MAX_MAX_AGE_SECONDS: Final = 3600
MAX_AGE_ENV: Final = "POWERTOOLS_PARAMETERS_MAX_AGE"


class SecretsUnavailable(RuntimeError):
    """A secret or a parameter could not be fetched from AWS (a server-side fault).

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


def _fetch(what: str, read: Callable[[], object]) -> object:
    """What ``read`` returns; :class:`SecretsUnavailable` (naming ``what``) when it fails."""
    # Imported here, not at module level: cold-start cost.
    from aws_lambda_powertools.utilities.parameters import GetParameterError

    try:
        return read()
    except GetParameterError as exc:
        raise SecretsUnavailable(f"cannot read {what}: {exc}", retryable=is_retryable(exc)) from exc


def read_secret(secret_id: str, *, max_age: int | None = None) -> list[str]:
    """The active values of Secrets Manager secret ``secret_id`` (a name or ARN).

    Raises :class:`SecretsUnavailable` when it cannot be read, and :class:`SecretValueError` when
    the value has the wrong shape.
    """
    from aws_lambda_powertools.utilities import parameters

    age = cache_max_age(max_age)
    value = _fetch(f"secret {secret_id!r}", lambda: parameters.get_secret(secret_id, max_age=age))
    if not isinstance(value, str | bytes):
        raise SecretValueError("the secret is neither text nor binary")
    return parse_secret_value(value)


def read_parameter(name: str, *, max_age: int | None = None) -> object:
    """The value of SSM parameter ``name`` (a name or ARN; SecureString parameters are
    decrypted), cached for ``max_age``. Raises :class:`SecretsUnavailable` when it cannot be read.
    """
    from aws_lambda_powertools.utilities import parameters

    age = cache_max_age(max_age)
    return _fetch(
        f"SSM parameter {name!r}",
        lambda: parameters.get_parameter(name, decrypt=True, max_age=age),
    )
