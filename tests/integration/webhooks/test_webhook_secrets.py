"""The secrets adapter against moto: Secrets Manager and SSM values, caching and rotation."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters import set_parameter, set_secret
from ingest.adapters.secrets import (
    SecretsUnavailable,
    SecretValueError,
    cache_max_age,
    parse_secret_value,
)
from ingest.domain.webhooks.config import SourceConfig, SourcesDocument, SourcesDocumentError
from ingest.domain.webhooks.schemes import sign, verify
from ingest.domain.webhooks.sources import load_sources, resolve_secrets
from moto import mock_aws


@pytest.fixture(autouse=True)
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Moto's in-memory AWS with fake credentials and empty Powertools caches."""
    for name in (
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_SSM",
        "AWS_ENDPOINT_URL_SECRETS_MANAGER",
        "AWS_PROFILE",
        "POWERTOOLS_PARAMETERS_MAX_AGE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    parameters.clear_caches()  # type: ignore[no-untyped-call]
    with mock_aws():
        yield
    parameters.clear_caches()  # type: ignore[no-untyped-call]


SOURCES = {
    "github": {"scheme": "github", "secret_id": "ingest/github"},
    "ci": {"scheme": "none"},
}


def source(secret_id: str, scheme: str = "github") -> SourceConfig:
    return SourceConfig.model_validate({"scheme": scheme, "secret_id": secret_id})


# --------------------------------------------------------------------------------------------
# resolve_secrets


def test_inline_secrets_need_no_aws() -> None:
    config = SourceConfig.model_validate({"scheme": "github", "secrets": ["a", "b"]})
    assert resolve_secrets(config) == ["a", "b"]


def test_scheme_none_has_no_secrets() -> None:
    assert resolve_secrets(SourceConfig.model_validate({"scheme": "none"})) == []


def test_plain_string_secret() -> None:
    set_secret("ingest/github", "gh-secret-1")
    assert resolve_secrets(source("ingest/github")) == ["gh-secret-1"]


def test_json_list_secret_for_rotation() -> None:
    set_secret("ingest/stripe", json.dumps(["whsec_new", "whsec_old"]))
    assert resolve_secrets(source("ingest/stripe", "stripe")) == ["whsec_new", "whsec_old"]


def test_secret_by_arn() -> None:
    arn = set_secret("ingest/by-arn", "value-by-arn")["ARN"]
    assert resolve_secrets(source(arn)) == ["value-by-arn"]


def test_binary_secret() -> None:
    set_secret("ingest/binary", b"binary-secret")
    assert resolve_secrets(source("ingest/binary")) == ["binary-secret"]


def test_missing_secret_is_unavailable_and_names_only_the_id() -> None:
    with pytest.raises(SecretsUnavailable, match="ingest/missing"):
        resolve_secrets(source("ingest/missing"))


@pytest.mark.parametrize(
    "value", ['["unterminated', "[]", '["ok", ""]', '["ok", 7]', '  [{"a": 1}]']
)
def test_malformed_secret_values_are_rejected_without_echoing_them(value: str) -> None:
    set_secret("ingest/bad", value)
    with pytest.raises(SecretValueError) as info:
        resolve_secrets(source("ingest/bad"))
    assert value.strip() not in str(info.value)


def test_rotated_secret_takes_effect_after_max_age() -> None:
    set_secret("ingest/rotating", "first")
    config = source("ingest/rotating")
    assert resolve_secrets(config, max_age=1) == ["first"]
    set_secret("ingest/rotating", json.dumps(["second", "first"]))
    assert resolve_secrets(config, max_age=1) == ["first"]  # still cached
    time.sleep(1.2)
    assert resolve_secrets(config, max_age=1) == ["second", "first"]


def test_max_age_comes_from_powertools_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_PARAMETERS_MAX_AGE", "1")
    set_secret("ingest/env-age", "first")
    config = source("ingest/env-age")
    assert resolve_secrets(config) == ["first"]
    set_secret("ingest/env-age", "second")
    time.sleep(1.2)
    assert resolve_secrets(config) == ["second"]


def test_rotation_end_to_end_with_verification() -> None:
    """A provider moves to a new secret while both are active; the old one is then retired."""
    config = source("ingest/github-rotation")
    body = b'{"zen": "Keep it logically awesome."}'
    set_secret("ingest/github-rotation", json.dumps(["old-secret", "new-secret"]))
    headers = {k.lower(): v for k, v in sign(config, body, "new-secret", 0).items()}
    assert verify(config, headers, body, resolve_secrets(config, max_age=0), 0).delivery_id
    set_secret("ingest/github-rotation", "new-secret")
    assert resolve_secrets(config, max_age=0) == ["new-secret"]


# --------------------------------------------------------------------------------------------
# cache_max_age and parse_secret_value


@pytest.mark.parametrize(
    ("override", "env", "expected"),
    [
        (None, None, 300),
        (None, "60", 60),
        (None, "not-a-number", 300),
        (None, "999999", 3600),
        (None, "-5", 0),
        (5, "60", 5),
        (10**9, None, 3600),
    ],
)
def test_cache_max_age_is_bounded(
    monkeypatch: pytest.MonkeyPatch, override: int | None, env: str | None, expected: int
) -> None:
    if env is None:
        monkeypatch.delenv("POWERTOOLS_PARAMETERS_MAX_AGE", raising=False)
    else:
        monkeypatch.setenv("POWERTOOLS_PARAMETERS_MAX_AGE", env)
    assert cache_max_age(override) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain", ["plain"]),
        (" spaced secret ", [" spaced secret "]),
        ('["a","b"]', ["a", "b"]),
        (' \n["a"]', ["a"]),
        ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]),
        (b"bytes", ["bytes"]),
    ],
)
def test_parse_secret_value(value: str | bytes, expected: list[str]) -> None:
    assert parse_secret_value(value) == expected


@pytest.mark.parametrize("value", ["", b"\xff\xfe"])
def test_parse_secret_value_rejects_unusable_values(value: str | bytes) -> None:
    with pytest.raises(SecretValueError):
        parse_secret_value(value)


# --------------------------------------------------------------------------------------------
# load_sources


@pytest.mark.parametrize("spec", [None, "", "   "])
def test_no_sources(spec: str | None) -> None:
    assert load_sources(spec) == SourcesDocument()


def test_sources_as_json_text() -> None:
    document = load_sources(json.dumps({"sources": SOURCES}))
    assert set(document.sources) == {"github", "ci"}


def test_sources_from_an_ssm_secure_string() -> None:
    set_parameter(
        "/ingest/sources", json.dumps({"sources": SOURCES}), parameter_type="SecureString"
    )
    document = load_sources("ssm:/ingest/sources")
    github = document.get("github")
    assert github is not None
    assert github.secret_id == "ingest/github"


def test_sources_from_a_plain_ssm_string() -> None:
    set_parameter("ingest-sources", json.dumps({"sources": {"ci": {"scheme": "none"}}}))
    assert set(load_sources("ssm:ingest-sources").sources) == {"ci"}


def test_sources_parameter_changes_take_effect_after_max_age() -> None:
    set_parameter("/ingest/live", json.dumps({"sources": {"a": {"scheme": "none"}}}))
    assert set(load_sources("ssm:/ingest/live", max_age=1).sources) == {"a"}
    set_parameter(
        "/ingest/live", json.dumps({"sources": {"b": {"scheme": "none"}}}), overwrite=True
    )
    assert set(load_sources("ssm:/ingest/live", max_age=1).sources) == {"a"}
    time.sleep(1.2)
    assert set(load_sources("ssm:/ingest/live", max_age=1).sources) == {"b"}


def test_missing_sources_parameter_is_unavailable() -> None:
    with pytest.raises(SecretsUnavailable, match="/ingest/nothing"):
        load_sources("ssm:/ingest/nothing")


@pytest.mark.parametrize("spec", ["ssm:", "ssm:   "])
def test_ssm_spec_needs_a_name(spec: str) -> None:
    with pytest.raises(SourcesDocumentError, match="parameter name"):
        load_sources(spec)


def test_sources_from_the_environment_must_be_json() -> None:
    with pytest.raises(SourcesDocumentError, match="JSON"):
        load_sources("sources: {}")
    set_parameter("/ingest/yaml", "sources: {}")
    with pytest.raises(SourcesDocumentError, match="JSON"):
        load_sources("ssm:/ingest/yaml")


def test_invalid_sources_never_echo_secrets() -> None:
    text = json.dumps({"sources": {"x": {"scheme": "none", "secrets": ["top-secret-value"]}}})
    with pytest.raises(SourcesDocumentError) as info:
        load_sources(text)
    assert "top-secret-value" not in str(info.value)
