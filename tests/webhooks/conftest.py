"""Fixtures for the webhook tests: a mocked AWS for the secrets adapter."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Moto's in-memory AWS with fake credentials and empty Powertools caches."""
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SSM", "AWS_ENDPOINT_URL_SECRETS_MANAGER"):
        monkeypatch.delenv(name, raising=False)
    for name in ("POWERTOOLS_PARAMETERS_MAX_AGE", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    parameters.clear_caches()  # type: ignore[no-untyped-call]
    with mock_aws():
        yield
    parameters.clear_caches()  # type: ignore[no-untyped-call]
