"""The sources document: which webhook sources exist and how each one is verified.

The document is JSON: the ``SOURCES`` environment variable or an SSM parameter (see
:mod:`ingest.domain.webhooks.sources`); the local tools also read YAML files and validate them
here. Secrets never appear in error messages produced here: validation errors are rebuilt from
their location and message, without the offending input.

The scheme names, and which options each scheme takes, come from the scheme registry
(:data:`ingest.domain.webhooks.schemes.REGISTRY`).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any, Literal

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

from ingest.domain.webhooks.schemes import REGISTRY
from ingest.models import DEFAULT_SOURCE

if TYPE_CHECKING:
    SchemeName = str
else:
    SchemeName = Literal[tuple(REGISTRY)]

SOURCE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
# An HTTP field name is a "token" (RFC 9110, section 5.6.2).
_HEADER_NAME_PATTERN = r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$"
MAX_TOLERANCE_SECONDS = 3600
#: Options only some schemes take, in groups refused together (how a signature is read; which
#: headers carry the type and the delivery id), each with what the refusal adds.
_OPTION_GROUPS: tuple[tuple[frozenset[str], str], ...] = (
    (frozenset({"header", "prefix"}), ""),
    (frozenset({"encoding"}), ""),
    (frozenset({"url"}), ""),
    (
        frozenset({"type_header", "id_header"}),
        "; scheme {scheme!r} reads them from the provider's own fields",
    ),
)

#: The public URL a provider signs: absolute, without a query string or fragment (the query
#: string of each request is appended as received).
_PUBLIC_URL_PATTERN = r"^https?://[^\s/?#]+(/[^\s?#]*)?$"
#: An origin a CloudEvents sender names in ``WebHook-Request-Origin`` (a host name), or ``*``.
_ORIGIN_PATTERN = r"^(\*|[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(:[0-9]{1,5})?)$"

SourceName = Annotated[str, StringConstraints(pattern=SOURCE_NAME_PATTERN)]
HeaderName = Annotated[str, StringConstraints(pattern=_HEADER_NAME_PATTERN)]
PublicUrl = Annotated[str, StringConstraints(pattern=_PUBLIC_URL_PATTERN, max_length=2048)]
Origin = Annotated[str, StringConstraints(pattern=_ORIGIN_PATTERN)]


class SourcesDocumentError(ValueError):
    """The sources document cannot be read. The message never repeats secret values."""


def _schemes_taking(options: frozenset[str]) -> str:
    """``scheme 'a'`` or ``schemes 'a' and 'b'``: the schemes that take ``options``."""
    names = [repr(name) for name, scheme in REGISTRY.items() if options <= scheme.options]
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    return f"scheme{'s' if len(names) > 1 else ''} {listed}"


class SourceConfig(BaseModel):
    """How one webhook source is verified and how its type and delivery id are found."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scheme: SchemeName
    secrets: list[SecretStr] = Field(default_factory=list, max_length=10)
    secret_id: str | None = Field(default=None, min_length=1, max_length=2048)
    #: Default: the scheme's (its provider's recommendation, else 300).
    tolerance_seconds: int = Field(default=300, gt=0, le=MAX_TOLERANCE_SECONDS)
    header: HeaderName | None = None
    encoding: Literal["hex", "base64"] = "hex"
    prefix: str = Field(default="", max_length=64)
    type_header: HeaderName | None = None
    id_header: HeaderName | None = None
    #: The public URL of the source as the provider was given it (schemes that sign the URL).
    url: PublicUrl | None = None
    #: CloudEvents webhook validation: the senders' origins (``WebHook-Request-Origin``) allowed
    #: to deliver here, ``*`` for any; without it the handshake is refused.
    allowed_origins: list[Origin] = Field(default_factory=list, max_length=20)
    #: The request rate (per minute) answered in ``WebHook-Allowed-Rate``; unlimited without it.
    allowed_rate: int | None = Field(default=None, gt=0, le=1_000_000)

    @model_validator(mode="before")
    @classmethod
    def _scheme_tolerance(cls, data: Any) -> Any:
        # A timestamped scheme's default tolerance is its provider's recommendation.
        if isinstance(data, dict) and "tolerance_seconds" not in data:
            name = data.get("scheme")
            scheme = REGISTRY.get(str(name)) if isinstance(name, str) else None
            if scheme is not None:
                data = {**data, "tolerance_seconds": scheme.default_tolerance}
        return data

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
        scheme = REGISTRY[self.scheme]
        self._check_secrets(signed=scheme.signed)
        for option, meaning in scheme.required.items():
            if getattr(self, option) is None:
                raise ValueError(f"scheme {self.scheme!r} needs {option} ({meaning})")
        if scheme.key_format is not None:
            for secret in self.inline_secrets():
                scheme.key_format(secret)
        if scheme.check is not None:
            scheme.check(self)
        self._check_misplaced_options(scheme.options)
        return self

    def _check_secrets(self, *, signed: bool) -> None:
        if not signed:
            if self.secrets or self.secret_id is not None:
                raise ValueError(
                    f"scheme {self.scheme!r} verifies nothing: remove secrets and secret_id"
                )
            return
        if self.secrets and self.secret_id is not None:
            raise ValueError("give either secrets or secret_id, not both")
        if not self.secrets and self.secret_id is None:
            raise ValueError(f"scheme {self.scheme!r} needs secrets or secret_id")

    def _check_misplaced_options(self, taken: frozenset[str]) -> None:
        for group, instead in _OPTION_GROUPS:
            misplaced = sorted((group & self.model_fields_set) - taken)
            if misplaced:
                raise ValueError(
                    f"{', '.join(misplaced)} only apply to {_schemes_taking(group)}"
                    + instead.format(scheme=self.scheme)
                )

    def credential_headers(self) -> frozenset[str]:
        """The request headers that carry this source's secret: never stored."""
        scheme = REGISTRY[self.scheme]
        if scheme.header_is_credential and self.header:
            return scheme.credential_headers | {self.header.lower()}
        return scheme.credential_headers

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


def validate_sources_document(data: Any) -> SourcesDocument:
    """A decoded document (``None``: empty), validated; errors never repeat its values."""
    if data is None:
        return SourcesDocument()
    if not isinstance(data, dict):
        raise SourcesDocumentError("the sources document must be an object with a 'sources' key")
    try:
        return SourcesDocument.model_validate(data)
    except ValidationError as exc:
        parts = []
        for item in exc.errors(include_url=False, include_input=False, include_context=False):
            where = ".".join(str(part) for part in item["loc"]) or "document"
            parts.append(f"{where}: {item['msg']}")
        raise SourcesDocumentError("invalid sources document: " + "; ".join(parts)) from None


def parse_sources_document(text: str) -> SourcesDocument:
    """Parse and validate a JSON sources document; blank text is an empty document.

    Anything but a JSON object is refused here: YAML is for local files, which the tools read
    (``ingest_tools.sources``) before validating them with :func:`validate_sources_document`.
    """
    stripped = text.strip()
    if not stripped:
        return SourcesDocument()
    if not stripped.startswith("{"):
        raise SourcesDocumentError("the sources document must be a JSON object")
    try:
        data = json.loads(stripped, object_pairs_hook=_reject_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise SourcesDocumentError(
            f"the sources document is not valid JSON (line {exc.lineno}, column {exc.colno})"
        ) from None
    return validate_sources_document(data)
