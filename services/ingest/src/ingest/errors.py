"""Errors that become HTTP answers. Every client mistake maps to a 4xx with a stable code."""

from __future__ import annotations

from ingest.responses import ErrorDetail, ErrorResponse, error_body


class ApiError(Exception):
    """An error with an HTTP status and the contract's error body."""

    status: int = 400
    code: str = "bad_request"

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


class BadRequest(ApiError):
    status = 400
    code = "bad_request"


class Unauthorized(ApiError):
    status = 401
    code = "unauthorized"


class NotFound(ApiError):
    status = 404
    code = "not_found"


class MethodNotAllowed(ApiError):
    status = 405
    code = "method_not_allowed"


class PayloadTooLarge(ApiError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(ApiError):
    status = 415
    code = "unsupported_media_type"


class ValidationFailed(ApiError):
    status = 422
    code = "validation_failed"


class InternalError(ApiError):
    """The deployment itself is broken (table missing, access denied): retrying will not help.

    The message is fixed: what went wrong is logged with the request id, never sent.
    """

    status = 500
    code = "internal"

    def __init__(self) -> None:
        super().__init__("the service cannot store events right now; its operators are alerted")


class ServiceUnavailable(ApiError):
    status = 503
    code = "storage_unavailable"

    def __init__(self, message: str, *, retry_after: int = 1) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after
