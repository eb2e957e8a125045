"""The event as producers send it to ``POST /events`` (a CloudEvents-compatible envelope)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

ShortText = Annotated[str, Field(min_length=1, max_length=256)]
Text = Annotated[str, Field(min_length=1, max_length=2048)]

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")

DEFAULT_SOURCE = "default"
# Optional CloudEvents attributes stored as top-level attributes of the record when present.
CLOUDEVENT_ATTRIBUTES = ("time", "subject", "specversion", "datacontenttype", "dataschema")


class Event(BaseModel):
    """One event. Unknown top-level members are kept (``model_extra``) and stored as they came."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)

    type: ShortText
    id: ShortText | None = None
    source: ShortText = DEFAULT_SOURCE
    time: Annotated[str, Field(max_length=64)] | None = None
    subject: Text | None = None
    specversion: Literal["1.0"] | None = None
    datacontenttype: Text | None = None
    dataschema: Text | None = None
    data: Any = None

    @field_validator("time")
    @classmethod
    def _rfc3339(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if not RFC3339.match(value):
            raise ValueError("must be an RFC 3339 timestamp, e.g. 2026-01-31T12:00:00Z")
        try:
            datetime.fromisoformat(value.replace("z", "Z").replace("t", "T"))
        except ValueError:
            raise ValueError("must be a valid RFC 3339 date and time") from None
        return value
