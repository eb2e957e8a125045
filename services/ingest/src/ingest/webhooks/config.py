"""The sources document: which webhook sources exist and how each one is verified.

The document is JSON (the ``SOURCES`` environment variable or an SSM parameter) or, for local
files only, YAML. Secrets never appear in error messages produced here: validation errors are
rebuilt from their location and message, without the offending input.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from ingest.models import DEFAULT_SOURCE

Scheme = Literal["github", "stripe", "slack", "shopify", "standard-webhooks", "hmac-sha256", "none"]

#: Every scheme that checks a signature, i.e. every scheme but ``none``.
SIGNED_SCHEMES: frozenset[str] = frozenset(
    {"github", "stripe", "slack", "shopify", "standard-webhooks", "hmac-sha256"}
)
#: Schemes whose signed content includes a timestamp checked against ``tolerance_seconds``.
TIMESTAMPED_SCHEMES: frozenset[str] = frozenset({"stripe", "slack", "standard-webhooks"})
#: Schemes that read the event type and delivery id from configurable headers.
HEADER_MAPPED_SCHEMES: frozenset[str] = frozenset({"hmac-sha256", "none"})

SOURCE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
# An HTTP field name is a "token" (RFC 9110, section 5.6.2).
_HEADER_NAME_PATTERN = r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$"
MAX_TOLERANCE_SECONDS = 3600
STANDARD_WEBHOOKS_SECRET_PREFIX = "whsec_"  # noqa: S105 - a format marker, not a secret

SourceName = Annotated[str, StringConstraints(pattern=SOURCE_NAME_PATTERN)]
HeaderName = Annotated[str, StringConstraints(pattern=_HEADER_NAME_PATTERN)]


class SourcesDocumentError(ValueError):
    """The sources document cannot be read. The message never repeats secret values."""


def decode_standard_webhooks_secret(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks secret: base64 after an optional ``whsec_`` prefix.

    Raises ``ValueError`` (without echoing the secret) when it is not valid base64 or is empty.
    """
    encoded = secret.removeprefix(STANDARD_WEBHOOKS_SECRET_PREFIX).strip()
    encoded += "=" * (-len(encoded) % 4)
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a standard-webhooks secret must be whsec_ followed by base64") from None
    if not key:
        raise ValueError("a standard-webhooks secret must not be empty")
    return key


class SourceConfig(BaseModel):
    """How one webhook source is verified and how its type and delivery id are found."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scheme: Scheme
    secrets: list[SecretStr] = Field(default_factory=list, max_length=10)
    secret_id: str | None = Field(default=None, min_length=1, max_length=2048)
    tolerance_seconds: int = Field(default=300, gt=0, le=MAX_TOLERANCE_SECONDS)
    header: HeaderName | None = None
    encoding: Literal["hex", "base64"] = "hex"
    prefix: str = Field(default="", max_length=64)
    type_header: HeaderName | None = None
    id_header: HeaderName | None = None

    @field_validator("header", "type_header", "id_header")
    @classmethod
    def _lowercase_header(cls, value: str | None) -> str | None:
        # Callers hand `verify` lowercased header names, so configured names are kept lowercased.
        return None if value is None else value.lower()

    @field_validator("secrets")
    @classmethod
    def _non_empty_secrets(cls, value: list[SecretStr]) -> list[SecretStr]:
        if any(not secret.get_secret_value() for secret in value):
            raise ValueError("secrets must not be empty strings")
        return value

    @model_validator(mode="after")
    def _check_scheme_options(self) -> SourceConfig:
        self._check_secrets()
        self._check_misplaced_options()
        if self.scheme == "hmac-sha256" and self.header is None:
            raise ValueError("scheme 'hmac-sha256' needs header (the signature header name)")
        return self

    def _check_secrets(self) -> None:
        scheme = self.scheme
        if scheme == "none":
            if self.secrets or self.secret_id is not None:
                raise ValueError("scheme 'none' verifies nothing: remove secrets and secret_id")
            return
        if self.secrets and self.secret_id is not None:
            raise ValueError("give either secrets or secret_id, not both")
        if not self.secrets and self.secret_id is None:
            raise ValueError(f"scheme {scheme!r} needs secrets or secret_id")
        if scheme == "standard-webhooks":
            for secret in self.secrets:
                decode_standard_webhooks_secret(secret.get_secret_value())

    def _check_misplaced_options(self) -> None:
        scheme = self.scheme
        if scheme != "hmac-sha256":
            misplaced = sorted({"header", "encoding", "prefix"} & self.model_fields_set)
            if misplaced:
                raise ValueError(f"{', '.join(misplaced)} only apply to scheme 'hmac-sha256'")
        if scheme not in HEADER_MAPPED_SCHEMES:
            misplaced = sorted({"type_header", "id_header"} & self.model_fields_set)
            if misplaced:
                raise ValueError(
                    f"{', '.join(misplaced)} only apply to schemes 'hmac-sha256' and 'none'; "
                    f"scheme {scheme!r} reads them from the provider's own fields"
                )

    def inline_secrets(self) -> list[str]:
        """The secret values given inline (empty when the source uses ``secret_id``)."""
        return [secret.get_secret_value() for secret in self.secrets]


class SourcesDocument(BaseModel):
    """``{"sources": {"<name>": {...}}}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sources: dict[SourceName, SourceConfig] = Field(default_factory=dict)

    @field_validator("sources")
    @classmethod
    def _default_stays_free(cls, sources: dict[str, SourceConfig]) -> dict[str, SourceConfig]:
        # A configured name is reserved on /events; "default" is what /events events without a
        # source are stored under, so reserving it would refuse them all.
        if DEFAULT_SOURCE in sources:
            raise ValueError(f"{DEFAULT_SOURCE!r} is the source of /events events without one")
        return sources

    def get(self, name: str) -> SourceConfig | None:
        """The configuration of source ``name``, or ``None`` when it is not configured."""
        return self.sources.get(name)


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise SourcesDocumentError(f"duplicate key {key!r} in the sources document")
        result[key] = value
    return result


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors(include_url=False, include_input=False, include_context=False):
        where = ".".join(str(part) for part in item["loc"]) or "document"
        parts.append(f"{where}: {item['msg']}")
    return "invalid sources document: " + "; ".join(parts)


def _load_yaml(text: str) -> Any:
    try:
        # Imported here: YAML is for local files only, and pyyaml is not in the Lambda package.
        import yaml
    except ImportError:  # pragma: no cover - depends on the installation
        raise SourcesDocumentError(
            "the sources document is not JSON, and YAML needs pyyaml (install ingest[local])"
        ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise SourcesDocumentError(f"the sources document is not valid YAML{where}") from None


def parse_sources_document(text: str, *, allow_yaml: bool = True) -> SourcesDocument:
    """Parse and validate a sources document.

    Text whose first non-blank character is ``{`` is JSON and never touches the YAML parser;
    anything else is YAML when ``allow_yaml`` (local files), else rejected. Blank text is an
    empty document.
    """
    stripped = text.strip()
    data: Any
    if not stripped:
        data = None
    elif stripped.startswith("{"):
        try:
            data = json.loads(stripped, object_pairs_hook=_reject_duplicate_keys)
        except json.JSONDecodeError as exc:
            raise SourcesDocumentError(
                f"the sources document is not valid JSON (line {exc.lineno}, column {exc.colno})"
            ) from None
    elif allow_yaml:
        data = _load_yaml(text)
    else:
        raise SourcesDocumentError("the sources document must be a JSON object")
    if data is None:
        return SourcesDocument()
    if not isinstance(data, dict):
        raise SourcesDocumentError("the sources document must be an object with a 'sources' key")
    try:
        return SourcesDocument.model_validate(data)
    except ValidationError as exc:
        raise SourcesDocumentError(_describe(exc)) from None
