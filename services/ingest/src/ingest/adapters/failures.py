"""Sorting AWS SDK failures: will a retry help (throttling, server errors, the network), or is the
deployment itself broken (access denied, a missing table, bucket or secret, an invalid request)?
The same rules serve DynamoDB, S3 (the payload bucket), Secrets Manager and SSM.

A retryable failure answers 503 with ``Retry-After``; a broken deployment answers 500 ``internal``
so that producers are not told to retry forever, and the 5xx alarm fires. The SDK's error text
never reaches a client: it names accounts, roles and resources.
"""

from __future__ import annotations

from botocore.exceptions import (
    ClientError,
    ConnectionError,
    HTTPClientError,
    ReadTimeoutError,
)

#: Client error codes that are not the caller's fault and pass by themselves.
_RETRYABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "LimitExceededException",
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "ThrottledException",
        "InternalServerError",
        "InternalFailure",
        "InternalServiceError",
        "InternalServiceErrorException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
        "TransactionConflictException",
        "SlowDown",  # S3's throttling
    }
)


def is_retryable(exc: BaseException | None) -> bool:
    """Whether ``exc`` (an SDK failure, or one that wraps it as its cause or context) may pass."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, ClientError):
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500)
            code = exc.response.get("Error", {}).get("Code", "")
            return status >= 500 or "Throttl" in code or code in _RETRYABLE_CODES
        if isinstance(exc, ConnectionError | HTTPClientError | ReadTimeoutError):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def describe(exc: BaseException) -> str:
    """The SDK's own words, for the log only."""
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        return f"{err.get('Code', 'Error')}: {err.get('Message', '')}".strip()
    return f"{type(exc).__name__}: {exc}"
