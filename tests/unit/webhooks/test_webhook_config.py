"""The sources document: validation rules, JSON and YAML input, and secret-safe errors."""

from __future__ import annotations

import json
import textwrap
from typing import Any

import pytest
from ingest.domain.webhooks.config import (
    SourceConfig,
    SourcesDocument,
    SourcesDocumentError,
    parse_sources_document,
)
from ingest_tools.sources import parse_sources_text
from pydantic import ValidationError

SECRET = "s3cr3t-value-that-must-not-leak"


def config(**data: Any) -> SourceConfig:
    return SourceConfig.model_validate(data)


@pytest.mark.parametrize(
    "data",
    [
        {"scheme": "github", "secrets": [SECRET]},
        {"scheme": "github", "secret_id": "ingest/github"},
        {"scheme": "stripe", "secrets": ["whsec_a", "whsec_b"], "tolerance_seconds": 600},
        {"scheme": "slack", "secret_id": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x"},
        {"scheme": "shopify", "secrets": [SECRET]},
        {"scheme": "standard-webhooks", "secrets": ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]},
        {"scheme": "standard-webhooks", "secret_id": "ingest/sw"},
        {"scheme": "hmac-sha256", "secrets": [SECRET], "header": "X-Signature"},
        {
            "scheme": "hmac-sha256",
            "secrets": [SECRET],
            "header": "X-Acme-Signature",
            "encoding": "base64",
            "prefix": "sha256=",
            "type_header": "X-Acme-Event",
            "id_header": "X-Acme-Delivery",
        },
        {"scheme": "none"},
        {"scheme": "none", "type_header": "X-Event", "id_header": "X-Id"},
        {"scheme": "none", "secrets": []},
        {"scheme": "github", "secrets": [SECRET], "tolerance_seconds": 60},  # harmless, unused
    ],
)
def test_valid_source_configs(data: dict[str, Any]) -> None:
    assert config(**data).scheme == data["scheme"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"scheme": "github"}, "needs secrets or secret_id"),
        ({"scheme": "github", "secrets": []}, "needs secrets or secret_id"),
        ({"scheme": "github", "secrets": [SECRET], "secret_id": "x"}, "not both"),
        ({"scheme": "github", "secrets": [""]}, "must not be empty"),
        ({"scheme": "none", "secrets": [SECRET]}, "verifies nothing"),
        ({"scheme": "none", "secret_id": "x"}, "verifies nothing"),
        ({"scheme": "hmac-sha256", "secrets": [SECRET]}, "needs header"),
        ({"scheme": "github", "secrets": [SECRET], "header": "X-Sig"}, "only apply"),
        ({"scheme": "github", "secrets": [SECRET], "encoding": "hex"}, "only apply"),
        ({"scheme": "stripe", "secrets": [SECRET], "prefix": "x"}, "only apply"),
        ({"scheme": "github", "secrets": [SECRET], "type_header": "X-Type"}, "only apply"),
        ({"scheme": "shopify", "secrets": [SECRET], "id_header": "X-Id"}, "only apply"),
        ({"scheme": "standard-webhooks", "secrets": ["whsec_not base64!"]}, "base64"),
        ({"scheme": "standard-webhooks", "secrets": ["whsec_"]}, "must not be empty"),
        ({"scheme": "stripe", "secrets": [SECRET], "tolerance_seconds": 0}, "greater than 0"),
        ({"scheme": "stripe", "secrets": [SECRET], "tolerance_seconds": 3601}, "less than"),
        ({"scheme": "hmac-sha256", "secrets": [SECRET], "header": "X Sig"}, "pattern"),
        ({"scheme": "hmac-sha256", "secrets": [SECRET], "header": "X", "encoding": "b32"}, "hex"),
        ({"scheme": "github", "secrets": [SECRET], "colour": "blue"}, "Extra inputs"),
        ({"scheme": "gitlab-ce", "secrets": [SECRET]}, "Input should be"),
    ],
)
def test_invalid_source_configs(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        config(**data)


def test_header_names_are_kept_lowercased() -> None:
    source = config(
        scheme="hmac-sha256",
        secrets=[SECRET],
        header="X-Acme-Signature",
        type_header="X-Acme-Event",
        id_header="X-Acme-Delivery",
    )
    assert (source.header, source.type_header, source.id_header) == (
        "x-acme-signature",
        "x-acme-event",
        "x-acme-delivery",
    )


def test_config_is_frozen_and_hides_secrets() -> None:
    source = config(scheme="github", secrets=[SECRET])
    with pytest.raises(ValidationError):
        source.scheme = "none"
    assert SECRET not in repr(source)
    assert SECRET not in str(source)
    assert source.inline_secrets() == [SECRET]


def test_defaults() -> None:
    source = config(scheme="stripe", secrets=[SECRET])
    assert source.tolerance_seconds == 300
    assert (source.encoding, source.prefix, source.header) == ("hex", "", None)


# --------------------------------------------------------------------------------------------
# The document


def test_json_document() -> None:
    text = json.dumps(
        {
            "sources": {
                "github": {"scheme": "github", "secrets": [SECRET]},
                "billing.stripe-live_1": {"scheme": "stripe", "secret_id": "ingest/stripe"},
                "ci": {"scheme": "none"},
            }
        }
    )
    document = parse_sources_text(text)
    assert set(document.sources) == {"github", "billing.stripe-live_1", "ci"}
    github = document.get("github")
    assert github is not None
    assert github.scheme == "github"
    assert document.get("missing") is None


def test_yaml_document() -> None:
    text = textwrap.dedent(
        """\
        sources:
          github:
            scheme: github
            secrets: ["s3cr3t"]
          acme:
            scheme: hmac-sha256
            secret_id: ingest/acme
            header: X-Acme-Signature
            prefix: "sha256="
        """
    )
    document = parse_sources_text(text)
    acme = document.get("acme")
    assert acme is not None
    assert (acme.header, acme.prefix, acme.secret_id) == (
        "x-acme-signature",
        "sha256=",
        "ingest/acme",
    )


@pytest.mark.parametrize(
    "text", ["", "   \n", "{}", '{"sources": {}}', "sources: {}", "# nothing\n"]
)
def test_empty_documents(text: str) -> None:
    assert parse_sources_text(text) == SourcesDocument()


@pytest.mark.parametrize(
    "name", ["", "-leading-dash", ".hidden", "has space", "slash/name", "x" * 65, "ünïcode"]
)
def test_invalid_source_names(name: str) -> None:
    text = json.dumps({"sources": {name: {"scheme": "none"}}})
    with pytest.raises(SourcesDocumentError, match="pattern"):
        parse_sources_text(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"sources": {"a": {"scheme": "none"}, "a": {"scheme": "none"}}}', "duplicate key"),
        ('{"sauces": {}}', "Extra inputs"),
        ("[1, 2]", "must be an object"),
        ("- a\n- b\n", "must be an object"),
        ("sources: [unclosed\n", "not valid YAML at line"),
        ('{"sources": {"a": {"scheme": "github"}}}', "sources.a: Value error"),
    ],
)
def test_invalid_documents(text: str, message: str) -> None:
    with pytest.raises(SourcesDocumentError, match=message):
        parse_sources_text(text)


def test_yaml_can_be_refused() -> None:
    """The runtime reads JSON only: YAML is for local files, read by the tools."""
    with pytest.raises(SourcesDocumentError, match="must be a JSON object"):
        parse_sources_document("sources: {}")


@pytest.mark.parametrize(
    "source",
    [
        {"scheme": "none", "secrets": [SECRET]},
        {"scheme": "github", "secrets": [SECRET], "secret_id": "x"},
        {"scheme": "github", "secrets": [SECRET, 7]},
        {"scheme": "github", "secrets": SECRET},
        {"scheme": "standard-webhooks", "secrets": [f"whsec_{SECRET}!"]},
        {"scheme": "hmac-sha256", "secrets": [SECRET]},
        {"scheme": "github", "secrets": [SECRET], "unknown": SECRET},
        {"scheme": SECRET, "secrets": [SECRET]},
    ],
)
def test_document_errors_never_repeat_secrets(source: dict[str, Any]) -> None:
    text = json.dumps({"sources": {"s": source}})
    with pytest.raises(SourcesDocumentError) as info:
        parse_sources_document(text)
    assert SECRET not in str(info.value)
    assert SECRET not in repr(info.value)
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


def test_yaml_syntax_errors_never_repeat_the_document() -> None:
    text = f"sources:\n  s:\n    scheme: github\n    secrets: [{SECRET}\n"
    with pytest.raises(SourcesDocumentError) as info:
        parse_sources_text(text)
    assert SECRET not in str(info.value)
