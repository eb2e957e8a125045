"""What the API answers, written once: the routes and errors write their bodies to these shapes,
and the OpenAPI document (``ingest_tools.openapi``) derives its response schemas from them.

They are ``TypedDict``s, and the request path imports this module for the type checker only
(``if TYPE_CHECKING:``): at run time a body is a plain ``dict`` and costs nothing to import. The
constraints in ``Annotated[..., Field(...)]`` matter when pydantic builds a JSON schema from them.
Each is closed (``extra="forbid"``): a member the document does not name is a defect.
"""

from __future__ import annotations

from typing import Annotated, Literal, NotRequired

from pydantic import ConfigDict, Field, with_config
from typing_extensions import TypedDict

from ingest.limits import MAX_BATCH_EVENTS

EVENT_ID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
RECEIVED_AT_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"

EventId = Annotated[
    str,
    Field(
        pattern=EVENT_ID_PATTERN,
        description="The stored event's id: a UUIDv7, time-ordered by receipt.",
    ),
]
ReceivedAt = Annotated[
    str,
    Field(
        pattern=RECEIVED_AT_PATTERN,
        description="When the event was first received (UTC, RFC 3339, milliseconds).",
    ),
]
Count = Annotated[int, Field(ge=0, le=MAX_BATCH_EVENTS)]
_CLOSED = ConfigDict(extra="forbid")


@with_config(_CLOSED)
class Accepted(TypedDict):
    """A newly stored event."""

    event_id: EventId
    received_at: ReceivedAt


@with_config(_CLOSED)
class Duplicate(TypedDict):
    """A repeat of an event already stored: the original's id and receipt time."""

    event_id: EventId
    received_at: ReceivedAt
    duplicate: Literal[True]


@with_config(_CLOSED)
class BatchItem(TypedDict):
    """One event of a batch, in request order."""

    event_id: EventId
    duplicate: bool


@with_config(_CLOSED)
class BatchAccepted(TypedDict):
    """A stored batch: ``accepted + duplicates`` is the batch size."""

    accepted: Count
    duplicates: Count
    events: Annotated[list[BatchItem], Field(min_length=1, max_length=MAX_BATCH_EVENTS)]


@with_config(_CLOSED)
class Handshake(TypedDict):
    """A provider handshake answered instead of stored (Slack ``url_verification`` and
    ``ssl_check``, Zoom ``endpoint.url_validation``, a Discord PING). Twitch's
    ``webhook_callback_verification`` is answered with its challenge as ``text/plain``."""

    challenge: NotRequired[Annotated[str, Field(description="Slack's challenge, echoed.")]]
    plainToken: NotRequired[Annotated[str, Field(description="Zoom's plain token, echoed.")]]
    encryptedToken: NotRequired[
        Annotated[
            str,
            Field(description="The hex HMAC-SHA256 of Zoom's plain token under the secret token."),
        ]
    ]
    type: NotRequired[Annotated[Literal[1], Field(description="Discord's PONG.")]]


@with_config(_CLOSED)
class Health(TypedDict):
    status: Literal["ok"]


@with_config(_CLOSED)
class ErrorDetail(TypedDict):
    """Where a rule was broken."""

    index: Annotated[int | None, Field(ge=0, description="The event's index in a batch.")]
    field: Annotated[str | None, Field(description="Dotted path of the member, e.g. data.")]
    message: str


@with_config(_CLOSED)
class ErrorBody(TypedDict):
    code: Annotated[str, Field(description="Stable, machine-readable reason.")]
    message: Annotated[str, Field(min_length=1, description="For people; may change.")]
    details: list[ErrorDetail]


@with_config(_CLOSED)
class ErrorResponse(TypedDict):
    """Every 4xx and 5xx answer of the handler."""

    error: ErrorBody


#: Every response body, in the order the OpenAPI document lists its schemas.
RESPONSES: tuple[type, ...] = (
    Accepted,
    Duplicate,
    BatchItem,
    BatchAccepted,
    Handshake,
    Health,
    ErrorDetail,
    ErrorBody,
    ErrorResponse,
)
