"""Turn a ``POST /events`` request into validated events, or a precise 4xx.

Modes: one JSON event, a JSON array (batch), CloudEvents structured (``application/cloudevents+json``),
batch (``application/cloudevents-batch+json``) and binary (``ce-*`` headers, the body is ``data``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from ingest import jsonexact
from ingest.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from ingest.limits import MAX_BATCH_EVENTS, MAX_BODY_BYTES, MAX_EVENT_BYTES
from ingest.models import DEFAULT_SOURCE, Event

if TYPE_CHECKING:
    from ingest.responses import ErrorDetail

JSON = "application/json"
CE_SINGLE = "application/cloudevents+json"
CE_BATCH = "application/cloudevents-batch+json"
CE_MEDIA_PREFIX = "application/cloudevents"
_ACCEPTED_TYPES = {JSON, CE_SINGLE, CE_BATCH}
_BINARY_ATTRIBUTES = ("id", "source", "type", "time", "subject", "dataschema")


@dataclass(frozen=True)
class ParsedEvent:
    event: Event
    data_json: str | None  # exact JSON text of ``data``; None when the event has no data
    extensions_json: str | None
    size: int


@dataclass(frozen=True)
class Intake:
    events: list[ParsedEvent]
    batch: bool


def media_type(content_type: str | None) -> tuple[str, dict[str, str]]:
    if not content_type:
        return JSON, {}
    main, *params = content_type.split(";")
    parsed: dict[str, str] = {}
    for param in params:
        name, _, value = param.partition("=")
        parsed[name.strip().lower()] = value.strip().strip('"').lower()
    return main.strip().lower(), parsed


def _check_charset(params: Mapping[str, str]) -> None:
    charset = params.get("charset")
    if charset and charset not in ("utf-8", "utf8"):
        raise UnsupportedMediaType(f"charset {charset!r} is not supported; send UTF-8")


def _is_json_type(mtype: str) -> bool:
    return mtype == JSON or (mtype.startswith("application/") and mtype.endswith("+json"))


def _decode_json(body: bytes) -> Any:
    if not body.strip():
        raise BadRequest("the request body is empty", code="empty_body")
    try:
        return jsonexact.loads(jsonexact.decode_utf8(body))
    except jsonexact.JsonError as exc:
        raise BadRequest(str(exc), code=exc.code) from None


def _field(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(event)"


def _validate(raw: Any, index: int | None) -> ParsedEvent:
    if not isinstance(raw, dict):
        raise ValidationFailed(
            "an event must be a JSON object",
            details=[{"index": index, "field": None, "message": "must be a JSON object"}],
        )
    try:
        event = Event.model_validate(raw)
    except ValidationError as exc:
        raise ValidationFailed(
            "the event breaks the rules" if index is None else f"event {index} breaks the rules",
            details=[
                {"index": index, "field": _field(err["loc"]), "message": err["msg"]}
                for err in exc.errors(include_url=False, include_context=False, include_input=False)
            ],
        ) from None
    try:
        # ``data`` is usually most of the event: serialise it once, for storage and for the size.
        data_json: str | None = None
        _, size = jsonexact.dumps_sized({k: v for k, v in raw.items() if k != "data"})
        if "data" in raw:
            data_json, data_size = jsonexact.dumps_sized(raw["data"])
            size += len('"data":') + data_size + (1 if len(raw) > 1 else 0)  # + the comma
        extra = event.model_extra
        extensions_json = jsonexact.dumps(extra) if extra else None
    except jsonexact.JsonError as exc:
        raise BadRequest(str(exc), code=exc.code) from None
    if size > MAX_EVENT_BYTES:
        raise PayloadTooLarge(
            f"an event may be at most {MAX_EVENT_BYTES} bytes serialized",
            code="event_too_large",
            details=[{"index": index, "field": None, "message": f"{size} bytes"}],
        )
    return ParsedEvent(event, data_json, extensions_json, size)


def _validate_all(items: list[Any]) -> list[ParsedEvent]:
    parsed: list[ParsedEvent] = []
    details: list[ErrorDetail] = []
    too_large: list[ErrorDetail] = []
    for index, raw in enumerate(items):
        try:
            parsed.append(_validate(raw, index))
        except ValidationFailed as exc:
            details.extend(exc.details)
        except PayloadTooLarge as exc:
            too_large.extend(exc.details)
    if details:
        raise ValidationFailed(
            f"{len({d['index'] for d in details})} of {len(items)} events break the rules; "
            "none was stored",
            details=details,
        )
    if too_large:
        raise PayloadTooLarge(
            f"an event may be at most {MAX_EVENT_BYTES} bytes serialized; none was stored",
            code="event_too_large",
            details=too_large,
        )
    return parsed


def _binary_mode(headers: Mapping[str, str], body: bytes, mtype: str) -> Intake:
    raw: dict[str, Any] = {"specversion": headers.get("ce-specversion")}
    for name in _BINARY_ATTRIBUTES:
        value = headers.get(f"ce-{name}")
        if value is not None:
            raw[name] = value
    if body:
        if _is_json_type(mtype):
            raw["data"] = _decode_json(body)
        elif mtype.startswith("text/"):
            try:
                raw["data"] = jsonexact.decode_utf8(body)
            except jsonexact.JsonError as exc:
                raise BadRequest(str(exc), code=exc.code) from None
        else:
            raise UnsupportedMediaType(
                f"binary-mode data of type {mtype!r} is not accepted; send JSON or text"
            )
        raw["datacontenttype"] = headers.get("content-type") or JSON
    return Intake([_validate(raw, None)], batch=False)


def parse(headers: Mapping[str, str], body: bytes) -> Intake:
    """Validate a whole request. Raises an :class:`~ingest.errors.ApiError` on bad input."""
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the request body may be at most {MAX_BODY_BYTES} bytes")
    mtype, params = media_type(headers.get("content-type"))
    # The content type decides the mode (CloudEvents HTTP binding, 3.1): structured and batch
    # requests are read as such whatever ``ce-*`` headers also arrive.
    if "ce-specversion" in headers and not mtype.startswith(CE_MEDIA_PREFIX):
        _check_charset(params)
        return _binary_mode(headers, body, mtype)
    if mtype not in _ACCEPTED_TYPES:
        raise UnsupportedMediaType(
            f"content type {mtype!r} is not accepted; use {JSON}, {CE_SINGLE} or {CE_BATCH}"
        )
    _check_charset(params)
    document = _decode_json(body)
    if isinstance(document, dict):
        if mtype == CE_BATCH:
            raise BadRequest(f"{CE_BATCH} needs a JSON array", code="invalid_body")
        return Intake([_validate(document, None)], batch=False)
    if isinstance(document, list):
        if mtype == CE_SINGLE:
            raise BadRequest(f"{CE_SINGLE} needs a JSON object", code="invalid_body")
        if not document:
            raise BadRequest("the batch is empty", code="empty_batch")
        if len(document) > MAX_BATCH_EVENTS:
            raise PayloadTooLarge(
                f"a batch may hold at most {MAX_BATCH_EVENTS} events, not {len(document)}",
                code="batch_too_large",
            )
        return Intake(_validate_all(document), batch=True)
    raise BadRequest(
        "the body must be a JSON object (one event) or array (a batch)", code="invalid_body"
    )


def named_sources(request: Intake) -> set[str]:
    """The sources the request's events name (``default`` aside)."""
    return {item.event.source for item in request.events} - {DEFAULT_SOURCE}


def refuse_reserved(request: Intake, reserved: set[str]) -> None:
    """A 422 when an event names a ``reserved`` source (one configured for webhooks)."""
    if not reserved:
        return
    raise ValidationFailed(
        "a source configured for /webhooks/{source} is reserved for verified deliveries",
        code="reserved_source",
        details=[
            {"index": index if request.batch else None, "field": "source", "message": "reserved"}
            for index, item in enumerate(request.events)
            if item.event.source in reserved
        ],
    )
