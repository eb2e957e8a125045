"""Errors that become HTTP answers. Every client mistake maps to a 4xx with a stable code."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ingest.responses import ErrorDetail, ErrorResponse


def error_body(code: str, message: str, details: list[ErrorDetail] | None = None) -> ErrorResponse:
    """The contract's error body (:class:`ingest.responses.ErrorResponse`)."""
    return {"error": {"code": code, "message": message, "details": details or []}}


class ApiError(Exception):
    """An error with an HTTP status and the contract's error body."""

    status: int = 400
    code: str = "bad_request"

    def __init_subclass__(cls, *, status: int | None = None, code: str | None = None) -> None:
        super().__init_subclass__()
        if status is not None:
            cls.status = status
        if code is not None:
            cls.code = code

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: list[ErrorDetail] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details or []
        self.headers = headers or {}

    def body(self) -> ErrorResponse:
        return error_body(self.code, self.message, self.details)


class BadRequest(ApiError, status=400, code="bad_request"):
    """Not JSON, not an object or array, an empty body or batch, a bad encoding or header."""


class Unauthorized(ApiError, status=401, code="unauthorized"):
    """A webhook delivery whose signature is missing, invalid or stale."""


class Forbidden(ApiError, status=403, code="forbidden"):
    """A CloudEvents webhook validation request from an origin the source does not allow."""


class NotFound(ApiError, status=404, code="not_found"):
    """No such route, or no webhook source of that name."""


class MethodNotAllowed(ApiError, status=405, code="method_not_allowed"):
    """A known path with another method (the answer names the one it takes in ``Allow``)."""


class PayloadTooLarge(ApiError, status=413, code="payload_too_large"):
    """Over a size limit: the body, a batch, one event."""


class UnsupportedMediaType(ApiError, status=415, code="unsupported_media_type"):
    """A content type or charset that is not accepted."""


class ValidationFailed(ApiError, status=422, code="validation_failed"):
    """An event breaks the rules; ``details`` say where."""


class InternalError(ApiError, status=500, code="internal"):
    """The deployment itself is broken (table missing, access denied): retrying will not help.

    The message is fixed: what went wrong is logged with the request id, never sent.
    """

    def __init__(self) -> None:
        super().__init__("the service cannot store events right now; its operators are alerted")


class ServiceUnavailable(ApiError, status=503, code="storage_unavailable"):
    """Storage cannot take the request for a reason that passes: retry after ``retry_after``."""

    def __init__(self, message: str, *, retry_after: int = 1) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after
